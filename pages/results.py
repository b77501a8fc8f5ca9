"""Results: sample predictions, the confusion matrix and per-class figures of the latest run."""

import numpy as np
import pandas as pd
import streamlit as st

from core import metrics, plots
from core.events import ACTIVE
from core.runs import checkpoint_bytes
from core.train import evaluate, restore
from ui.labels import model_label
from ui.live_view import chart
from ui.loading import checkpoint_ui, load_dataset
from ui.session import current_view

st.title("What did it learn?")
with st.expander("Load a saved checkpoint instead"):
    checkpoint_ui("res_ckpt")
first, job = current_view()
if first is None:
    st.info("No run yet: start one on the **Train** page (or load a checkpoint above), then come back.", icon="🏋️")
    st.page_link("pages/train.py", label="Go to Train", icon="🏋️")
    st.stop()


SAMPLE = 500  # test images a first-epoch model is scored on while it trains (the whole set waits for the epoch)


def latest_predictions(s, ds):
    """(labels, probs, loss, title) from the finished run, the newest epoch of a running one, or, inside the
    first epoch, its newest weights on the first SAMPLE test images."""
    if s.done is not None:
        return s.done.labels.numpy(), s.done.probs.numpy(), s.done.test_loss, "final"
    e = s.latest_epoch
    if e is not None and e.test_probs is not None:
        return ds.test_y.numpy(), e.test_probs.numpy(), e.test_loss, f"after epoch {e.epoch} of {s.config.epochs}"
    if s.peek is not None:
        x, y = ds.test_x[:SAMPLE], ds.test_y[:SAMPLE]
        loss, _, probs = evaluate(restore(s.config.to_dict(), s.peek.weights), x, y)
        when = f"{s.peek.fraction:.0%} into epoch 1, on the first {len(y)} test images"
        return y.numpy(), probs.numpy(), loss, when
    return None, None, None, None


@st.fragment(run_every=1.0 if job is not None and job.state in ACTIVE else None)
def results():
    s = job.snapshot() if job is not None else first
    cfg = s.config
    ds = load_dataset(cfg.dataset, offer_digits=False)
    if ds is None:
        return
    labels, probs, loss, when = latest_predictions(s, ds)
    if probs is None and job is None:  # a stored run that kept no model (stopped, failed, interrupted)
        st.info(f"This run ended {s.state} and kept no model to show: its curves are on **Compare runs**.", icon="🗂️")
        return
    if probs is None:
        st.info(f"Run is {s.state}: results appear with its first batches.", icon="⏳")
        return
    classes = ds.info.classes
    preds = probs.argmax(axis=1)
    st.caption(
        f"{model_label(cfg.model)} on {ds.info.title}, lr {cfg.lr:g}, batch {cfg.batch_size} — "
        f"{when} · run is {s.state}"
    )
    m1, m2, m3 = st.columns(3)
    m1.metric("Test accuracy", f"{metrics.accuracy(labels, preds):.1%}")
    m2.metric("Test loss", f"{loss:.3f}")
    m3.metric("Wrong test images", f"{int((preds != labels).sum()):,} of {len(labels):,}")

    if s.done is not None:
        done = s.done  # the bytes are built when the student clicks, not on every redraw of this page
        st.download_button(
            "⬇ Download the trained weights (.pt)",
            key="res_download",
            data=lambda: checkpoint_bytes(cfg.to_dict(), done.weights, done.test_acc),
            file_name=f"{cfg.dataset}-{cfg.model}-{s.id.split(':')[0]}.pt",
            mime="application/octet-stream",
        )

    st.header("Sample predictions")
    f1, f2, f3 = st.columns([1, 2, 1], vertical_alignment="bottom")
    wrong_only = f1.toggle("Misclassified only", key="res_wrong")
    chosen = f2.multiselect("True class", list(classes), key="res_classes", placeholder="all classes")
    if f3.button("🔀 New sample"):
        st.session_state["res_seed"] = st.session_state.get("res_seed", 0) + 1
    mask = np.ones(len(labels), bool)
    if wrong_only:
        mask &= preds != labels
    if chosen:
        mask &= np.isin(labels, [classes.index(c) for c in chosen])
    pool = np.flatnonzero(mask)
    rng = np.random.default_rng(st.session_state.get("res_seed", 0))
    pick = rng.choice(pool, size=min(24, len(pool)), replace=False) if len(pool) else pool
    if len(pick):
        titles = [
            f"{classes[preds[i]]} {probs[i, preds[i]]:.0%}"
            + ("" if preds[i] == labels[i] else f"<br>✗ is {classes[labels[i]]}")
            for i in pick
        ]
        chart(st, plots.image_grid(ds.test_x[pick].numpy(), titles, list(preds[pick] != labels[pick])), key="res_grid")
        st.caption("Each caption: predicted class and its probability; red ✗ marks a mistake and the true class.")
    else:
        st.success("No test image matches: nothing misclassified here.")

    st.header("Confusion matrix")
    normalized = st.toggle("Row-normalized (share of each true class)", key="res_norm")
    cm = metrics.confusion(labels, preds, len(classes), normalize=normalized)
    event = chart(
        st, plots.confusion_heatmap(cm, classes, normalized), key="res_cm", on_select="rerun", selection_mode="points"
    )
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    clicked = tuple(points[0]["customdata"]) if points and points[0].get("customdata") else None
    if clicked is not None and clicked != st.session_state.get("res_clicked"):  # a new click, not a rerun's echo
        st.session_state["res_clicked"] = clicked
        st.session_state["res_true"], st.session_state["res_pred"] = map(classes.__getitem__, clicked)
    for key, default in (("res_true", classes[0]), ("res_pred", classes[1])):
        if st.session_state.get(key) not in classes:  # first visit, or another dataset's class names
            st.session_state[key] = default
    st.caption("Click a cell (or choose below) to see the test images behind it.")
    c1, c2 = st.columns(2)
    true_c = c1.selectbox("True class", classes, key="res_true")
    pred_c = c2.selectbox("Predicted as", classes, key="res_pred")
    cell = metrics.cell_indices(labels, preds, classes.index(true_c), classes.index(pred_c))
    st.markdown(f"**{len(cell):,}** test images of **{true_c}** predicted as **{pred_c}**")
    if len(cell):
        shown = cell[:16]
        chart(st, plots.image_grid(ds.test_x[shown].numpy(), [f"#{i}" for i in shown]), key="res_cell_grid")

    st.header("Per class")
    st.dataframe(
        pd.DataFrame(metrics.per_class(labels, preds, classes)),
        hide_index=True,
        width="stretch",
        column_config={k: st.column_config.NumberColumn(format="%.3f") for k in ("precision", "recall", "f1")},
    )


results()
