"""Results: sample predictions, the confusion matrix and per-class figures of the latest run."""

import numpy as np
import pandas as pd
import streamlit as st

from core import metrics, plots
from core.checkpoint import checkpoint_bytes
from core.events import ACTIVE
from core.i18n import N_, tr
from core.train import evaluate, restore
from ui.i18n import fragment
from ui.labels import md, model_label, state_name
from ui.live_view import chart
from ui.loading import checkpoint_ui, load_dataset
from ui.rewind import model_at, rewind_ui
from ui.session import current_view, linked_run_ui
from ui.tap import tap_selects_ui

# metrics.per_class's columns (its keys are data) -> the headings shown
COLUMNS = {
    "class": N_("class"),
    "precision": N_("precision"),
    "recall": N_("recall"),
    "f1": N_("f1"),
    "support": N_("support"),
}
SAMPLE = 500  # test images a first-epoch model is scored on while it trains (the whole set waits for the epoch)


def predictions(s, ds, rewound: dict | None, rewound_to: str | None, step: int):
    """(labels, probs, loss, title) at the point Inside shows too (ui.rewind.model_at): scores the run already
    made where it has them; a rewound point's scored once per session; inside the first epoch, the newest
    weights on the first SAMPLE test images. (None, None, None, None) while the run has no weights yet."""
    point = model_at(s, rewound)
    if point is None:
        return None, None, None, None
    if point.kind == "rewound":
        loss, probs = rewound_predictions(s, ds, step, rewound)
        return ds.test_y.numpy(), probs, loss, tr("rewound to {when}", when=rewound_to)
    if point.scores is not None:
        labels, probs, loss = point.scores
        labels = ds.test_y.numpy() if labels is None else labels
        when = (
            tr("final")
            if point.kind == "done"
            else tr("after epoch {epoch} of {epochs}", epoch=point.epoch, epochs=s.config.epochs)
        )
        return labels, probs, loss, when
    x, y = ds.test_x[:SAMPLE], ds.test_y[:SAMPLE]
    loss, _, probs = evaluate(restore(s.config.to_dict(), point.weights), x, y)
    when = tr("{share:.0%} into epoch 1, on the first {n} test images", share=point.fraction, n=len(y))
    return y.numpy(), probs.numpy(), loss, when


def rewound_predictions(s, ds, step: int, weights: dict) -> tuple[float, np.ndarray]:
    """(test loss, test probabilities) of the rewound model, scored once per point and session."""
    cache = st.session_state.setdefault("_rewound_scores", {})
    if (s.id, step) not in cache:
        loss, _, probs = evaluate(restore(s.config.to_dict(), weights), ds.test_x, ds.test_y)
        cache.clear()  # one point's scores at a time: a test set's probabilities are MBs
        cache[(s.id, step)] = (loss, probs.numpy())
    return cache[(s.id, step)]


def summary_ui(s, ds, labels, probs, loss, when) -> None:
    """What the model is, at which point, and its three figures; a finished run's weights to download."""
    cfg, preds = s.config, probs.argmax(axis=1)
    st.caption(
        tr(
            "{model} on {dataset}, lr {lr:g}, batch {batch} — {when} · run is {state}",
            model=model_label(cfg.model),
            dataset=ds.info.display_title,
            lr=cfg.lr,
            batch=cfg.batch_size,
            when=when,
            state=state_name(s.state).lower(),
        )
    )
    m1, m2, m3 = st.columns(3)
    m1.metric(tr("Test accuracy"), f"{metrics.accuracy(labels, preds):.1%}")
    m2.metric(tr("Test loss"), f"{loss:.3f}")
    m3.metric(
        tr("Wrong test images"), tr("{wrong:,} of {total:,}", wrong=int((preds != labels).sum()), total=len(labels))
    )
    if s.done is not None:
        done = s.done  # the bytes are built when the student clicks, not on every redraw of this page
        st.download_button(
            tr("⬇ Download the trained weights (.pt)"),
            key="res_download",
            data=lambda: checkpoint_bytes(cfg.to_dict(), done.weights, done.test_acc),
            file_name=f"{cfg.dataset}-{cfg.model}-{s.id.split(':')[0]}.pt",
            mime="application/octet-stream",
        )


def samples_ui(ds, labels, probs) -> None:
    """A sample of the test images with what the model said, filtered by true class or mistakes."""
    classes, names = ds.info.classes, ds.info.class_names  # the widgets' values (English), and what is shown
    shown, preds = dict(zip(classes, names)), probs.argmax(axis=1)
    st.header(tr("Sample predictions"))
    f1, f2, f3 = st.columns([1, 2, 1], vertical_alignment="bottom")
    wrong_only = f1.toggle(tr("Misclassified only"), key="res_wrong")
    chosen = f2.multiselect(
        tr("True class"), list(classes), format_func=shown.get, key="res_classes", placeholder=tr("all classes")
    )
    if f3.button(tr("🔀 New sample")):
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
            f"{names[preds[i]]} {probs[i, preds[i]]:.0%}"
            if preds[i] == labels[i]
            else tr(
                "{predicted} {share:.0%}<br>✗ is {true}",
                predicted=names[preds[i]],
                share=probs[i, preds[i]],
                true=names[labels[i]],
            )
            for i in pick
        ]
        chart(st, plots.image_grid(ds.test_x[pick].numpy(), titles, list(preds[pick] != labels[pick])), key="res_grid")
        st.caption(tr("Each caption: predicted class and its probability; red ✗ marks a mistake and the true class."))
    else:
        st.success(tr("No test image matches: nothing misclassified here."))


def confusion_ui(ds, labels, preds) -> None:
    """The confusion matrix; a click on a cell (or the two choices below it) shows the test images behind it."""
    classes, names = ds.info.classes, ds.info.class_names
    shown = dict(zip(classes, names))
    st.header(tr("Confusion matrix"))
    normalized = st.toggle(tr("Row-normalized (share of each true class)"), key="res_norm")
    tap_selects_ui()  # on a tablet, a tap on a cell opens it too
    cm = metrics.confusion(labels, preds, len(classes), normalize=normalized)
    event = chart(
        st, plots.confusion_heatmap(cm, names, normalized), key="res_cm", on_select="rerun", selection_mode="points"
    )
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    clicked = tuple(points[0]["customdata"]) if points and points[0].get("customdata") else None
    if clicked is not None and clicked != st.session_state.get("res_clicked"):  # a new click, not a rerun's echo
        st.session_state["res_clicked"] = clicked
        st.session_state["res_true"], st.session_state["res_pred"] = map(classes.__getitem__, clicked)
    for key, default in (("res_true", classes[0]), ("res_pred", classes[1])):
        if st.session_state.get(key) not in classes:  # first visit, or another dataset's class names
            st.session_state[key] = default
    st.caption(tr("Click a cell (or choose below) to see the test images behind it."))
    c1, c2 = st.columns(2)
    true_c = classes.index(c1.selectbox(tr("True class"), classes, format_func=shown.get, key="res_true"))
    pred_c = classes.index(c2.selectbox(tr("Predicted as"), classes, format_func=shown.get, key="res_pred"))
    cell = metrics.cell_indices(labels, preds, true_c, pred_c)
    st.markdown(
        tr(
            "**{n:,}** test images of **{true}** predicted as **{predicted}**",
            n=len(cell),
            true=md(names[true_c]),  # a class's own names are data: escaped
            predicted=md(names[pred_c]),
        )
    )
    if len(cell):
        some = cell[:16]
        chart(st, plots.image_grid(ds.test_x[some].numpy(), [f"#{i}" for i in some]), key="res_cell_grid")


def per_class_ui(labels, preds, names) -> None:
    st.header(tr("Per class"))
    headings = {column: tr(heading) for column, heading in COLUMNS.items()}
    st.dataframe(
        pd.DataFrame(metrics.per_class(labels, preds, names)).rename(columns=headings),
        hide_index=True,
        width="stretch",
        column_config={
            headings[k]: st.column_config.NumberColumn(format="%.3f") for k in ("precision", "recall", "f1")
        },
    )


def render() -> None:
    st.title(tr("What did it learn?"))
    with st.expander(tr("Load a saved checkpoint instead")):
        checkpoint_ui("res_ckpt")
    if not linked_run_ui():
        return
    first, job = current_view()
    if first is None:
        st.info(
            tr("No run yet: start one on the **Train** page (or load a checkpoint above), then come back."), icon="🏋️"
        )
        st.page_link("pages/train.py", label=tr("Go to Train"), icon="🏋️")
        return
    step, rewound, rewound_to = rewind_ui(first, "res_rewind")

    @fragment(run_every=1.0 if job is not None and job.state in ACTIVE else None)
    def results():
        s = job.snapshot() if job is not None else first
        ds = load_dataset(s.config.dataset, offer_digits=False)
        if ds is None:
            return
        labels, probs, loss, when = predictions(s, ds, rewound, rewound_to, step)
        if probs is None:
            no_model_ui(s, stored=job is None)
            return
        summary_ui(s, ds, labels, probs, loss, when)
        samples_ui(ds, labels, probs)
        confusion_ui(ds, labels, probs.argmax(axis=1))
        per_class_ui(labels, probs.argmax(axis=1), ds.info.class_names)

    results()


def no_model_ui(s, stored: bool) -> None:
    if stored:  # a stored run that kept no model (stopped, failed, interrupted)
        st.info(
            tr(
                "This run ended {state} and kept no model to show: its curves are on **Compare runs**.",
                state=state_name(s.state).lower(),
            ),
            icon="🗂️",
        )
    else:
        st.info(
            tr("Run is {state}: results appear with its first batches.", state=state_name(s.state).lower()), icon="⏳"
        )


render()
