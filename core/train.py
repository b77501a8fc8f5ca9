"""train(cfg) -> Iterator[Event]: a plain loop you can read top to bottom; the UI only consumes its events.

python -m core.train --preset d2l-softmax --json
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import torch
from torch import nn

from core import data as D
from core import models as M
from core import own_images
from core.config import (
    DATASETS,
    DEVICES,
    MODELS,
    OPTIMIZERS,
    PACES,
    PRESETS,
    SCHEDULES,
    SLOW_EPOCH_S,
    TrainConfig,
)
from core.events import BatchEnd, Done, EpochEnd, Event, Failed, Held, Peek, Started, Stepped, Stopped
from core.i18n import N_, said, shown
from core.optim import Piece, UpdateRule, decayed, rule_for, sgd

if TYPE_CHECKING:
    from core.checkpoint import Checkpoint

__all__ = [
    "BatchEnd",
    "Control",
    "Done",
    "EpochEnd",
    "Event",
    "Failed",
    "Peek",
    "Started",
    "Stepped",
    "Stopped",
    "evaluate",
    "evaluate_checkpoint",
    "train",
]
PEEKS = (0.05, 0.25, 0.5)  # when, into the first epoch, a run shows its weights (Peek events)

STEP_IMAGES = 64  # a Stepped event keeps at most this many of its batch's images


class Control:
    """Pause, Resume and Step for a running train() loop, from another thread: a page's buttons, or a cluster
    worker relaying its coordinator's (sync). Step runs exactly one minibatch while paused."""

    def __init__(self):
        self._cv = threading.Condition()
        self.paused = False
        self.granted = 0  # single steps asked for while paused, in all
        self._taken = 0

    def pause(self) -> None:
        self.sync(True, self.granted)

    def resume(self) -> None:
        self.sync(False, self.granted)

    def step(self) -> None:
        """One more minibatch, if paused (a Step while running means nothing)."""
        with self._cv:
            if self.paused:
                self.granted += 1
                self._cv.notify_all()

    def sync(self, paused: bool, granted: int) -> None:
        with self._cv:
            self.paused, self.granted = paused, max(self.granted, granted)
            self._cv.notify_all()

    def holding(self) -> bool:
        """Paused, with no single step left to run."""
        with self._cv:
            return self.paused and self._taken >= self.granted

    def wait(self, stop: threading.Event | None) -> None:
        """Block while holding; a Resume, a Step or a stop (a closed tab, the runtime cap) ends the wait."""
        with self._cv:
            while self.paused and self._taken >= self.granted and not (stop is not None and stop.is_set()):
                self._cv.wait(0.1)

    def take(self) -> bool:
        """Before a minibatch: True when it is a single step (and uses it up)."""
        with self._cv:
            if self.paused and self._taken < self.granted:
                self._taken += 1
                return True
            self._taken = self.granted  # steps asked for before a Resume are void
            return False


# ----------------------------------------------------------------------------------- helpers

_init_lock = threading.Lock()


def pick_device(name: str) -> torch.device:
    """auto -> cuda, then mps, then cpu; an explicit device that is absent falls back to cpu."""
    if name in ("auto", "cuda") and torch.cuda.is_available():
        return torch.device("cuda")
    if name in ("auto", "mps") and getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def init_model(cfg: TrainConfig, size: int, num_classes: int) -> nn.Module:
    """Build the model with weights drawn from cfg.seed, without disturbing other threads' RNG use."""
    with _init_lock, torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
        model = M.build(cfg.model, size, num_classes, cfg.hidden, cfg.dropout)
    return model.to(memory_format=torch.channels_last) if M.spec(cfg.model).channels_last else model


def restore(config: dict, weights: dict) -> nn.Module:
    """A model rebuilt from a config dict and a state_dict (e.g. from a Done event or a checkpoint)."""
    cfg = TrainConfig.from_dict(config)
    info = D.info(cfg.dataset)
    model = M.build(cfg.model, info.size, len(info.classes), cfg.hidden, cfg.dropout)
    model.load_state_dict(weights)
    return model.eval()


def _cpu_weights(model: nn.Module) -> dict:
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


@torch.no_grad()
def evaluate(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, device: torch.device | str = "cpu", batch_size: int = 2000
) -> tuple[float, float, torch.Tensor]:
    """Mean loss, accuracy and class probabilities of a model on uint8 images x with labels y."""
    if len(y) == 0:
        return float("nan"), float("nan"), torch.empty(0, 10)
    loss_sum, correct, probs = 0.0, 0, []
    for start in range(0, len(y), batch_size):
        X = D.to_float(x[start : start + batch_size]).to(device)
        Y = y[start : start + batch_size].to(device)
        O = model(X)
        loss_sum += float(M.cross_entropy(O, Y).sum())
        correct += int((O.argmax(dim=1) == Y).sum())
        probs.append(M.softmax(O).cpu())
    return loss_sum / len(y), correct / len(y), torch.cat(probs)


def evaluate_checkpoint(ckpt: Checkpoint, ds: D.Dataset) -> Done:
    """Evaluate a loaded checkpoint (core.checkpoint) on the test set, as a Done event the Results and Inside pages
    can show."""
    loss, acc, probs = evaluate(ckpt.model, ds.test_x, ds.test_y)
    weights = {k: v.detach().clone() for k, v in ckpt.model.state_dict().items()}
    return Done(
        test_loss=loss,
        test_acc=acc,
        labels=ds.test_y.clone(),
        probs=probs,
        weights=weights,
        train_s_per_epoch=float("nan"),
        elapsed_s=0.0,
        epochs=ckpt.config.epochs,
    )


def autograd_step(model: nn.Module, loss_fn, update, X: torch.Tensor, y: torch.Tensor, lr: float):
    """One minibatch with autograd: forward, mean loss, backward (fills each parameter's .grad), update."""
    O = model(X)  # (B, 10) logits
    loss = loss_fn(O, y).mean()
    for p in model.parameters():
        p.grad = None
    loss.backward()
    update(lr)  # Adam's step, or the hand-written SGD on every parameter's .grad
    return loss.detach(), O.detach()


def lr_at(cfg: TrainConfig, step: int, total_steps: int) -> float:
    """The learning rate for a step (0-based) of a run: cfg.lr under cfg.schedule (core.config.SCHEDULES)."""
    done = step / max(total_steps, 1)
    if cfg.schedule == "step":
        return cfg.lr * 0.1 ** ((done >= 0.5) + (done >= 0.75))
    if cfg.schedule == "cosine":
        return cfg.lr * 0.5 * (1 + math.cos(math.pi * done))
    return cfg.lr


def update_rule(cfg: TrainConfig) -> UpdateRule:
    """The update rule cfg's steps run (core.optim): SGD by hand, SGD on autograd's gradients, or Adam."""
    return rule_for(cfg.optimizer, M.spec(cfg.model).scratch_step is not None)


def make_step(model: nn.Module, cfg: TrainConfig):
    """A function (X, y, lr=cfg.lr) -> (mean loss, logits) that updates the model by one minibatch."""
    spec = M.spec(cfg.model)
    rule = update_rule(cfg).name
    if rule == "sgd-scratch":
        return lambda X, y, lr=cfg.lr: spec.scratch_step(model, X, y, lr, cfg.weight_decay)
    params = list(model.parameters())
    if rule == "adam":  # fused: one kernel per step instead of a dozen per parameter
        adam = torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay, fused=True)

        def update(lr: float) -> None:
            adam.param_groups[0]["lr"] = lr
            adam.step()
    else:
        update = lambda lr: sgd(params, decayed(params, cfg.weight_decay), lr)
    if spec.channels_last:  # match the model's NHWC layout (see init_model)
        return lambda X, y, lr=cfg.lr: autograd_step(
            model, spec.loss, update, X.contiguous(memory_format=torch.channels_last), y, lr
        )
    return lambda X, y, lr=cfg.lr: autograd_step(model, spec.loss, update, X, y, lr)


def training_code(cfg: TrainConfig) -> list[Piece]:
    """The code that trains cfg, in the order a step uses it (the Code view shows each piece's source and maths):
    the model and its loss, the gradient (by hand, or autograd's), the update rule, the schedule."""
    spec = M.spec(cfg.model)
    rule = update_rule(cfg)
    if rule.name == "sgd-scratch":
        gradient = spec.scratch_code
    else:
        gradient = (Piece(autograd_step, (AUTOGRAD,)), Piece(make_step))
    schedule = (Piece(lr_at),) if cfg.schedule != "constant" else ()
    return [*spec.code, *gradient, *rule.pieces, *schedule]


AUTOGRAD = r"\nabla_{\mathbf{w}} \ell \ \text{for every weight, by backpropagation (loss.backward())}"


# A mean cross-entropy above this gives the true class a probability below e^-1000: the weights have blown up.
# Stable log-softmax keeps such losses finite, so NaN alone misses them (bench/RESULTS.md, "Divergence threshold").
DIVERGED_LOSS = 1000.0


def diverged(loss: float) -> bool:
    """True when a loss is NaN, infinite or beyond DIVERGED_LOSS."""
    return not math.isfinite(loss) or loss > DIVERGED_LOSS


def _diverged(cfg: TrainConfig, loss: float, epoch: int, batch: int) -> Failed:
    return Failed(
        message=said(
            N_(
                "The loss became {loss:.4g} at epoch {epoch}, batch {batch}: training diverged. "
                "The learning rate ({lr:g}) is probably too high for {optimizer}; "
                "try {lower:g} or lower."
            ),
            loss=loss,
            epoch=epoch,
            batch=batch,
            lr=cfg.lr,
            optimizer=cfg.optimizer,
            lower=cfg.lr / 10,
        ),
        epoch=epoch,
        step=batch,
    )


# -------------------------------------------------------------------------------------- train


@dataclass
class _Run:
    """What one run's steps share: its data, model and step, and the clocks that say how long it trained."""

    cfg: TrainConfig
    ds: D.Dataset
    sp: D.Split
    model: nn.Module
    step_fn: Callable
    device: torch.device
    stop: threading.Event | None
    control: Control | None
    order: torch.Generator
    per_epoch: int
    total_steps: int
    step: int = 0  # minibatches done over the whole run
    t0: float = field(default_factory=time.perf_counter)
    held_s: float = 0.0  # time spent paused: no training, and no time the rest of the run will take either
    train_s: float = 0.0  # training time alone: pauses and slow motion's waits left out

    def training_time(self) -> float:
        """Seconds since the start, pauses left out (slow motion's waits stay: the rest of the run has them too)."""
        return time.perf_counter() - self.t0 - self.held_s


def train(
    cfg: TrainConfig,
    stop: threading.Event | None = None,
    dataset: D.Dataset | None = None,
    threads: int | None = None,
    control: Control | None = None,
) -> Iterator[Event]:
    """Train cfg's model, yielding Started, BatchEnd..., EpochEnd... and Done, Failed or Stopped.

    `threads` is recorded in Started (the caller sets torch's thread count; None = this thread's current one).
    Same config and seed give the same curve bit for bit only at the same thread count: the count decides how
    BLAS and oneDNN split their sums, and float addition depends on that order.
    """
    problems = cfg.errors()
    if problems:
        yield Failed(message=" ".join(problems))
        return
    try:
        ds = dataset or D.load(cfg.dataset)
        sp = D.split(len(ds.train_y), cfg.val_fraction, cfg.seed, cfg.train_subset)
    except (D.DatasetError, ValueError) as e:
        yield Failed(message=str(e))
        return
    device = pick_device(cfg.device)
    model = init_model(cfg, ds.info.size, len(ds.info.classes)).to(device)
    per_epoch = math.ceil(len(sp.train) / cfg.batch_size)
    run = _Run(
        cfg, ds, sp, model, make_step(model, cfg), device, stop, control, torch.Generator().manual_seed(cfg.seed),
        per_epoch, per_epoch * cfg.epochs,
    )  # fmt: skip
    yield Started(
        config=cfg.to_dict(),
        classes=ds.info.classes,
        image_size=ds.info.size,
        n_train=len(sp.train),
        n_val=len(sp.val),
        n_test=len(ds.test_y),
        batches_per_epoch=per_epoch,
        device=str(device),
        parameters=M.count_params(model),
        threads=threads or torch.get_num_threads(),
    )
    for epoch in range(1, cfg.epochs + 1):
        trained = yield from _epoch(run, epoch)  # (train loss, train accuracy, seconds), or None: it ended early
        if trained is None:
            return
        ended = _scored(run, epoch, *trained)
        yield ended
        if isinstance(ended, Failed):
            return
    yield Done(
        test_loss=ended.test_loss,
        test_acc=ended.test_acc,
        labels=ds.test_y.clone(),
        probs=ended.test_probs,
        weights=ended.weights,
        train_s_per_epoch=run.train_s / cfg.epochs,
        elapsed_s=time.perf_counter() - run.t0,
        epochs=cfg.epochs,
    )


def _epoch(run: _Run, epoch: int):
    """One epoch's minibatches, yielding BatchEnd (and Held, Stepped, Peek); returns (mean loss, accuracy) on
    the training images and the epoch's training time, or None once the run stopped or diverged (its last event
    says which)."""
    cfg, ds = run.cfg, run.ds
    batch_s = SLOW_EPOCH_S / run.per_epoch if cfg.pace == "slow" else 0.0  # slow motion: the least time per batch
    peeks = {math.ceil(run.per_epoch * f) for f in PEEKS} - {run.per_epoch}  # the epoch's end has its own event
    run.model.train()
    loss_sum, correct, seen, t_epoch, waited = 0.0, 0, 0, time.perf_counter(), 0.0
    for batch, idx in enumerate(D.batches(run.sp.train, cfg.batch_size, run.order), start=1):
        paused_at = time.perf_counter()
        if run.control is not None and run.control.holding():
            yield Held(epoch=epoch, step=run.step)
            run.control.wait(run.stop)  # paused: here until Resume, Step or a stop
        stepping = run.control is not None and run.control.take()
        t_batch = time.perf_counter()
        waited += t_batch - paused_at
        run.held_s += t_batch - paused_at
        if run.stop is not None and run.stop.is_set():
            yield Stopped(reason=N_("Stopped by request."), epoch=epoch, step=run.step)
            return None
        X = D.to_float(ds.train_x.index_select(0, idx)).to(run.device)  # x[idx], but faster on a CPU
        y = ds.train_y.index_select(0, idx).to(run.device)
        lr = lr_at(cfg, run.step, run.total_steps)
        before = _cpu_weights(run.model) if stepping else None
        loss_t, O = run.step_fn(X, y, lr)
        loss = float(loss_t)
        run.step += 1
        if diverged(loss):
            yield _diverged(cfg, loss, epoch, batch)
            return None
        hits = int((O.argmax(dim=1) == y).sum())
        loss_sum, correct, seen = loss_sum + loss * len(y), correct + hits, seen + len(y)
        elapsed = run.training_time()
        yield BatchEnd(
            epoch=epoch,
            batch=batch,
            batches=run.per_epoch,
            step=run.step,
            loss=loss,
            accuracy=hits / len(y),
            examples_per_s=seen / max(time.perf_counter() - t_epoch - waited, 1e-9),  # pauses are not training
            elapsed_s=elapsed,
            eta_s=elapsed * (run.total_steps - run.step) / run.step,
        )
        if stepping:
            images = ds.train_x.index_select(0, idx[:STEP_IMAGES])
            yield _stepped(run.model, cfg, X, y, images, before, loss, lr, epoch, run.step)
        if epoch == 1 and batch in peeks:
            yield Peek(epoch=1, step=run.step, fraction=batch / run.per_epoch, weights=_cpu_weights(run.model))
        rest = t_batch + batch_s - time.perf_counter()
        if rest > 0:  # slow motion; a Stop still ends the wait at once
            t_wait = time.perf_counter()
            (run.stop or threading.Event()).wait(rest)
            waited += time.perf_counter() - t_wait  # as long as it really lasted, not as long as it was asked
    epoch_s = time.perf_counter() - t_epoch - waited  # training time: pauses and slow motion's waits left out
    run.train_s += epoch_s
    return loss_sum / seen, correct / seen, epoch_s


def _scored(run: _Run, epoch: int, train_loss: float, train_acc: float, epoch_s: float) -> EpochEnd | Failed:
    """The epoch's end: the model scored on the validation and test images (or Failed if it diverged there)."""
    model, ds, sp, cfg = run.model, run.ds, run.sp, run.cfg
    model.eval()
    val_loss = val_acc = None
    if len(sp.val):
        val_loss, val_acc, _ = evaluate(model, ds.train_x[sp.val], ds.train_y[sp.val], run.device)
    test_loss, test_acc, test_probs = evaluate(model, ds.test_x, ds.test_y, run.device)
    if diverged(test_loss):
        return _diverged(cfg, test_loss, epoch, run.per_epoch)
    elapsed = run.training_time()
    return EpochEnd(
        epoch=epoch,
        epochs=cfg.epochs,
        train_loss=train_loss,
        train_acc=train_acc,
        val_loss=val_loss,
        val_acc=val_acc,
        test_loss=test_loss,
        test_acc=test_acc,
        epoch_s=epoch_s,
        elapsed_s=elapsed,
        eta_s=elapsed / epoch * (cfg.epochs - epoch),
        weights=_cpu_weights(model),
        test_probs=test_probs,
    )


def _stepped(model, cfg, X, y, images, before: dict, loss: float, lr: float, epoch: int, step: int) -> Stepped:
    """What a single step did: the batch, the loss on it before and after, each parameter's gradient norm, and
    (softmax regression) its W and b before and after, for the page to show W <- W - lr * dW."""
    after = _cpu_weights(model)
    training = model.training
    model.eval()
    with torch.no_grad():
        loss_after = float(M.cross_entropy(model(X), y).mean())
    model.train(training)
    grads = {n: float(p.grad.norm()) for n, p in model.named_parameters() if p.grad is not None}
    if not grads:  # the scratch step keeps no .grad: the change it made, divided by the learning rate
        grads = {n: float((before[n] - after[n]).norm() / lr) for n in after}
    kept = M.spec(cfg.model).step_view  # the parameters the panel draws: small enough to send
    return Stepped(
        epoch=epoch,
        step=step,
        lr=lr,
        images=images.reshape(len(images), *images.shape[-2:]),
        labels=y[: len(images)].cpu(),
        loss_before=loss,
        loss_after=loss_after,
        grad_norms=grads,
        before={k: before[k] for k in kept},
        after={k: after[k] for k in kept},
        rule=update_rule(cfg).name,
    )


def estimate_seconds(cfg: TrainConfig, ds: D.Dataset, threads: int | None = None, budget_s: float = 0.25) -> float:
    """Training time of cfg on this machine, evaluations included: real steps of its model on its own images
    for about budget_s, and an evaluation of a slice of the test set, scaled to the whole run.

    `threads` is the job's thread count (core.jobs.threads_for); this thread's count is restored afterwards.
    """
    sp = D.split(len(ds.train_y), cfg.val_fraction, cfg.seed, cfg.train_subset)
    per_epoch = math.ceil(len(sp.train) / cfg.batch_size)
    total = per_epoch * cfg.epochs
    before = torch.get_num_threads()
    torch.set_num_threads(threads or before)
    try:
        model = init_model(cfg, ds.info.size, len(ds.info.classes))
        step_fn = make_step(model, cfg)
        order = torch.Generator().manual_seed(cfg.seed)

        def one_step(idx):
            step_fn(D.to_float(ds.train_x.index_select(0, idx)), ds.train_y.index_select(0, idx))

        batches = (idx for _ in range(cfg.epochs + 2) for idx in D.batches(sp.train, cfg.batch_size, order))
        for idx in itertools.islice(batches, 2):  # the first steps pay one-off allocation costs
            one_step(idx)
        done, t0 = 0, time.perf_counter()
        for idx in batches:
            one_step(idx)
            done += 1
            if done >= total or (done >= 3 and time.perf_counter() - t0 > budget_s):
                break
        per_step = (time.perf_counter() - t0) / max(done, 1)
        k = min(len(ds.test_y), 1000)
        t0 = time.perf_counter()
        evaluate(model, ds.test_x[:k], ds.test_y[:k])
        eval_s = (time.perf_counter() - t0) / k * (len(ds.test_y) + len(sp.val))
    finally:
        torch.set_num_threads(before)
    train_s = per_step * per_epoch if cfg.pace == "full" else max(per_step * per_epoch, SLOW_EPOCH_S)
    return (train_s + eval_s) * cfg.epochs


# ---------------------------------------------------------------------------------------- CLI


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line and exit code 2, not argparse's usage block
        self.exit(2, f"error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m core.train", description="Train a model and print JSON per epoch.")
    d = TrainConfig()
    p.add_argument("--preset", choices=sorted(PRESETS), help="start from a seed recipe; flags override it")
    p.add_argument("--dataset", choices=list(DATASETS))
    p.add_argument(
        "--images",
        metavar="PATH",
        help="train on your own pictures: a folder or .zip with one sub-folder per class (ImageFolder layout)",
    )
    p.add_argument("--model", choices=list(MODELS))
    p.add_argument("--optimizer", choices=list(OPTIMIZERS))
    p.add_argument("--lr", type=float, help=f"learning rate (default {d.lr})")
    p.add_argument("--batch-size", type=int, dest="batch_size")
    p.add_argument("--epochs", type=int)
    p.add_argument("--val-fraction", type=float, dest="val_fraction")
    p.add_argument("--train-subset", type=int, dest="train_subset")
    p.add_argument("--seed", type=int)
    p.add_argument("--device", choices=DEVICES)
    p.add_argument("--hidden", type=int)
    p.add_argument("--pace", choices=list(PACES), help="slow: about a second per epoch (default: full)")
    p.add_argument("--weight-decay", type=float, dest="weight_decay", help="L2 penalty on the weights (default 0)")
    p.add_argument("--dropout", type=float, help="MLP and CNN: share of hidden units dropped (default 0)")
    p.add_argument("--schedule", choices=list(SCHEDULES), help="learning rate over the run (default: constant)")
    p.add_argument("--json", action="store_true", help="JSON lines only (default: JSON lines too)")
    p.add_argument("--threads", type=int, help="CPU threads for training (default: torch's, one per core)")
    return p


def config_from_args(argv: list[str] | None = None) -> TrainConfig:
    """Parse CLI flags into a validated TrainConfig; exits 2 with one line on a bad argument."""
    return _parse(argv)[0]


def _parse(argv: list[str] | None) -> tuple[TrainConfig, argparse.Namespace]:
    parser = _parser()
    args = parser.parse_args(argv)
    base = PRESETS[args.preset] if args.preset else TrainConfig()
    flags = ("preset", "json", "threads", "images")  # not config fields
    changes = {k: v for k, v in vars(args).items() if k not in flags and v is not None}
    if args.images is not None:
        if args.dataset is not None:
            parser.error("use --images or --dataset, not both")
        try:  # the same test pictures for every run on these images (own_images.SPLIT_SEED), whatever --seed says
            ds = own_images.dataset_from_source(args.images)
        except (D.DatasetError, ValueError) as e:
            parser.error(str(e))
        D.register(ds)
        changes["dataset"] = ds.info.name
    cfg = base.with_(**changes)
    problems = cfg.errors()
    if args.threads is not None and args.threads < 1:
        problems.append(f"threads must be at least 1, got {args.threads}")
    if problems:
        parser.error(" ".join(problems))
    return cfg, args


def main(argv: list[str] | None = None) -> int:
    cfg, args = _parse(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    classes: tuple[str, ...] = ()
    for event in train(cfg, threads=args.threads):
        if isinstance(event, Started):
            classes = event.classes
        elif isinstance(event, EpochEnd):
            print(
                json.dumps(
                    {
                        "epoch": event.epoch,
                        "train_loss": round(event.train_loss, 5),
                        "train_acc": round(event.train_acc, 5),
                        "val_acc": None if event.val_acc is None else round(event.val_acc, 5),
                        "test_acc": round(event.test_acc, 5),
                        "epoch_s": round(event.epoch_s, 3),
                    }
                ),
                flush=True,
            )
        elif isinstance(event, Done):
            print(
                json.dumps(
                    {
                        "done": True,
                        "test_loss": round(event.test_loss, 5),
                        "test_acc": round(event.test_acc, 5),
                        "train_s_per_epoch": round(event.train_s_per_epoch, 3),
                        "classes": list(classes),
                        "config": cfg.to_dict(),
                    }
                ),
                flush=True,
            )
            return 0
        elif isinstance(event, (Failed, Stopped)):
            print(
                json.dumps(
                    {"failed": True, "message": shown(getattr(event, "message", None) or getattr(event, "reason", ""))}
                ),
                flush=True,
            )
            return 1
    return 1


if __name__ == "__main__":
    sys.exit(main())
