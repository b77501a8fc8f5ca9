"""The server's shared services, assembled in one place: the run store and the job manager that records
into it. Process-wide (every session and the live feed route see the same ones)."""

from __future__ import annotations

import os
import threading

from core.jobs import JobManager
from core.process import settle_heap
from core.runs import RunStore, default_store

_lock = threading.Lock()
_manager: JobManager | None = None


def store() -> RunStore:
    """The run store at $RUNS_DB (runs/runs.db by default)."""
    return default_store()


def manager() -> JobManager:
    """The process-wide job manager, persisting every run to the store.

    JOB_CAP, JOB_MAX_RUNTIME_S and JOB_GRACE_S override its defaults.
    """
    global _manager
    with _lock:
        if _manager is None:
            env = os.environ
            settle_heap()  # the server's warm heap exists now: tune the process once
            _manager = JobManager(
                cap=int(env["JOB_CAP"]) if env.get("JOB_CAP") else None,
                max_runtime_s=float(env.get("JOB_MAX_RUNTIME_S", 3600)),
                grace_s=float(env.get("JOB_GRACE_S", 120)),
                listeners=(store().record,),
            )
        return _manager


def shutdown() -> None:
    """Stop every job (the server is going away); their runs are recorded as stopped."""
    with _lock:
        mgr = _manager
    if mgr is not None:
        mgr.close()
