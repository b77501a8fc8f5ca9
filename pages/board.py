"""Classroom board: every run on this server, from every session, ranked; auto-refreshing."""

import math

import pandas as pd
import streamlit as st

from core import data as D
from core import plots
from core.events import RUNNING
from ui.live_view import chart
from ui.services import store as run_store

st.title("Class board")
store = run_store()
c1, c2, c3 = st.columns([2, 2, 1], vertical_alignment="bottom")
dataset = c1.selectbox("Dataset", list(D.REGISTRY), key="board_dataset", format_func=lambda n: D.REGISTRY[n].title)
axis = c2.selectbox("Hyperparameter", ["lr", "batch_size", "epochs", "train_subset"], key="board_axis")
presenter = c3.toggle("Presenter view", key="board_presenter", help="Large type for the projector")
if presenter:
    st.html(
        "<style>[data-testid='stTable'] td, [data-testid='stTable'] th {font-size: 30px !important; "
        "padding: 10px 22px !important;} h1 {font-size: 3.4rem !important;}</style>"
    )


@st.fragment(run_every=3.0)
def board():
    rows = []
    for r in store.list(dataset=dataset):
        c = r["config"]
        rows.append(
            {
                "nickname": r["nickname"] or "anonymous",
                "model": c["model"],
                "optimizer": c["optimizer"],
                "lr": c["lr"],
                "batch_size": c["batch_size"],
                "epochs": c["epochs"],
                "train_subset": c["train_subset"],
                "test acc": r["test_acc"],
                "state": r["state"],
                "s/epoch": r["train_s_per_epoch"],
            }
        )
    if not rows:
        st.info(f"No runs on {D.REGISTRY[dataset].title} yet. They appear here as students train.", icon="🏫")
        return
    df = pd.DataFrame(rows).sort_values("test acc", ascending=False, na_position="last")
    finished = [r for r in rows if r["test acc"] is not None and not math.isnan(r["test acc"])]
    running = sum(r["state"] == RUNNING for r in rows)
    st.caption(f"{len(rows)} runs, {running} training now · refreshes every 3 s")
    if presenter:
        top = df[df["test acc"].notna()].head(10)
        st.table(
            top[["nickname", "model", "lr", "batch_size", "test acc"]].style.format(
                {"test acc": "{:.1%}", "lr": "{:g}"}
            )
        )
    else:
        st.dataframe(
            df,
            hide_index=True,
            width="stretch",
            column_config={"test acc": st.column_config.ProgressColumn(min_value=0, max_value=1, format="percent")},
        )
    if finished:
        chart(
            st,
            plots.hyper_scatter(
                finished, axis, log_x=axis == "lr", font=24 if presenter else 14, height=600 if presenter else 460
            ),
            key="board_scatter",
        )


board()
