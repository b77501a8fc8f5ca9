"""Training on a Ray cluster, for a class bigger than one server (requirements-cluster.txt).

One coordinator actor, named and detached, holds the class's JobManager: the global fair queue, the per-student
limit, the runtime cap, the reaper, and the run store's writes. Each run trains in a Ray task on whichever machine
has the cores (or the share of a GPU) it asks for, and streams its events back in small chunks. App replicas
reach the coordinator through ClusterJobs, the same Jobs interface as the in-process JobManager, so a replica
that dies loses no run. Only this module imports Ray.
"""

from __future__ import annotations

import functools
import os
import secrets
import socket
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import ray
from ray import exceptions as rex
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

import core
from core import data as D
from core import i18n
from core.config import TrainConfig
from core.events import BatchEnd, Failed, Started
from core.i18n import DEFAULT, N_, language, said, tr, use, using
from core.jobs import JobManager, JobsUnavailable, LimitReached, Snapshot, TrainingJob, pinned
from core.recorder import Recorder, StoreError
from core.store import RunStore, shown

NAMESPACE = "teaching-dashboard"
COORDINATOR = "jobs"  # the coordinator actor's name in NAMESPACE: every replica finds the same one
FLUSH_S = 0.5  # a worker sends its batches at most this often, in one chunk (the live view asks once a second)
POLL_S = 0.1  # how often a worker asks whether its run was stopped: the stop lands within a batch or two
CALL_TIMEOUT_S = 10.0  # a replica's call to the coordinator; past it, the cluster counts as unreachable
RETRY_S = 5.0  # an unreachable cluster is tried again this often (the heartbeat does it)
CONNECT_WAIT_S = 30.0  # how long a page waits for the app's first connection to the cluster
HEARTBEAT_S = 3.0
REPLICA_TIMEOUT_S = 20.0  # a replica not heard from for this long is gone: its tabs' runs are released
HEAD = "node:__internal_head__"  # the resource Ray gives the head node alone
GPU_SHARE = 0.25  # of a GPU per run: these models are small, four share one
WORKER_DIED = N_(
    "The cluster worker training this run died (its process was killed, or its machine left the cluster), so "
    "the run failed. It is not retried: it would start again from its first batch. Start it again."
)


# ---------------------------------------------------------------------------------------------- on a worker
@ray.remote(num_returns="streaming", max_retries=0)  # a retry would replay the run's curve from the start
def _train_task(cfg: TrainConfig, threads: int, job_id: str, coordinator_name: str, lang: str = DEFAULT, dataset=None):
    """Train one run on a cluster worker, yielding its events in chunks; stops, pauses and steps as the
    coordinator says. `lang` is the submitting student's language: the run's messages are written in it.
    `dataset`: a dataset built in memory (a class's own images), which travels with its run."""
    use(lang)  # a worker process has no page's context (and is reused: every task sets its own)
    if dataset is not None:
        D.register(dataset)
    import torch

    from core.train import Control, train

    stop, ended, control = threading.Event(), threading.Event(), Control()
    coordinator = ray.get_actor(coordinator_name, namespace=NAMESPACE)

    def watch() -> None:
        while not ended.wait(POLL_S):
            try:
                signals = ray.get(coordinator.signals.remote(job_id))
            except rex.RayError:  # the coordinator is gone: nobody is following this run any more
                signals = {"stop": True}
            if signals["stop"]:
                stop.set()
                return
            control.sync(signals["paused"], signals["granted"])

    threading.Thread(target=watch, name=f"stop-{job_id}", daemon=True).start()
    torch.set_num_threads(threads)  # the cores Ray gave this task, no more (a worker process is reused)
    gpus = ray.get_gpu_ids()
    where = f"{socket.gethostname()} pid {os.getpid()}" + (f" GPU {','.join(map(str, gpus))}" if gpus else "")
    chunk, sent = [], time.monotonic()
    try:
        for event in train(cfg, stop, threads=threads, control=control):
            chunk.append(replace(event, where=where) if isinstance(event, Started) else event)
            first = isinstance(event, BatchEnd) and event.step == 1  # the chart's first point goes at once
            if not isinstance(event, BatchEnd) or first or time.monotonic() - sent >= FLUSH_S:
                yield chunk
                chunk, sent = [], time.monotonic()
        if chunk:
            yield chunk
    finally:
        ended.set()


def cluster_runner(
    cfg: TrainConfig, stop: threading.Event, threads: int, job_id: str, control=None, coordinator: str = COORDINATOR
):
    """A core.jobs runner: train on the cluster, on `threads` of a worker's cores, or a share of a GPU when the
    cluster has one and the run's device allows it. A worker that dies fails this run alone."""
    options = {"num_cpus": threads}
    if cfg.device != "cpu" and ray.cluster_resources().get("GPU", 0) > 0:
        options["num_gpus"] = GPU_SHARE  # device "auto" then picks cuda on the worker Ray places it on
    # the job's thread runs in the submitting student's language (Coordinator.submit): the worker writes in it too
    dataset = D.IN_MEMORY.get(cfg.dataset)  # a class's own images: small (784 bytes an example), they travel along
    stream = _train_task.options(**options).remote(cfg, threads, job_id, coordinator, language(), dataset)
    try:
        for ref in stream:
            yield from ray.get(ref)
    except rex.RayTaskError as e:  # an exception inside train() that train() did not turn into Failed
        yield Failed(
            message=said(
                N_("Training crashed on the cluster: {error}: {detail}"), error=type(e.cause).__name__, detail=e.cause
            )
        )
    except rex.RayError:  # WorkerCrashedError, NodeDiedError, ObjectLostError...
        traceback.print_exc()
        yield Failed(message=WORKER_DIED)


# ----------------------------------------------------------------------------------------- the coordinator
def _info(job: TrainingJob) -> dict:
    """What a replica keeps of a job to act for it: who it is and how to reach it, no state."""
    return {k: getattr(job, k) for k in ("id", "owner_key", "owner", "nickname", "tag", "student", "submitted_at")}


class Coordinator:
    """The class's one JobManager, in a detached actor: it outlives every replica, and records every run."""

    def __init__(self, settings: dict, name: str = COORDINATOR):
        settings = dict(settings)
        self.store_where, self.checkpoints = settings.pop("store", None), settings.pop("checkpoints", None)
        self.replica_timeout_s = settings.pop("replica_timeout_s", REPLICA_TIMEOUT_S)
        self.fixed_cap = settings.get("cap")
        self._store: RunStore | None = None
        self._store_lock = threading.Lock()
        self.store_error: StoreError | None = None  # why runs are not being saved: every replica's pages say so
        record = Recorder(self._open_store, report=self._report, where=shown(self.store_where))
        runner = functools.partial(cluster_runner, coordinator=name)  # its workers ask it whether to stop
        self.mgr = JobManager(**settings, listeners=(record,) if self.store_where else (), runner=runner)
        self._seen: dict[str, float] = {}  # replica -> when it was last heard from
        self._started = time.time()
        self.gpus = 0.0
        self._resize()
        threading.Thread(target=self._loop, name="coordinator", daemon=True).start()

    # what replicas call ------------------------------------------------------------------------------------
    def ping(self) -> dict:
        """The cluster as a replica's heartbeat hears of it: its cores and GPUs, and whether runs are being saved."""
        node = ray.get_runtime_context().get_node_id()
        with self._store_lock:
            error = self.store_error
        return {
            "cores": self.mgr.cores,
            "node_cores": self.mgr.node_cores,
            "gpus": self.gpus,
            "node": node,
            "store_error": error,
        }

    def submit(self, cfg, nickname, tag, student, estimate_s, lang: str = DEFAULT, dataset=None) -> dict:
        if dataset is not None:  # a class's own images, pinned by the replica: this process records and sends it
            D.register(dataset)
        with using(lang):  # the job keeps the student's language (TrainingJob copies this context)
            return _info(self.mgr.submit(cfg, nickname, tag, student=student, estimate_s=estimate_s))

    def info(self, job_id: str) -> dict | None:
        job = self.mgr.get(job_id)
        return _info(job) if job else None

    def by_owner_key(self, key: str) -> dict | None:
        job = self.mgr.by_owner_key(key)
        return _info(job) if job else None

    def jobs(self) -> list[dict]:
        return [_info(j) for j in self.mgr.jobs()]

    def counts(self) -> dict[str, int]:
        return self.mgr.counts()

    def snapshot(self, job_id: str, light: bool = False) -> Snapshot | None:
        job = self.mgr.get(job_id)
        return job.snapshot(light) if job else None

    def state(self, job_id: str) -> str | None:
        job = self.mgr.get(job_id)
        return job.state if job else None

    def stop(self, job_id: str, reason: str) -> None:
        job = self.mgr.get(job_id)
        if job is not None:
            job.stop(reason)

    def signals(self, job_id: str) -> dict:
        """Asked by the worker training the job, ten times a second: stop (or is the job gone), pause, step?"""
        job = self.mgr.get(job_id)
        if job is None or job.stop_requested:
            return {"stop": True}
        return {"stop": False, "paused": job.control.paused, "granted": job.control.granted}

    def control(self, job_id: str, action: str) -> None:
        """Pause, resume or step a job (the worker hears of it at its next signals())."""
        job = self.mgr.get(job_id)
        if job is not None and action in ("pause", "resume", "step"):
            getattr(job, action)()

    def wait_first_batch(self, job_id: str, timeout: float) -> bool:
        job = self.mgr.get(job_id)
        return job.wait_first_batch(timeout) if job else False

    def hold(self, job_id: str, holder: str) -> None:
        self.heartbeat(holder.split("/")[0])  # a replica that holds a job is alive, heartbeat or not yet
        job = self.mgr.get(job_id)
        if job is not None:
            self.mgr.hold(job, holder)

    def release(self, job_id: str, holder: str) -> None:
        job = self.mgr.get(job_id)
        if job is not None:
            self.mgr.release(job, holder)

    def heartbeat(self, replica: str) -> None:
        self._seen[replica] = time.time()

    # its own work ------------------------------------------------------------------------------------------
    def _resize(self) -> None:
        """Schedule on the cluster's cores as machines join and leave."""
        nodes = [n["Resources"] for n in ray.nodes() if n.get("Alive")]
        cpus = [int(r.get("CPU", 0)) for r in nodes]
        self.gpus = sum(r.get("GPU", 0) for r in nodes)
        self.mgr.resize(sum(cpus), max(cpus, default=1), self.fixed_cap)

    def _loop(self) -> None:
        while True:
            time.sleep(1.0)
            try:
                self._resize()
                self._release_gone_replicas()
            except Exception:
                traceback.print_exc()

    def _release_gone_replicas(self) -> None:
        """A replica that died cannot release its tabs' jobs: the reaper's grace period starts for them here."""
        now = time.time()
        for job in self.mgr.jobs():
            for holder in list(job.holders):
                replica = holder.split("/")[0]
                if now - self._seen.get(replica, self._started) > self.replica_timeout_s:
                    self.mgr.release(job, holder)

    def _open_store(self) -> RunStore:
        """The class's run store, opened at the first event to record (and again after a failure)."""
        with self._store_lock:
            if self._store is None:
                self._store = RunStore(self.store_where, self.checkpoints)
                self._store.mark_interrupted()  # a coordinator before this one, on this machine, died mid-run
            return self._store

    def _report(self, error: StoreError | None) -> None:
        """The recorder's word on each write: replicas read it with every ping and show it on their pages."""
        with self._store_lock:
            self.store_error = error
        if error is not None:
            traceback.print_exc()


# ------------------------------------------------------------------------------------------- on a replica
def _catalogues() -> list[str]:
    """The locale folder, for the cluster's machines (none when this checkout has no translations)."""
    return [str(i18n.LOCALE_DIR)] if i18n.LOCALE_DIR.is_dir() else []


class RemoteJob:
    """A replica's handle on a job the coordinator runs: the same reading and control as a TrainingJob."""

    def __init__(self, info: dict, jobs: ClusterJobs):
        self.__dict__.update(info)
        self._jobs = jobs
        self._last: Snapshot | None = None  # shown while the cluster cannot be reached

    @property
    def state(self) -> str:
        try:
            state = self._jobs.call("state", self.id)
        except JobsUnavailable:
            state = None
        return state or (self._last.state if self._last else "gone")

    def snapshot(self, light: bool = False) -> Snapshot:
        try:
            snap = self._jobs.call("snapshot", self.id, light)
        except JobsUnavailable:
            if self._last is None:
                raise
            return self._last
        self._last = snap or self._last
        if self._last is None:
            raise JobsUnavailable(tr("The cluster no longer knows this run."))
        return self._last

    def stop(self, reason: str = N_("Stopped by request.")) -> None:
        try:
            self._jobs.call("stop", self.id, reason)
        except JobsUnavailable:
            pass  # the page shows the cluster's error; the run cannot be reached to stop it

    def pause(self) -> None:
        self._jobs.quietly("control", self.id, "pause")

    def resume(self) -> None:
        self._jobs.quietly("control", self.id, "resume")

    def step(self) -> None:
        self._jobs.quietly("control", self.id, "step")

    def wait_first_batch(self, timeout: float) -> bool:
        try:
            return bool(self._jobs.call("wait_first_batch", self.id, timeout, timeout=timeout + CALL_TIMEOUT_S))
        except JobsUnavailable:
            return False


class ClusterJobs:
    """The Jobs interface of a Ray cluster, for one app replica; every replica sees the same jobs and queue.

    While the cluster cannot be reached, reads give nothing (or a job's last snapshot), submit raises
    JobsUnavailable, and error() says what happened; a heartbeat reconnects by itself when the cluster is back.
    The coordinator records the runs: `report_store` hears, with each heartbeat, whether its writes fail (a
    StoreError) or succeed (None), as the threads backend's recorder reports them.
    """

    def __init__(
        self,
        address: str,
        settings: dict,
        name: str = COORDINATOR,
        report_store: Callable[[StoreError | None], None] | None = None,
    ):
        self.address, self.settings, self.name = address, settings, name
        self._report_store = report_store
        self.replica = secrets.token_hex(6)  # this replica's name in its holders: "<replica>/<session token>"
        self._lock = threading.Lock()
        self._coordinator = None
        self._error: str | None = None  # why the cluster cannot be reached: the exception's type name
        self._lost = False  # a connection was made, then lost: ray must be shut down before a new one
        self._tried = threading.Event()  # the first connection attempt has ended, either way
        self._info: dict = {}
        self._closed = threading.Event()
        threading.Thread(target=self._heartbeat, name="cluster-heartbeat", daemon=True).start()

    # the Jobs interface ----------------------------------------------------------------------------------
    def submit(self, cfg, nickname="", tag="", student="", estimate_s=None) -> RemoteJob:
        cfg = pinned(cfg)  # a class's own images: their version now, sent along (the cluster has no run store's)
        dataset = D.IN_MEMORY.get(cfg.dataset)
        return RemoteJob(self.call("submit", cfg, nickname, tag, student, estimate_s, language(), dataset), self)

    def get(self, job_id: str | None) -> RemoteJob | None:
        return self._job("info", job_id)

    def by_owner_key(self, key: str | None) -> RemoteJob | None:
        return self._job("by_owner_key", key)

    def jobs(self) -> list[RemoteJob]:
        try:
            return [RemoteJob(info, self) for info in self.call("jobs")]
        except JobsUnavailable:
            return []

    def counts(self) -> dict[str, int]:
        try:
            return self.call("counts")
        except JobsUnavailable:
            return {"running": 0, "queued": 0, "cap": 0, "kept": 0}

    def hold(self, job, holder: str = "") -> None:
        self.quietly("hold", job.id, f"{self.replica}/{holder}")

    def release(self, job, holder: str = "") -> None:
        self.quietly("release", job.id, f"{self.replica}/{holder}")

    def where(self) -> str:
        self._tried.wait(CONNECT_WAIT_S)
        if not self._info:
            return tr("the class's Ray cluster (not reached yet)")
        cores, gpus = self._info.get("cores", 0), self._info.get("gpus", 0)
        if gpus:
            return tr("the class's Ray cluster ({cores} CPU cores, {gpus:g} GPUs)", cores=cores, gpus=gpus)
        return tr("the class's Ray cluster ({cores} CPU cores)", cores=cores)

    def error(self) -> str | None:
        self._tried.wait(CONNECT_WAIT_S)  # a page that loads as the app starts hears of its first try
        return self._error_message()

    def close(self) -> None:
        """This replica goes away; its runs do not (its tabs' holds lapse after REPLICA_TIMEOUT_S)."""
        self._closed.set()

    # reaching the coordinator ----------------------------------------------------------------------------
    def call(self, method: str, *args, timeout: float = CALL_TIMEOUT_S):
        """One call to the coordinator; JobsUnavailable when the cluster cannot be reached."""
        coordinator = self._connected()
        try:
            return ray.get(getattr(coordinator, method).remote(*args), timeout=timeout)
        except rex.RayTaskError as e:
            if isinstance(e.cause, LimitReached):
                raise e.cause from None
            raise
        except (rex.RayError, ConnectionError) as e:  # the actor or the whole cluster is gone, or too slow
            raise self._down(e) from e

    def _connected(self):
        """The coordinator's handle. The heartbeat thread connects (a page never waits on ray.init, which hangs
        on an address that does not answer); a page waits only for its first try."""
        self._tried.wait(CONNECT_WAIT_S)
        with self._lock:
            if self._coordinator is None:
                raise JobsUnavailable(
                    self._error_message()
                    or tr("Still connecting to the training cluster at {address}.", address=self.address)
                )
            return self._coordinator

    def _connect(self) -> None:
        host, _, port = self.address.removeprefix("ray://").rpartition(":")
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=3).close()  # fails fast if nobody is there
        # A driver whose cluster stays away exits its whole process after this many seconds (60 by default):
        # the app must outlive its cluster, show why, and reconnect.
        os.environ["RAY_gcs_rpc_server_reconnect_timeout_s"] = str(10**8)
        if ray.is_initialized() and self._lost:
            ray.shutdown()  # a connection to a cluster that went away cannot be reused
            self._lost = False
        if not ray.is_initialized():
            ray.init(
                address=self.address,
                namespace=NAMESPACE,
                # workers need only the packages, and the catalogues their messages are translated with
                runtime_env={"py_modules": [str(Path(core.__file__).parent), *_catalogues()]},
                logging_level="ERROR",
                log_to_driver=False,
            )
        head = next((n["NodeID"] for n in ray.nodes() if n.get("Alive") and HEAD in n["Resources"]), None)
        coordinator = ray.remote(Coordinator).options(
            # on the head, which lives as long as the cluster, not on the node of the replica that came first
            scheduling_strategy=NodeAffinitySchedulingStrategy(head, soft=False) if head else "DEFAULT",
            name=self.name,
            namespace=NAMESPACE,
            lifetime="detached",  # it outlives the replica that started it
            get_if_exists=True,
            num_cpus=0,
            max_concurrency=64,  # calls from every replica, and workers asking whether to stop
        )
        handle = coordinator.remote(self.settings, self.name)
        info = ray.get(handle.ping.remote(), timeout=60)  # its first start takes a worker's start-up
        with self._lock:
            self._coordinator, self._error = handle, None
        self._heard(info)

    def _down(self, e: Exception) -> JobsUnavailable:
        """Note that the cluster cannot be reached; the error a page shows says so, and what still works."""
        with self._lock:
            self._coordinator, self._error, self._lost = None, type(e).__name__, True
        return JobsUnavailable(self._error_message())

    def _error_message(self) -> str | None:
        """Why the cluster cannot be reached, in the current language (a page's, not the heartbeat's that saw it)."""
        error = self._error
        if error is None:
            return None
        return tr(
            "The training cluster at {address} cannot be reached ({error}). Runs cannot be "
            "started or followed now; finished runs are still on Results and the class board. The app tries "
            "again every {retry:g} s: ask the teacher to check `ray status` on the cluster's head machine.",
            address=self.address,
            error=error,
            retry=RETRY_S,
        )

    def _heard(self, info: dict) -> None:
        """The coordinator's ping: the cluster's size for where(), its run store's state for the pages."""
        self._info = info
        if self._report_store is not None:
            self._report_store(info.get("store_error"))

    def _job(self, method: str, key: str | None) -> RemoteJob | None:
        if not key:
            return None
        try:
            info = self.call(method, key)
        except JobsUnavailable:
            return None
        return RemoteJob(info, self) if info else None

    def quietly(self, method: str, *args) -> None:
        try:
            self.call(method, *args)
        except JobsUnavailable:
            pass

    def _heartbeat(self) -> None:
        """Connect, then tell the coordinator this replica lives (its tabs' runs stay held); reconnect once a
        cluster that went away is back."""
        while not self._closed.is_set():
            if self._coordinator is None:
                try:
                    self._connect()
                except Exception as e:  # ray.init's errors are of many kinds; each means the same to a student
                    self._down(e)
                self._tried.set()
            else:
                try:
                    self.call("heartbeat", self.replica)
                    self._heard(self.call("ping"))
                except Exception:
                    pass  # error() says why; the next beat reconnects
            self._closed.wait(HEARTBEAT_S if self._coordinator is not None else RETRY_S)
