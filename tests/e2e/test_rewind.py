"""Rewind in a real browser: the epoch slider on Inside and Results shows the model at an earlier point, and the
softmax templates' Play button animates them forming."""

import re


def slide_to_start(page, label: str) -> None:
    """Move a Streamlit select_slider to its first option with the keyboard, as a student can."""
    thumb = page.get_by_role("slider", name=label)
    thumb.focus()
    thumb.press("Home")
    page.wait_for_timeout(300)


def test_rewind_inside_and_results_and_play_the_templates(browser, server):
    page = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
    page.set_default_timeout(60_000)
    page.goto(server + "/?epochs=4")
    page.get_by_role("button", name="▶ Start training").click()
    page.get_by_text("Done:").first.wait_for()

    page.get_by_role("link", name="Inside", exact=True).click()
    page.get_by_text("weights after the finished run").wait_for()
    slide_to_start(page, "Rewind: the model at")
    page.get_by_text(re.compile(r"weights after \d+% of epoch 1 \(rewound\)")).wait_for()

    thumb = page.get_by_role("slider", name="Rewind: the model at")
    thumb.press("End")
    page.get_by_text("weights after the finished run").wait_for()
    page.get_by_text("▶ Play: watch the templates form").click()
    play = page.locator(".js-plotly-plot").filter(has=page.locator(".updatemenu-button"))
    play.scroll_into_view_if_needed()
    active = "gd => gd.layout.sliders[0].active"  # the frame the figure's own slider shows
    assert play.evaluate(active) == 0
    frames = play.evaluate("gd => gd.layout.sliders[0].steps.length")
    play.locator(".updatemenu-button").filter(has_text="Play").click()
    # half a second a frame, and a loaded machine's redraw of ten heatmaps a frame may take longer: two seconds each
    wait = max(20_000, frames * 2_000)
    page.wait_for_function(f"gd => ({active})(gd) === {frames - 1}", arg=play.element_handle(), timeout=wait)
    assert play.evaluate("gd => gd.layout.sliders[0].steps.at(-1).label") == "epoch 4"

    page.get_by_role("link", name="Results").click()
    page.get_by_text("What did it learn?").wait_for()
    slide_to_start(page, "Rewind: the model at")
    for _ in range(3):  # three peeks into epoch 1, then its end
        page.get_by_role("slider", name="Rewind: the model at").press("ArrowRight")
        page.wait_for_timeout(300)
    page.get_by_text("rewound to epoch 1").wait_for()
