"""The controls that set a TrainConfig field, shared by the Train page and the race: each choice list comes
from core (models, datasets, optimizers, learning rates, limits), each label is written once here."""

from __future__ import annotations

import streamlit as st

from core import data as D
from core import models as M
from core.config import LIMITS, LR_CHOICES, OPTIMIZERS, PACES, SCHEDULES, WEIGHT_DECAY_CHOICES
from core.i18n import DEFAULT, N_, language, tr
from core.store import db_errors
from ui.labels import md

LABELS = {
    "dataset": N_("Dataset"),
    "model": N_("Model"),
    "optimizer": N_("Optimizer"),
    "lr": N_("Learning rate (log scale)"),
    "batch_size": N_("Batch size"),
    "epochs": N_("Epochs"),
    "val_fraction": N_("Validation fraction"),
    "train_subset": N_("Training subset (0 = all images)"),
    "seed": N_("Seed"),
    "pace": N_("Pace"),
    "weight_decay": N_("Weight decay λ"),
    "dropout": N_("Dropout (MLP and CNN)"),
    "schedule": N_("Learning-rate schedule"),
}
HELP = {
    "val_fraction": N_("Share of the training images held out to check for overfitting."),
    "train_subset": N_("Train on fewer images for a quick look on a slow laptop."),
    "seed": N_("Same settings and seed give exactly the same curve."),
    "pace": N_(
        "Slow motion spaces the batches so each epoch takes about a second: the class can follow it. "
        "The maths is the same."
    ),
    "weight_decay": N_(
        "Adds λ·W to each weight gradient, so every step also pulls the weights towards zero: "
        "a cure for overfitting (see the 'Overfit on purpose' recipes)."
    ),
    "dropout": N_(
        "While training, zero this share of the hidden units at random in each step, so no unit can "
        "rely on another. Softmax regression has no hidden units."
    ),
    "schedule": N_("Step: the learning rate drops tenfold at 50 % and 75 % of the run. Cosine: it glides to zero."),
}


# field -> how to name each of its choices (the choices themselves: core's registries and lists), in the
# current language
CHOICES = {
    "dataset": lambda n: dataset_title(n),
    "model": lambda n: tr(M.REGISTRY[n].label),
    "optimizer": lambda n: tr(OPTIMIZERS[n]),
    "pace": lambda n: tr(PACES[n]),
    "schedule": lambda n: tr(SCHEDULES[n]),
}


def dataset_title(name: str, markdown: bool = False) -> str:
    """A dataset's title in the current language; a class's own as typed (a deleted one: its name), escaped
    for Markdown with `markdown` (a student's text)."""
    try:
        title = D.info(name).display_title
    except D.DatasetError:
        title = name.removeprefix("images:").split("@")[0]
    return md(title) if markdown and name not in D.REGISTRY else title


def setting_value(field: str, v):
    """A setting's value as tables, legends and captions show it: the config's own ('digits', 'sgd') in English,
    the choice's name in other languages (whose readers would not read the English ids as words)."""
    own = field == "dataset" and v not in D.REGISTRY  # a class's own: its name, not "images:shapes@1a2b..."
    if (language() == DEFAULT and not own) or field not in CHOICES:
        return v
    try:
        return CHOICES[field](v)
    except (KeyError, TypeError):
        return v


def help_for(field: str) -> str | None:
    """A field's help text in the current language, or None."""
    return tr(HELP[field]) if field in HELP else None


def options(field: str) -> list[str]:
    """A field's choices, read from core each time they are drawn (so a newly registered model appears)."""
    choices = {
        "dataset": D.REGISTRY,
        "model": M.REGISTRY,
        "optimizer": OPTIMIZERS,
        "pace": PACES,
        "schedule": SCHEDULES,
    }
    if field == "dataset":
        return [*D.REGISTRY, *own_datasets()]
    return list(choices[field])


def own_datasets() -> list[str]:
    """The class's own datasets in the run store ("images:<name>"), oldest first; none while it cannot be read."""
    from core.class_images import dataset_names
    from ui.services import current

    store = current().store()
    if store is None:
        return []
    try:
        return dataset_names(store)
    except db_errors():
        return []


def nearest_lr(lr: float) -> float:
    """The slider stop closest to a learning rate (a preset's or an old run's value)."""
    return min(LR_CHOICES, key=lambda v: abs(v - lr))


def setting(field: str, key: str, label: str | None = None, default=None, disabled: bool = False):
    """Draw the widget for one TrainConfig field under `key` and return its value.

    With `default`, the widget starts there; without, it reads the value already in st.session_state[key].
    `disabled`: shown but not changeable (a field the teacher's exercise locks).
    """
    label = label or tr(LABELS[field])
    start = {"disabled": disabled} if default is None else {"value": default, "disabled": disabled}
    if field in CHOICES:  # a fixed list of named choices: a selectbox, or radio buttons when there are few
        names = options(field)
        widget = st.radio if field in ("optimizer", "pace") else st.selectbox
        extra = {"horizontal": True} if widget is st.radio else {}
        return widget(
            label,
            names,
            key=key,
            format_func=CHOICES[field],
            help=help_for(field),
            disabled=disabled,
            **extra,
            **({} if default is None else {"index": names.index(default)}),
        )
    if field == "lr":
        if default is not None:
            start = {"value": nearest_lr(default), "disabled": disabled}
        elif st.session_state.get(key) not in LR_CHOICES:
            st.session_state[key] = nearest_lr(st.session_state.get(key, 0.1))
        return st.select_slider(label, LR_CHOICES, key=key, format_func=lambda v: f"{v:g}", **start)
    if field == "weight_decay":
        if default is None and st.session_state.get(key) not in WEIGHT_DECAY_CHOICES:  # a URL's value: snap it
            st.session_state[key] = min(WEIGHT_DECAY_CHOICES, key=lambda v: abs(v - st.session_state.get(key, 0)))
        return st.select_slider(
            label, WEIGHT_DECAY_CHOICES, key=key, format_func=lambda v: f"{v:g}", help=help_for(field), **start
        )
    if field == "dropout":
        return st.slider(label, *LIMITS[field], key=key, step=0.05, help=help_for(field), **start)
    if field == "val_fraction":
        return st.slider(label, *LIMITS[field], key=key, step=0.05, help=help_for(field), **start)
    if field in ("batch_size", "epochs", "train_subset", "seed"):
        step = 500 if field == "train_subset" else 1
        return st.number_input(label, *LIMITS[field], key=key, step=step, help=help_for(field), **start)
    raise ValueError(f"no control for {field!r}")
