"""What a training run reports as it goes, and the states a run can be in: plain frozen values, easy to test
with `list(train(cfg))`, to store and to send across processes. Keyword-only, so no call depends on field order."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

# A run's states, defined once: the job manager, the run store, the feed and the pages read them from here.
QUEUED, RUNNING, DONE, STOPPED, FAILED = "queued", "running", "done", "stopped", "failed"
INTERRUPTED = "interrupted"  # only in the run store: the server stopped while the run trained
FINISHED = (DONE, STOPPED, FAILED)
ACTIVE = (QUEUED, RUNNING)
# What a run is for, kept with it: a Train page run (""), or one half of a same-seed race (not ranked on the board).
RACE = "race"


@dataclass(frozen=True, kw_only=True)
class Started:
    config: dict
    classes: tuple[str, ...]
    image_size: int
    n_train: int
    n_val: int
    n_test: int
    batches_per_epoch: int
    device: str
    parameters: int
    threads: int  # torch's intra-op threads: curves are bit-identical only at an equal count
    where: str = ""  # on a cluster, the machine and process training it (and its GPU)


@dataclass(frozen=True, kw_only=True)
class BatchEnd:
    epoch: int  # 1-based
    batch: int  # 1-based within the epoch
    batches: int  # per epoch
    step: int  # 1-based over the whole run
    loss: float  # mean cross-entropy of this batch
    accuracy: float  # of this batch, before the update
    examples_per_s: float  # over the epoch so far
    elapsed_s: float
    eta_s: float


@dataclass(frozen=True, kw_only=True)
class Peek:
    """The weights a few times into the first epoch, where most of the change happens: Results and Inside show
    the model from the first seconds, before the first EpochEnd."""

    epoch: int
    step: int
    fraction: float  # of the epoch done
    weights: dict = field(repr=False)


@dataclass(frozen=True, kw_only=True)
class EpochEnd:
    epoch: int
    epochs: int
    train_loss: float  # mean over the epoch's batches, as d2l's Accumulator sums it
    train_acc: float
    val_loss: float | None  # None when val_fraction is 0
    val_acc: float | None
    test_loss: float
    test_acc: float
    epoch_s: float  # training time of this epoch (evaluation excluded)
    elapsed_s: float
    eta_s: float
    weights: dict | None = field(default=None, repr=False)  # state_dict copy on the CPU
    test_probs: torch.Tensor | None = field(default=None, repr=False)  # (N_test, classes)


@dataclass(frozen=True, kw_only=True)
class Done:
    test_loss: float
    test_acc: float
    labels: torch.Tensor = field(repr=False)  # (N_test,) int64
    probs: torch.Tensor = field(repr=False)  # (N_test, classes) float32
    weights: dict = field(repr=False)
    train_s_per_epoch: float
    elapsed_s: float
    epochs: int

    @property
    def predictions(self) -> torch.Tensor:
        return self.probs.argmax(dim=1)


@dataclass(frozen=True, kw_only=True)
class Held:
    """The run waits at Pause before its next minibatch (a cluster worker sends what it holds back at once)."""

    epoch: int
    step: int


@dataclass(frozen=True, kw_only=True)
class Stepped:
    """One minibatch run by Step while the job is paused, laid open: what it saw, what it changed."""

    epoch: int
    step: int  # 1-based over the whole run
    lr: float  # the learning rate η of this step
    images: torch.Tensor = field(repr=False)  # (B, side, side) uint8, the batch
    labels: torch.Tensor = field(repr=False)  # (B,)
    loss_before: float  # the batch's mean loss before the update
    loss_after: float  # the same batch's mean loss after it (the model in eval mode)
    grad_norms: dict  # parameter name -> L2 norm of the change it got, divided by η (its gradient, for SGD)
    before: dict = field(repr=False)  # the weights before the step: the model's step_view parameter, if any
    after: dict = field(repr=False)  # and after it: for SGD, after = before - lr * gradient
    rule: str = "sgd"  # the update rule that ran (core.optim.RULES): what the panel labels the change with


@dataclass(frozen=True, kw_only=True)
class Failed:
    message: str
    epoch: int = 0
    step: int = 0


@dataclass(frozen=True, kw_only=True)
class Stopped:
    reason: str
    epoch: int = 0
    step: int = 0


Event = Started | BatchEnd | Peek | EpochEnd | Held | Stepped | Done | Failed | Stopped
