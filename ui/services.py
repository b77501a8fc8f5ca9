"""The server's shared services, assembled in one place: the run store and the job manager that records
into it. Process-wide (every session and the live feed route see the same ones)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from core.events import BatchEnd, Peek
from core.jobs import JobManager, Jobs
from core.process import settle_heap
from core.runs import RunStore, db_errors, default_path, default_store, is_url

_lock = threading.Lock()
_manager: Jobs | None = None


_store_error: str | None = None  # why runs are not being saved, while they are not
_failed_at: float | None = None  # when the store last failed to open: it is tried again after RETRY_S
RETRY_S = 5.0


def store() -> RunStore | None:
    """The run store at $RUNS_DB (runs/runs.db by default), or None when it cannot be opened: store_error()
    says why. The file is never overwritten or repaired: a student's runs may be in it."""
    global _store_error, _failed_at
    if _failed_at and time.monotonic() - _failed_at < RETRY_S:
        return None
    try:
        opened = default_store()
    except (*db_errors(), OSError, RuntimeError) as e:
        _failed_at = time.monotonic()
        what = (
            "Check that the database server is running and reachable"
            if is_url(default_path())
            else ("Move or delete the damaged file (or set RUNS_DB to another path)")
        )
        _store_error = (
            f"The run store {shown(default_path())} cannot be used ({e}). Runs still train, but are not saved, and "
            f"saved runs cannot be shown. {what}, then restart the app."
        )
        return None
    _store_error = _failed_at = None
    return opened


def read(method, *args):
    """A read of the store (store().list, .epochs...), or None when the file fails under it (damaged pages):
    store_error() then says what to do, and the page shows that instead of a traceback."""
    global _store_error
    try:
        return method(*args)
    except db_errors() as e:
        _store_error = (
            f"The run store {shown(default_path())} is damaged or unreachable ({e}). Runs still train, but are not "
            f"saved, and saved runs cannot be shown. Move or delete a damaged file (or set RUNS_DB to another "
            f"path), or check the database server, then restart."
        )
        return None


def shown(where) -> str:
    """Where the store is, for a message: a URL without its user and password."""
    return str(where).split("@")[-1] if is_url(where) else str(where)


def store_error() -> str | None:
    """Why runs are not being saved, or None while they are."""
    return _store_error


def _record(job, event) -> None:
    """Persist each event; a store that fails (a damaged file, a full disk) must not stop the training."""
    global _store_error
    if isinstance(event, (BatchEnd, Peek)):  # the store keeps epochs and ends, not every batch
        return
    opened = store()
    if opened is None:
        return
    try:
        opened.record(job, event)
    except (*db_errors(), OSError) as e:
        _store_error = (
            f"Runs are not being saved: writing {shown(default_path())} failed ({e}). Runs still train; "
            f"check the disk and the file, then restart the app."
        )


def manager() -> Jobs:
    """Where this server's runs train and are followed: threads of this process, persisting every run to the
    store (the default), or, with $RAY_ADDRESS set, the class's Ray cluster (core.backends.ray_cluster).

    JOB_CAP, JOB_MAX_RUNTIME_S, JOB_GRACE_S and JOB_PER_STUDENT override the scheduler's defaults.
    """
    global _manager
    with _lock:
        if _manager is None:
            env = os.environ
            settings = {
                "cap": int(env["JOB_CAP"]) if env.get("JOB_CAP") else None,
                "max_runtime_s": float(env.get("JOB_MAX_RUNTIME_S", 3600)),
                "grace_s": float(env.get("JOB_GRACE_S", 120)),
                "per_student": int(env.get("JOB_PER_STUDENT", 3)),  # a Train run and a race at once
            }
            if env.get("RAY_ADDRESS"):  # the cluster's coordinator records the runs, where every replica reads them
                from core.backends.ray_cluster import ClusterJobs

                where = default_path()  # absolute: the coordinator's working folder is not this one
                if is_url(where):
                    folder = Path(env.get("RUNS_CHECKPOINTS") or "runs").resolve() / "checkpoints"
                    store = {"store": where, "checkpoints": str(folder)}
                else:
                    store = {"store": str(Path(where).resolve()), "checkpoints": None}  # beside the file
                _manager = ClusterJobs(env["RAY_ADDRESS"], {**settings, **store})
            else:
                settle_heap()  # the server's warm heap exists now: tune the process once
                _manager = JobManager(**settings, listeners=(_record,))
        return _manager


def shutdown() -> None:
    """The server is going away: in-process jobs stop (and are recorded as stopped); a cluster's go on."""
    with _lock:
        mgr = _manager
    if mgr is not None:
        mgr.close()
