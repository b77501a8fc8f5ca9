"""One frozen config for a training run, every list of choices a page or the CLI offers, and the seed
tutorials' recipes as presets. Models and datasets are registries of their own (core.models, core.data)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace

from core import data as D
from core.data import IN_MEMORY
from core.data import REGISTRY as DATASETS
from core.i18n import N_, tr
from core.models import REGISTRY as MODELS

OPTIMIZERS = {"sgd": N_("SGD (hand-written)"), "adam": "Adam"}  # name -> label
DEVICES = ("auto", "cpu", "cuda", "mps")
# How fast a run goes: "slow" spaces its batches so each epoch lasts about SLOW_EPOCH_S, for a class to follow.
PACES = {"full": N_("Full speed"), "slow": N_("Slow motion")}
SLOW_EPOCH_S = 1.0
# The learning rate over a run (core.train.lr_at): steady, cut tenfold at 50 % and 75 % of the steps, or a cosine
# from lr down to 0.
SCHEDULES = {
    "constant": N_("Constant"),
    "step": N_("Step (÷10 at 50 % and 75 %)"),
    "cosine": N_("Cosine to zero"),
}
WEIGHT_DECAY_CHOICES = (0.0, 0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1)  # the weight-decay slider's stops
# The learning-rate slider's stops (log scale); a preset's or a URL's value between them snaps to the nearest.
LR_CHOICES = (0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)

# Bounds the UI and CLI enforce; values outside them are refused with a message, not clamped.
LIMITS = {
    "lr": (1e-5, 10.0),
    "batch_size": (1, 4096),
    "epochs": (1, 100),
    "val_fraction": (0.0, 0.9),
    "train_subset": (0, 60_000),  # 0 = use every training image
    "seed": (0, 2**31 - 1),
    "hidden": (8, 1024),
    "weight_decay": (0.0, 0.1),
    "dropout": (0.0, 0.9),
}


@dataclass(frozen=True)
class TrainConfig:
    dataset: str = "digits"  # embedded 8x8 set: needs no files, trains in well under a second
    model: str = "softmax"  # softmax regression from scratch; "mlp" and "cnn" use autograd
    optimizer: str = "sgd"  # "sgd" is the hand-written step; "adam" is torch.optim.Adam
    lr: float = 0.3  # with batch 32, digits reach 0.95 test accuracy in 10 epochs (d2l's 0.1 / 256: 0.87)
    batch_size: int = 32  # 47 steps an epoch on digits: a curve with a shape (d2l's 256 gives 6)
    epochs: int = 10  # d2l's value
    val_fraction: float = 0.0  # share of the training set held out for validation (mnist-logreg: 0.2)
    train_subset: int = 0  # train on only this many images (0 = all): a quick look on a slow laptop
    seed: int = 0  # same config + same seed => the same loss curve, batch for batch
    device: str = "auto"  # auto picks cuda, then mps, then cpu
    hidden: int = 256  # MLP hidden units (ignored by the other models)
    pace: str = "full"  # "slow": about SLOW_EPOCH_S per epoch, so a class sees each one; the maths is the same
    weight_decay: float = 0.0  # L2 penalty λ on the weights (not the biases): each step also shrinks W by lr·λ·W
    dropout: float = 0.0  # MLP and CNN: share of hidden units zeroed at random in each training step (0 = none)
    schedule: str = "constant"  # the learning rate over the run: see SCHEDULES

    def errors(self) -> list[str]:
        """Every reason this config cannot run, as sentences a student can act on."""
        out = []
        for name, allowed in (
            ("dataset", DATASETS | IN_MEMORY),  # and a class's own images, once built (core.own_images)
            ("model", MODELS),
            ("optimizer", OPTIMIZERS),
            ("device", DEVICES),
            ("pace", PACES),
            ("schedule", SCHEDULES),
        ):
            value = getattr(self, name)
            if name == "dataset" and isinstance(value, str) and value not in allowed and D.known(value):
                continue  # a class's own dataset, found in the run store (core.class_images)
            if not isinstance(value, str) or value not in allowed:
                out.append(
                    tr(
                        "{name} must be one of {allowed} (got {value!r}).",
                        name=name,
                        allowed=", ".join(allowed),
                        value=getattr(self, name),
                    )
                )
        for name, (lo, hi) in LIMITS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
                out.append(tr("{name} must be a number (got {value!r}).", name=name, value=value))
            elif not lo <= value <= hi:
                out.append(
                    tr(
                        "{name} must be between {lo:g} and {hi:g} (got {value:g}).",
                        name=name,
                        lo=lo,
                        hi=hi,
                        value=value,
                    )
                )
        for name in ("batch_size", "epochs", "train_subset", "seed", "hidden"):
            if isinstance(getattr(self, name), float):
                out.append(tr("{name} must be a whole number (got {value!r}).", name=name, value=getattr(self, name)))
        if not out and self.dropout > 0 and self.model in MODELS and not MODELS[self.model].hidden_layers:
            out.append(
                tr(
                    "dropout needs hidden units to drop: use the MLP or the CNN, or set dropout to 0 "
                    "({model} has none).",
                    model=MODELS[self.model].short,
                )
            )
        return out

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        """Build from a dict, ignoring unknown keys (e.g. from an older checkpoint)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    def with_(self, **changes) -> TrainConfig:
        return replace(self, **changes)


# What the Train page's recipe box calls each preset.
PRESET_TITLES = {
    "d2l-softmax": N_("d2l: softmax regression from scratch (Fashion-MNIST)"),
    "seed-cnn": N_("The seed CNN with Adam (Fashion-MNIST)"),
    "mnist-logreg": N_("Logistic regression on MNIST, 20 % held out"),
    "overfit": N_("Overfit on purpose: an MLP on 500 MNIST images, 40 epochs"),
    "overfit-wd": N_("The same, regularized: weight decay and dropout"),
}

# The seed tutorials' recipes. Their published figures are asserted in tests/test_presets_real.py.
PRESETS: dict[str, TrainConfig] = {
    # d2l 3.6 softmax from scratch: test acc ~0.83; d2l asserts train loss < 0.5, train/test acc > 0.7
    "d2l-softmax": TrainConfig(
        dataset="fashion-mnist", model="softmax", optimizer="sgd", lr=0.1, batch_size=256, epochs=10
    ),
    # the LeNet-like seed CNN with Adam: test acc ~0.86 after 2 epochs
    "seed-cnn": TrainConfig(dataset="fashion-mnist", model="cnn", optimizer="adam", lr=0.01, batch_size=100, epochs=2),
    # logistic regression on MNIST with a 20 % validation split: validation acc > 0.80
    "mnist-logreg": TrainConfig(
        dataset="mnist", model="softmax", optimizer="sgd", lr=0.001, batch_size=100, epochs=5, val_fraction=0.2
    ),
    # too little data for the model: it learns its 500 images by heart while validation accuracy stalls
    "overfit": TrainConfig(
        dataset="mnist", model="mlp", lr=0.1, batch_size=32, epochs=40, train_subset=500, val_fraction=0.2
    ),
    # the same run regularized: the gap between training and validation accuracy halves
    "overfit-wd": TrainConfig(
        dataset="mnist",
        model="mlp",
        lr=0.1,
        batch_size=32,
        epochs=40,
        train_subset=500,
        val_fraction=0.2,
        weight_decay=0.003,
        dropout=0.8,
    ),
}
