"""Loading what a page shows: a dataset (or a message saying what to do), an uploaded checkpoint."""

from __future__ import annotations

import time

import streamlit as st

from core import data as D
from core.events import DONE
from core.jobs import Snapshot
from core.runs import Checkpoint, CheckpointError, evaluate_checkpoint, load_checkpoint
from ui.state import set_kept


def load_dataset(name: str, offer_digits: bool = True) -> D.Dataset | None:
    """The dataset, or an error box saying what to do, a button to switch to digits, and None."""
    try:
        with st.spinner(f"Loading {D.info(name).title}…"):
            return D.load(name)
    except D.DatasetError as e:
        st.error(str(e), icon="📂")
        if offer_digits:
            st.button(
                "Use the embedded digits dataset instead",
                type="primary",
                on_click=set_kept,
                args=("w_dataset", "digits"),
            )
        return None


def snapshot_from_checkpoint(ckpt: Checkpoint, ds: D.Dataset, name: str = "uploaded checkpoint") -> Snapshot:
    """A finished-job Snapshot for a loaded checkpoint, so Results and Inside show it like any run."""
    now = time.time()
    return Snapshot(
        id=f"checkpoint:{name}",
        config=ckpt.config,
        state=DONE,
        nickname=name,
        queue_position=None,
        message=None,
        started=None,
        last_batch=None,
        steps=(),
        losses=(),
        accuracies=(),
        epochs=(),
        done=evaluate_checkpoint(ckpt, ds),
        submitted_at=now,
        started_at=now,
        finished_at=now,
        threads=0,
    )


def checkpoint_ui(key: str) -> None:
    """Upload a checkpoint, evaluate it on its test set and make it what Results and Inside show."""
    up = st.file_uploader("Load a checkpoint (.pt) saved by this app", type=["pt"], key=key)
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
    with st.spinner("Evaluating the checkpoint on the test set…"):
        st.session_state["loaded_snapshot"] = snapshot_from_checkpoint(ckpt, ds, up.name)
    st.session_state[f"{key}_done"] = up.file_id
    acc = st.session_state["loaded_snapshot"].done.test_acc
    saved = f" (saved with {ckpt.test_acc:.2%})" if ckpt.test_acc is not None else ""
    st.success(f"Loaded {up.name}: test accuracy {acc:.2%}{saved}.", icon="✅")
