"""Inside the model: weights, filters, feature maps, shapes, and the exact code and maths that run."""

import inspect

import numpy as np
import pandas as pd
import streamlit as st
import torch

from core import data as D
from core import explain as E
from core import models as M
from core import plots
from core.config import OPTIMIZERS
from core.events import ACTIVE
from core.i18n import N_, tr
from core.preprocess import ImageError, prepare, prepare_drawing
from core.train import autograd_step, make_step, restore, training_code
from ui.draw import drawing_ui
from ui.i18n import fragment
from ui.live_view import chart
from ui.loading import load_dataset
from ui.rewind import NOW, frames, rewind_ui
from ui.session import current_view
from ui.state import kept_config

st.title(tr("Inside the model"))
snap, job = current_view()
if snap is not None:
    cfg = snap.config
else:  # no run yet: describe what the Train page is set to
    cfg = kept_config()
info = D.info(cfg.dataset)
spec = M.spec(cfg.model)
step, rewound, rewound_to = rewind_ui(snap, "in_rewind") if snap is not None else (NOW, None, None)
names = info.class_names  # the classes as the student reads them (info.classes stays English: widget values)
tab_model, tab_predict, tab_shapes, tab_code = st.tabs(
    [tr("Weights"), tr("Predict an image"), tr("Shapes"), tr("Code and maths")]
)


def model_from(s):
    """(model, caption) from a finished run or the newest epoch of a running one, else (None, None)."""
    if s is None:
        return None, None
    if rewound is not None:  # the epoch slider: the model as it was then, kept by the run store
        return restore(s.config.to_dict(), rewound), tr("{when} (rewound)", when=rewound_to)
    if s.done is not None:
        return restore(s.config.to_dict(), s.done.weights), tr("the finished run")
    e = s.latest_epoch
    if e is not None and e.weights is not None:
        when = tr("epoch {epoch} of {epochs} (updates live)", epoch=e.epoch, epochs=s.config.epochs)
        return restore(s.config.to_dict(), e.weights), when
    if s.peek is not None:  # the first epoch is still running: its newest weights
        when = tr("{share:.0%} of epoch 1 (updates live)", share=s.peek.fraction)
        return restore(s.config.to_dict(), s.peek.weights), when
    return None, None


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
            "Train a model first, or load a checkpoint on **Results**: then draw a digit here with the mouse and "
            "watch the model classify it after each stroke (or pick a test image, or upload a picture)."
        ),
        icon="✏️",
    )
    train, results = st.columns(2)
    train.page_link("pages/train.py", label=tr("Go to Train"), icon="🏋️")
    results.page_link("pages/results.py", label=tr("Load a checkpoint on Results"), icon="🎯")


def templates_ui(model):
    st.subheader(tr("The 10 columns of W, seen as images: learned templates"))
    st.markdown(
        tr(
            "Each class's score is the image times its template: **blue** pixels add to it, "
            "**red** pixels subtract. Hover for the exact weight."
        )
    )
    chart(st, plots.weight_templates(model.W.detach().numpy(), info.size, names), key="in_templates")
    chart(st, plots.bias_bars(model.b.detach().numpy(), names), key="in_bias")
    animation_ui()


def animation_ui():
    """Play: the templates forming, from the run's kept points (the figure animates itself in the browser)."""
    if snap is None or step != NOW or (job is not None and job.state in ACTIVE):
        return  # while it trains this fragment redraws every second: the animation waits for the run's end
    kept = frames(snap)
    if len(kept) < 2:
        return
    with st.expander(tr("▶ Play: watch the templates form, from the first steps to now"), expanded=False):
        st.caption(tr("Press ▶ Play under the pictures. Each frame has its own colour scale: the first are faint."))
        chart(
            st,
            plots.template_animation([(name, w["W"].numpy()) for name, w in kept], info.size, names),
            key="in_templates_play",
        )


def hidden_units_ui(model):
    W = model.fc1.weight.detach().numpy()[:10].T  # first 10 hidden units, (inputs, 10)
    st.subheader(tr("The first 10 hidden units' input weights"))
    units = [tr("unit {i}", i=i) for i in range(10)]
    chart(st, plots.weight_templates(W, info.size, units), key="in_templates")


def filters_ui(model):
    w1 = model.conv1.weight.detach().numpy()[:, 0]
    chart(
        st,
        plots.tile_grid(
            w1, 6, [tr("filter {i}", i=i) for i in range(6)], title=tr("conv1: six 5×5 filters"), tile_px=120
        ),
        key="in_conv1",
        width="content",
    )
    w2 = model.conv2.weight.detach().numpy().reshape(-1, 5, 5)
    chart(
        st,
        plots.tile_grid(w2, 6, title=tr("conv2: 12 filters (rows) × 6 input channels (columns)"), tile_px=56),
        key="in_conv2",
        width="content",
    )


WEIGHT_VIEWS = {"templates": templates_ui, "hidden_units": hidden_units_ui, "filters": filters_ui}


def weights_ui(model, caption):
    st.caption(
        tr(
            "{model} on {dataset}: weights after {when}.",
            model=spec.display_label,
            dataset=info.display_title,
            when=caption,
        )
    )
    views = [WEIGHT_VIEWS[v] for v in spec.inside if v in WEIGHT_VIEWS]
    for view in views:
        view(model)
    if not views:
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


def steps_ui(where, steps, px: int = 120):
    for col, (name, img) in zip(where.columns(len(steps)), steps):
        col.image(crisp(square(img), px), caption=name, width="stretch", clamp=True)


def predict_ui(model, ds):
    pick, which = st.columns([1, 1], vertical_alignment="bottom")
    source = pick.radio(tr("Image"), SOURCES, format_func=tr, horizontal=True, key="in_source")
    true = None
    if source == "A test image":
        idx = which.number_input(tr("Test image #"), 0, len(ds.test_y) - 1, 0, step=1, key="in_idx")
        x, true = D.to_float(ds.test_x[idx : idx + 1]), int(ds.test_y[idx])
        caption = tr("Test image #{idx}: a {name}, as the model sees it", idx=idx, name=names[true])
        image = ds.test_x[idx].numpy()
    elif source == "Draw":
        x, bars = draw_ui()
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
        picture.image(crisp(image, 224), caption=caption, clamp=True)
    with torch.no_grad():
        trace = M.stages(model, x)
    probs = trace[-1][1][0].numpy()
    best = int(np.argmax(probs))
    bars.markdown(tr("#### The model says: **{name}** ({sure:.0%} sure)", name=names[best], sure=probs[best]))
    chart(bars, plots.probability_bars(probs, names, true, height=270), key="in_probs")
    why_ui(model, x, probs)
    if "feature_maps" in spec.inside:
        st.subheader(tr("Feature maps after each stage"))
        for name, out in trace[1:]:
            if out.dim() == 4 and name.startswith(("conv", "relu", "pool")):
                maps = out[0].numpy()
                chart(
                    st,
                    plots.tile_grid(
                        maps, 6, diverging=name.startswith("conv"), title=f"{name}: {list(out.shape)}", tile_px=110
                    ),
                    key=f"in_fm_{name}",
                    width="content",
                )


def draw_ui():
    """The canvas, MNIST's preprocessing of the drawing step by step; (the model's input or None, the column
    for the prediction)."""
    canvas, middle, bars = st.columns([2, 2, 3])
    with canvas:
        rgba = drawing_ui("in_canvas")
    if rgba is None:
        middle.info(
            tr("Draw a digit with the mouse: the model predicts it after each stroke.")
            if info.classes == D.DIGIT_CLASSES
            else tr("Draw a garment with the mouse: the model predicts it after each stroke."),
            icon="✏️",
        )
        return None, bars
    try:
        prep = prepare_drawing(rgba, info.size)
    except ImageError as e:  # ink too faint to crop to
        middle.info(str(e), icon="✏️")
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


def why_ui(model, x, probs):
    st.subheader(tr("Why this prediction"))
    if isinstance(model, M.SoftmaxRegression):
        evidence_ui(model, x)
    else:
        saliency_ui(model, x, probs)


def evidence_ui(model, x):
    maps, b = E.evidence(model, x)
    sums = maps.sum(dim=(1, 2))
    st.markdown(
        tr(
            "Each map is the image times the class's template, **x ⊙ W**: **blue** pixels vote for the class, "
            "**red** ones against. A class's score is the sum of its map plus its bias; the highest score wins."
        )
    )
    fig = plots.tile_grid(maps.numpy(), 10, list(names), tile_px=88)
    fig.update_layout(height=fig.layout.height + 30)  # one row of maps: room for the colour bar's ticks
    chart(st, fig, key="in_evidence", width="content")
    table = pd.DataFrame([sums.numpy(), b.numpy(), (sums + b).numpy()], columns=list(names))
    table.insert(0, "", [tr("sum of the map"), tr("+ bias"), tr("= score")])
    fmt = {c: st.column_config.NumberColumn(format="%.2f") for c in names}
    st.dataframe(table, hide_index=True, column_config=fmt, key="in_scores")


def saliency_ui(model, x, probs):
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


# M.layer_table's columns (its keys are data) -> the headings shown
COLUMNS = {
    "layer": N_("layer"),
    "kind": N_("kind"),
    "output shape": N_("output shape"),
    "parameters": N_("parameters"),
    "formula": N_("formula"),
}


def shapes_ui():
    model = M.build(cfg.model, info.size, len(info.classes), cfg.hidden)
    st.subheader(tr("{model} on {size}×{size} images", model=spec.display_label, size=info.size))
    rows = M.layer_table(model, info.size)
    table = pd.DataFrame(rows).rename(columns={column: tr(heading) for column, heading in COLUMNS.items()})
    st.dataframe(table, hide_index=True, width="stretch")
    st.metric(tr("Parameters"), f"{M.count_params(model):,}")
    if any(r["formula"] for r in rows):
        st.markdown(tr("Each conv or pool output side follows"))
        st.latex(r"O = \frac{n - f + 2p}{s} + 1")
        st.markdown(tr("with input side *n*, filter *f*, padding *p*, stride *s*: the **formula** column works it."))


# The maths beside each piece of code the Code view shows (core.train.training_code lists the pieces).
EQUATIONS = {
    M.SoftmaxRegression: [r"\mathbf{O} = \mathbf{X}\mathbf{W} + \mathbf{b}"],
    M.MLP: [
        r"\mathbf{H} = \mathrm{ReLU}(\mathbf{X}\mathbf{W}_1 + \mathbf{b}_1)",
        r"\mathbf{O} = \mathbf{H}\mathbf{W}_2 + \mathbf{b}_2",
    ],
    M.CNN: [r"\text{conv} \to \mathrm{ReLU} \to \text{max-pool},\ \text{twice; then three linear layers}"],
    M.log_softmax: [r"\mathrm{softmax}(\mathbf{O})_{ij} = \frac{\exp(O_{ij})}{\sum_k \exp(O_{ik})}"],
    M.cross_entropy: [r"\ell(\mathbf{y}, \hat{\mathbf{y}}) = -\log \hat{y}_{y}"],
    M.softmax_regression_grads: [
        r"\frac{\partial \ell}{\partial \mathbf{O}} = \mathrm{softmax}(\mathbf{O}) - \mathrm{onehot}(y)",
        r"\frac{\partial \ell}{\partial \mathbf{W}} = \mathbf{X}^\top \frac{\partial \ell}{\partial \mathbf{O}}",
    ],
    M.sgd: [r"\mathbf{w} \leftarrow \mathbf{w} - \eta \, \nabla_{\mathbf{w}} \ell"],
    autograd_step: [r"\nabla_{\mathbf{w}} \ell \ \text{for every weight, by backpropagation (loss.backward())}"],
    E.evidence: [r"O_c = \textstyle\sum_i x_i W_{ic} + b_c = \mathrm{sum}(\mathbf{x} \odot \mathbf{W}_{:,c}) + b_c"],
    E.saliency: [r"\mathbf{S}_c = \frac{\partial O_c}{\partial \mathbf{x}}"],
}
ADAM = [  # torch.optim.Adam's update, as its documentation writes it (g = gradient, t = step)
    r"\mathbf{m} \leftarrow \beta_1 \mathbf{m} + (1 - \beta_1)\,\mathbf{g}, \quad "
    r"\mathbf{v} \leftarrow \beta_2 \mathbf{v} + (1 - \beta_2)\,\mathbf{g}^2",
    r"\mathbf{w} \leftarrow \mathbf{w} - \eta \, \frac{\mathbf{m} / (1 - \beta_1^t)}"
    r"{\sqrt{\mathbf{v} / (1 - \beta_2^t)} + \epsilon}",
]
NOTES = {
    M.cross_entropy: N_(
        "The loss. Models trained with autograd use torch's `F.cross_entropy`, which computes the same "
        "numbers as this scratch version (tests/test_models.py checks it)."
    ),
    make_step: N_(
        "Which update runs after each backward pass: for Adam, torch's `torch.optim.Adam` with the update "
        "rule above (β₁ = 0.9, β₂ = 0.999, ε = 1e-8)."
    ),
}


def piece_ui(piece):
    equations = EQUATIONS.get(piece, []) + (ADAM if piece is make_step and cfg.optimizer == "adam" else [])
    for equation in equations:  # above the code, full width: long formulas are not cut off
        st.latex(equation)
    if piece in NOTES:
        st.caption(tr(NOTES[piece]))
    st.code(inspect.getsource(piece), language="python", wrap_lines=True)


def code_ui():
    st.markdown(
        tr(
            "How **{model}** learns with **{optimizer}** (learning rate η = {lr:g}). "
            "The code below is read from the functions that train it, not copied.",
            model=spec.display_label,
            optimizer=tr(OPTIMIZERS[cfg.optimizer]),
            lr=cfg.lr,
        )
    )
    for piece in training_code(cfg):
        piece_ui(piece)
    st.subheader(tr("Why this prediction: the code"))
    linear = isinstance(M.build(cfg.model, info.size, len(info.classes), cfg.hidden), M.SoftmaxRegression)
    st.markdown(
        tr("The evidence maps under **Predict an image**: each pixel times its weight, per class.")
        if linear
        else tr("The saliency maps under **Predict an image**: autograd takes the class's score back to the pixels.")
    )
    piece_ui(E.evidence if linear else E.saliency)


with tab_shapes:
    shapes_ui()
with tab_code:
    code_ui()


EVERY = 1.0 if job and job.state in ACTIVE else None  # a training run: both tabs follow its newest weights


@fragment(run_every=EVERY)
def live_weights():
    model, caption = model_from(job.snapshot() if job else snap)
    if model is None:
        no_model_ui()
    else:
        weights_ui(model, caption)


# A fragment of its own: a stroke on the canvas reruns the prediction alone, not the weight pictures.
@fragment(run_every=EVERY)
def live_predict():
    model, _caption = model_from(job.snapshot() if job else snap)
    ds = load_dataset(cfg.dataset, offer_digits=False)
    if model is None:
        no_model_predict_ui()
    elif ds is not None:
        predict_ui(model, ds)


with tab_model:
    live_weights()
with tab_predict:
    live_predict()
