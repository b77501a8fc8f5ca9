"""Loading what a page shows: a dataset (or a message saying what to do), an uploaded checkpoint."""

from __future__ import annotations

import time
from pathlib import Path

import streamlit as st

from core import data as D
from core.checkpoint import Checkpoint, CheckpointError, load_checkpoint
from core.config import TrainConfig
from core.events import ACTIVE, DONE, EpochEnd
from core.i18n import tr
from core.jobs import Snapshot
from core.store import EPOCH_FIELDS
from core.train import evaluate_checkpoint
from ui.labels import md
from ui.services import current
from ui.state import set_kept


def load_dataset(name: str, offer_digits: bool = True) -> D.Dataset | None:
    """The dataset, or an error box saying what to do, a button to switch to digits, and None."""
    try:
        with st.spinner(tr("Loading {dataset}…", dataset=D.info(name).display_title)):
            return D.load(name)
    except D.DatasetError as e:
        st.error(str(e), icon="📂")
        if offer_digits:
            st.button(
                tr("Use the embedded digits dataset instead"),
                type="primary",
                on_click=set_kept,
                args=("w_dataset", "digits"),
            )
        return None


def finished_snapshot(
    run_id: str,
    cfg,
    nickname: str,
    state: str = DONE,
    done=None,
    epochs=(),
    message=None,
    threads: int = 0,
    at: float | None = None,
) -> Snapshot:
    """A Snapshot of a run no job holds any more (a checkpoint, a stored run): Results and Inside show it alike."""
    at = time.time() if at is None else at
    return Snapshot(
        id=run_id,
        config=cfg,
        state=state,
        nickname=nickname,
        queue_position=None,
        message=message,
        started=None,
        last_batch=None,
        steps=(),
        losses=(),
        epochs=tuple(epochs),
        peek=None,
        done=done,
        submitted_at=at,
        started_at=at,
        finished_at=at,
        threads=threads,
    )


def snapshot_from_checkpoint(ckpt: Checkpoint, ds: D.Dataset, name: str = "uploaded checkpoint") -> Snapshot:
    """A finished-job Snapshot for a loaded checkpoint, so Results and Inside show it like any run."""
    return finished_snapshot(f"checkpoint:{name}", ckpt.config, name, done=evaluate_checkpoint(ckpt, ds))


def stored_snapshot(run_id: str) -> Snapshot | None:
    """A run from the store, with its model from its checkpoint when it has one; None if the store has no such
    run. Kept for the session: a link to a run opens it even after the server forgot the job."""
    cache = st.session_state.setdefault("_stored_runs", {})
    if run_id in cache:
        return cache[run_id]
    runs = current().store()
    run = runs.get(run_id) if runs is not None else None
    if run is None:
        return None
    cfg = TrainConfig.from_dict(run["config"])
    if run["state"] in ACTIVE:  # still training: not kept, so the next look finds it finished
        return finished_snapshot(run_id, cfg, run["nickname"], run["state"], at=run["started_at"])
    epochs = [
        EpochEnd(epochs=cfg.epochs, eta_s=0.0, **{k: e[k] for k in ("epoch", *EPOCH_FIELDS)})
        for e in runs.epochs(run_id)
    ]
    done, path = None, Path(run["checkpoint"]) if run["checkpoint"] else None
    if path is not None and path.is_file():
        try:
            done = evaluate_checkpoint(load_checkpoint(path.read_bytes()), D.load(cfg.dataset))
        except (CheckpointError, D.DatasetError):
            done = None  # Results and Inside then say the run kept no model
    cache[run_id] = finished_snapshot(
        run_id, cfg, run["nickname"], run["state"], done, epochs, run["message"], run["threads"] or 0, run["started_at"]
    )
    return cache[run_id]


def checkpoint_ui(key: str) -> None:
    """Upload a checkpoint, evaluate it on its test set and make it what Results and Inside show."""
    up = st.file_uploader(tr("Load a checkpoint (.pt) saved by this app"), type=["pt"], key=key)
    if up is None or st.session_state.get(f"{key}_done") == up.file_id:
        return
    try:
        ckpt = load_checkpoint(up.getvalue())
    except CheckpointError as e:
        st.error(str(e), icon="🛡️")
        return
    ds = load_dataset(ckpt.config.dataset, offer_digits=False)
    if ds is None:
        return
    with st.spinner(tr("Evaluating the checkpoint on the test set…")):
        st.session_state["loaded_snapshot"] = snapshot_from_checkpoint(ckpt, ds, up.name)
    st.session_state[f"{key}_done"] = up.file_id
    acc = st.session_state["loaded_snapshot"].done.test_acc
    if ckpt.test_acc is not None:
        text = tr(
            "Loaded {name}: test accuracy {acc:.2%} (saved with {saved:.2%}).",
            name=md(up.name),
            acc=acc,
            saved=ckpt.test_acc,
        )
    else:
        text = tr("Loaded {name}: test accuracy {acc:.2%}.", name=md(up.name), acc=acc)
    st.success(text, icon="✅")
