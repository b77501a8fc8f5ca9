"""A same-seed race belongs to the tab that started it: closing that tab stops both of its runs."""

import sqlite3

from tests.conftest import until
from tests.e2e.conftest import free_port, open_page, start_server, type_into


def race_runs(db):
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT nickname, state, message FROM runs WHERE tag = 'race' ORDER BY nickname").fetchall()


def test_race_runs_are_stopped_when_their_tab_closes(browser, tmp_path):
    db = tmp_path / "runs.db"
    # Streamlit drops a closed tab's session after 2 s; its jobs are stopped 1 s after that
    env = {"RUNS_DB": str(db), "JOB_GRACE_S": "1", "STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL": "2"}
    port = free_port()
    server = start_server(port, env, tmp_path / "server.log")
    try:
        context = browser.new_context(viewport={"width": 1280, "height": 720})
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(f"http://127.0.0.1:{port}")
        page.get_by_text("Train a classifier, watch it learn").wait_for()
        type_into(page, "Batch size", 1)  # the race takes the Train page's settings: minutes of training
        type_into(page, "Epochs", 60)
        type_into(page, "Your nickname (shown on the class board)", "Ada")  # the race's runs are hers
        open_page(page, "Race")
        page.get_by_role("button", name="🏁 Start the race").click()
        until(lambda: [s for _, s, _ in race_runs(db)] == ["running", "running"], 30, 0.2)
        assert [s for _, s, _ in race_runs(db)] == ["running", "running"], race_runs(db)
        context.close()  # the student closes the tab
        until(lambda: not any(s == "running" for _, s, _ in race_runs(db)), 60, 0.5)
        runs = race_runs(db)
        assert [s for _, s, _ in runs] == ["stopped", "stopped"], runs
        assert all("tab was closed" in m for _, _, m in runs), runs
        assert [n for n, _, _ in runs] == ["Ada", "Ada"]  # credited to the student, not "race A" and "race B"
    finally:
        server.terminate()
        server.wait(10)
