"""Data: look at the images before training on them (size, samples, class balance, pixels, mean images)."""

import numpy as np
import streamlit as st
import torch

from core import data as D
from core import plots
from core.i18n import tr
from ui.controls import CHOICES, options
from ui.labels import md
from ui.live_view import chart
from ui.loading import load_dataset
from ui.state import keep, save_kept


@st.cache_data(show_spinner=False, max_entries=3)
def mean_images(name: str) -> np.ndarray:
    """The mean image of each class (uint8), computed once per dataset, not on every widget change."""
    ds = D.load(name)
    return np.stack(
        [ds.train_x[ds.train_y == c].float().mean(0).round().byte().numpy() for c in range(len(ds.info.classes))]
    )


def summary_ui(ds) -> None:
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(tr("Training images"), f"{len(ds.train_y):,}")
    c2.metric(tr("Test images"), f"{len(ds.test_y):,}")
    c3.metric(tr("Image shape"), tr("{size} × {size}, gray", size=ds.info.size))
    c4.metric(tr("Classes"), len(ds.info.classes))
    st.caption(
        tr(
            "Stored as uint8 0–255 in a tensor of shape {shape}; the model sees pixel / 255.",
            shape=list(ds.train_x.shape),
        )
    )


def samples_ui(ds) -> None:
    """32 training images, of the classes picked (all by default), a new draw on demand."""
    classes, names = ds.info.classes, ds.info.class_names
    st.header(tr("Samples"))
    f1, f2 = st.columns([3, 1], vertical_alignment="bottom")
    chosen = f1.multiselect(tr("Show only these classes"), list(classes), placeholder=tr("all classes"), format_func=tr)
    if f2.button(tr("🔀 New sample")):
        st.session_state["data_sample_seed"] = st.session_state.get("data_sample_seed", 0) + 1
    wanted = [classes.index(c) for c in chosen] or list(range(len(classes)))
    pool = torch.nonzero(torch.isin(ds.train_y, torch.tensor(wanted))).flatten()
    g = torch.Generator().manual_seed(st.session_state.get("data_sample_seed", 0))
    pick = pool[torch.randperm(len(pool), generator=g)[:32]]
    chart(st, plots.image_grid(ds.train_x[pick].numpy(), [names[int(y)] for y in ds.train_y[pick]]), key="data_grid")


def balance_ui(ds, name: str) -> None:
    """How many images each class has, and each class's mean image."""
    names = ds.info.class_names
    left, right = st.columns(2)
    with left:
        counts = torch.bincount(ds.train_y, minlength=len(names)).tolist()
        chart(st, plots.class_balance(counts, names), key="data_balance")
    with right:
        st.subheader(tr("Mean image per class"))
        chart(st, plots.image_grid(mean_images(name), names, cols=5, tile=120), key="data_means")


def pixels_ui(ds) -> None:
    """One training image's numbers, as stored or as the model sees them."""
    st.header(tr("One image, as numbers"))
    p1, p2 = st.columns([1, 2])
    index = p1.number_input(tr("Training image #"), 0, len(ds.train_y) - 1, 0, step=1)
    scaled = p1.toggle(tr("Scale to 0–1 (what the model sees)"), value=False)
    p1.markdown(tr("Label: **{label}**", label=md(ds.info.class_names[int(ds.train_y[index])])))
    chart(p2, plots.pixel_heatmap(ds.train_x[index].numpy(), scaled), key="data_pixels")


def render() -> None:
    st.title(tr("Look at the data first"))
    keep("w_dataset", "digits")
    name = st.selectbox(tr("Dataset"), options("dataset"), key="w_dataset", format_func=CHOICES["dataset"])
    save_kept("w_dataset")
    ds = load_dataset(name)
    if ds is None:
        return
    summary_ui(ds)
    samples_ui(ds)
    balance_ui(ds, name)
    pixels_ui(ds)


render()
