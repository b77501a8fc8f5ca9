"""Compare: overlay the curves of saved runs, see what differs, export or delete them."""

import collections
import time
from dataclasses import fields

import pandas as pd
import streamlit as st

from core import models as M
from core import plots
from core.config import TrainConfig
from core.events import STOPPED
from core.i18n import ntr, shown, tr
from ui.controls import dataset_title, options, setting_value
from ui.labels import column, md, state_word
from ui.live_view import chart
from ui.roles import may_delete, teacher_ui
from ui.services import current

PNG = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2, "filename": "comparison"}}
SHOWN_FIELDS = tuple(f.name for f in fields(TrainConfig) if f.name != "device")


def label(run: dict, differing: list[str]) -> str:
    values = {k: run["config"][k] for k in differing}
    parts = [
        f"{column(k)}={v:g}" if isinstance(v, float) else f"{column(k)}={setting_value(k, v)}"
        for k, v in values.items()
    ]
    if not parts:  # the same settings: the time it started tells them apart (a run's id is no name)
        parts = [time.strftime("%H:%M:%S", time.localtime(run["started_at"]))]
    return (f"{run['nickname']}: " if run["nickname"] else "") + ", ".join(parts)


def differing_fields(runs: list[dict]) -> list[str]:
    """The config fields whose values are not the same in every run: what the legend must say."""
    return [k for k in SHOWN_FIELDS if len({str(r["config"].get(k)) for r in runs}) > 1]


def option_names(runs: list[dict]) -> dict[str, str]:
    """Each run's name in the picker, unique: the widget tells options apart by their names, so two runs with
    the same settings and nickname once collapsed into one (and the page crashed on a duplicate key)."""
    names, seen = {}, collections.Counter()
    for r in reversed(runs):  # oldest first, so a name's number stays put as newer runs arrive
        c = r["config"]
        name = tr(
            "{nickname} · {model} on {dataset}, lr {lr:g}, batch {batch} · {state} · {time}",
            nickname=r["nickname"] or tr("anonymous"),
            model=setting_value("model", c["model"]),
            dataset=setting_value("dataset", c["dataset"]),
            lr=c["lr"],
            batch=c["batch_size"],
            state=state_word(r["state"]),
            time=time.strftime("%H:%M:%S", time.localtime(r["started_at"])),
        )
        seen[name] += 1
        names[r["id"]] = name if seen[name] == 1 else f"{name} ({seen[name]})"
    return names


def picked_runs(services, store) -> list[dict] | None:
    """The filters and the picker: the runs to compare (None when there are none, the page says why)."""
    f1, f2 = st.columns(2)
    dataset = f1.selectbox(
        tr("Dataset"), [None, *options("dataset")], format_func=lambda d: tr("all") if d is None else dataset_title(d)
    )
    model = f2.selectbox(
        tr("Model"), [None, *M.REGISTRY], format_func=lambda m: tr("all") if m is None else tr(M.REGISTRY[m].label)
    )
    runs = services.read(store.list, dataset, model)
    if runs is None:
        st.error(services.store_error(), icon="🗄️")
        return None
    if not runs:
        st.info(tr("No saved runs yet. Every run started on the Train page is saved here as it trains."), icon="🗂️")
        return None
    by_id, names = {r["id"]: r for r in runs}, option_names(runs)
    picked = st.multiselect(tr("Runs"), list(by_id), default=list(by_id)[:2], key="cmp_runs", format_func=names.get)
    return [by_id[i] for i in picked]


def curves_ui(services, store, chosen: list[dict], diff: list[str]) -> None:
    """What differs, and the three curves of every chosen run, on axes from 0: a gap is seen at its true size."""
    if diff:
        st.caption(tr("What differs: {fields}", fields=", ".join(column(k) for k in diff)))
    else:
        st.caption(tr("What differs: nothing but the run (same settings)"))
    series = [(label(r, diff), services.read(store.epochs, r["id"]) or []) for r in chosen]
    c1, c2, c3 = st.columns(3)
    chart(c1, plots.compare_curves(series, "train_loss", tr("Train loss")), key="cmp_loss", config=PNG)
    chart(c2, plots.compare_curves(series, "train_acc", tr("Train accuracy")), key="cmp_tacc", config=PNG)
    metric = "val_acc" if any(r.get("val_acc") is not None for _, rows in series for r in rows) else "test_acc"
    title = tr("Validation accuracy") if metric == "val_acc" else tr("Test accuracy")
    chart(c3, plots.compare_curves(series, metric, title), key="cmp_vacc", config=PNG)


def table_ui(chosen: list[dict], diff: list[str]) -> None:
    """The chosen runs' settings and results, accuracies in % as everywhere else; why any of them ended badly."""
    acc, loss, speed = column("test acc"), column("test loss"), column("s/epoch")
    table = pd.DataFrame(
        [
            {
                column("run"): label(r, diff),
                column("state"): state_word(r["state"]),
                **{column(k): setting_value(k, r["config"].get(k)) for k in SHOWN_FIELDS},
                acc: None if r["test_acc"] is None else 100 * r["test_acc"],
                loss: r["test_loss"],
                speed: r["train_s_per_epoch"],
            }
            for r in chosen
        ]
    )
    formats = {acc: "%.1f%%", loss: "%.3f", speed: "%.2f"}
    config = {name: st.column_config.NumberColumn(format=f) for name, f in formats.items()}
    st.dataframe(table, hide_index=True, width="stretch", column_config=config, key="cmp_table")
    for r in chosen:
        if r["message"] and r["state"] != STOPPED:  # interrupted, failed, or done without its checkpoint
            st.warning(tr("{run}: {reason}", run=md(label(r, diff)), reason=md(shown(r["message"]))), icon="⚠️")


def links_ui(store, chosen: list[dict], diff: list[str]) -> None:
    """Each run: open it on Results (a link that can be shared), its epochs as CSV."""
    st.caption(
        tr(
            "Charts: the camera icon on each chart saves it as a PNG. Open a run to see its predictions and "
            "weights; the link can be shared."
        )
    )
    cols = st.columns(min(4, len(chosen)))
    for i, r in enumerate(chosen):
        col = cols[i % len(cols)]
        name = md(label(r, diff))
        col.page_link("pages/results.py", label=tr("Open {run}", run=name), icon="🎯", query_params={"run": r["id"]})
        col.download_button(
            tr("⬇ CSV: {run}", run=name),
            store.metrics_csv(r["id"]),
            file_name=f"{r['id']}-metrics.csv",
            mime="text/csv",
            key=f"csv_{r['id']}",
        )


def delete_ui(store, chosen: list[dict]) -> None:
    with st.expander(tr("Delete runs")):
        mine = [r for r in chosen if may_delete(r)]
        others = len(chosen) - len(mine)
        if others:
            st.info(
                ntr(
                    "{n} of the selected runs is someone else's: only they (or the teacher) can delete it.",
                    "{n} of the selected runs are someone else's: only they (or the teacher) can delete them.",
                    others,
                ),
                icon="🔒",
            )
        if not mine:
            return
        sure = st.checkbox(
            ntr("Yes, delete the selected run for good", "Yes, delete the {n} selected runs for good", len(mine)),
            key="cmp_sure",
        )
        if st.button(tr("Delete selected"), disabled=not sure, type="primary"):
            for r in mine:
                store.delete(r["id"])
            st.session_state.pop("cmp_runs", None)
            st.rerun()


def render() -> None:
    services = current()  # this server's jobs and run store (ui/services.py)
    st.title(tr("Compare runs"))
    store = services.store()
    if store is None:
        st.error(services.store_error(), icon="🗄️")
        return
    chosen = picked_runs(services, store)
    if chosen:
        diff = differing_fields(chosen)
        curves_ui(services, store, chosen, diff)
        table_ui(chosen, diff)
        links_ui(store, chosen, diff)
        delete_ui(store, chosen)
    teacher_ui()


render()
