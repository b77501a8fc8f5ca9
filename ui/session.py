"""Which jobs belong to this browser session, and what Results and Inside show for it.

Streamlit never stops a thread when a tab closes: a session's jobs are released to the manager's reaper when
Streamlit drops the session (on_release below), and reclaimed if the tab comes back in time.
"""

from __future__ import annotations

import streamlit as st

from core.jobs import TrainingJob
from ui.services import manager


class SessionJobs:
    """The ids of the jobs this browser session started (Train and race alike)."""

    def __init__(self):
        self.ids: list[str] = []

    def add(self, job_id: str) -> None:
        if job_id not in self.ids:
            self.ids.append(job_id)


def _release(jobs: SessionJobs) -> None:
    mgr = manager()
    for job_id in jobs.ids:
        job = mgr.get(job_id)
        if job is not None:
            mgr.release(job)


@st.cache_resource(scope="session", on_release=_release, show_spinner=False)
def session_jobs() -> SessionJobs:
    return SessionJobs()


def own(job: TrainingJob) -> TrainingJob:
    """Record a job this session started, so the reaper stops it once the session's tab is gone."""
    session_jobs().add(job.id)
    return job


def remember(job: TrainingJob) -> None:
    """The Train page's new job: owned, current, and named in the URL so a reload finds it again."""
    own(job)
    st.session_state["job_id"] = job.id
    st.query_params["job"] = job.id
    st.query_params.pop("run", None)  # Results and Inside now show this run, not a linked one


def current_job() -> TrainingJob | None:
    """This session's latest job; after a reload, the one named in the URL (reclaimed from the reaper)."""
    mgr = manager()
    job = mgr.get(st.session_state.get("job_id"))
    if job is None and st.query_params.get("job"):
        job = mgr.get(st.query_params["job"])
        if job is not None:
            mgr.reclaim(job)
            st.session_state["job_id"] = job.id
            own(job)
    return job


def current_view():
    """(snapshot, job) for Results and Inside: the run a link names (?run=<id>: a job, or a run from the store),
    else the newer of this session's job and an uploaded checkpoint; job is None when no live job is shown."""
    from ui.loading import stored_snapshot

    run_id = st.query_params.get("run")
    if run_id:
        linked = manager().get(run_id)
        if linked is not None:
            return linked.snapshot(), linked
        stored = stored_snapshot(run_id)
        if stored is not None:
            return stored, None
    job = current_job()
    loaded = st.session_state.get("loaded_snapshot")
    if loaded is not None and (job is None or loaded.submitted_at > job.submitted_at):
        return loaded, None
    return (job.snapshot() if job else None), job
