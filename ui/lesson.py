"""The lesson as a student's page sees it: the exercise the teacher sent (kept in the run store, so every replica
reads the same one), the value of the class experiment this student was handed, and the fields it locks.
The teacher's side is pages/teacher.py; the pure logic core/classroom.py."""

from __future__ import annotations

import threading
import time

import streamlit as st

from core.classroom import Exercise
from core.i18n import tr
from ui.controls import LABELS, setting_value
from ui.i18n import fragment
from ui.labels import md
from ui.state import FIELDS, kept, set_kept

KEY = "exercise"  # the exercise on now, its key in the store's class_state
EXPERIMENT = "experiment"  # the last exercise that was an experiment: its plot stays after the exercise ends
LOOK_S = 2.0  # a process reads the exercise from the store at most this often, whatever its number of tabs
WATCH_S = 15.0  # how often an idle Train page looks for a new exercise (each look is a rerun: rare on purpose)

_cache_lock = threading.Lock()
_cache: dict = {}  # (store id, key) -> (when read, the exercise or None)


def exercise(services, key: str = KEY) -> Exercise | None:
    """The exercise the class is on (or, with EXPERIMENT, the last experiment), or None: read from the store at
    most every LOOK_S per process."""
    store = services.store()
    if store is None:
        return None
    with _cache_lock:
        when, found = _cache.get((id(store), key), (0.0, None))
        if time.monotonic() - when < LOOK_S:
            return found
    raw = services.read(store.class_value, key)
    found = Exercise.from_dict(raw) if raw else None
    with _cache_lock:
        _cache[(id(store), key)] = (time.monotonic(), found)
    return found


def send(services, sent: Exercise | None) -> None:
    """Put an exercise on every student's page (None: end it; the last experiment stays to be looked at). This
    process sees it at once, the others within LOOK_S."""
    store = services.store()
    if store is None:
        return
    store.set_class_value(KEY, None if sent is None else sent.to_dict())
    changed = {KEY: sent}
    if sent is not None and sent.sweep:
        store.set_class_value(EXPERIMENT, sent.to_dict())
        changed[EXPERIMENT] = sent
    with _cache_lock:
        for key, value in changed.items():
            _cache[(id(store), key)] = (time.monotonic(), value)


def student() -> str:
    """Who this student is to the experiment: their nickname, the same on a reload and kept by their device
    (ui/device.py), or '' before they type one."""
    return str(st.session_state.get("w_nick", kept("w_nick", "")) or "").strip().lower()


def my_value(services, sent: Exercise) -> int | None:
    """The index of the experiment value this student was handed (handed out once, by the store), or None: no
    experiment, or no nickname yet (a value handed to a nameless tab would be lost to the class when they type one)."""
    store = services.store()
    if not sent.sweep or store is None or not student():
        return None
    key = ("_handed", sent.id, student())
    if key not in st.session_state:
        index = services.read(store.hand_out, sent.id, key[2], len(sent.values))
        if index is None:
            return None
        st.session_state[key] = index
    return st.session_state[key]


def value_text(field: str, value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(setting_value(field, value))


def summary(cfg, fields: tuple[str, ...] = ("dataset", "model", "optimizer", "lr", "batch_size", "epochs")) -> str:
    """The settings a student reads first, as one line."""
    return " · ".join(f"{tr(LABELS[f]).split(' (')[0]} {value_text(f, getattr(cfg, f))}" for f in fields)


def load(cfg) -> None:
    """Put the exercise's settings into the Train page's widgets (kept across pages)."""
    for field, key in FIELDS.items():
        set_kept(key, getattr(cfg, field))


def lesson_ui(services, watching: bool = True) -> tuple[frozenset[str], str]:
    """On the Train page, before its settings are drawn: the teacher's exercise, with one click to load it, the
    student's value in the class experiment, and the locked fields held at the exercise's values. Returns the
    fields the student cannot change and the tag a run started now carries (its experiment's, or '').
    `watching`: look for a new exercise every WATCH_S (a rerun each time): not while the student's run trains,
    whose live view follows the live feed with no rerun at all, and redraws the page when the run ends."""
    sent = exercise(services)
    if watching:
        watch(services, sent.id if sent else None)
    if sent is None:
        return frozenset(), ""
    index = my_value(services, sent)
    cfg = sent.config_for(index)
    for field in sent.frozen:  # held each run: a recipe, a link or an old value cannot move them
        set_kept(FIELDS[field], getattr(cfg, field))
    with st.container(border=True, key="exercise"):
        text, button = st.columns([4, 1], vertical_alignment="center")
        text.markdown(tr("📣 **Your teacher's exercise: {title}**", title=md(sent.title)))
        text.caption(summary(cfg))
        if sent.sweep and index is not None:
            text.markdown(
                tr(
                    "🧪 Class experiment on **{setting}**: your value is **{value}** ({n} values across the class). "
                    "Train with it: the class plot on the board shows everyone's answer.",
                    setting=tr(LABELS[sent.sweep]).split(" (")[0].lower(),
                    value=value_text(sent.sweep, sent.values[index]),
                    n=len(sent.values),
                )
            )
        elif sent.sweep:
            text.markdown(
                tr(
                    "🧪 Class experiment on **{setting}**: type your nickname in the sidebar to be handed your value.",
                    setting=tr(LABELS[sent.sweep]).split(" (")[0].lower(),
                )
            )
        if sent.frozen:
            text.caption(
                tr(
                    "🔒 Locked by your teacher: {fields}",
                    fields=", ".join(tr(LABELS[f]).split(" (")[0] for f in sent.frozen),
                )
            )
        button.button(tr("Load it"), key="load_exercise", on_click=load, args=(cfg,), type="primary")
    return frozenset(sent.frozen), sent.tag if index is not None else ""


def watch(services, shown_id: str | None) -> None:
    """A small fragment that looks for a new (or ended) exercise every WATCH_S and redraws the page when it
    changes: a student's open page follows the teacher without a reload."""

    @fragment(run_every=WATCH_S)
    def look():
        now = exercise(services)
        if (now.id if now else None) != shown_id:
            st.rerun(scope="app")

    look()
