"""A link straight to a page, as the first visit after the server starts, gets the app's real navigation
(guards ui.compat.leave_pages_folder_mode), and students see no Deploy button."""

from tests.e2e.conftest import MENU, free_port, open_page, start_server


def test_first_visit_by_deep_link_goes_through_the_router(browser, tmp_path):
    port = free_port()
    server = start_server(port, {"RUNS_DB": str(tmp_path / "runs.db")})
    try:
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{port}/board")
        page.get_by_role("heading", name="Class board").wait_for(timeout=30_000)
        nav = page.locator("[data-testid=stTopNav]")  # the pages, in the header: the sidebar holds settings
        nav.get_by_text("Inside").wait_for()
        text = nav.inner_text()
        assert "Inside" in text.split() and MENU in text and "common" not in text and "app" not in text.split()
        assert "more" not in text.split()  # every page is in the bar or its menu, none folded into "N more"
        open_page(page, "Race")
        page.get_by_role("heading", name="Same-seed race").wait_for()
        assert page.get_by_role("button", name="Deploy").count() == 0  # a classroom app, not a developer's
    finally:
        server.terminate()
        server.wait(10)
