"""Rewind: the model a run had at an earlier point (each epoch's end, and a few points into the first epoch, where
most of the change happens), as its run store keeps them (core.store: rewind_points). Inside and Results share one
choice, kept across the two pages; "now" follows the run as it trains."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from core.checkpoint import load_weights
from core.i18n import tr
from ui.services import current
from ui.state import kept

KEY = "rewind"  # the choice Inside and Results share; each page's slider has its own widget key (below)
NOW = -1  # the run as it is now (live while it trains)
_CACHE = "_rewound"  # session_state: (run id, step) -> weights, the few last read


def points(snap) -> list[dict]:
    """The points this run can be rewound to (step, epoch, fraction), oldest first; none for a checkpoint."""
    services = current()
    opened = services.store() if snap is not None and not snap.id.startswith("checkpoint:") else None
    return (services.read(opened.rewind_points, snap.id) or []) if opened is not None else []


def label(point: dict | None) -> str:
    if point is None:
        return tr("now")
    if point["fraction"] < 1:
        return tr("{share:.0%} of epoch 1", share=point["fraction"])
    return tr("epoch {epoch}", epoch=point["epoch"])


def weights(snap, step: int) -> dict | None:
    """The run's weights after `step` minibatches, read once per session (Results and Inside ask again)."""
    cache = st.session_state.setdefault(_CACHE, {})
    if (snap.id, step) not in cache:
        services = current()
        opened = services.store()
        data = services.read(opened.rewind_weights, snap.id, step) if opened is not None else None
        cache[(snap.id, step)] = load_weights(data) if data is not None else None
        while len(cache) > 8:  # a handful of models: a few MB at most
            cache.pop(next(iter(cache)))
    return cache[(snap.id, step)]


def _share(key: str) -> None:
    st.session_state.setdefault("_kept", {})[KEY] = st.session_state[key]


def rewind_ui(snap, key: str) -> tuple[int, dict | None, str | None]:
    """An epoch slider for this run: (step, weights, caption) at the chosen point, or (NOW, None, None) for the
    run as it is now. Nothing is drawn for a run with no earlier point kept. `key`: this page's widget key (one
    key on two pages would be one widget to Streamlit, which drops its value when the page changes)."""
    saved = points(snap)
    if len(saved) < 2:
        return NOW, None, None
    by_step = {p["step"]: p for p in saved}
    if key not in st.session_state:
        st.session_state[key] = kept(KEY, NOW)
    if st.session_state[key] not in by_step and st.session_state[key] != NOW:  # another run's point
        st.session_state[key] = NOW
    st.select_slider(
        tr("Rewind: the model at"),
        options=[*by_step, NOW],
        format_func=lambda step: label(by_step.get(step)),
        key=key,
        on_change=_share,
        args=(key,),
        help=tr(
            "The run keeps its weights at the end of each epoch, and a few times in the first epoch, where most "
            "of the change happens. Slide back to see what the model was then; 'now' is the run as it is."
        ),
    )
    step = st.session_state[key]
    if step == NOW:
        return NOW, None, None
    return step, weights(snap, step), label(by_step[step])


def frames(snap) -> list[tuple[str, dict]]:
    """Every kept point's (label, weights), oldest first: what the templates' Play animates."""
    return [(label(p), w) for p in points(snap) if (w := weights(snap, p["step"])) is not None]


@dataclass(frozen=True)
class Point:
    """The model a page shows for a run: the point the slider chose, else the run's newest weights."""

    kind: str  # "rewound", "done", "epoch" (the newest epoch of a running run) or "peek" (inside its first epoch)
    weights: dict | None  # the model's state at that point, for core.train.restore (None: only its scores kept)
    epoch: int = 0
    fraction: float = 1.0  # of epoch 1, for a peek
    # (labels, probabilities, loss) the run already scored on the whole test set at that point, or None
    scores: tuple | None = None


def model_at(snap, rewound: dict | None) -> Point | None:
    """The one rule Results and Inside follow: the rewound point, else the finished model, else the newest
    epoch's, else the newest weights of the first epoch; None while a run has no weights yet."""
    if snap is None:
        return None
    if rewound is not None:
        return Point("rewound", rewound)
    if snap.done is not None:
        d = snap.done
        return Point("done", d.weights, d.epochs, scores=(d.labels.numpy(), d.probs.numpy(), d.test_loss))
    e = snap.latest_epoch
    if e is not None and (e.weights is not None or e.test_probs is not None):
        scores = (None, e.test_probs.numpy(), e.test_loss) if e.test_probs is not None else None
        return Point("epoch", e.weights, e.epoch, scores=scores)
    if snap.peek is not None:
        return Point("peek", snap.peek.weights, 1, snap.peek.fraction)
    return None
