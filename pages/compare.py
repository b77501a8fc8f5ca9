"""Compare: overlay the curves of saved runs, see what differs, export or delete them."""

import collections
import time
from dataclasses import fields

import pandas as pd
import streamlit as st

from core import data as D
from core import models as M
from core import plots
from core.config import TrainConfig
from core.events import STOPPED
from ui.labels import md
from ui.live_view import chart
from ui.roles import may_delete, teacher_ui
from ui.services import read, store_error
from ui.services import store as run_store

PNG = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2, "filename": "comparison"}}
SHOWN_FIELDS = tuple(f.name for f in fields(TrainConfig) if f.name != "device")


def label(run: dict, differing: list[str]) -> str:
    values = {k: run["config"][k] for k in differing}
    parts = [f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items()] or [run["id"]]
    return (f"{run['nickname']}: " if run["nickname"] else "") + ", ".join(parts)


def differing_fields(runs: list[dict]) -> list[str]:
    """The config fields whose values are not the same in every run: what the legend must say."""
    return [k for k in SHOWN_FIELDS if len({str(r["config"].get(k)) for r in runs}) > 1]


st.title("Compare runs")
store = run_store()
if store is None:
    st.error(store_error(), icon="🗄️")
    st.stop()
f1, f2 = st.columns(2)
dataset = f1.selectbox(
    "Dataset", [None, *D.REGISTRY], format_func=lambda d: "all" if d is None else D.REGISTRY[d].title
)
model = f2.selectbox("Model", [None, *M.REGISTRY], format_func=lambda m: "all" if m is None else M.REGISTRY[m].label)
runs = read(store.list, dataset, model)
if runs is None:
    st.error(store_error(), icon="🗄️")
    st.stop()
if not runs:
    st.info("No saved runs yet. Every run started on the Train page is saved here as it trains.", icon="🗂️")
    st.stop()
by_id = {r["id"]: r for r in runs}


def option_names(runs: list[dict]) -> dict[str, str]:
    """Each run's name in the picker, unique: the widget tells options apart by their names, so two runs with
    the same settings and nickname once collapsed into one (and the page crashed on a duplicate key)."""
    names, seen = {}, collections.Counter()
    for r in reversed(runs):  # oldest first, so a name's number stays put as newer runs arrive
        c = r["config"]
        name = (
            f"{r['nickname'] or 'anonymous'} · {c['model']} on {c['dataset']}, lr {c['lr']:g}, "
            f"batch {c['batch_size']} · {r['state']} · {time.strftime('%H:%M:%S', time.localtime(r['started_at']))}"
        )
        seen[name] += 1
        names[r["id"]] = name if seen[name] == 1 else f"{name} ({seen[name]})"
    return names


names = option_names(runs)
picked = st.multiselect("Runs", list(by_id), default=list(by_id)[:2], key="cmp_runs", format_func=names.get)
chosen = [by_id[i] for i in picked]
if chosen:
    diff = differing_fields(chosen)
    st.caption("What differs: " + (", ".join(diff) if diff else "nothing but the run (same settings)"))
    series = [(label(r, diff), read(store.epochs, r["id"]) or []) for r in chosen]
    c1, c2, c3 = st.columns(3)
    chart(c1, plots.compare_curves(series, "train_loss", "Train loss"), key="cmp_loss", config=PNG)
    chart(c2, plots.compare_curves(series, "train_acc", "Train accuracy"), key="cmp_tacc", config=PNG)
    metric = "val_acc" if any(r.get("val_acc") is not None for _, rows in series for r in rows) else "test_acc"
    chart(
        c3,
        plots.compare_curves(series, metric, "Validation accuracy" if metric == "val_acc" else "Test accuracy"),
        key="cmp_vacc",
        config=PNG,
    )
    table = pd.DataFrame(
        [
            {
                "run": label(r, diff),
                "state": r["state"],
                **{k: r["config"].get(k) for k in SHOWN_FIELDS},
                "test acc": r["test_acc"],
                "test loss": r["test_loss"],
                "s/epoch": r["train_s_per_epoch"],
            }
            for r in chosen
        ]
    )
    st.dataframe(table, hide_index=True, width="stretch")
    for r in chosen:
        if r["message"] and r["state"] != STOPPED:  # interrupted, failed, or done without its checkpoint
            st.warning(f"{md(label(r, diff))}: {md(r['message'])}", icon="⚠️")
    st.caption(
        "Charts: the camera icon on each chart saves it as a PNG. Open a run to see its predictions and "
        "weights; the link can be shared."
    )
    cols = st.columns(min(4, len(chosen)))
    for i, r in enumerate(chosen):
        col = cols[i % len(cols)]
        col.page_link(
            "pages/results.py", label=f"Open {md(label(r, diff)[:40])}", icon="🎯", query_params={"run": r["id"]}
        )
        col.download_button(
            f"⬇ CSV: {md(label(r, diff)[:40])}",
            store.metrics_csv(r["id"]),
            file_name=f"{r['id']}-metrics.csv",
            mime="text/csv",
            key=f"csv_{r['id']}",
        )
    with st.expander("Delete runs"):
        mine = [r for r in chosen if may_delete(r)]
        if len(mine) < len(chosen):
            st.info(
                f"{len(chosen) - len(mine)} of the selected runs are someone else's: only they (or the teacher) "
                f"can delete them.",
                icon="🔒",
            )
        sure = st.checkbox(f"Yes, delete {len(mine)} selected run(s) for good", key="cmp_sure")
        if st.button("Delete selected", disabled=not sure or not mine, type="primary"):
            for r in mine:
                store.delete(r["id"])
            st.session_state.pop("cmp_runs", None)
            st.rerun()
teacher_ui()
