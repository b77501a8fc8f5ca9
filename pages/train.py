"""Train: pick a dataset, a model and its hyperparameters, start a background run, watch it learn."""

import time

import streamlit as st

from core import data as D
from core import models as M
from core import plots
from core.config import PRESET_TITLES, PRESETS, TrainConfig
from core.events import ACTIVE, FAILED, QUEUED, RUNNING, STOPPED
from core.i18n import N_, shown, tr
from core.jobs import EXPRESS_S, threads_for
from core.metrics import diagnose
from core.optim import RULES
from core.train import estimate_seconds, pick_device
from ui import feed
from ui.controls import setting
from ui.device import remembered_nickname_ui
from ui.i18n import fragment
from ui.labels import READY, announcement, ended_progress, heading, heading_for, live_progress
from ui.lesson import lesson_ui
from ui.live_view import chart, live_view
from ui.loading import load_dataset
from ui.projector import title_row
from ui.services import current
from ui.session import current_job, refused_ui, remember, submit
from ui.skip import skip_link_ui
from ui.state import FIELDS, UI_DEFAULTS, config_from_widgets, keep, save_kept, settings_to_url

LESSON_TAG = "_lesson_tag"  # the tag the next run carries: the class experiment's while one is on
WARN_LONG_S = 60  # a run estimated to take longer is flagged before Start, with a way to make it quicker


CUSTOM = "custom"


def recipe_of(cfg: TrainConfig) -> str:
    """The recipe the settings hold (whatever their pace: it changes the speed, not the maths), or 'custom'."""
    return next((name for name, preset in PRESETS.items() if preset.with_(pace=cfg.pace) == cfg), CUSTOM)


def apply_preset():
    preset = PRESETS.get(st.session_state["w_preset"])
    for field, key in FIELDS.items() if preset else ():
        st.session_state[key] = getattr(preset, field)


def controls_ui(locked: frozenset[str] = frozenset()) -> TrainConfig:
    """The sidebar: what a class changes most first, so it fits a 720-pixel-high projector without scrolling.
    `locked`: the fields the teacher's exercise holds (shown, not changeable)."""
    for field, key in FIELDS.items():
        keep(key, getattr(UI_DEFAULTS, field))
    keep("w_nick", "")
    with st.sidebar:
        st.session_state["w_preset"] = recipe_of(config_from_widgets())
        st.selectbox(
            tr("Recipe"),
            [CUSTOM, *PRESETS],
            key="w_preset",
            on_change=apply_preset,
            format_func=lambda name: tr(PRESET_TITLES[name]) if name in PRESET_TITLES else tr("Custom settings"),
            help=tr("The classic tutorials' settings. Changing any setting below makes the recipe 'custom'."),
        )
        for field in ("dataset", "model", "optimizer", "lr"):
            setting(field, FIELDS[field], disabled=field in locked)
        left, right = st.columns(2)
        with left:
            setting("batch_size", FIELDS["batch_size"], disabled="batch_size" in locked)
        with right:
            setting("epochs", FIELDS["epochs"], disabled="epochs" in locked)
        setting("pace", FIELDS["pace"], disabled="pace" in locked)
        st.text_input(tr("Your nickname (shown on the class board)"), key="w_nick", max_chars=24)
        for field in ("val_fraction", "train_subset", "seed"):
            setting(field, FIELDS[field], disabled=field in locked)
        with st.expander(tr("Regularize: weight decay, dropout, schedule")):
            for field in ("weight_decay", "dropout", "schedule"):
                setting(field, FIELDS[field], disabled=field in locked)
    save_kept("w_nick", *FIELDS.values())
    settings_to_url()  # a reload, or a link to this page, brings these settings back
    return config_from_widgets()


@st.cache_data(show_spinner=False, max_entries=64)
def estimate(cfg: TrainConfig) -> float:
    """Seconds the run will take here, measured on a few real steps (bench/estimate_vs_actual.py checks it)."""
    return estimate_seconds(cfg, D.load(cfg.dataset), threads_for(cfg))


def start_job() -> None:
    cfg = config_from_widgets()  # as the click sent them: a value typed just before arrives with the click
    if cfg.errors():
        return  # the page run that follows shows why
    new = submit(
        cfg,
        nickname=st.session_state.get("w_nick", "").strip(),
        tag=st.session_state.get(LESSON_TAG, ""),  # a run of the class experiment answers it (ui/lesson.py)
        estimate_s=estimate(cfg),
    )
    if new is None:
        return  # refused: the page says why (refused_ui)
    remember(new)
    # Most runs then draw their first point in this same page run; longer would outlast the 0.5 s after which
    # Streamlit fades the stale page. A later first batch comes through the live feed.
    new.wait_first_batch(0.2)


STEP_HELP = N_("While paused: run exactly one minibatch and see what it changed.")


def step_job(job) -> None:
    """Step, then wait (two seconds at most) for the step's report, so this click's own run draws it."""
    last = job.snapshot().stepped
    job.step()
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        now = job.snapshot().stepped
        if now is not None and (last is None or now.step != last.step):
            return
        time.sleep(0.02)


def stepped_ui(s) -> None:
    """A paused run's last single step, laid open: the batch, the loss before and after, and what it changed."""
    st.info(tr("Paused. **⏭ Step** runs one minibatch and shows what it did; **▶ Resume** carries on."), icon="⏸️")
    t = s.stepped
    if t is None:
        return
    m1, m2, m3 = st.columns(3)
    m1.metric(tr("Loss on step {step}'s batch, before", step=t.step), f"{t.loss_before:.4f}")
    m2.metric(
        tr("After the step"), f"{t.loss_after:.4f}", f"{t.loss_after - t.loss_before:+.4f}", delta_color="inverse"
    )
    m3.metric(tr("Learning rate η"), f"{t.lr:g}")
    labels = [str(int(y)) for y in t.labels]
    chart(st, plots.image_grid(t.images.numpy()[:16], labels[:16], cols=16, tile=70), key="step_batch")
    views = M.spec(s.config.model).step_view
    if not views or views[0] not in t.before:  # how hard the step pulled on each layer
        st.caption(tr("The gradient's size at each layer for this batch (its L2 norm):"))
        st.dataframe(
            {tr("parameter"): list(t.grad_norms), tr("gradient norm"): list(t.grad_norms.values())}, hide_index=True
        )
        return
    rule = RULES[t.rule]  # the update that ran: SGD's -η·dW, or Adam's own step
    side = t.images.shape[-1]
    W0, W1 = t.before[views[0]].numpy(), t.after[views[0]].numpy()
    st.markdown(tr("The update, column by column of **W** (one image per class), by {rule}:", rule=tr(rule.label)))
    st.latex(rule.update)
    classes = D.info(s.config.dataset).class_names
    shown = (
        ("before", tr("W before"), W0),
        ("change", tr("{change}: the change", change=rule.change), W1 - W0),
        ("after", tr("W after"), W1),
    )
    for name, title, maps in shown:
        tiles = maps.T.reshape(-1, side, side)
        fig = plots.tile_grid(tiles, len(classes), title=f"{title} · {', '.join(classes)}", tile_px=60)
        chart(st, fig, key=f"step_{name}", width="content")


def start_ui(cfg: TrainConfig, job) -> None:
    ds = load_dataset(cfg.dataset)
    if ds is None:
        return
    n_train = len(ds.train_y) - round(len(ds.train_y) * cfg.val_fraction)
    if cfg.train_subset:
        n_train = min(n_train, cfg.train_subset)
    problems = cfg.errors()
    if n_train < 1:
        problems.append(tr("No training images left: lower the validation fraction."))
    seconds = estimate(cfg) if not problems else 0
    device = pick_device(cfg.device)
    where = current().jobs.where() if device.type == "cpu" else tr("the {device} device", device=device.type.upper())
    if seconds > WARN_LONG_S:
        st.warning(
            tr(
                "This run will take about {minutes:.0f} min on this machine ({where}). "
                "For a quick look, set a training subset (e.g. 10,000) or fewer epochs.",
                minutes=seconds / 60,
                where=where,
            ),
            icon="🐢",
        )
    busy = job is not None and job.state in ACTIVE
    running = job is not None and job.state == RUNNING
    paused = running and job.snapshot(light=True).paused
    # A row that wraps, each button as wide as its words: on a tablet or a phone a label is never cut short.
    row = st.container(horizontal=True, vertical_alignment="center")
    # Callbacks, not `if st.button(...)`: they run first, so the click's own run already draws the new job.
    row.button(tr("▶ Start training"), type="primary", disabled=bool(problems) or busy, on_click=start_job, key="start")
    row.button(tr("■ Stop"), disabled=not busy, on_click=job.stop if busy else None)
    if paused:
        row.button(tr("▶ Resume"), on_click=job.resume)
    else:
        row.button(tr("⏸ Pause"), disabled=not running, on_click=job.pause if running else None)
    row.button(tr("⏭ Step"), disabled=not paused, on_click=step_job, args=(job,), help=tr(STEP_HELP))
    row.caption(
        tr(
            "{images:,} training images · about {seconds:.0f} s on {where}",
            images=n_train,
            seconds=seconds,
            where=where,
        )
        if not problems
        else ""
    )
    for problem in problems:
        st.error(problem)
    refused_ui()


def status_ui(s) -> None:
    """Above the charts, what must be read before them: a queued run's place, why a run failed or stopped."""
    if s.state == QUEUED:
        counts = current().jobs.counts()
        st.info(
            tr(
                "Waiting for a free slot: number {position} in the queue ({running} runs training on {cap} slots). "
                "It starts by itself; students with fewer runs training go first, and a short run (under "
                "{express:.0f} s) may start at once.",
                position=s.queue_position,
                running=counts["running"],
                cap=counts["cap"],
                express=EXPRESS_S,
            ),
            icon="⏳",
        )
    if s.state == FAILED:
        st.error(shown(s.message), icon="❌")
    if s.state == STOPPED:
        st.warning(shown(s.message), icon="⏹️")


def results_ui(s) -> None:
    """Below the charts, a finished run's figures and what its loss curve says: the charts stay where they
    were while it trained (its test accuracy is in the progress line above them too)."""
    d = s.done
    m1, m2, m3 = st.columns(3)
    m1.metric(tr("Test accuracy"), f"{d.test_acc:.1%}")
    m2.metric(tr("Test loss"), f"{d.test_loss:.3f}")
    m3.metric(tr("Seconds per epoch"), f"{d.train_s_per_epoch:.2f}")
    verdict = diagnose(s.losses, [e.train_loss for e in s.epochs], s.config.lr)
    if verdict is not None:
        kind, text = verdict
        (st.warning if kind == "too_high" else st.info)(text, icon="⚠️" if kind == "too_high" else "💡")


def job_ui(job, cfg: TrainConfig) -> None:
    """The job's status and its live view; before the first run, the same view with empty charts.

    Idle, running and ended views are drawn by the same fragment into the same place, so Start changes texts
    and draws points into the same charts, which neither flicker nor move."""
    drawn_state = job.state if job is not None else None
    # A running job's view follows the live feed by itself; a queued job only needs its place in the queue,
    # on a slow timer, so a full class's waiting tabs leave the CPU to the jobs that train.
    every = 3.0 if drawn_state == QUEUED else None

    @fragment(run_every=every)
    def live():
        box = st.container()  # a queued, failed or stopped run's status; the view stays below it
        if job is None:
            # empty axes now: the student sees where the curves will go, and plotly is loaded before Start
            live_view(
                st.container(),
                "live",
                {
                    "chart_loss": plots.batch_loss_spec([], [], 1, total_epochs=cfg.epochs),
                    "chart_epochs": plots.epoch_curves_spec([], cfg.epochs),
                },
                head=heading_for(cfg, READY),
                progress=(
                    0.0,
                    tr(
                        "Choose the settings in the sidebar, then press ▶ Start training: the curves appear here as "
                        "it learns."
                    ),
                ),
            )
            return
        s = job.snapshot(light=True)  # the charts and figures, without the weights Results and Inside read
        if s.state != drawn_state:
            st.rerun()  # started or finished: redraw the page once, with the right controls
        smooth = st.session_state.get("w_smooth", True)
        if s.state == RUNNING:  # everything that changes each second is in the one view
            live_view(
                st.container(),
                "live",
                feed.figures(s, smooth),
                head=heading(s),
                progress=live_progress(s),
                follow=feed.url(job, smooth),
                announce=announcement(s),
            )
            if s.paused:  # below the charts, which stay where they were
                stepped_ui(job.snapshot())
            return
        with box:
            status_ui(s)
        # the same view as while it ran: heading, progress line and charts in the same place
        live_view(
            st.container(),
            "live",
            feed.figures(s, smooth) if s.state != QUEUED else {},
            head=heading(s),
            progress=ended_progress(s),
            announce=announcement(s),
        )
        if s.done is not None:
            results_ui(s)

    live()
    st.toggle(tr("Smooth the batch loss"), key="w_smooth", value=True)


@fragment
def run_area(cfg: TrainConfig) -> None:
    """Start/Stop and the live view, as a fragment: a click on Start redraws only this part, not the sidebar."""
    job = current_job()
    if current().jobs.error():  # a cluster that went away: nothing can start, say why (finished runs stay browsable)
        st.error(current().jobs.error(), icon="🛰️")
    start_ui(cfg, job)
    job_ui(job, cfg)


def render() -> None:
    services = current()  # this server's jobs and run store (ui/services.py)
    title_row(tr("Train a classifier, watch it learn"), tr("For the projector: the sidebar folded, the charts wide"))
    if services.store() is None or services.store_error():  # training works, but nothing is kept: say so
        st.warning(services.store_error(), icon="🗄️")
    job = current_job()
    idle = job is None or job.state not in ACTIVE  # a training run's page reruns only when the run ends
    locked, st.session_state[LESSON_TAG] = lesson_ui(services, watching=idle)  # the teacher's exercise, first
    run_area(controls_ui(locked))
    skip_link_ui(tr("Skip to ▶ Start training"), "start")  # the keyboard's first Tab stop (ui/skip.py)
    remembered_nickname_ui()  # last: the device's answer may rerun the page (ui/device.py)


render()
