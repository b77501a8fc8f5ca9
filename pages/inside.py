"""Inside the model: weights, filters, feature maps, shapes, and the exact code and maths that run."""

import base64
import html
import inspect
import io

import numpy as np
import pandas as pd
import streamlit as st
import torch
from PIL import Image

from core import data as D
from core import explain as E
from core import models as M
from core import plots
from core.events import ACTIVE
from core.i18n import N_, tr
from core.optim import Piece
from core.preprocess import ImageError, prepare, prepare_drawing
from core.train import restore, training_code, update_rule
from ui.draw import SIDE, drawing_ui
from ui.i18n import fragment
from ui.labels import md
from ui.live_view import chart
from ui.loading import load_dataset
from ui.rewind import NOW, frames, model_at, rewind_ui
from ui.session import current_view, linked_run_ui
from ui.state import kept_config


def model_from(s, rewound: dict | None, rewound_to: str | None):
    """(model, caption) at the point Results shows too (ui.rewind.model_at), or (None, None) with no weights yet."""
    point = model_at(s, rewound)
    if point is None or point.weights is None:
        return None, None
    model = restore(s.config.to_dict(), point.weights)
    if point.kind == "rewound":
        return model, tr("{when} (rewound)", when=rewound_to)
    if point.kind == "done":
        return model, tr("the finished run")
    if point.kind == "epoch":
        return model, tr("epoch {epoch} of {epochs} (updates live)", epoch=point.epoch, epochs=s.config.epochs)
    return model, tr("{share:.0%} of epoch 1 (updates live)", share=point.fraction)


def no_model_ui():
    st.info(
        tr(
            "Train a model first (or wait for its first epoch): the weights appear here, and update each "
            "epoch while it trains."
        ),
        icon="🏋️",
    )
    st.page_link("pages/train.py", label=tr("Go to Train"), icon="🏋️")


def no_model_predict_ui():
    st.info(
        tr(
            "Train a model first, or load a checkpoint on **Results**: then draw a digit here (mouse, finger or pen) "
            "and watch the model classify it after each stroke (or pick a test image, or upload a picture)."
        ),
        icon="✏️",
    )
    train, results = st.columns(2)
    train.page_link("pages/train.py", label=tr("Go to Train"), icon="🏋️")
    results.page_link("pages/results.py", label=tr("Load a checkpoint on Results"), icon="🎯")


def weight_view_ui(view: M.WeightView, model, info, snap, playable: bool) -> None:
    """One of the spec's pictures of the weights, and its Play over the run's kept points once the run ended
    (while it trains this fragment redraws every second: an animation would be rebuilt each time)."""
    if view.title:
        st.header(tr(view.title))
    if view.text:
        st.markdown(tr(view.text))
    for key, fig in zip(view.keys, view.figures(model, info.size, info.class_names)):
        chart(st, fig, key=key, width=view.width)
    kept = frames(snap) if view.animate is not None and playable else []
    if len(kept) >= 2:
        with st.expander(tr(view.animate_title), expanded=False):
            st.caption(tr("Press ▶ Play under the pictures. Each frame has its own colour scale: the first are faint."))
            chart(st, view.animate(kept, info.size, info.class_names), key=f"{view.keys[0]}_play")


def weights_ui(model, caption: str, spec: M.ModelSpec, info, snap, playable: bool) -> None:
    st.caption(
        tr(
            "{model} on {dataset}: weights after {when}.",
            model=spec.display_label,
            dataset=info.display_title,
            when=caption,
        )
    )
    for view in spec.weight_views:
        weight_view_ui(view, model, info, snap, playable)
    if not spec.weight_views:
        st.info(tr("This model has no picture of its weights yet: see its layers under **Shapes**."), icon="🔬")


SOURCES = [N_("A test image"), N_("Draw"), N_("Upload your own")]  # the radio's values; shown through tr()


def crisp(img: np.ndarray, px: int) -> np.ndarray:
    """A small image enlarged by whole pixels to about px wide, so an 8x8 or 20x20 image stays sharp."""
    k = max(1, px // max(img.shape))
    return np.kron(img, np.ones((k, k), img.dtype))


def square(img: np.ndarray) -> np.ndarray:
    """The image centred on a black square: a tall crop shows as tall as a wide one is wide."""
    h, w = img.shape
    out = np.zeros((max(h, w), max(h, w)), img.dtype)
    top, left = (len(out) - h) // 2, (len(out) - w) // 2
    out[top : top + h, left : left + w] = img
    return out


def pictures_ui(where, images: list[np.ndarray], captions: list[str], px: int) -> None:
    """Grey pictures (uint8, or floats in 0..1) in one row that wraps, each px wide with its caption, which is also
    its text alternative (st.image gives its pictures none: axe-core's image-alt)."""
    figures = []
    for img, caption in zip(images, captions):
        if img.dtype != np.uint8:
            img = (np.clip(img, 0, 1) * 255).round().astype(np.uint8)
        png = io.BytesIO()
        Image.fromarray(img).save(png, format="PNG")
        src, text = base64.b64encode(png.getvalue()).decode(), html.escape(caption)
        figures.append(
            f'<figure><img src="data:image/png;base64,{src}" alt="{text}" width="{px}" height="{px}">'
            f"<figcaption>{text}</figcaption></figure>"
        )
    where.markdown(f'<div class="pictures">{"".join(figures)}</div>', unsafe_allow_html=True)


def steps_ui(where, steps, px: int = 120):
    """The preparation's pictures in one row that wraps, each px wide: on a phone they stay small, side by side."""
    pictures_ui(where, [crisp(square(img), px) for _, img in steps], [name for name, _ in steps], px)


def predict_ui(model, ds, spec: M.ModelSpec) -> None:
    info, names = ds.info, ds.info.class_names
    pick, which = st.columns([1, 1], vertical_alignment="bottom")
    source = pick.radio(tr("Image"), SOURCES, format_func=tr, horizontal=True, key="in_source")
    true = None
    if source == "A test image":
        idx = which.number_input(tr("Test image #"), 0, len(ds.test_y) - 1, 0, step=1, key="in_idx")
        x, true = D.to_float(ds.test_x[idx : idx + 1]), int(ds.test_y[idx])
        caption = tr("Test image #{idx} ({name}), as the model sees it", idx=idx, name=names[true])
        image = ds.test_x[idx].numpy()
    elif source == "Draw":
        x, bars = draw_ui(info)
        if x is None:
            return
    else:
        up = st.file_uploader(
            tr("A PNG or JPEG of one digit or garment"), type=["png", "jpg", "jpeg", "bmp", "gif"], key="in_upload"
        )
        if up is None:
            return
        try:
            prep = prepare(up.getvalue(), info.size)
        except ImageError as e:
            st.error(str(e), icon="🖼️")
            return
        steps_ui(st, prep.steps)
        x = prep.tensor()
        image, caption = (prep.array * 255).round().astype(np.uint8), tr("Your image, as the model sees it")
    if source != "Draw":
        picture, bars = st.columns([1, 3], vertical_alignment="center")
        pictures_ui(picture, [crisp(image, 224)], [caption], 224)
    with torch.no_grad():
        trace = M.stages(model, x)
    probs = trace[-1][1][0].numpy()
    best = int(np.argmax(probs))
    bars.markdown(tr("#### The model says: **{name}** ({sure:.0%} sure)", name=md(names[best]), sure=probs[best]))
    chart(bars, plots.probability_bars(probs, names, true, height=270), key="in_probs")
    st.header(tr("Why this prediction"))
    WHY[spec.explain.name](model, x, probs, info)
    feature_maps_ui(M.feature_maps(spec, trace))


def feature_maps_ui(maps: list) -> None:
    """Each image-shaped stage the spec names, its channels side by side (a convolution's signed, in colour)."""
    if maps:
        st.header(tr("Feature maps after each stage"))
    for name, out in maps:
        fig = plots.tile_grid(
            out.numpy(), 6, diverging=name.startswith("conv"), title=f"{name}: {[1, *out.shape]}", tile_px=110
        )
        chart(st, fig, key=f"in_fm_{name}", width="content")


def draw_ui(info):
    """The canvas, MNIST's preprocessing of the drawing step by step; (the model's input or None, the column
    for the prediction)."""
    # the canvas at its full size, the prediction beside it (below it on a phone), then how the drawing was prepared
    top = st.container(horizontal=True, gap="medium")
    with top.container(width=SIDE + 8):
        rgba = drawing_ui("in_canvas")
    bars = top.container(width="stretch")
    middle = st.container()
    if rgba is None:
        bars.info(
            tr("Draw a digit (mouse, finger or pen): the model predicts it after each stroke.")
            if info.classes == D.DIGIT_CLASSES
            else tr("Draw a garment (mouse, finger or pen): the model predicts it after each stroke."),
            icon="✏️",
        )
        return None, bars
    try:
        prep = prepare_drawing(rgba, info.size)
    except ImageError as e:  # ink too faint to crop to
        bars.info(str(e), icon="✏️")
        return None, bars
    with middle:
        st.markdown(
            tr("**What the model sees:** the drawing cropped, scaled and centred, as MNIST's digits were")
            if info.size == 28
            else tr(
                "**What the model sees:** the drawing cropped, scaled and centred, to fill the frame, "
                "as the 8×8 digits do"
            )
        )
        steps_ui(st, prep.steps[1:-1], px=100)
    return prep.tensor(), bars


def evidence_ui(model, x, probs, info) -> None:
    names = info.class_names
    maps, b = E.evidence(model, x)
    sums = maps.sum(dim=(1, 2))
    st.markdown(
        tr(
            "Each map is the image times the class's template, **x ⊙ W**: **blue** pixels vote for the class, "
            "**red** ones against. A class's score is the sum of its map plus its bias; the highest score wins."
        )
    )
    chart(st, plots.tile_grid(maps.numpy(), 10, list(names), tile_px=88), key="in_evidence", width="content")
    table = pd.DataFrame([sums.numpy(), b.numpy(), (sums + b).numpy()], columns=list(names))
    table.insert(0, "", [tr("sum of the map"), tr("+ bias"), tr("= score")])
    fmt = {c: st.column_config.NumberColumn(format="%.2f") for c in names}
    st.dataframe(table, hide_index=True, column_config=fmt, key="in_scores")


def saliency_ui(model, x, probs, info) -> None:
    names = info.class_names
    order = np.argsort(probs)[::-1]
    best = int(order[0])
    if st.session_state.get("in_why_class") not in info.classes:  # at first, or after a switch of dataset
        st.session_state["in_why_class"] = info.classes[int(order[1])]  # the runner-up
    text, maps = st.columns([1, 2], vertical_alignment="center")
    shown = dict(zip(info.classes, names))  # the options stay the English classes (a language switch keeps them)
    picked = info.classes.index(
        text.selectbox(tr("Compare with class"), info.classes, format_func=shown.get, key="in_why_class")
    )
    text.markdown(
        tr(
            "A **saliency map**: the gradient of the class's score with respect to each pixel. **Blue** pixels "
            "would raise the score if they were brighter, **red** ones lower it. The code is under **Code and maths**."
        )
    )
    sal = torch.stack([E.saliency(model, x, best), E.saliency(model, x, picked)]).numpy()
    labels = [tr("{name} (predicted)", name=names[best]), tr("{name} (picked)", name=names[picked])]
    chart(maps, plots.tile_grid(sal, 2, labels, tile_px=180), key="in_saliency", width="content")


WHY = {"evidence": evidence_ui, "saliency": saliency_ui}  # core.explain's explanations, each drawn its way


# M.layer_table's columns (its keys are data) -> the headings shown
COLUMNS = {
    "layer": N_("layer"),
    "kind": N_("kind"),
    "output shape": N_("output shape"),
    "parameters": N_("parameters"),
    "formula": N_("formula"),
}


def shapes_ui(cfg, spec: M.ModelSpec, info) -> None:
    model = M.build(cfg.model, info.size, len(info.classes), cfg.hidden)
    st.header(tr("{model} on {size}×{size} images", model=spec.display_label, size=info.size))
    rows = M.layer_table(model, info.size)
    table = pd.DataFrame(rows).rename(columns={column: tr(heading) for column, heading in COLUMNS.items()})
    st.dataframe(table, hide_index=True, width="stretch")
    st.metric(tr("Parameters"), f"{M.count_params(model):,}")
    if any(r["kind"] in ("Conv2d", "MaxPool2d") for r in rows):
        st.markdown(tr("Each conv or pool output side follows"))
        st.latex(r"O = \frac{n - f + 2p}{s} + 1")
        st.markdown(tr("with input side *n*, filter *f*, padding *p*, stride *s*: the **formula** column works it."))
    st.markdown(
        tr(
            "A linear layer's **formula** counts its parameters: inputs × outputs weights, plus one bias per "
            "output; a flatten's multiplies out the shape it flattens."
        )
    )


def piece_ui(piece: Piece) -> None:
    for equation in piece.equations:  # above the code, full width: long formulas are not cut off
        st.latex(equation)
    if piece.note:
        st.caption(tr(piece.note))
    if piece.code is not None:
        st.code(inspect.getsource(piece.code), language="python", wrap_lines=True)


def code_ui(cfg, spec: M.ModelSpec, info) -> None:
    st.markdown(
        tr(
            "How **{model}** learns with **{optimizer}** (learning rate η = {lr:g}). "
            "The code below is read from the functions that train it, not copied.",
            model=spec.display_label,
            optimizer=tr(update_rule(cfg).label),
            lr=cfg.lr,
        )
    )
    st.caption(
        tr(
            "On this run: B images a batch ({batch}), each h × w = {size} × {size}, so d = {d} inputs; "
            "q = {classes} classes.",
            batch=cfg.batch_size,
            size=info.size,
            d=info.size * info.size,
            classes=len(info.classes),
        )
    )
    for piece in training_code(cfg):
        piece_ui(piece)
    st.header(tr("Why this prediction: the code"))
    st.markdown(tr(spec.explain.text))
    piece_ui(spec.explain.piece)


def render() -> None:
    st.title(tr("Inside the model"))
    if not linked_run_ui():
        return
    snap, job = current_view()
    cfg = snap.config if snap is not None else kept_config()  # no run yet: what the Train page is set to
    info, spec = D.info(cfg.dataset), M.spec(cfg.model)
    step, rewound, rewound_to = rewind_ui(snap, "in_rewind") if snap is not None else (NOW, None, None)
    tab_model, tab_predict, tab_shapes, tab_code = st.tabs(
        [tr("Weights"), tr("Predict an image"), tr("Shapes"), tr("Code and maths")]
    )
    with tab_shapes:
        shapes_ui(cfg, spec, info)
    with tab_code:
        code_ui(cfg, spec, info)
    training = job is not None and job.state in ACTIVE
    every = 1.0 if training else None  # a training run: both tabs follow its newest weights
    playable = snap is not None and step == NOW and not training

    @fragment(run_every=every)
    def live_weights():
        model, caption = model_from(job.snapshot() if job else snap, rewound, rewound_to)
        if model is None:
            no_model_ui()
        else:
            weights_ui(model, caption, spec, info, snap, playable)

    # A fragment of its own: a stroke on the canvas reruns the prediction alone, not the weight pictures.
    @fragment(run_every=every)
    def live_predict():
        model, _caption = model_from(job.snapshot() if job else snap, rewound, rewound_to)
        ds = load_dataset(cfg.dataset, offer_digits=False)
        if model is None:
            no_model_predict_ui()
        elif ds is not None:
            predict_ui(model, ds, spec)

    with tab_model:
        live_weights()
    with tab_predict:
        live_predict()


render()
