"""Runs in PostgreSQL (RUNS_DB=postgresql://...): the same store as SQLite's, and a database server that drops
every connection mid-class (a restart) loses nothing: the running run keeps recording, finished runs stay."""

import psycopg
import pytest

from core.config import TrainConfig
from core.events import EpochEnd
from core.jobs import JobManager
from core.recorder import Recorder
from core.store import RunStore
from tests.conftest import require_postgres


@pytest.fixture
def pg_store(tmp_path, monkeypatch):
    monkeypatch.setenv("RUNS_CHECKPOINTS", str(tmp_path))
    return RunStore(require_postgres())


def drop_every_connection(url: str) -> int:
    """What a restart does to the app's connections: the server ends them all."""
    with psycopg.connect(url, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return len(rows)


def test_the_store_reconnects_when_the_database_drops_its_connections(pg_store):
    url = pg_store.url
    mgr = JobManager(listeners=(Recorder(pg_store),))
    finished = mgr.submit(TrainConfig(epochs=2, pace="full"))
    assert finished.wait(60)
    dropped = []

    def drop_after_first_epoch(job, event):
        if isinstance(event, EpochEnd) and event.epoch == 1 and job is not finished:
            dropped.append(drop_every_connection(url))

    mgr.listeners = (drop_after_first_epoch, Recorder(pg_store))
    running = mgr.submit(TrainConfig(epochs=4, pace="full"))
    assert running.wait(60) and running.state == "done"
    assert dropped and dropped[0] >= 1  # the store's connections were cut mid-run
    assert [e["epoch"] for e in pg_store.epochs(running.id)] == [1, 2, 3, 4]  # it kept recording
    assert pg_store.get(running.id)["state"] == "done"
    assert pg_store.get(finished.id)["state"] == "done" and len(pg_store.epochs(finished.id)) == 2
    mgr.close()


def test_a_postgres_url_in_runs_db_is_the_servers_store(pg_store, monkeypatch):
    from core.store import SCHEMA_VERSION
    from ui.services import Services

    monkeypatch.setenv("RUNS_DB", pg_store.url)
    store = Services().store()
    assert store.url == pg_store.url and store.schema_version() == SCHEMA_VERSION
    assert "@" not in str(store)  # no credentials in what messages show
