"""Two students on one class server (a teacher passcode set): one cannot follow, stop, adopt, reap or delete the
other's run, by link or by guess; the owner link and the teacher's passcode can."""

import json
import sqlite3
import urllib.error
import urllib.request

from core.store import RunStore
from tests.conftest import until
from tests.e2e.conftest import free_port, start_server, type_into


def run_row(db, run_id):
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT state, message FROM runs WHERE id=?", (run_id,)).fetchone()


def fetch(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_one_student_cannot_touch_anothers_run(browser, tmp_path):
    db = tmp_path / "runs.db"
    env = {
        "RUNS_DB": str(db),
        "TEACHER_PASSCODE": "owl-42",
        "JOB_GRACE_S": "1",
        "STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL": "2",
    }
    port = free_port()
    server = start_server(port, env, tmp_path / "server.log")
    url = f"http://127.0.0.1:{port}"
    ada, bob = browser.new_context(viewport={"width": 1280, "height": 900}), browser.new_context()
    try:
        a = ada.new_page()
        a.set_default_timeout(60_000)
        feeds = []
        a.on("request", lambda r: feeds.append(r.url) if "/api/live/" in r.url else None)
        a.goto(url)
        a.get_by_text("Ready: Softmax regression on").wait_for()
        type_into(a, "Epochs", 100)  # slow motion: a hundred seconds, longer than this test
        a.get_by_role("button", name="▶ Start training").click()
        a.get_by_text("Running:").wait_for()
        with sqlite3.connect(db) as conn:
            run_id = conn.execute("SELECT id FROM runs").fetchone()[0]  # the run's public id, as Compare shows
        owner_link = a.url
        assert "owner=" in owner_link and run_id not in owner_link
        a.wait_for_timeout(1500)
        assert feeds and run_id not in feeds[-1]  # the owner's view follows by the owner key, not the id

        # feed: neither the run's id nor a guess follows it
        assert fetch(f"{url}/api/live/{run_id}")[0] == 404
        assert fetch(f"{url}/api/live/{'A' * 22}")[0] == 404

        # follow, adopt, stop: bob opens every link he can make from what he sees
        b = bob.new_page()
        b.set_default_timeout(60_000)
        for link in (f"{url}/?job={run_id}", f"{url}/?run={run_id}", f"{url}/?owner={run_id}"):
            b.goto(link)
            b.get_by_text("Ready: Softmax regression on").wait_for()  # his own, empty Train page
            assert b.get_by_role("button", name="■ Stop").is_disabled()
        b.goto(f"{url}/results?run={run_id}")
        b.get_by_role("heading", name="What did it learn?").wait_for()
        b.get_by_text("is still training: it can be viewed here once it ends").wait_for()  # not his to watch
        assert b.locator(".js-plotly-plot").count() == 0  # nor his own run in its place

        # close-tab: bob's tabs close; ada's run is not reaped while she is there. Bob trains a run of his own
        # first: once it is stopped for his closed tab, the reaper has passed over everything his tabs held.
        b.goto(url)
        b.get_by_text("Ready: Softmax regression on").wait_for()
        type_into(b, "Epochs", 100)
        b.get_by_role("button", name="▶ Start training").click()
        b.get_by_text("Running:").wait_for()
        with sqlite3.connect(db) as conn:
            bobs = conn.execute("SELECT id FROM runs WHERE id != ?", (run_id,)).fetchone()[0]
        bob.close()
        # the session TTL (2 s), the grace (1 s) and a reaper pass (every 5 s)
        assert until(lambda: run_row(db, bobs)[0] == "stopped", 30, 0.2), run_row(db, bobs)
        assert "tab was closed" in run_row(db, bobs)[1]
        assert run_row(db, run_id)[0] == "running"
        RunStore(db).delete(bobs)  # out of Compare's way: what follows is about ada's run
        assert a.get_by_text("Running:").is_visible()

        # delete: a stranger (a fresh session with no owner link) cannot delete it, the teacher can
        ada.new_page()  # keeps ada's session alive in its own tab while the others look
        carl = browser.new_context().new_page()
        carl.set_default_timeout(60_000)
        a.get_by_role("button", name="■ Stop").click()  # ada ends her run: now it is Compare's to show
        a.get_by_text("Stopped:").wait_for()
        carl.goto(f"{url}/compare")
        carl.get_by_role("heading", name="Compare runs").wait_for()
        carl.get_by_text("Delete runs").click()
        carl.get_by_text("1 of the selected runs is someone else's").wait_for()
        assert carl.get_by_role("button", name="Delete selected").count() == 0  # nothing of his to delete
        carl.get_by_text("🎓 Teacher").click()
        box = carl.get_by_label("Teacher passcode")
        box.fill("owl-42")
        box.press("Enter")
        carl.get_by_text("you may stop and delete any run").wait_for()
        sure = carl.get_by_text("Yes, delete the selected run for good")  # offered now that the run may be deleted
        sure.wait_for(state="attached")
        carl.wait_for_timeout(500)  # the passcode's rerun settles
        if carl.locator("details", has_text="Delete runs").get_attribute("open") is None:
            carl.get_by_text("Delete runs").click()
        sure.click()
        carl.get_by_role("button", name="Delete selected").click()
        carl.get_by_text("No saved runs yet").wait_for()
        assert run_row(db, run_id) is None
    finally:
        ada.close()
        server.terminate()
        server.wait(10)


def test_the_owner_link_controls_the_run_from_another_tab(browser, tmp_path):
    db = tmp_path / "runs.db"
    port = free_port()
    server = start_server(port, {"RUNS_DB": str(db), "TEACHER_PASSCODE": "owl-42"}, tmp_path / "server.log")
    url = f"http://127.0.0.1:{port}"
    try:
        a = browser.new_context().new_page()
        a.set_default_timeout(60_000)
        a.goto(url)
        a.get_by_text("Ready: Softmax regression on").wait_for()
        type_into(a, "Epochs", 100)
        a.get_by_role("button", name="▶ Start training").click()
        a.get_by_text("Running:").wait_for()
        other = browser.new_context().new_page()  # the same student on a second laptop, with her link
        other.set_default_timeout(60_000)
        other.goto(a.url)
        other.get_by_text("Running:").wait_for()
        other.get_by_role("button", name="■ Stop").click()
        other.get_by_text("Stopped:").wait_for()
        with sqlite3.connect(db) as conn:
            assert conn.execute("SELECT state FROM runs").fetchone()[0] == "stopped"
    finally:
        server.terminate()
        server.wait(10)
