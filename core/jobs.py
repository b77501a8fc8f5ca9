"""The job interface (Jobs, Job) and its scheduler: TrainingJob follows one run, JobManager keeps the cap, the
fair queue, the runtime limit and the reaper.

Where a run trains is a runner: `local_runner` (a thread of this process, the embedded default) or
core.backends.ray_cluster's (a task on a Ray cluster, with a JobManager of its own in the cluster). Pages only
see Jobs and Job: they poll job.snapshot(), a consistent copy taken under a lock, and never touch a worker.
"""

from __future__ import annotations

import collections
import contextvars
import hashlib
import hmac
import itertools
import secrets
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Protocol

import torch

from core import data as D
from core import models as M
from core.config import TrainConfig
from core.events import (
    ACTIVE,
    DONE,
    FAILED,
    FINISHED,
    QUEUED,
    RUNNING,
    STOPPED,
    BatchEnd,
    Done,
    EpochEnd,
    Event,
    Failed,
    Peek,
    Started,
    Stepped,
    Stopped,
)
from core.i18n import N_, said, tr
from core.process import CORES, release_memory
from core.train import Control, train

__all__ = [
    "ACTIVE",
    "CORES",
    "DONE",
    "FAILED",
    "FINISHED",
    "QUEUED",
    "RUNNING",
    "STOPPED",
    "Job",
    "JobManager",
    "Jobs",
    "JobsUnavailable",
    "LimitReached",
    "Snapshot",
    "TrainingJob",
    "local_runner",
    "owner_tag",
    "threads_for",
]
MAX_POINTS = 4000  # per-batch series are thinned by 2 whenever they grow past this


@dataclass(frozen=True, kw_only=True)
class Snapshot:
    """Everything a page needs about a job, copied at one instant: its live state. (The weights a run store keeps
    for Rewind are its rewind points, core.store; "snapshot" names only this.)"""

    id: str
    config: TrainConfig
    state: str
    nickname: str
    queue_position: int | None  # 1 = next to start; None when not queued
    message: str | None  # why it failed or stopped
    started: Started | None
    last_batch: BatchEnd | None
    steps: tuple[int, ...]  # per-batch series (thinned for long runs)
    losses: tuple[float, ...]
    epochs: tuple[EpochEnd, ...]  # only the latest keeps its weights and test probabilities
    peek: Peek | None  # the newest weights inside the first epoch (None once an epoch has ended)
    done: Done | None
    submitted_at: float
    started_at: float | None
    finished_at: float | None
    threads: int  # torch's intra-op threads it trains with (0 before it starts)
    paused: bool = False  # running, but waiting for Resume or Step
    stepped: Stepped | None = None  # the newest single step, laid open

    @property
    def progress(self) -> float:
        """Fraction of all batches done, 0..1."""
        if self.state == DONE:
            return 1.0
        if self.last_batch is None:
            return 0.0
        b = self.last_batch
        return b.step / (b.batches * self.config.epochs)

    @property
    def latest_epoch(self) -> EpochEnd | None:
        return self.epochs[-1] if self.epochs else None

    def light(self) -> Snapshot:
        """The same without weights and test predictions: all the live charts need, a small part of the bytes
        (a cluster sends a snapshot to every tab following a run, every second)."""
        epochs = tuple(replace(e, weights=None, test_probs=None) for e in self.epochs)
        done = self.done and replace(self.done, labels=torch.empty(0), probs=torch.empty(0, 0), weights={})
        return replace(self, epochs=epochs, peek=None, done=done, stepped=None)


Runner = Callable[[TrainConfig, threading.Event, int, str, Control], Iterator[Event]]
# (cfg, stop, threads, job id, pause/step control) -> the run's events


def local_runner(
    cfg: TrainConfig, stop: threading.Event, threads: int, job_id: str = "", control: Control | None = None
) -> Iterator[Event]:
    """Train in the calling thread (the embedded default), with `threads` intra-op threads."""
    torch.set_num_threads(threads)  # affects this thread only
    yield from train(cfg, stop, threads=threads, control=control)


class TrainingJob:
    """One training run, followed by a thread of its own; stop() takes effect before the next batch."""

    _ids = itertools.count(1)

    def __init__(
        self,
        cfg: TrainConfig,
        nickname: str = "",
        tag: str = "",
        max_runtime_s: float | None = None,
        on_finish: Callable[[TrainingJob], None] | None = None,
        listeners: tuple[Callable[[TrainingJob, Event], None], ...] = (),
        runner: Runner = local_runner,
    ):
        # The id names the run (links to view it, the run store); it grants nothing. The owner key is the secret
        # that controls it: only the session that started it, and whoever holds its owner link, know it.
        self.id = f"job{next(self._ids)}-{secrets.token_hex(4)}"
        self.owner_key = secrets.token_urlsafe(16)  # 128 bits
        self.owner = owner_tag(self.owner_key)  # what the run store keeps: it proves nothing without the key
        self.holders: set[str] = set()  # the sessions that own it now: it is released when the last one goes
        self.student = ""  # who submitted it (JobManager.submit), for the per-student limit and fair order
        self.estimate_s: float | None = None
        self.express = False  # started in the express slot, past the cap
        self.config = cfg
        self.nickname = nickname
        self.tag = tag  # what the run is for (core.events.RACE or "")
        self.max_runtime_s = max_runtime_s
        self.released_at: float | None = None
        self._on_finish = on_finish
        self._listeners = listeners
        self._runner = runner
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._finished = threading.Event()
        self._first_batch = threading.Event()
        self._thread: threading.Thread | None = None
        self._state = QUEUED
        self._message: str | None = None
        self._stop_reason: str | None = None
        self._started: Started | None = None
        self._last_batch: BatchEnd | None = None
        self._steps: list[int] = []
        self._losses: list[float] = []
        self._stride = 1
        self._epochs: list[EpochEnd] = []
        self._done: Done | None = None
        self._peek: Peek | None = None
        self._stepped: Stepped | None = None
        self.control = Control()  # Pause, Resume, Step
        self._context = contextvars.copy_context()
        self._threads = 0
        self.queue_position: Callable[[], int | None] = lambda: None
        self.submitted_at = time.time()
        self.started_at: float | None = None
        self.finished_at: float | None = None

    # ------------------------------------------------------------------ control
    @property
    def state(self) -> str:
        return self._state

    @property
    def threads(self) -> int:
        """torch's intra-op threads this job trains with (0 while queued)."""
        return self._threads

    def start(self, threads: int = 1) -> None:
        """Run on a new daemon thread using `threads` intra-op threads."""
        with self._lock:
            if self._state != QUEUED or self._thread is not None:
                return
            self._state, self._threads, self.started_at = RUNNING, threads, time.time()
        # in the submitting page's context: the run's messages come in its student's language (core.i18n)
        self._thread = threading.Thread(
            target=self._context.run, args=(self._run,), name=f"train-{self.id}", daemon=True
        )
        self._thread.start()

    def stop(self, reason: str = N_("Stopped by request."), **values) -> None:
        """Ask the job to stop; a queued job is cancelled at once. `reason` is an English message (marked N_, with
        {name} placeholders filled from `values`), kept as its id and values (core.i18n.said): each page shows it
        in its reader's language."""
        reason = said(reason, **values)
        with self._lock:
            self._stop_reason = self._stop_reason or reason
            if self._state == QUEUED:
                self._finish_locked(STOPPED, reason)
        self._stop.set()
        if self._state == STOPPED and self._thread is None:
            self._notify_finish()

    def pause(self) -> None:
        """Hold the run before its next minibatch; it keeps its slot (and is reaped like any run if abandoned)."""
        self.control.pause()

    def resume(self) -> None:
        self.control.resume()

    def step(self) -> None:
        """While paused: run exactly one minibatch, reported as a Stepped event."""
        self.control.step()

    @property
    def stop_requested(self) -> bool:
        """Has stop() been asked for (a remote runner polls this to stop its worker)?"""
        return self._stop.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job has finished (or been cancelled); True if it has."""
        return self._finished.wait(timeout)

    def wait_first_batch(self, timeout: float) -> bool:
        """Block until the first batch is recorded (or the job ended); lets a page draw a point at once."""
        return self._first_batch.wait(timeout)

    # ------------------------------------------------------------------ worker
    def _run(self) -> None:
        try:
            for event in self._runner(self.config, self._stop, self._threads, self.id, self.control):
                self._record(event)
                if (
                    self.max_runtime_s is not None
                    and self.started_at is not None
                    and time.time() - self.started_at > self.max_runtime_s
                ):
                    self._stop_reason = self._stop_reason or said(
                        N_("Stopped: the run hit the server's limit of {limit:g} s."), limit=self.max_runtime_s
                    )
                    self._stop.set()
        except Exception as e:  # a bug or a bad environment must fail this job alone
            traceback.print_exc()
            crash = said(N_("Training crashed: {error}: {detail}"), error=type(e).__name__, detail=e)
            self._record(Failed(message=crash))
        finally:
            with self._lock:
                if self._state == RUNNING:  # the iterator ended without a final event
                    self._finish_locked(FAILED, N_("Training ended unexpectedly."))
            self._notify_finish()

    def _record(self, event: Event) -> None:
        if isinstance(event, Stopped) and self._stop_reason:  # why it stopped: a closed tab, the runtime cap...
            event = replace(event, reason=self._stop_reason)
        with self._lock:
            if isinstance(event, BatchEnd):
                self._last_batch = event
                self._first_batch.set()
                if event.step % self._stride == 0:
                    self._steps.append(event.step)
                    self._losses.append(event.loss)
                    if len(self._steps) > MAX_POINTS:
                        self._steps, self._losses = self._steps[1::2], self._losses[1::2]
                        self._stride *= 2
            elif isinstance(event, Peek):
                self._peek = event
            elif isinstance(event, Stepped):
                self._stepped = event
            elif isinstance(event, EpochEnd):
                self._peek = None  # the epoch's own weights are newer
                if self._epochs:  # only the newest epoch keeps its heavy payload
                    self._epochs[-1] = replace(self._epochs[-1], weights=None, test_probs=None)
                self._epochs.append(event)
            elif isinstance(event, Started):
                self._started = event
            elif isinstance(event, Done):
                self._done = event
                self._finish_locked(DONE, None)
            elif isinstance(event, Failed):
                self._finish_locked(FAILED, event.message)
            elif isinstance(event, Stopped):
                self._finish_locked(STOPPED, event.reason)
        for listener in self._listeners:
            try:
                listener(self, event)
            except Exception:  # a broken listener (e.g. a full disk) must not kill training
                traceback.print_exc()

    def _finish_locked(self, state: str, message: str | None) -> None:
        if self._state in FINISHED:
            return
        self._state, self._message, self.finished_at = state, message, time.time()

    def _notify_finish(self) -> None:
        if self._finished.is_set():
            return
        self._first_batch.set()
        self._finished.set()
        if self._on_finish:
            self._on_finish(self)

    # ------------------------------------------------------------------ reading
    def snapshot(self, light: bool = False) -> Snapshot:
        """A consistent copy of the job's state; `light` leaves out weights and predictions (Snapshot.light)."""
        with self._lock:
            snap = Snapshot(
                id=self.id,
                config=self.config,
                state=self._state,
                nickname=self.nickname,
                queue_position=self.queue_position() if self._state == QUEUED else None,
                message=self._message,
                started=self._started,
                last_batch=self._last_batch,
                steps=tuple(self._steps),
                losses=tuple(self._losses),
                epochs=tuple(self._epochs),
                peek=self._peek,
                done=self._done,
                submitted_at=self.submitted_at,
                started_at=self.started_at,
                finished_at=self.finished_at,
                threads=self._threads,
                paused=self.control.paused and self._state == RUNNING,
                stepped=self._stepped,
            )
        return snap.light() if light else snap


class Job(Protocol):
    """What pages know of a run, wherever it trains (TrainingJob here, a proxy of one on a cluster)."""

    id: str
    owner_key: str
    owner: str
    nickname: str
    tag: str
    submitted_at: float

    @property
    def state(self) -> str: ...

    def snapshot(self, light: bool = False) -> Snapshot: ...

    def stop(self, reason: str = N_("Stopped by request.")) -> None: ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def step(self) -> None: ...

    def wait_first_batch(self, timeout: float) -> bool: ...


class Jobs(Protocol):
    """Where pages submit, find and follow runs: JobManager in this process, or a cluster's (ClusterJobs)."""

    def submit(
        self, cfg: TrainConfig, nickname: str = "", tag: str = "", student: str = "", estimate_s: float | None = None
    ) -> Job: ...

    def get(self, job_id: str | None) -> Job | None: ...

    def by_owner_key(self, key: str | None) -> Job | None: ...

    def jobs(self) -> list[Job]: ...

    def counts(self) -> dict[str, int]: ...

    def hold(self, job: Job, holder: str = "") -> None: ...

    def release(self, job: Job, holder: str = "") -> None: ...

    def where(self) -> str: ...

    def error(self) -> str | None: ...

    def close(self) -> None: ...


def pinned(cfg: TrainConfig) -> TrainConfig:
    """The config a run records: a dataset whose content changes (a class's own, core.class_images) named by its
    version as it is now, so the run trains, and is later shown, on the same examples. DatasetError if it cannot
    be built (an empty class)."""
    name = D.pin(cfg.dataset)
    return cfg if name == cfg.dataset else replace(cfg, dataset=name)


class JobsUnavailable(RuntimeError):
    """The jobs' backend cannot be reached (a cluster that went away); the message says so to a student."""


EXPRESS_S = 30.0  # a run estimated to take at most this long may start while the slots are full (one at a time)


class LimitReached(RuntimeError):
    """A student asked for more runs at once than the server allows; the message says what to do."""


def same_student(job: TrainingJob, student: str, nickname: str) -> bool:
    """Is this job the same student's: the same browser session, or the same (non-empty) nickname?"""
    return bool((student and job.student == student) or (nickname and job.nickname == nickname))


def owner_tag(owner_key: str) -> str:
    """What a run's owner is known by where the key must not be kept (the run store): a hash of the key."""
    return hashlib.sha256(owner_key.encode()).hexdigest()[:32]


def threads_for(cfg: TrainConfig, cores: int = CORES) -> int:
    """Intra-op threads for a job: fixed by its config and the machine, never by what else is running.

    The thread count changes a run's arithmetic (how BLAS and oneDNN split their sums), so same config and
    seed give the same curve only if it is always the same. Softmax regression and the 8x8 digits take one
    thread; the MLP and the CNN on 28x28 images take up to two (bench/RESULTS.md, "Threads").
    """
    from core.data import info

    if info(cfg.dataset).size < 28:
        return 1
    return max(1, min(cores, M.spec(cfg.model).threads))


class JobManager:
    """A process-wide cap on concurrent jobs, a visible FIFO queue, a runtime limit and a reaper.

    A job starts when a slot is free and the cores its threads need are (threads_for): concurrent jobs never
    oversubscribe the cores, so each runs at its own speed and with its own arithmetic whatever else runs.
    """

    def __init__(
        self,
        cap: int | None = None,
        max_runtime_s: float | None = 3600,
        grace_s: float = 120,
        keep_finished: int = 256,
        reap_every_s: float = 5.0,
        listeners: tuple[Callable[[TrainingJob, Event], None], ...] = (),
        per_student: int | None = None,
        runner: Runner = local_runner,
    ):
        self.cap = max(1, cap if cap is not None else CORES)
        self.runner = runner
        self.per_student = per_student  # runs one student (a session, or a nickname) may have running or queued
        self.cores = CORES  # the CPU threads jobs may use at once
        self.node_cores = CORES  # the most one job may use: the cores of the largest machine (node) it may run on
        self.max_runtime_s = max_runtime_s
        self.grace_s = grace_s
        self.keep_finished = keep_finished
        self.reap_every_s = reap_every_s
        self.listeners = listeners
        self._lock = threading.RLock()
        self._jobs: dict[str, TrainingJob] = {}
        self._queue: list[TrainingJob] = []
        self._running: set[TrainingJob] = set()
        self._served: collections.Counter = collections.Counter()  # runs started, by student: the fair order
        self._closed = threading.Event()
        self._reaper: threading.Thread | None = None
        self.peak_running = 0

    def submit(
        self, cfg: TrainConfig, nickname: str = "", tag: str = "", student: str = "", estimate_s: float | None = None
    ) -> TrainingJob:
        """Queue a job; it starts as soon as a slot is free (at once if one is).

        `student` names who submits it (a browser session); with `nickname`, it counts against per_student.
        `estimate_s` (the Train page's estimate) lets a short run take the express slot. Raises LimitReached, and
        DatasetError for a class's own dataset that cannot be trained on yet (pinned).
        """
        cfg = pinned(cfg)
        job = TrainingJob(cfg, nickname, tag, self.max_runtime_s, self._finished, self.listeners, self.runner)
        job.student, job.estimate_s = student, estimate_s
        job.queue_position = lambda: self._position(job)
        with self._lock:
            mine = [j for j in self._jobs.values() if j.state in ACTIVE and same_student(j, student, nickname)]
            if self.per_student is not None and len(mine) >= self.per_student:
                raise LimitReached(
                    tr(
                        "You already have {n} runs training or waiting, the most one student may have at once "
                        "on this server: stop one, or wait for one to finish.",
                        n=len(mine),
                    )
                )
            self._jobs[job.id] = job
            self._queue.append(job)
            self._ensure_reaper()
        self._dispatch()
        return job

    def get(self, job_id: str | None) -> TrainingJob | None:
        with self._lock:
            return self._jobs.get(job_id) if job_id else None

    def by_owner_key(self, key: str | None) -> TrainingJob | None:
        """The job whose owner key this is (an owner link, the live feed), or None."""
        if not key:
            return None
        with self._lock:
            return next((j for j in self._jobs.values() if hmac.compare_digest(j.owner_key, key)), None)

    def jobs(self) -> list[TrainingJob]:
        with self._lock:
            return list(self._jobs.values())

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {"running": len(self._running), "queued": len(self._queue), "cap": self.cap, "kept": len(self._jobs)}

    def hold(self, job: TrainingJob, holder: str = "") -> None:
        """A session owns this job (it started it, or came back with its owner link before the grace period)."""
        with self._lock:
            job.holders.add(holder)
            job.released_at = None

    def release(self, job: TrainingJob, holder: str = "") -> None:
        """A session that owned this job is gone; when none is left, stop it after the grace period."""
        with self._lock:
            job.holders.discard(holder)
            if not job.holders:
                job.released_at = time.time()

    def resize(self, cores: int, node_cores: int, cap: int | None = None) -> None:
        """The cores to schedule on changed (a cluster's machines joined or left); waiting runs may start now."""
        with self._lock:
            self.cores, self.node_cores = max(1, cores), max(1, node_cores)
            self.cap = max(1, cap if cap is not None else self.cores)
        self._dispatch()

    def where(self) -> str:
        """Where runs train, for a sentence like 'about 20 s on ...'."""
        return tr("this server's {cores} CPU cores", cores=self.cores)

    def error(self) -> str | None:
        """Why runs cannot be started or followed now: never, in this process."""
        return None

    def stop_all(self) -> None:
        for job in self.jobs():
            job.stop(N_("Stopped: the server is shutting down."))

    def close(self) -> None:
        self._closed.set()
        self.stop_all()

    # ------------------------------------------------------------------ internals
    def _position(self, job: TrainingJob) -> int | None:
        with self._lock:
            order = self._fair_order()
            return order.index(job) + 1 if job in order else None

    def _fair_order(self) -> list[TrainingJob]:
        """The queue as it will be served, round robin between students: a job's turn is how many runs its
        student has started so far plus how many of theirs wait ahead of it; first come among equal turns."""
        ahead = collections.Counter()
        turns = {}
        for job in self._queue:
            who = job.student or job.nickname
            turns[job] = self._served[who] + ahead[who]
            ahead[who] += 1
        return sorted(self._queue, key=turns.get)  # stable: first come among equal turns

    def _dispatch(self) -> None:
        with self._lock:
            self._queue = [j for j in self._queue if j.state == QUEUED]
            blocked = False  # a job waits for its slot or cores: later ones may not pass it, but for a short one
            for job in self._fair_order():
                need = threads_for(job.config, self.node_cores)
                fits = len(self._running) < self.cap and need <= self.cores - sum(j.threads for j in self._running)
                express = (
                    job.estimate_s is not None
                    and job.estimate_s <= EXPRESS_S
                    and not any(j.express for j in self._running)
                )
                if fits and not blocked:
                    job.express = False
                elif express:  # a short run does not wait behind long ones: it takes the one express slot
                    job.express = True
                else:
                    blocked = True
                    continue
                self._queue.remove(job)
                self._served[job.student or job.nickname] += 1
                self._running.add(job)
                self.peak_running = max(self.peak_running, len(self._running))
                job.start(threads=need)

    def _finished(self, job: TrainingJob) -> None:
        with self._lock:
            self._running.discard(job)
            if job in self._queue:
                self._queue.remove(job)
        self._dispatch()
        release_memory()

    def reap(self, now: float | None = None) -> int:
        """Stop released jobs past their grace period and forget old finished ones; returns how many stopped."""
        now = time.time() if now is None else now
        stopped = 0
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            if job.released_at is not None and now - job.released_at >= self.grace_s:
                if job.state not in FINISHED:
                    job.stop(N_("Stopped: its browser tab was closed."))
                    stopped += 1
            elif self.max_runtime_s and job.state == RUNNING and now - (job.started_at or now) > self.max_runtime_s:
                # paused, say
                job.stop(N_("Stopped: the run hit the server's limit of {limit:g} s."), limit=self.max_runtime_s)
                stopped += 1
        forgotten = 0
        with self._lock:
            for job in jobs:
                if (
                    job.id in self._jobs
                    and job.released_at is not None
                    and job.wait(0)
                    and now - job.released_at >= self.grace_s
                ):
                    del self._jobs[job.id]
                    forgotten += 1
            done = [j for j in self._jobs.values() if j.state in FINISHED]
            for job in sorted(done, key=lambda j: j.finished_at or 0)[: max(0, len(done) - self.keep_finished)]:
                del self._jobs[job.id]
                forgotten += 1
        if forgotten:
            release_memory()
        return stopped

    def _ensure_reaper(self) -> None:
        if self._reaper is None or not self._reaper.is_alive():
            self._reaper = threading.Thread(target=self._reap_loop, name="job-reaper", daemon=True)
            self._reaper.start()

    def _reap_loop(self) -> None:
        while not self._closed.wait(self.reap_every_s):
            try:
                self.reap()
            except Exception:
                traceback.print_exc()
