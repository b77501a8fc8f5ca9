"""Widget state that outlives a page: Streamlit forgets a widget's value when its page is not drawn, so the
Train page's settings are kept here and read back by Train, Race and Inside."""

from __future__ import annotations

import streamlit as st

from core.config import TrainConfig

# What the Train page starts from: the config's defaults, in slow motion so a class sees the first run learn
# (at full speed the default digits run is over before the first redraw).
UI_DEFAULTS = TrainConfig(pace="slow")

# The Train page's widget key for each TrainConfig field it sets.
FIELDS = {
    "dataset": "w_dataset",
    "model": "w_model",
    "optimizer": "w_optimizer",
    "lr": "w_lr",
    "batch_size": "w_batch",
    "epochs": "w_epochs",
    "val_fraction": "w_val",
    "train_subset": "w_subset",
    "seed": "w_seed",
    "pace": "w_pace",
    "weight_decay": "w_wd",
    "dropout": "w_dropout",
    "schedule": "w_schedule",
}


def keep(key: str, default) -> None:
    """Give a widget key its kept value (or `default`) before the widget is drawn."""
    store = st.session_state.setdefault("_kept", {})
    if key not in st.session_state:
        st.session_state[key] = store.get(key, default)


def kept(key: str, default=None):
    """A kept widget value, for a page run that does not draw that widget."""
    return st.session_state.get("_kept", {}).get(key, default)


def save_kept(*keys: str) -> None:
    """Remember these widgets' current values for the next page that draws them."""
    store = st.session_state.setdefault("_kept", {})
    for key in keys:
        store[key] = st.session_state[key]


def set_kept(key: str, value) -> None:
    """Set a widget's value from a callback (e.g. 'use digits instead'), kept across pages."""
    st.session_state[key] = value
    save_kept(key)


def kept_config() -> TrainConfig:
    """The TrainConfig the Train page is set to (its defaults for anything not set yet)."""
    kept = st.session_state.get("_kept", {})
    return UI_DEFAULTS.with_(**{f: kept[k] for f, k in FIELDS.items() if k in kept})


def config_from_widgets() -> TrainConfig:
    """The TrainConfig the Train page's widgets hold right now (in a callback: as the click sent them)."""
    return TrainConfig(**{field: st.session_state[key] for field, key in FIELDS.items()})


def settings_from_url() -> None:
    """On a session's first run, take the Train settings its URL carries (a reload, or a link a teacher shared:
    ?model=cnn&lr=0.01). A value that does not parse or is out of bounds is left out, not guessed."""
    if st.session_state.get("_url_read"):
        return
    st.session_state["_url_read"] = True
    from ui.services import current  # here: ui.services imports the jobs, which a test of this module may not need

    current().store()  # opened, so that a class's own dataset the URL names is found in it (core.class_images)
    store = st.session_state.setdefault("_kept", {})
    taken = {}  # what the URL set so far: dropout is checked against the URL's model, not the default one
    for field, key in FIELDS.items():
        raw = st.query_params.get(field)
        if raw is None:
            continue
        kind = type(getattr(UI_DEFAULTS, field))
        try:
            value = kind(float(raw)) if kind is int and float(raw).is_integer() else kind(raw)
        except ValueError:
            continue
        if not UI_DEFAULTS.with_(**taken, **{field: value}).errors():
            store[key] = taken[field] = value


def settings_to_url() -> None:
    """Keep the Train settings that differ from the defaults in the URL: a reload keeps them, a link shares them."""
    kept_values = st.session_state.get("_kept", {})
    for field, key in FIELDS.items():
        value = kept_values.get(key, getattr(UI_DEFAULTS, field))
        if value != getattr(UI_DEFAULTS, field):
            st.query_params[field] = f"{value:g}" if isinstance(value, float) else str(value)
        elif field in st.query_params:
            del st.query_params[field]
