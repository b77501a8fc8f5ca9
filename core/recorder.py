"""What a run leaves in the run store as it trains: a job listener (core.jobs) that turns each event into the
store's writes, in core.checkpoint's format, and the rewind policy (which of a run's weights are kept). The same
listener records on both backends: a server's threads (ui.services) and a cluster's coordinator
(core.backends.ray_cluster); a write that fails is reported, never raised into the training."""

from __future__ import annotations

from collections.abc import Callable

from core import data as D
from core.checkpoint import checkpoint_bytes
from core.config import TrainConfig
from core.events import DONE, FAILED, STOPPED, BatchEnd, Done, EpochEnd, Failed, Peek, Started, Stopped
from core.i18n import N_, said
from core.metrics import confusion
from core.store import RunStore, db_errors
from core.train import PEEKS

# Rewind: a run keeps its weights at each epoch's end and at the first epoch's peeks (core.train.PEEKS), at most
# this many and this many bytes; a longer run keeps evenly spaced epochs (its first and last always).
REWIND_MAX = 32
REWIND_BYTES = 16 * 1024 * 1024  # a class server keeps many runs: bench/rewind_cost.py prints what each model keeps

# why runs are not being saved: put into words (tr) by the page that shows it, in its student's language
WRITE_FAILED = N_(
    "Runs are not being saved: writing {where} failed ({error}). Runs still train; check the disk and the file, "
    "then restart the app."
)

StoreError = tuple[str, dict]  # (an N_ message, its values): a failure, translated where it is shown


def rewind_epochs(epochs: int, point_bytes: int) -> set[int]:
    """The epochs whose end a run keeps for Rewind: all of them, or, past REWIND_MAX points or REWIND_BYTES,
    evenly spaced ones with the first and the last (the first epoch's peeks are counted in)."""
    room = max(2, min(REWIND_MAX, REWIND_BYTES // max(point_bytes, 1)) - len(PEEKS))
    if epochs <= room:
        return set(range(1, epochs + 1))
    return {1 + round(i * (epochs - 1) / (room - 1)) for i in range(room)}


class Recorder:
    """A JobManager listener: persist each event as it happens, not only at the end (not every batch).

    `store` is a RunStore, or a function that opens one (None while it cannot: its caller says why). `report`
    hears of each write: a StoreError when one fails, None when one succeeds; without it, a failing write raises
    (the job's listener loop then drops it)."""

    def __init__(
        self,
        store: RunStore | Callable[[], RunStore | None],
        report: Callable[[StoreError | None], None] | None = None,
        where: str | None = None,
    ):
        self._open = store if callable(store) and not isinstance(store, RunStore) else (lambda: store)
        self._report = report
        self._where = where  # for a message when opening fails (else the store names itself)

    def __call__(self, job, event) -> None:
        if isinstance(event, BatchEnd):
            return
        store = None
        try:
            store = self._open()
            if store is None:
                return
            self.record(store, job, event)
        except (*db_errors(), OSError) as e:
            if self._report is None:
                raise
            where = self._where if self._where is not None else str(store)
            self._report((WRITE_FAILED, {"where": where, "error": str(e)}))
        else:
            if self._report is not None:
                self._report(None)

    def record(self, store: RunStore, job, event) -> None:
        if isinstance(event, Peek):
            self.rewind_point(store, job.id, job.config, event.epoch, event.step, event.fraction, event.weights)
        elif isinstance(event, EpochEnd) and event.weights is not None:
            store.add_epoch(job.id, event)
            step = event.epoch * job.snapshot(light=True).started.batches_per_epoch
            self.rewind_point(store, job.id, job.config, event.epoch, step, 1.0, event.weights)
        elif isinstance(event, Started):
            store.start(job.id, job.config, job.nickname, event.threads, job.tag, job.owner)
        elif isinstance(event, EpochEnd):
            store.add_epoch(job.id, event)
        elif isinstance(event, Done):
            self.finished(store, job.id, event, job.config)
        elif isinstance(event, Failed):
            if store.get(job.id) is None:  # failed before Started (bad config, missing data)
                store.start(job.id, job.config, job.nickname, tag=job.tag, owner=job.owner)
            store.finish(job.id, FAILED, event.message)
        elif isinstance(event, Stopped):
            store.finish(job.id, STOPPED, event.reason)

    @staticmethod
    def rewind_point(
        store: RunStore, run_id: str, cfg: TrainConfig, epoch: int, step: int, fraction: float, weights
    ) -> bool:
        """Keep the weights at this point for Rewind, if the run's bounds (rewind_epochs) keep it; True if kept."""
        data = checkpoint_bytes(cfg.to_dict(), weights)
        if fraction >= 1 and epoch not in rewind_epochs(cfg.epochs, len(data)):
            return False
        store.add_rewind_point(run_id, step, epoch, fraction, data)
        return True

    @staticmethod
    def finished(store: RunStore, run_id: str, done: Done, config: TrainConfig) -> None:
        """A finished run: its metrics, its confusion matrix and its checkpoint."""
        cm = confusion(done.labels.numpy(), done.predictions.numpy(), len(D.info(config.dataset).classes)).tolist()
        message = None
        try:
            ckpt = store.save_checkpoint(run_id, checkpoint_bytes(config.to_dict(), done.weights, done.test_acc))
        except OSError as e:  # a full disk, a read-only folder: the run finished all the same
            ckpt = None
            message = said(  # put into words where it is shown, in its reader's language
                N_(
                    "Finished, but its checkpoint could not be written ({error}): its weights "
                    "are not saved. Free some space in {folder}, or download them from Results "
                    "while this server still has the run."
                ),
                error=e.strerror or e,
                folder=store.checkpoints.parent,
            )
        store.finish(
            run_id,
            DONE,
            message,
            test_acc=done.test_acc,
            test_loss=done.test_loss,
            train_s_per_epoch=done.train_s_per_epoch,
            confusion=cm,
            checkpoint=ckpt,
        )
