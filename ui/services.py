"""The server's shared services, as one object: where runs train (its jobs), the run store they are recorded in,
and why that store fails when it does. ui/server.py builds it once as the server starts; the pages, the session
helpers and the live feed route all get that one from current() (a test installs its own)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from core import class_images
from core.i18n import N_, tr
from core.jobs import JobManager, Jobs
from core.process import settle_heap
from core.recorder import WRITE_FAILED, Recorder, StoreError
from core.store import RunStore, db_errors, default_path, is_url, shown

RETRY_S = 5.0  # a store that failed to open is tried again after this long

OPEN_FAILED_URL = N_(
    "The run store {where} cannot be used ({error}). Runs still train, but are not saved, and saved runs cannot be "
    "shown. Check that the database server is running and reachable, then restart the app."
)
OPEN_FAILED_FILE = N_(
    "The run store {where} cannot be used ({error}). Runs still train, but are not saved, and saved runs cannot be "
    "shown. Move or delete the damaged file (or set RUNS_DB to another path), then restart the app."
)
READ_FAILED = N_(
    "The run store {where} is damaged or unreachable ({error}). Runs still train, but are not saved, and saved runs "
    "cannot be shown. Move or delete a damaged file (or set RUNS_DB to another path), or check the database server, "
    "then restart."
)


class Services:
    """One server process's jobs and run store, and the one account of the store's failures.

    The store is opened at first use and never overwritten or repaired (a student's runs may be in it); while it
    cannot be opened, store() gives None and is tried again after RETRY_S. Whatever goes wrong with it, a page's
    read, a write of the recorder on a training thread, or a write of a cluster's coordinator (heard with each
    heartbeat), lands in one place, guarded by a lock, and store_error() puts it into the page's language."""

    def __init__(self, where: str | os.PathLike | None = None, jobs: Jobs | None = None):
        self.where = default_path() if where is None else (where if is_url(where) else Path(where))
        # three locks, so that a store slow to open (a database server that does not answer) holds up no page that
        # only follows its runs, and a training thread reporting a write waits for neither
        self._jobs_lock, self._store_lock, self._error_lock = threading.Lock(), threading.Lock(), threading.Lock()
        self._jobs = jobs
        self._store: RunStore | None = None
        self._failed_at: float | None = None  # when the store last failed to open
        self._error: StoreError | None = None  # why runs are not being saved, while they are not

    # ------------------------------------------------------------------ jobs
    @property
    def jobs(self) -> Jobs:
        """Where runs train and are followed: threads of this process, recording every run into the store (the
        default), or, with $RAY_ADDRESS set, the class's Ray cluster (core.backends.ray_cluster), whose
        coordinator records them. Made at first use: the process is tuned once its warm heap exists.

        JOB_CAP, JOB_MAX_RUNTIME_S, JOB_GRACE_S and JOB_PER_STUDENT override the scheduler's defaults."""
        with self._jobs_lock:
            if self._jobs is None:
                self._jobs = self._make_jobs(os.environ)
            return self._jobs

    def _make_jobs(self, env) -> Jobs:
        settings = {
            "cap": int(env["JOB_CAP"]) if env.get("JOB_CAP") else None,
            "max_runtime_s": float(env.get("JOB_MAX_RUNTIME_S", 3600)),
            "grace_s": float(env.get("JOB_GRACE_S", 120)),
            "per_student": int(env.get("JOB_PER_STUDENT", 3)),  # a Train run and a race at once
        }
        if env.get("RAY_ADDRESS"):  # the cluster's coordinator records the runs, where every replica reads them
            from core.backends.ray_cluster import ClusterJobs

            if is_url(self.where):  # absolute: the coordinator's working folder is not this one
                folder = Path(env.get("RUNS_CHECKPOINTS") or "runs").resolve() / "checkpoints"
                store = {"store": self.where, "checkpoints": str(folder)}
            else:
                store = {"store": str(Path(self.where).resolve()), "checkpoints": None}  # beside the file
            return ClusterJobs(env["RAY_ADDRESS"], {**settings, **store}, report_store=self.written)
        settle_heap()  # the server's warm heap exists now: tune the process once
        return JobManager(**settings, listeners=(Recorder(self.store, report=self.written),))

    def close(self) -> None:
        """The server is going away: in-process jobs stop (and are recorded as stopped); a cluster's go on."""
        with self._jobs_lock:
            jobs = self._jobs
        if jobs is not None:
            jobs.close()

    # ------------------------------------------------------------------ the run store
    def store(self) -> RunStore | None:
        """The run store, or None while it cannot be opened: store_error() says why."""
        with self._store_lock:
            if self._store is not None:
                return self._store
            if self._failed_at and time.monotonic() - self._failed_at < RETRY_S:
                return None
            try:
                opened = RunStore(self.where)
                opened.mark_interrupted()  # runs of a server process here that died are interrupted
            except (*db_errors(), OSError, RuntimeError) as e:
                self._failed_at = time.monotonic()
                message = OPEN_FAILED_URL if is_url(self.where) else OPEN_FAILED_FILE
                self._report((message, {"where": shown(self.where), "error": str(e)}))
                return None
            self._store, self._failed_at = opened, None
            class_images.install(opened)  # the class's own datasets load by name from this store (core.data)
        with self._error_lock:
            self._error = None  # opened: whatever failed before is over
        return opened

    def read(self, method, *args):
        """A read of the store (store().list, .epochs...), or None when it fails under it (damaged pages, a
        database gone): store_error() then says what to do, and the page shows that instead of a traceback."""
        try:
            result = method(*args)
        except db_errors() as e:
            self._report((READ_FAILED, {"where": shown(self.where), "error": str(e)}), READ_FAILED)
            return None
        self._report(None, READ_FAILED)
        return result

    def written(self, error: StoreError | None) -> None:
        """How the last write of a run went (core.recorder, or a cluster's coordinator): why it failed, or None."""
        self._report(error, WRITE_FAILED)

    def _report(self, error: StoreError | None, kind: str = "") -> None:
        """Note a failure; or, with None, that the last one of this kind (its message) is over."""
        with self._error_lock:
            if error is not None:
                self._error = error
            elif self._error is not None and self._error[0] == kind:  # that failure is over
                self._error = None

    def store_error(self) -> str | None:
        """Why runs are not being saved, in the current language, or None while they are."""
        with self._error_lock:
            error = self._error
        if error is None:
            return None
        message, values = error
        return tr(message, **values)


_lock = threading.Lock()
_current: Services | None = None  # set at the server's start (or a test's), never by a training thread


def current() -> Services:
    """This server process's services: those ui/server.py built as it started (AppTest, which starts no server:
    built by the first page that asks)."""
    global _current
    with _lock:
        if _current is None:
            _current = Services()
        return _current


def install(services: Services | None) -> Services | None:
    """Make `services` this process's (the server's start; a test's own), and return the ones they replace."""
    global _current
    with _lock:
        previous, _current = _current, services
        return previous
