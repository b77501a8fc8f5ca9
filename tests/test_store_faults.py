"""A run store that goes wrong ends in a message, never a traceback, and training goes on without it."""

import sqlite3

import pytest

from core.config import TrainConfig
from core.i18n import shown
from core.jobs import JobManager
from core.recorder import Recorder
from core.store import RunStore
from tests.conftest import PAGES, app, services_at, start_job


@pytest.fixture
def runs_db(tmp_path):
    """A run store's path in a fresh folder; the test opens it as a server that starts would (served)."""
    return tmp_path / "runs.db"


def every_page_says(at, needle: str) -> None:
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
    at.switch_page("pages/compare.py").run()
    assert needle in at.error[0].value
    at.switch_page("pages/board.py").run()
    assert needle in at.error[0].value


def test_a_garbage_store_leaves_training_working_with_a_message(runs_db):
    garbage = b"this is not a database, it is a student's essay" * 100
    runs_db.write_bytes(garbage)
    with services_at(runs_db) as services:
        trains_and_every_page_says(services, str(runs_db))
    assert runs_db.read_bytes() == garbage  # never overwritten


def trains_and_every_page_says(services, needle: str) -> None:
    """The Train page warns, a run trains all the same (in memory), and Compare and Board say why."""
    at = app()
    assert not at.exception
    assert "cannot be used" in at.warning[0].value and "Move or delete" in at.warning[0].value
    at.radio(key="w_pace").set_value("full").run()
    job = start_job(at)
    assert job.state == "done"  # trained in memory
    every_page_says(at, needle)


def test_a_store_with_damaged_pages_shows_a_message_on_every_page(runs_db):
    store = RunStore(runs_db)
    for i in range(300):  # enough rows to fill several pages of the file
        store.start(f"run{i}", TrainConfig(), "x" * 200)
    store._conn().close()
    data = bytearray(runs_db.read_bytes())
    data[8192:16384] = b"\xff" * 8192  # pages 3 and 4 overwritten
    runs_db.write_bytes(bytes(data))
    for suffix in ("-wal", "-shm"):
        runs_db.with_name(runs_db.name + suffix).unlink(missing_ok=True)
    with services_at(runs_db):  # a fresh server opens it anew
        at = app()
        every_page_says(at, "damaged")


def test_a_checkpoint_that_cannot_be_written_ends_the_run_finished_and_says_so(runs_db):
    runs_db.parent.joinpath("checkpoints").write_text("a file where the folder should be")
    with services_at(runs_db) as services:
        store = services.store()
        mgr = JobManager(listeners=(Recorder(store),))
        job = mgr.submit(TrainConfig(epochs=1))
        assert job.wait(60) and job.state == "done"
        run = store.get(job.id)
        assert run["state"] == "done" and run["checkpoint"] is None
        assert run["test_acc"] == job.snapshot().done.test_acc
        assert "checkpoint could not be written" in shown(run["message"])
        at = app()
        at.switch_page("pages/compare.py").run()
        at.multiselect(key="cmp_runs").set_value([job.id]).run()
        assert not at.exception and "checkpoint could not be written" in at.warning[0].value
        mgr.close()


def test_sqlite_errors_in_reads_become_the_message(runs_db):
    def broken():
        raise sqlite3.DatabaseError("database disk image is malformed")

    with services_at(runs_db) as services:
        assert services.read(broken) is None and "damaged" in services.store_error()
        assert services.read(lambda: []) == [] and services.store_error() is None  # the next read that works


def test_a_store_folder_that_cannot_be_written_leaves_training_working_with_a_message(tmp_path):
    """RUNS_DB under a path that cannot become a folder (as a read-only or missing disk would fail)."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the store's folder should be")
    with services_at(blocker / "runs.db") as services:
        trains_and_every_page_says(services, "not-a-folder")
