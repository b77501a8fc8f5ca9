"""Class board: every student's runs on this server, ranked by test accuracy; refreshes by itself."""

import collections

import pandas as pd
import streamlit as st

from core import models as M
from core import plots
from core.classroom import points, spread
from core.events import RACE, RUNNING
from core.i18n import tr
from ui import lesson
from ui.controls import LABELS, dataset_title, options, setting_value
from ui.i18n import fragment
from ui.labels import column, md, model_short, state_word
from ui.live_view import chart
from ui.projector import presenting, title_row
from ui.roles import passcode
from ui.services import current
from ui.state import keep, kept, save_kept

AXES = ("lr", "batch_size", "epochs", "train_subset")  # what the scatter can put on its x axis
# the presenter view at a projector's 1280x720 (ui/projector.py folds the sidebar): the top ten in large type
TABLE_CSS = """<style>
[data-testid='stTable'] td, [data-testid='stTable'] th {font-size: 22px !important; padding: 4px 14px !important;}
[data-testid='stTable'] th {white-space: nowrap;}
</style>"""


def setting_name(field: str) -> str:
    return tr(LABELS[field]).split(" (")[0]


NO_VALUE = "—"  # a rank or a speed a run does not have (it is still training, or it stopped)


def shown(df: pd.DataFrame) -> pd.DataFrame:
    """The table as a person reads it: headers and states in the page's language, no code names, no 'None'."""
    if "state" in df:
        df = df.assign(state=df["state"].map(state_word))
    if "rank" in df:
        df = df.assign(rank=[NO_VALUE if pd.isna(r) else str(int(r)) for r in df["rank"]])
    if "s/epoch" in df:
        df = df.assign(**{"s/epoch": [NO_VALUE if pd.isna(v) else f"{v:.2f}" for v in df["s/epoch"]]})
    df = df.rename(columns=column)
    df.index = df.index.rename(column(df.index.name) if df.index.name else None)
    return df


def ranked(services, store, dataset: str) -> pd.DataFrame:
    """The runs on a dataset, best test accuracy first, ranked 1, 2, 3..., equal accuracies sharing a rank
    (1, 1, 3); unfinished runs last, unranked. Settings every run shares are left out: they tell nothing apart."""
    rows = [
        {
            "nickname": r["nickname"] or tr("anonymous"),
            "model": model_short(r["config"]["model"]) if r["config"]["model"] in M.REGISTRY else "?",
            "optimizer": setting_value("optimizer", r["config"]["optimizer"]),
            **{k: r["config"][k] for k in AXES},
            "test acc": r["test_acc"],
            "state": r["state"],
            "s/epoch": r["train_s_per_epoch"],
        }
        for r in services.read(store.list, dataset) or []
        if r["tag"] != RACE
    ]
    df = pd.DataFrame(rows, columns=["nickname", "model", "optimizer", *AXES, "test acc", "state", "s/epoch"])
    df = df.sort_values("test acc", ascending=False, na_position="last", kind="stable")
    df.insert(0, "rank", df["test acc"].rank(method="min", ascending=False))
    return df.astype({"rank": "Int64"})


def settings_ui() -> tuple[str, str, bool]:
    """The heading, the presenter switch and the board's two choices: (dataset, scatter axis, presenter)."""
    title = tr("Class board")
    if presenting():  # the settings stay as they were, out of the way; the title says which dataset
        title = tr("Class board: {dataset}", dataset=dataset_title(kept("board_dataset"), markdown=True))
    presenter = title_row(title, tr("For the projector: the top ten and the plot"))
    if presenter:
        dataset, axis = kept("board_dataset"), kept("board_axis")
        st.html(TABLE_CSS)
    else:
        c1, c2 = st.columns(2)
        dataset = c1.selectbox(tr("Dataset"), options("dataset"), key="board_dataset", format_func=dataset_title)
        axis = c2.selectbox(tr("Hyperparameter"), AXES, key="board_axis", format_func=column)
        save_kept("board_dataset", "board_axis")
    return dataset, axis, presenter


def board_ui(services, store, dataset: str, axis: str, presenter: bool) -> None:
    @fragment(run_every=3.0)
    def board():
        df = ranked(services, store, dataset)
        if df.empty:
            st.info(
                tr(
                    "No runs on {dataset} yet. They appear here as students train.",
                    dataset=dataset_title(dataset, markdown=True),
                ),
                icon="🏫",
            )
            return
        finished = df[df["test acc"].notna()]
        st.caption(
            tr(
                "{n} runs, {running} training now · refreshes every 3 s",
                n=len(df),
                running=int((df["state"] == RUNNING).sum()),
            )
        )
        scatter = plots.hyper_scatter(
            finished.to_dict("records"),
            axis,
            log_x=axis == "lr",
            x_title=column(axis),
            font=20 if presenter else 14,
            height=540 if presenter else 460,
        )
        if presenter:  # the top ten beside the plot, both on one projector screen
            left, right = st.columns([1, 1])
            top = finished.head(10).set_index("rank")[["nickname", "model", "test acc"]]
            top = top.assign(nickname=top["nickname"].map(md))  # table cells are Markdown: a nickname is text
            left.table(shown(top).style.format({column("test acc"): "{:.1%}"}))
            if len(finished):
                chart(right, scatter, key="board_scatter")
            return
        varying = [k for k in ("optimizer", *AXES) if df[k].nunique(dropna=False) > 1]
        table = df[["rank", "nickname", "model", *varying, "test acc", "state", "s/epoch"]]
        st.dataframe(
            shown(table),
            hide_index=True,
            width="stretch",
            key="board_table",
            column_config={
                column("test acc"): st.column_config.ProgressColumn(min_value=0, max_value=1, format="percent")
            },
        )
        if len(finished):
            chart(st, scatter, key="board_scatter")

    board()


def experiment_ui(services, store, presenter: bool) -> bool:
    """The class experiment's plot (pages/teacher.py sends it), once a student's run of it has ended; whether it
    was drawn."""
    experiment = lesson.exercise(services, lesson.EXPERIMENT)
    pts = points(experiment, services.read(store.list) or []) if experiment else []
    if not pts:
        return False
    st.subheader(tr("🧪 The class experiment: {title}", title=md(experiment.title)))
    fig = plots.experiment_plot(
        pts, spread(pts), experiment.values, setting_name(experiment.sweep), height=380 if presenter else 420
    )
    chart(st, fig, key="board_experiment")
    return True


def render() -> None:
    services = current()  # this server's jobs and run store (ui/services.py)
    store = services.store()
    runs = services.read(store.list) if store is not None else None
    if runs is None:
        st.title(tr("Class board"))
        st.error(services.store_error(), icon="🗄️")
        return
    runs = [r for r in runs if r["tag"] != RACE]  # a race is one student's experiment, not an entry
    counts = collections.Counter(r["config"]["dataset"].split("@")[0] for r in runs)  # a version: its dataset's
    choices = options("dataset")
    counts = collections.Counter({name: n for name, n in counts.items() if name in choices})
    keep("board_dataset", counts.most_common(1)[0][0] if counts else choices[0])  # the class's dataset
    if st.session_state["board_dataset"] not in choices:  # a class's own dataset deleted meanwhile
        st.session_state["board_dataset"] = choices[0]
    keep("board_axis", AXES[0])
    dataset, axis, presenter = settings_ui()
    experiment_ui(services, store, presenter)
    board_ui(services, store, dataset, axis, presenter)
    if not presenter and passcode() is not None:  # a class: the teacher's tools are on their console
        st.page_link(
            "pages/teacher.py", label=tr("Teacher's console: stop or delete any run, lead the class"), icon="🎓"
        )


render()
