"""A teacher's projector is 1280x720: what matters on the Train page fits without scrolling."""

from tests.e2e.conftest import MENU, open_page


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


def test_a_tablet_reaches_every_page_from_the_top_bar(browser, server):
    """1024x768 beside the sidebar: the five links and the menu fit the bar (nothing under "N more"), in English and
    in Chinese, and the menu's pages open by touch."""
    context = browser.new_context(viewport={"width": 1024, "height": 768}, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        for lang, links, menu in (
            ("en", ("Train", "Data", "Images", "Results", "Inside"), MENU),
            ("zh_CN", ("训练", "数据", "图片", "结果", "模型内部"), "比较·课堂"),
        ):
            page.goto(f"{server}/?lang={lang}")
            nav = page.get_by_test_id("stTopNav")
            nav.get_by_role("button", name=menu).wait_for()
            assert "more" not in nav.inner_text().split() and "更多" not in nav.inner_text()
            for name in links:  # each link whole and inside the bar
                box, bar = nav.get_by_role("link", name=name, exact=True).bounding_box(), nav.bounding_box()
                assert box and box["x"] + box["width"] <= bar["x"] + bar["width"] + 1, name
        page.goto(f"{server}/?lang=en")
        page.get_by_test_id("stTopNav").get_by_role("button", name=MENU).tap()
        page.get_by_role("menuitem", name="Board", exact=True).tap()
        page.get_by_role("heading", name="Class board").wait_for()
    finally:
        context.close()


def test_presenter_view_puts_the_train_and_race_charts_on_a_projector(browser, server):
    """One switch, kept across pages: on Train the sidebar folds and the two live charts fill the width above the
    fold; on the race, while it races, the settings fold away and both sides' charts are on the screen."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(f"{server}/?epochs=30")
        page.get_by_text("Ready: Softmax regression on").wait_for()
        page.get_by_text("Presenter view").click()
        page.get_by_test_id("stSidebar").wait_for(state="hidden")
        page.get_by_role("button", name="▶ Start training").click()
        page.get_by_text("Running:").wait_for()
        charts = page.locator(".js-plotly-plot")
        charts.nth(1).wait_for()
        assert all(bottom(charts.nth(i)) <= 720 for i in range(2))
        assert charts.nth(0).bounding_box()["width"] > 500  # the sidebar's room went to the charts
        page.get_by_role("button", name="■ Stop").click()
        page.get_by_text("Stopped").first.wait_for()

        open_page(page, "Race")  # still in presenter view: the switch is the session's
        page.get_by_role("heading", name="Same-seed race").wait_for()
        assert page.get_by_role("switch", name="Presenter view").is_checked()
        assert not page.get_by_text("Race on", exact=True).is_visible()  # folded into "The race's settings"
        page.get_by_role("button", name="🏁 Start the race").click()
        page.get_by_role("button", name="■ Stop both").wait_for()
        race = page.locator(".js-plotly-plot")
        race.nth(1).wait_for()
        page.wait_for_timeout(1500)  # a few redraws while it races
        assert all(bottom(race.nth(i)) <= 720 for i in range(2)), [bottom(race.nth(i)) for i in range(2)]
        page.get_by_role("button", name="■ Stop both").click()
    finally:
        context.close()
