"""A teacher's projector is 1280x720: what matters on the Train page fits without scrolling."""


def bottom(locator) -> float:
    box = locator.bounding_box()
    return box["y"] + box["height"]


def test_train_page_fits_a_projector(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(server)
        page.get_by_text("Ready: Softmax regression on").wait_for()
        for label in ("Learning rate (log scale)", "Batch size", "Epochs"):  # the settings a class changes most
            assert bottom(page.get_by_text(label, exact=True).first) < 720, label
        assert bottom(page.get_by_role("button", name="▶ Start training")) < 720
        page.get_by_role("button", name="▶ Start training").click()
        page.get_by_text("Done:").wait_for()
        page.wait_for_timeout(1000)
        charts = page.locator(".js-plotly-plot")
        assert charts.count() == 2 and all(bottom(charts.nth(i)) <= 720 for i in range(2))  # no result pushed them
        assert page.get_by_text("test accuracy", exact=False).first.is_visible()
    finally:
        context.close()
