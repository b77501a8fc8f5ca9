"""kill -9 of the server mid-training, then a restart: finished runs intact, the interrupted one marked."""

import os
import signal
import sqlite3

from tests.conftest import until
from tests.e2e.conftest import free_port, open_page, start_server, type_into


def runs(db):
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT r.id, r.state, count(e.epoch) FROM runs r LEFT JOIN epochs e ON e.run_id = r.id "
            "GROUP BY r.id ORDER BY r.started_at"
        ).fetchall()


def test_kill_9_mid_training_then_restart(browser, tmp_path):
    db = tmp_path / "runs.db"
    env = {"RUNS_DB": str(db)}
    port = free_port()
    server = start_server(port, env, tmp_path / "first.log")
    url = f"http://127.0.0.1:{port}"
    page = browser.new_context(viewport={"width": 1600, "height": 1400}).new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    page.get_by_role("button", name="▶ Start training").click()
    page.get_by_text("Done:").wait_for()
    for label, value in (("Batch size", 1), ("Epochs", 60)):
        type_into(page, label, value)
    page.get_by_role("button", name="▶ Start training").click()
    until(lambda: any(state == "running" and n >= 1 for _, state, n in runs(db)), 60, 0.3)
    before = runs(db)
    assert [s for _, s, _ in before] == ["done", "running"], before
    os.kill(server.pid, signal.SIGKILL)
    server.wait(10)

    port2 = free_port()
    server2 = start_server(port2, env, tmp_path / "second.log")
    try:
        page.goto(f"http://127.0.0.1:{port2}/compare")
        page.get_by_role("heading", name="Compare runs").wait_for()
        page.get_by_text("Interrupted: the server stopped").wait_for()
        after = runs(db)
        assert after[0] == before[0]  # the finished run is intact, epochs and all
        assert after[1][1] == "interrupted" and after[1][2] >= before[1][2] >= 1
        open_page(page, "Board")
        page.get_by_role("heading", name="Class board").wait_for()
        page.get_by_text("Presenter view").click()
        page.locator("[data-testid=stTable]").first.wait_for()
        page.locator(".js-plotly-plot").first.wait_for()
        page.locator("[data-testid=stTable] td").first.wait_for()  # visible
    finally:
        server2.terminate()
        server2.wait(10)
