"""Train: pick a dataset, a model and its hyperparameters, start a background run, watch it learn."""
import os

import streamlit as st

from core import data as D
from core import plots
from core.config import LIMITS, PRESETS, TrainConfig
from core.train import estimate_seconds, pick_device
from pages import feed
from pages.common import FIELDS, MODEL_LABELS, current_job, keep, live_view, load_dataset, manager, remember, save_kept
from pages.feed import figures, heading, heading_for, live_progress, progress_of

LR_CHOICES = [0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]
DEFAULTS = TrainConfig()
SLOW_S = 60


def apply_preset():
    preset = PRESETS[st.session_state["w_preset"]]
    for field, key in FIELDS.items():
        st.session_state[key] = getattr(preset, field)


def controls_ui() -> TrainConfig:
    for field, key in FIELDS.items():
        keep(key, getattr(DEFAULTS, field))
    keep("w_preset", "d2l-softmax")
    keep("w_nick", "")
    with st.sidebar:
        st.header("Set up a run")
        st.text_input("Your nickname (shown on the class board)", key="w_nick", max_chars=24)
        c1, c2 = st.columns([3, 2], vertical_alignment="bottom")
        c1.selectbox("Seed recipe", list(PRESETS), key="w_preset",
                     help="The classic tutorials' settings: d2l softmax, the seed CNN, MNIST logistic regression.")
        c2.button("Use recipe", on_click=apply_preset, width="stretch")
        st.selectbox("Dataset", list(D.REGISTRY), key="w_dataset", format_func=lambda n: D.REGISTRY[n].title)
        st.selectbox("Model", list(MODEL_LABELS), key="w_model", format_func=MODEL_LABELS.get)
        st.radio("Optimizer", ["sgd", "adam"], key="w_optimizer", horizontal=True,
                 format_func={"sgd": "SGD (hand-written)", "adam": "Adam"}.get)
        if st.session_state["w_lr"] not in LR_CHOICES:
            st.session_state["w_lr"] = min(LR_CHOICES, key=lambda v: abs(v - st.session_state["w_lr"]))
        st.select_slider("Learning rate (log scale)", LR_CHOICES, key="w_lr", format_func=lambda v: f"{v:g}")
        st.number_input("Batch size", *LIMITS["batch_size"], key="w_batch", step=1)
        st.number_input("Epochs", *LIMITS["epochs"], key="w_epochs", step=1)
        st.slider("Validation fraction", *LIMITS["val_fraction"], key="w_val", step=0.05,
                  help="Share of the training images held out to check for overfitting.")
        st.number_input("Training subset (0 = all images)", *LIMITS["train_subset"], key="w_subset", step=500,
                        help="Train on fewer images for a quick look on a slow laptop.")
        st.number_input("Seed", *LIMITS["seed"], key="w_seed", step=1,
                        help="Same settings and seed give exactly the same curve.")
    save_kept("w_preset", "w_nick", *FIELDS.values())
    return TrainConfig(**{field: st.session_state[key] for field, key in FIELDS.items()})


@st.cache_data(show_spinner=False, max_entries=64)
def estimate(cfg: TrainConfig, n_train: int, size: int) -> float:
    return estimate_seconds(cfg, n_train, size)


def start_job() -> None:
    # the settings as they are now: a value typed just before the click arrives with the click itself
    cfg = TrainConfig(**{field: st.session_state[key] for field, key in FIELDS.items()})
    if cfg.errors():
        return  # the page run that follows shows why
    new = manager().submit(cfg, nickname=st.session_state.get("w_nick", "").strip())
    remember(new)
    # Most runs then draw their first point in this same page run. Longer would make the click's run outlast
    # the 0.5 s after which Streamlit fades the stale page; a later first batch comes through the live feed,
    # which the view asks every 250 ms until the first point (pages/common.py).
    new.wait_first_batch(0.2)


def start_ui(cfg: TrainConfig, job) -> None:
    ds = load_dataset(cfg.dataset)
    if ds is None:
        return
    n_train = len(ds.train_y) - round(len(ds.train_y) * cfg.val_fraction)
    if cfg.train_subset:
        n_train = min(n_train, cfg.train_subset)
    problems = cfg.errors()
    if n_train < 1:
        problems.append("No training images left: lower the validation fraction.")
    seconds = estimate(cfg, n_train, ds.info.size) if not problems else 0
    device = pick_device(cfg.device)
    where = f"{os.cpu_count()} CPU cores" if device.type == "cpu" else f"the {device.type.upper()} device"
    if seconds > SLOW_S:
        st.warning(f"This run will take about {seconds / 60:.0f} min on this machine ({where}). "
                   f"For a quick look, set a training subset (e.g. 10,000) or fewer epochs.", icon="🐢")
    busy = job is not None and job.state in ("queued", "running")
    c1, c2, c3 = st.columns([1, 1, 3], vertical_alignment="center")
    # Callbacks, not `if st.button(...)`: they run first, so the click's own run already draws the new job.
    c1.button("▶ Start training", type="primary", disabled=bool(problems) or busy, width="stretch",
              on_click=start_job)
    c2.button("■ Stop", disabled=not busy, width="stretch", on_click=job.stop if busy else None)
    c3.caption(f"{n_train:,} training images · about {seconds:.0f} s on {where}" if not problems else "")
    for problem in problems:
        st.error(problem)


def ended_ui(s) -> None:
    """A queued or ended run's status as Streamlit elements (drawn once, not on the one-second timer)."""
    st.subheader(heading(s))
    if s.state == "queued":
        counts = manager().counts()
        st.info(f"Waiting for a free slot: number {s.queue_position} in the queue "
                f"({counts['running']} of {counts['cap']} slots busy). It starts by itself.", icon="⏳")
    if s.state == "failed":
        st.error(s.message, icon="❌")
    if s.state == "stopped":
        st.warning(s.message, icon="⏹️")
    progress = progress_of(s)
    if progress is not None:
        st.progress(progress[0], text=progress[1])
    if s.done is not None:
        d = s.done
        m1, m2, m3 = st.columns(3)
        m1.metric("Test accuracy", f"{d.test_acc:.1%}")
        m2.metric("Test loss", f"{d.test_loss:.3f}")
        m3.metric("Seconds per epoch", f"{d.train_s_per_epoch:.2f}")


def live_ui(cfg: TrainConfig, job) -> None:
    job_ui(job, cfg)
    st.toggle("Smooth the batch loss", key="w_smooth", value=True)


def job_ui(job, cfg: TrainConfig) -> None:
    """The job's status and its live view; before the first run, the same view with empty charts.

    Idle, running and ended views are drawn by the same fragment into the same container, and the idle view
    has the running one's heading and progress line: Start then changes texts and draws points into the same
    charts, which neither flicker nor move (before, the view was built anew further down the page)."""
    drawn_state = job.state if job is not None else None
    # While the job runs, its view follows the live feed (pages/feed.py) by itself where the server has it;
    # otherwise this fragment redraws every second. A queued job only needs its place in the queue refreshed:
    # a slower timer and no charts keep a full class's waiting tabs from taking the server's CPU away from
    # the jobs that train.
    follows_feed = drawn_state == "running" and feed.SERVED
    every = {"queued": 3.0, "running": None if follows_feed else 1.0}.get(drawn_state)

    @st.fragment(run_every=every)
    def live():
        box = st.container()  # a queued or ended run's status (ended_ui); the view stays below it in every state
        if job is None:
            # Empty axes now: the student sees where the curves will go, and the browser has plotly loaded
            # before Start, so the first point appears at once (measured: 3.5 s later without this).
            live_view(st.container(), "live", {"chart_loss": plots.batch_loss_spec([], [], 1, total_epochs=cfg.epochs),
                                               "chart_epochs": plots.epoch_curves_spec([], cfg.epochs)},
                      head=heading_for(cfg, "ready"),
                      progress=(0.0, "Choose settings on the left, then press ▶ Start training: the curves "
                                     "appear here as it learns."))
            return
        s = job.snapshot()
        if s.state != drawn_state:
            st.rerun()  # started or finished: redraw the page once, with the right timer
        smooth = st.session_state.get("w_smooth", True)
        if s.state == "running":  # everything that changes each second is in the one view
            live_view(st.container(), "live", figures(s, smooth), head=heading(s), progress=live_progress(s),
                      follow=feed.PATH.format(job_id=job.id).lstrip("/") + f"?smooth={int(smooth)}"
                      if follows_feed else None)
            return
        with box:
            ended_ui(s)
        live_view(st.container(), "live", figures(s, smooth) if s.state != "queued" else {})

    live()


@st.fragment
def run_area(cfg: TrainConfig) -> None:
    """Start/Stop and the live view. A fragment, so that a click on Start redraws only this part: the run that
    answers the click overlaps the new job's first epochs, and the sidebar need not be redrawn then (with
    the callbacks above, a digits run's overhead with the browser on another core went from 12.5 % to
    8.6 %). The job's view inside it is a fragment of its own (see job_ui)."""
    job = current_job()
    start_ui(cfg, job)
    live_ui(cfg, job)


st.title("Train a classifier, watch it learn")
run_area(controls_ui())
