"""The server's shared services, assembled in one place: the run store and the job manager that records
into it. Process-wide (every session and the live feed route see the same ones)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from core.events import BatchEnd
from core.i18n import N_, tr
from core.jobs import JobManager, Jobs
from core.process import settle_heap
from core.runs import RunStore, db_errors, default_path, default_store, is_url

_lock = threading.Lock()
_manager: Jobs | None = None


# why runs are not being saved, while they are not: a message and its values, put into words by store_error() in
# the language of the page that shows it (the failure may be met on a training thread, or in another tab)
_store_error: tuple[str, dict] | None = None
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
        values = {"where": shown(default_path()), "error": str(e)}
        if is_url(default_path()):
            _store_error = (
                N_(
                    "The run store {where} cannot be used ({error}). Runs still train, but are not saved, and saved "
                    "runs cannot be shown. Check that the database server is running and reachable, then restart the "
                    "app."
                ),
                values,
            )
        else:
            _store_error = (
                N_(
                    "The run store {where} cannot be used ({error}). Runs still train, but are not saved, and saved "
                    "runs cannot be shown. Move or delete the damaged file (or set RUNS_DB to another path), then "
                    "restart the app."
                ),
                values,
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
            N_(
                "The run store {where} is damaged or unreachable ({error}). Runs still train, but are not saved, and "
                "saved runs cannot be shown. Move or delete a damaged file (or set RUNS_DB to another path), or check "
                "the database server, then restart."
            ),
            {"where": shown(default_path()), "error": str(e)},
        )
        return None


def shown(where) -> str:
    """Where the store is, for a message: a URL without its user and password."""
    return str(where).split("@")[-1] if is_url(where) else str(where)


def store_error() -> str | None:
    """Why runs are not being saved, in the current language, or None while they are."""
    if _store_error is None:
        return None
    message, values = _store_error
    return tr(message, **values)


def _record(job, event) -> None:
    """Persist each event; a store that fails (a damaged file, a full disk) must not stop the training."""
    global _store_error
    if isinstance(event, BatchEnd):  # the store keeps epochs, ends and rewind snapshots, not every batch
        return
    opened = store()
    if opened is None:
        return
    try:
        opened.record(job, event)
    except (*db_errors(), OSError) as e:
        _store_error = (
            N_(
                "Runs are not being saved: writing {where} failed ({error}). Runs still train; check the disk and the "
                "file, then restart the app."
            ),
            {"where": shown(default_path()), "error": str(e)},
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
