"""The teacher leads a class of three in real browsers: pushes an exercise with a locked field and a three-value
learning-rate experiment, sees the class plot fill with three points, stops one student's run from the console,
and exports the class's runs as CSV. And a server students can reach, started without a passcode, makes one."""

import csv
import re

from playwright.sync_api import expect

from tests.e2e.conftest import free_port, send_exercise, start_server, stop_server, type_into

PASSCODE = "owl-42"
NICKS = ("ada", "bo", "=cmd")  # the third types a formula: the CSV must keep it as text
# the experiment's plot on the console: its dots, one per finished run of the experiment
POINTS = """() => {
  const plot = [...document.querySelectorAll('.js-plotly-plot')]
    .find(p => ((p.layout || {}).title || {}).text && p.layout.title.text.includes("class's answer"));
  return plot ? plot.data[0].x.length : -1;
}"""


def student(browser, url: str, nickname: str):
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    page.get_by_text("Ready:").wait_for()
    type_into(page, "Your nickname (shown on the class board)", nickname)
    return page


def test_a_teacher_leads_three_students(browser, tmp_path):
    port = free_port()
    server = start_server(port, {"RUNS_DB": str(tmp_path / "runs.db"), "TEACHER_PASSCODE": PASSCODE})
    url = f"http://127.0.0.1:{port}"
    try:
        teacher = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
        teacher.set_default_timeout(60_000)
        # the teacher link unlocks the console; the exercise takes the teacher's Train settings from the URL
        teacher.goto(f"{url}/teacher?passcode={PASSCODE}&epochs=3&pace=full")
        teacher.get_by_text("Send an exercise to every student's Train page").wait_for()
        assert "passcode" not in teacher.url  # the passcode leaves the address bar (and the projector)
        ada, bo = student(browser, url, NICKS[0]), student(browser, url, NICKS[1])
        send_exercise(teacher, "How big a step?", "Learning rate", "0.1, 1, 3", locked="Batch size")
        cy = student(browser, url, NICKS[2])  # joins after it was sent: gets it too
        values = set()
        for page in (ada, bo, cy):  # the open pages follow the teacher without a reload
            page.get_by_text("Your teacher's exercise: How big a step?").wait_for()
            assert page.get_by_label("Batch size", exact=True).is_disabled()  # locked by the teacher
            line = page.get_by_text("Class experiment on learning rate").inner_text()
            values.add(re.search(r"your value is (\S+) ", line).group(1))
            page.get_by_role("button", name="Load it").click()
            expect(page.get_by_label("Epochs", exact=True)).to_have_value("3", timeout=20_000)  # the exercise's
        assert values == {"0.1", "1", "3"}  # one value each, spread across the class
        for page in (ada, bo, cy):
            page.get_by_role("button", name="▶ Start training").click()
        for page in (ada, bo, cy):
            page.get_by_text("Done:").wait_for()
        teacher.wait_for_function(f"({POINTS})() === 3", timeout=60_000)  # the class plot: three points

        # a long run of ada's, stopped from the console
        type_into(ada, "Epochs", 100)
        ada.get_by_text("Slow motion", exact=True).click()  # about 100 s: still training when the console looks
        ada.wait_for_timeout(500)
        ada.get_by_role("button", name="▶ Start training").click()
        ada.get_by_role("button", name="⏸ Pause").wait_for()
        teacher.get_by_text("· 1 training ·").wait_for()  # the console's next redraw has it
        teacher.get_by_role("combobox", name="A student's run").click()
        teacher.keyboard.type("running")
        teacher.keyboard.press("Enter")
        teacher.get_by_role("button", name="⏹ Stop it").click()
        ada.get_by_text("Stopped by the teacher.").wait_for()

        with teacher.expect_download() as download:
            teacher.get_by_role("button", name="⬇ The class's runs (CSV)").click()
        rows = list(csv.DictReader(open(download.value.path(), newline="", encoding="utf-8")))
        assert sorted(r["nickname"] for r in rows) == sorted(["ada", "ada", "bo", "'=cmd"])  # a formula stays text
        done = {r["nickname"]: r for r in rows if r["state"] == "done"}
        assert {done[n]["lr"] for n in ("ada", "bo", "'=cmd")} == {"0.1", "1.0", "3.0"}
        assert all(float(done[n]["test_acc"]) > 0 and done[n]["batch_size"] == "32" for n in done)
    finally:
        stop_server(server)


def test_a_reachable_server_without_a_passcode_makes_one(browser, tmp_path):
    """Bound to every interface (students can reach it) with no TEACHER_PASSCODE: the server prints a passcode and a
    teacher link, and runs as a class: one student cannot delete another's run; the link opens the console."""
    port, log = free_port(), tmp_path / "server.log"
    server = start_server(port, {"RUNS_DB": str(tmp_path / "runs.db")}, log, address="0.0.0.0")
    url = f"http://127.0.0.1:{port}"
    try:
        printed = log.read_text()
        code = re.search(r"Teacher passcode: (\S+)", printed).group(1)
        assert f"/teacher?passcode={code}" in printed
        ada = student(browser, url, "ada")
        type_into(ada, "Epochs", 1)
        ada.get_by_role("button", name="▶ Start training").click()
        ada.get_by_text("Done:").wait_for()
        carl = student(browser, url, "carl")
        carl.goto(f"{url}/compare")
        carl.get_by_role("heading", name="Compare runs").wait_for()
        carl.get_by_text("Delete runs").click()
        carl.get_by_text("1 of the selected runs is someone else's").wait_for()
        assert carl.get_by_role("button", name="Delete selected").count() == 0
        carl.goto(f"{url}/teacher")
        carl.get_by_text("type the passcode above to open it").wait_for()  # a student cannot open the console
        carl.goto(f"{url}/teacher?passcode={code}")
        carl.get_by_text("Send an exercise to every student's Train page").wait_for()
    finally:
        stop_server(server)


def test_thirty_runs_fit_the_projector(browser, tmp_path):
    """A class of thirty on the console in presenter view at 1280x720: every run's small loss curve is on the screen,
    under the buttons, each titled with its student."""
    import math

    from core.config import TrainConfig
    from core.events import EpochEnd
    from core.store import RunStore

    store = RunStore(tmp_path / "runs.db")
    for i in range(30):
        store.start(f"run{i}", TrainConfig(), f"student{i}")
        for e in range(1, 6):
            loss = 2.3 * math.exp(-e * (i + 1) / 30) + 0.1
            end = dict(epoch=e, epochs=5, train_loss=loss, train_acc=0.5, val_loss=None, val_acc=None, test_loss=loss)
            store.add_epoch(f"run{i}", EpochEnd(**end, test_acc=0.9, epoch_s=0.5, elapsed_s=e * 0.5, eta_s=0.0))
        store.finish(f"run{i}", "done", test_acc=0.9, test_loss=0.3, train_s_per_epoch=0.5, confusion=[[1]])
    port = free_port()
    server = start_server(port, {"RUNS_DB": str(tmp_path / "runs.db")})
    try:
        page = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
        page.set_default_timeout(60_000)
        page.goto(f"http://127.0.0.1:{port}/teacher")
        page.get_by_text("30 runs this lesson").wait_for()
        page.get_by_text("Presenter view").click()
        page.get_by_test_id("stSidebar").wait_for(state="hidden")
        page.wait_for_timeout(2500)  # the next redraw, eight to a row
        panels = page.evaluate(
            """() => [...document.querySelectorAll('.js-plotly-plot')].map(p => p.getBoundingClientRect())
                 .filter(r => r.height > 300).map(r => [r.top, r.bottom])"""
        )
        assert len(panels) == 1 and panels[0][1] <= 720, panels
        titles = page.evaluate(
            "() => [...document.querySelectorAll('.js-plotly-plot .annotation-text')].map(t => t.textContent)"
        )
        assert sorted(t.split(" · ")[0] for t in titles) == sorted(f"student{i}" for i in range(30))
    finally:
        stop_server(server)
