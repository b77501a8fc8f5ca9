"""Every page passes axe-core (WCAG 2.2 AA rules) with no serious or critical violation, in both languages, with a
finished run to show; a run's progress is a progressbar and is announced; every chart has a text alternative.

axe-core comes from npm (README's test command: `npm install --no-save axe-core@4.14.1` in the project's folder)."""

import pytest

from tests.e2e.conftest import ROOT, _need, open_page

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# what a run's link opens, then each page and each of Inside's tabs
PAGES = ["", "data", "images", "results", "inside", "compare", "race", "board", "teacher"]
INSIDE_TABS = {
    "en": ["Weights", "Predict an image", "Shapes", "Code and maths"],
    "zh_CN": ["权重", "预测图像", "形状", "代码与数学"],
}


def serious(page) -> list[dict]:
    """axe-core's serious and critical violations on the page as it is now: rule, impact and the first nodes."""
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        """async () => (await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa',
            'best-practice']})).violations
            .filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map(n => n.html.slice(0, 160))}))"""
    )
    return found


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_every_page_passes_axe_with_a_run_to_show(browser, server, lang):
    _need(AXE.exists(), f"axe-core is not installed at {AXE} (npm install --no-save axe-core@4.14.1)")
    context = browser.new_context(viewport={"width": 1280, "height": 720}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{server}/?lang={lang}&pace=full&epochs=2")
    page.get_by_role("button", name="▶ 开始训练" if lang == "zh_CN" else "▶ Start training").click()
    bar = page.get_by_role("progressbar")  # the live view's progress: a progressbar with its value in words
    page.wait_for_function(
        "() => document.querySelector('[role=progressbar]')?.getAttribute('aria-valuenow') === '100'"
    )
    assert bar.get_attribute("aria-valuetext")
    said = page.locator("[aria-live=polite]").first  # and a polite live region says how it ended
    page.wait_for_function("() => (document.querySelector('.live-announce')?.textContent || '').length > 0")
    assert said.count() == 1
    charts = page.locator(".live-charts > div[role=figure]")
    assert charts.count() == 2 and all(charts.nth(i).get_attribute("aria-label") for i in range(2))
    query = page.url.split("?", 1)[1]  # the owner link: Results and Inside show this run
    problems = {}
    for name in PAGES:
        page.goto(f"{server}/{name}?{query}")
        page.locator("[data-testid=stMainBlockContainer] h1").first.wait_for()
        page.wait_for_timeout(1500)  # the page's fragments and charts settle
        problems[name or "train"] = serious(page)
        if name == "results":  # every chart there has its sentence, as an image role a screen reader reads
            alts = page.locator(".chart-alt[role=img]")
            assert alts.count() >= 2 and all(alts.nth(i).get_attribute("aria-label") for i in range(alts.count()))
        if name == "inside":
            for tab in INSIDE_TABS[lang]:
                page.get_by_role("tab", name=tab).click()
                page.wait_for_timeout(1000)
                problems[f"inside/{tab}"] = serious(page)
    context.close()
    assert not any(problems.values()), {k: v for k, v in problems.items() if v}


def test_the_keyboard_skips_to_start(browser, server):
    """The first Tab stop is a skip link over the top bar and the sidebar's settings; Enter on it puts the focus on
    Start, and Enter there starts the run: the keyboard path of a student who cannot use a mouse."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(f"{server}/?pace=full&epochs=2")
        page.get_by_text("Ready: Softmax regression on").wait_for()
        page.wait_for_function("() => document.getElementById('skip-link')")
        page.keyboard.press("Tab")
        assert page.evaluate("() => document.activeElement.id") == "skip-link"
        link = page.locator("#skip-link")
        assert link.inner_text() == "Skip to ▶ Start training" and link.bounding_box()["x"] >= 0  # shown when focused
        page.keyboard.press("Enter")
        assert page.evaluate("() => document.activeElement.innerText.trim()") == "▶ Start training"
        page.keyboard.press("Enter")
        page.get_by_text("Done:").wait_for()
        open_page(page, "Data")  # another page: no skip link to a button that is not there
        page.get_by_role("heading", name="Look at the data first").wait_for()
        page.wait_for_timeout(500)
        assert page.locator("#skip-link").count() == 0
    finally:
        context.close()
