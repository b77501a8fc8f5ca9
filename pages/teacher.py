"""Teacher's console, behind the passcode: the class's runs live, each a small loss curve, with Stop and Delete for
any one; the exercise put on every student's Train page (its locks, its class experiment) and the class plot that
answers it; pause and resume the whole class; the class's results as CSV."""

import time

import streamlit as st

from core import plots
from core.classroom import SWEEPS, Exercise, experiment_csv, parse_values, points, runs_csv, spread
from core.config import PRESET_TITLES, PRESETS
from core.events import ACTIVE, QUEUED, RUNNING
from core.i18n import N_, tr
from ui import lesson
from ui.controls import LABELS
from ui.i18n import fragment
from ui.labels import md, state_word
from ui.live_view import live_chart
from ui.projector import title_row
from ui.roles import is_teacher, teacher_ui
from ui.services import current
from ui.state import FIELDS, kept_config

LESSON_S = 3 * 3600  # the lesson: runs started in the last three hours, and every run still training or waiting
PANELS = 36  # small multiples drawn at most (six rows of six fill a projector); the CSV has every run
REDRAW_S = 2.0
MINE = "mine"  # the exercise's settings are the teacher's own Train page's


def setting_name(field: str) -> str:
    return tr(LABELS[field]).split(" (")[0]


def class_runs(services, store) -> list[dict]:
    """The lesson's runs, newest first: the store's (every replica's), with the live jobs' figures laid over them,
    and runs still waiting for a slot (not in the store yet)."""
    since = time.time() - LESSON_S
    stored = services.read(store.list) or []
    runs = {r["id"]: dict(r, losses=None) for r in stored if r["started_at"] >= since or r["state"] in ACTIVE}
    for job in services.jobs.jobs():
        s = job.snapshot(light=True)
        row = runs.get(job.id) or {
            "id": job.id,
            "nickname": s.nickname,
            "config": s.config.to_dict(),
            "started_at": s.submitted_at,
            "ended_at": None,
            "test_acc": None,
            "test_loss": None,
            "train_s_per_epoch": None,
            "tag": getattr(job, "tag", ""),
        }
        runs[job.id] = dict(row, state=s.state, losses=list(s.losses), paused=s.paused, progress=s.progress)
        if s.done is not None:
            runs[job.id].update(test_acc=s.done.test_acc, test_loss=s.done.test_loss)
    return sorted(runs.values(), key=lambda r: r["started_at"], reverse=True)


def panel_title(r: dict) -> str:
    who = (r["nickname"] or tr("anonymous"))[:14]
    if r.get("test_acc") is not None:
        return f"{who} · {r['test_acc']:.0%}"
    if r["state"] == RUNNING:
        return f"{who} · {'⏸' if r.get('paused') else '▶'} {r.get('progress', 0):.0%}"
    return f"{who} · {state_word(r['state'])}"


def run_name(r: dict) -> str:
    c = r["config"]
    return tr(
        "{nickname} · {model}, lr {lr:g}, batch {batch} · {state} · {time}",
        nickname=r["nickname"] or tr("anonymous"),  # an option is plain text, not Markdown
        model=c["model"],
        lr=c["lr"],
        batch=c["batch_size"],
        state=state_word(r["state"]),
        time=time.strftime("%H:%M", time.localtime(r["started_at"])),
    )


def losses_of(services, store, r: dict) -> list[float]:
    """A run's loss curve: the live job's per-batch losses, or the stored run's per-epoch training loss."""
    if r.get("losses"):
        return r["losses"]
    return [e["train_loss"] for e in services.read(store.epochs, r["id"]) or [] if e["train_loss"] is not None]


def class_ui(services, store, presenter: bool) -> None:
    """Every run of the lesson, live: a count, a small loss curve each, and Stop or Delete for any one. On the
    projector (sidebar folded) eight a row, so thirty fit a 1280x720 screen under the buttons."""
    cols = 8 if presenter else 6

    @fragment(run_every=REDRAW_S)
    def runs_now():
        runs = class_runs(services, store)
        training = sum(r["state"] == RUNNING for r in runs)
        waiting = sum(r["state"] == QUEUED for r in runs)
        st.caption(
            tr(
                "{n} runs this lesson · {training} training · {waiting} waiting · redrawn every {s:.0f} s",
                n=len(runs),
                training=training,
                waiting=waiting,
                s=REDRAW_S,
            )
        )
        if not runs:
            st.info(tr("No runs yet this lesson. They appear here as students press Start."), icon="🏫")
            return
        shown = runs[:PANELS]
        live_chart(
            st.container(),
            plots.small_multiples_spec([(panel_title(r), losses_of(services, store, r)) for r in shown], cols=cols),
            key="class_grid",
        )
        if len(runs) > PANELS:
            st.caption(tr("The newest {n} are drawn; the CSV below has them all.", n=PANELS))
        one_run_ui(services, store, {r["id"]: r for r in runs})

    runs_now()


def one_run_ui(services, store, runs: dict[str, dict]) -> None:
    """Pick any run of the class: stop it, or delete it once it has ended."""
    pick, stop, delete = st.columns([4, 1, 1], vertical_alignment="bottom")
    run_id = pick.selectbox(tr("A student's run"), list(runs), format_func=lambda i: run_name(runs[i]), key="t_run")
    r = runs.get(run_id)
    active = r is not None and r["state"] in ACTIVE
    if stop.button(tr("⏹ Stop it"), disabled=not active, key="t_stop"):
        job = services.jobs.get(run_id)
        if job is not None:
            job.stop(N_("Stopped by the teacher."))
        st.toast(tr("Stopped."))
    if delete.button(
        tr("🗑 Delete it"), disabled=r is None or active, key="t_delete", help=tr("A run still training: stop it first.")
    ):
        store.delete(run_id)
        st.toast(tr("Deleted."))
        st.rerun()


def whole_class_ui(services, store) -> None:
    """The class looks at the same moment together: pause every run, resume every run, or stop them all."""
    row = st.container(horizontal=True)
    if row.button(tr("⏸ Pause every run"), key="t_pause"):
        for job in services.jobs.jobs():
            if job.state == RUNNING:
                job.pause()
    if row.button(tr("▶ Resume every run"), key="t_resume"):
        for job in services.jobs.jobs():
            if job.state == RUNNING:
                job.resume()
    if row.button(tr("⏹ Stop every running run"), key="t_stop_all"):
        for job in services.jobs.jobs():
            job.stop(N_("Stopped by the teacher."))
    with row.popover(tr("🗑 Clear the board")):
        if st.button(tr("Delete every finished run, for good"), type="primary", key="t_clear"):
            for r in services.read(store.list) or []:
                if r["state"] not in ACTIVE:
                    store.delete(r["id"])
            st.rerun()


def exercise_form_ui(services) -> None:
    """Send an exercise: settings (a recipe or the teacher's own), the fields locked, and optionally a class
    experiment, one setting swept over values, one value handed to each student."""
    with st.form("t_exercise", border=True):
        st.markdown(tr("**📣 Send an exercise to every student's Train page**"))
        title = st.text_input(tr("Title"), value=tr("Exercise"), max_chars=80, key="t_title")
        source = st.selectbox(
            tr("Settings"),
            [MINE, *PRESETS],
            key="t_source",
            format_func=lambda n: tr("My Train page's settings") if n == MINE else tr(PRESET_TITLES[n]),
        )
        locked = st.multiselect(tr("Lock these fields"), list(FIELDS), format_func=setting_name, key="t_locked")
        left, right = st.columns(2)
        sweep = left.selectbox(
            tr("Class experiment: sweep"),
            ["", *SWEEPS],
            format_func=lambda f: tr("(none)") if not f else setting_name(f),
            key="t_sweep",
        )
        text = right.text_input(
            tr("Its values, one per student in turn"), placeholder="0.01, 0.1, 0.3, 1, 3, 10", key="t_values"
        )
        if not st.form_submit_button(tr("📣 Send to the class"), type="primary"):
            return
    cfg = kept_config() if source == MINE else PRESETS[source].with_(pace=kept_config().pace)
    values, problems = parse_values(sweep, text) if sweep else ((), [])
    sent = Exercise(title.strip() or tr("Exercise"), cfg, tuple(locked), sweep or None, values)
    problems += cfg.errors() + [p for i in range(len(values)) for p in sent.config_for(i).errors()]
    for problem in dict.fromkeys(problems):
        st.error(problem)
    if not problems:
        lesson.send(services, sent)
        st.rerun()  # the exercise on now, above, says it was sent


def exercise_on_ui(services, store) -> None:
    """The exercise on now, how its values were handed out (redrawn as students arrive), and releasing its locks or
    ending it."""

    @fragment(run_every=REDRAW_S * 2)
    def on_now():
        exercise_now_ui(services, store, lesson.exercise(services))

    on_now()


def exercise_now_ui(services, store, sent: Exercise | None) -> None:
    if sent is None:
        st.caption(tr("No exercise on now: students train what they like."))
        return
    st.markdown(
        tr(
            "**On now: {title}** · sent at {time}",
            title=md(sent.title),
            time=time.strftime("%H:%M", time.localtime(sent.sent_at)),
        )
    )
    st.caption(lesson.summary(sent.config))
    if sent.sweep:
        handed = services.read(store.handed, sent.id) or {}
        counts = [sum(1 for i in handed.values() if i == k) for k in range(len(sent.values))]
        st.caption(
            tr(
                "Class experiment on {setting}: {values}",
                setting=setting_name(sent.sweep),
                values=" · ".join(
                    tr("{value}: {n} students", value=lesson.value_text(sent.sweep, v), n=n)
                    for v, n in zip(sent.values, counts)
                ),
            )
        )
    row = st.container(horizontal=True)
    if sent.locked and row.button(tr("🔓 Release the locks"), key="t_release"):
        lesson.send(services, Exercise(sent.title, sent.config, (), sent.sweep, sent.values, sent.id, sent.sent_at))
        st.rerun()
    if row.button(tr("■ End the exercise"), key="t_end"):
        lesson.send(services, None)
        st.rerun()


def experiment_ui(services, store, experiment: Exercise | None) -> None:
    """The class plot: each student's final figures against the value they were handed, live."""
    if experiment is None:
        return

    @fragment(run_every=REDRAW_S * 2)
    def plot():
        pts = points(experiment, services.read(store.list) or [])
        st.subheader(tr("🧪 The class experiment: {title}", title=md(experiment.title)))
        if not pts:
            st.caption(tr("No finished run of the experiment yet: its points appear as students' runs end."))
            return
        live_chart(st.container(), experiment_figure(experiment, pts), key="t_experiment")
        st.download_button(
            tr("⬇ The experiment's table (CSV)"),
            lambda: experiment_csv(experiment, points(experiment, services.read(store.list) or [])),
            file_name="class-experiment.csv",
            mime="text/csv",
            key="t_experiment_csv",
        )

    plot()


def experiment_figure(experiment: Exercise, pts) -> object:
    return plots.experiment_plot(pts, spread(pts), experiment.values, setting_name(experiment.sweep))


def export_ui(services, store) -> None:
    st.download_button(
        tr("⬇ The class's runs (CSV)"),
        lambda: runs_csv(class_runs(services, store)),  # made at the click: the runs as they are then
        file_name="class-runs.csv",
        mime="text/csv",
        key="t_runs_csv",
        help=tr("Nickname, every setting, the final figures and times of each run this lesson."),
    )


def render() -> None:
    services = current()  # this server's jobs and run store (ui/services.py)
    presenter = title_row(tr("Teacher's console"), tr("For the projector: the sidebar folded"))
    teacher_ui()
    if not is_teacher():
        st.info(tr("The console is the teacher's: type the passcode above to open it."), icon="🎓")
        return
    store = services.store()
    if store is None:
        st.error(services.store_error(), icon="🗄️")
        return
    whole_class_ui(services, store)
    class_ui(services, store, presenter)
    left, right = st.columns(2)
    with left:
        exercise_on_ui(services, store)
        export_ui(services, store)
    with right:
        exercise_form_ui(services)
    experiment_ui(services, store, lesson.exercise(services, lesson.EXPERIMENT))


render()
