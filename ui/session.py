"""Which jobs belong to this browser session, and what Results and Inside show for it.

Streamlit never stops a thread when a tab closes: a session's jobs are released to the manager's reaper when
Streamlit drops the session (on_release below), and reclaimed if the tab comes back in time.
"""

from __future__ import annotations

import hmac
import secrets

import streamlit as st

from core.data import DatasetError
from core.events import ACTIVE, RUNNING
from core.i18n import tr
from core.jobs import Job, JobsUnavailable, LimitReached, owner_tag
from ui.labels import describe, md
from ui.loading import stored_snapshot
from ui.services import current


class SessionJobs:
    """The jobs this browser session owns (it started them, or came back with their owner link), by id, with
    their owner keys; and the session's own name as a holder of jobs."""

    def __init__(self):
        self.token = secrets.token_hex(16)
        self.keys: dict[str, str] = {}  # job id -> owner key

    @property
    def ids(self) -> list[str]:
        return list(self.keys)

    def add(self, job: Job) -> None:
        self.keys[job.id] = job.owner_key


def _release(jobs: SessionJobs) -> None:
    mgr = current().jobs
    for job_id in jobs.ids:
        job = mgr.get(job_id)
        if job is not None:
            mgr.release(job, jobs.token)


@st.cache_resource(scope="session", on_release=_release, show_spinner=False)
def session_jobs() -> SessionJobs:
    return SessionJobs()


def own(job: Job) -> Job:
    """This session owns the job: it may stop it, and the reaper stops it once every owning tab is gone."""
    jobs = session_jobs()
    jobs.add(job)
    current().jobs.hold(job, jobs.token)
    return job


def submit(cfg, nickname: str = "", tag: str = "", estimate_s: float | None = None) -> Job | None:
    """Start a job for this session (owned by it); None, with the reason kept for the page to show, when the
    server's per-student limit refuses it or the cluster cannot be reached."""
    try:
        job = current().jobs.submit(cfg, nickname, tag, student=session_jobs().token, estimate_s=estimate_s)
    except (LimitReached, JobsUnavailable, DatasetError) as e:  # DatasetError: a class's own set not ready
        st.session_state["refused"] = str(e)
        return None
    st.session_state.pop("refused", None)
    return own(job)


def refused_ui() -> None:
    """Why the last Start did nothing, if a limit refused it."""
    if st.session_state.get("refused"):
        st.warning(st.session_state["refused"], icon="✋")


def owns(job) -> bool:
    """Does this session own this job (by its owner key, not by knowing its id)?"""
    key = session_jobs().keys.get(job.id)
    return key is not None and hmac.compare_digest(key, job.owner_key)


def owner_tags() -> set[str]:
    """The owner tags (as the run store keeps them) of every job this session owns."""
    return {owner_tag(key) for key in session_jobs().keys.values()}


def remember(job: Job) -> None:
    """The Train page's new job: owned, current, and its owner link in the URL so a reload finds it again."""
    own(job)
    st.session_state["job_id"] = job.id
    st.query_params["owner"] = job.owner_key  # the owner link: keep it to yourself
    st.query_params.pop("run", None)  # Results and Inside now show this run, not a linked one


def current_job() -> Job | None:
    """This session's latest job; after a reload, the one whose owner link the URL holds (reclaimed)."""
    mgr = current().jobs
    job = mgr.get(st.session_state.get("job_id"))
    if job is not None and owns(job):
        return job
    key = st.query_params.get("owner")
    job = mgr.by_owner_key(key)
    if job is not None:
        own(job)
        st.session_state["job_id"] = job.id
    elif key and st.session_state.get("job_id") is None:  # forgotten, or its cluster unreachable: the store's
        services = current()
        opened = services.store()
        st.session_state["job_id"] = services.read(opened.owned_by, owner_tag(key)) if opened is not None else None
    return job


def _owned_run():
    """This session's run as the store keeps it (current_job found its id from the owner link), or None."""
    run_id = st.session_state.get("job_id")
    return stored_snapshot(run_id) if run_id else None


def linked_run_ui() -> bool:
    """Above Results and Inside, when a link names a run (?run=<id>, Compare's Open): whose run it is, or that it
    cannot be shown yet. False while it cannot (another student's run still training, or no such run): the page
    then shows nothing else, not the viewer's own run in its place."""
    run_id = st.query_params.get("run")
    if not run_id:
        return True
    linked = current().jobs.get(run_id)
    if linked is not None and owns(linked):
        return True
    snap = stored_snapshot(run_id) or (linked.snapshot(light=True) if linked is not None else None)
    if snap is None:
        st.warning(tr("There is no run {run} on this server: it may have been deleted.", run=md(run_id)), icon="🔎")
        return False
    who, what = md(snap.nickname or tr("anonymous")), describe(snap.config)
    if snap.state in ACTIVE:
        st.info(tr("{who}'s run ({run}) is still training: it can be viewed here once it ends.", who=who, run=what),
                icon="⏳")  # fmt: skip
        return False
    st.caption(tr("Showing {who}'s run: {run}.", who=who, run=what))
    return True


def current_view():
    """(snapshot, job) for Results and Inside: the run a link names (?run=<id>: a job, or a run from the store),
    else the newer of this session's job and an uploaded checkpoint; job is None when no live job is shown."""
    run_id = st.query_params.get("run")
    if run_id:
        linked = current().jobs.get(run_id)
        if linked is not None and owns(linked):
            return linked.snapshot(), linked
        stored = stored_snapshot(run_id)  # another student's run: once it has finished, as the store keeps it
        if stored is not None and stored.state != RUNNING:
            return stored, None
    job = current_job()
    snap = job.snapshot() if job else None
    if job is None:  # the jobs' backend forgot the run, or cannot be reached (a cluster gone): the store has it
        stored = _owned_run()
        snap = stored if stored is not None and stored.state != RUNNING else None
    loaded = st.session_state.get("loaded_snapshot")
    if loaded is not None and (snap is None or loaded.submitted_at > snap.submitted_at):
        return loaded, None
    return snap, job
