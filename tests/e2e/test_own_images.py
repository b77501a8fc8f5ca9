"""The class's own images in a real browser: a student draws five examples each of three symbols on the Images
page (with the mouse, and with a finger at a tablet's 1024×768), trains the default model on them from the Train
page, and clicks a confusion-matrix cell on Results to see the class's own drawings behind it."""

import math

import pytest

from tests.e2e.conftest import open_page
from tests.e2e.test_accessibility import AXE, serious
from tests.e2e.test_results_click import JS_CELL

SYMBOLS = ("bar", "ring", "zigzag")
PER_CLASS = 5


def shape(kind: str, i: int, left: float, top: float, side: float) -> list[tuple[float, float]]:
    """One stroke of a symbol on the canvas (page pixels), a little different each time (i)."""
    cx, cy, s = left + side / 2 + 6 * (i - 2), top + side / 2 + 5 * (i % 3 - 1), side * (0.30 + 0.02 * i)
    if kind == "bar":
        return [(cx + 4 * i / 10, cy - s + 2 * s * t / 30) for t in range(31)]
    if kind == "ring":
        return [(cx + s * math.sin(2 * math.pi * t / 48), cy - s * math.cos(2 * math.pi * t / 48)) for t in range(51)]
    corners = [(cx - s, cy - s), (cx + s, cy - s), (cx - s, cy + s), (cx + s, cy + s)]  # a Z
    return [
        (a[0] + (b[0] - a[0]) * t / 12, a[1] + (b[1] - a[1]) * t / 12)
        for a, b in zip(corners, corners[1:])
        for t in range(13)
    ]


def mouse_stroke(page, points) -> None:
    page.mouse.move(*points[0])
    page.mouse.down()
    for p in points[1:]:
        page.mouse.move(*p, steps=2)
    page.mouse.up()


def touch_stroke(cdp, points) -> None:
    """A finger's stroke, as the browser's input layer delivers a touchscreen's (Chrome DevTools Protocol)."""
    cdp.send(
        "Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": points[0][0], "y": points[0][1]}]}
    )
    for x, y in points[1:]:
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def new_dataset(page, name: str, classes, press) -> None:
    """Make a dataset on the Images page: its form is open while the server has none, folded once it has one."""
    page.get_by_role("heading", name="Your own images").wait_for()
    page.get_by_text("➕ A new dataset").wait_for()
    page.wait_for_timeout(1000)  # the page settles before the form's state is read
    if not page.get_by_label("Its name", exact=True).is_visible():
        press(page.get_by_text("➕ A new dataset"))
    box = page.get_by_label("Its name", exact=True)
    box.fill(name)
    box.press("Enter")  # sent now, not at the button's press
    page.wait_for_timeout(700)
    box = page.get_by_label("Its classes, one a line (2 to 10)")
    box.fill("\n".join(classes))
    box.press("Control+Enter")  # a text area sends its value on Ctrl+Enter (or when it loses the focus)
    page.wait_for_timeout(700)
    press(page.get_by_role("button", name="Make the dataset"))
    page.get_by_text(f"Dataset {name} made").wait_for()


@pytest.mark.parametrize("how", ["mouse", "touch"])
def test_draw_three_symbols_train_and_open_a_cell(browser, server, how):
    touch = how == "touch"
    size = {"width": 1024, "height": 768} if touch else {"width": 1280, "height": 900}
    context = browser.new_context(viewport=size, device_scale_factor=1, has_touch=touch)
    page = context.new_page()
    page.set_default_timeout(60_000)
    cdp = context.new_cdp_session(page) if touch else None
    press = (lambda loc: loc.tap()) if touch else (lambda loc: loc.click())
    name = f"symbols by {how}"
    try:
        page.goto(f"{server}/images")
        new_dataset(page, name, SYMBOLS, press)
        for kind in SYMBOLS:
            press(page.get_by_role("radiogroup", name="To the class").get_by_text(kind, exact=True))
            page.wait_for_timeout(500)
            for i in range(PER_CLASS):
                canvas = page.locator("canvas").last  # Fabric's upper canvas, which takes the pointer
                canvas.wait_for()
                canvas.scroll_into_view_if_needed()
                page.wait_for_timeout(400)
                box = canvas.bounding_box()
                points = shape(kind, i, box["x"], box["y"], box["width"])
                touch_stroke(cdp, points) if touch else mouse_stroke(page, points)
                page.wait_for_timeout(1200)  # the canvas reports 200 ms after a stroke, then the page reruns
                press(page.get_by_role("button", name="Add this drawing"))
                page.get_by_text(f"{kind}: {i + 1} examples").wait_for(timeout=20_000)
        for kind in SYMBOLS:
            assert page.get_by_test_id("stMetric").filter(has_text=kind).inner_text().split()[-1] == str(PER_CLASS)
        if AXE.exists():  # the page full of the class's drawings: no serious or critical accessibility violation
            page.wait_for_timeout(1000)
            assert serious(page) == [], serious(page)

        press(page.get_by_role("button", name="Train on it"))
        start = page.get_by_role("button", name="▶ Start training")
        start.wait_for()
        press(start)
        page.get_by_text("Done:").wait_for(timeout=120_000)
        open_page(page, "Results")
        page.get_by_role("heading", name="Confusion matrix").wait_for()
        page.wait_for_function("""() => {
            const gd = [...document.querySelectorAll('.js-plotly-plot')].find(el => (el.data || []).some(
                t => t.type === 'heatmap'));
            return gd && gd._fullLayout && gd._fullLayout.xaxis; }""")
        z = page.evaluate("""() => {  // the counts plotly drew (its decoded data: the spec sends typed arrays)
            const gd = [...document.querySelectorAll('.js-plotly-plot')].find(el => el.data.some(
                t => t.type === 'heatmap'));
            return Array.from(gd._fullData.find(t => t.type === 'heatmap').z, r => Array.from(r, Number)); }""")
        row, col = next((r, c) for r in range(3) for c in range(3) if z[r][c])  # a cell with drawings behind it
        x, y = page.evaluate(JS_CELL, ["res_cm", col, row])
        page.touchscreen.tap(x, y) if touch else page.mouse.click(x, y)
        page.get_by_text(f"test images of {SYMBOLS[row]} predicted as {SYMBOLS[col]}").wait_for(timeout=15_000)
        # below the matrix, the cell's own drawings: a grid of tiles captioned with their test image numbers
        page.wait_for_function("""() => [...document.querySelectorAll('.js-plotly-plot')].some(gd => {
            const texts = ((gd.layout || {}).annotations || []).map(a => a.text).filter(t => t);
            return texts.length > 0 && texts.every(t => t.startsWith('#')); })""")
    finally:
        context.close()


def test_a_classmates_drawing_appears_on_everyones_page_by_itself(browser, server):
    """Two students on the same dataset: what one adds, the other's counts show within seconds, untouched."""
    a_context, b_context = (browser.new_context(viewport={"width": 1280, "height": 900}) for _ in range(2))
    a, b = a_context.new_page(), b_context.new_page()
    try:
        for p in (a, b):
            p.set_default_timeout(60_000)
        a.goto(f"{server}/images")
        new_dataset(a, "pooled", ("bar", "ring"), lambda loc: loc.click())
        b.goto(f"{server}/images")
        b.get_by_role("combobox", name="Dataset", exact=True).wait_for()
        b.get_by_role("combobox", name="Dataset", exact=True).click()
        b.get_by_role("option").filter(has_text="pooled").click()
        ring = b.get_by_test_id("stMetric").filter(has_text="ring")
        ring.wait_for()
        assert ring.inner_text().split()[-1] == "0"
        a.get_by_role("radiogroup", name="To the class").get_by_text("ring", exact=True).click()
        a.wait_for_timeout(1000)  # the page reruns with the class chosen, and draws the canvas again
        canvas = a.locator("canvas").last
        canvas.wait_for()
        canvas.scroll_into_view_if_needed()
        a.wait_for_timeout(400)
        box = canvas.bounding_box()
        mouse_stroke(a, shape("ring", 0, box["x"], box["y"], box["width"]))
        a.wait_for_timeout(1200)
        a.get_by_role("button", name="Add this drawing").click()
        a.get_by_text("ring: 1 examples").wait_for()
        b.wait_for_function(  # B touches nothing: its counts redraw themselves
            """() => [...document.querySelectorAll('[data-testid=stMetric]')].some(
                m => m.innerText.includes('ring') && m.innerText.trim().endsWith('1'))""",
            timeout=15_000,
        )
    finally:
        a_context.close()
        b_context.close()
