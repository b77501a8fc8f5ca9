"""Helpers shared by the pages: the job manager, this session's jobs, dataset loading with a message."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from core import data as D
from core.jobs import JobManager, TrainingJob, default_manager
from pages import feed

def _route_through_app() -> None:
    """Make a deep link go through app.py's router.

    Streamlit starts in its legacy mode whenever a pages/ folder exists, and leaves it only once
    st.navigation has run. A first visit straight to /board after the server starts would run
    pages/board.py alone: no page config, and a sidebar listing every file here. Leave that mode and rerun
    through app.py, which resolves the same URL to the same page.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


_route_through_app()

MODEL_LABELS = feed.MODEL_LABELS

# Train-page widget keys for each TrainConfig field; the race page reads the same settings.
FIELDS = {"dataset": "w_dataset", "model": "w_model", "optimizer": "w_optimizer", "lr": "w_lr",
          "batch_size": "w_batch", "epochs": "w_epochs", "val_fraction": "w_val", "train_subset": "w_subset",
          "seed": "w_seed"}



def chart(where, fig, key: str | None = None, config: dict | None = None, **kw):
    """Show a core.plots figure in `where` (st, a column...) with its own projector look, not Streamlit's theme."""
    return where.plotly_chart(fig, key=key, theme=None, config={"displaylogo": False, **(config or {})}, **kw)


# The live view: a run's heading, its progress bar and its charts, redrawn in place every second.
# st.plotly_chart gives an element a new identity whenever its figure changes, so a live chart was torn down and
# rebuilt every second (a student's zoom was lost at each refresh); and each Streamlit element a fragment redraws
# costs the browser React work on the same cores as the training. This component is one element: it keeps its
# plotly divs and hands a changed figure to Plotly.react (uirevision keeps the zoom), skips an unchanged one (the
# epoch curves between epochs), and writes the heading and the bar itself. It uses the plotly.js that Streamlit
# already ships (loading its chart module if no chart has yet).
_LIVE_CSS = """
.live-view { font-family: "Source Sans", "Source Sans Pro", sans-serif; color: #31333F; }
.live-view .live-head { font-size: 1.75rem; font-weight: 600; line-height: 1.3; margin: 0 0 0.5rem; padding: 0; }
.live-view .live-progress-text { font-size: 1rem; margin-bottom: 0.35rem; }
.live-view .live-progress-track { height: 0.5rem; border-radius: 0.25rem; background: #f0f2f6;
  margin-bottom: 1rem; overflow: hidden; }
.live-view .live-progress-bar { height: 100%; background: #1c83e1; }  /* st.progress blue */
.live-view .live-charts { display: grid; gap: 1rem; }
@media (max-width: 640px) { .live-view .live-charts { grid-template-columns: minmax(0, 1fr) !important; } }
"""
_LIVE_JS = """
async function draw(root, data, module) {
  // Draws can overlap: one can wait seconds for plotly.js to load or draw while a newer state arrives. The
  // newest draw wins; an older one stops at its next wait instead of drawing older figures over it.
  const seq = root._drawSeq = (root._drawSeq || 0) + 1;
  const head = root.querySelector(".live-head");
  head.hidden = !data.head;
  if (data.head && head.textContent !== data.head) head.textContent = data.head;
  const progress = root.querySelector(".live-progress");
  progress.hidden = !data.progress;
  if (data.progress) {
    root.querySelector(".live-progress-text").textContent = data.progress.text;
    root.querySelector(".live-progress-bar").style.width = (100 * data.progress.value).toFixed(1) + "%";
  }
  const charts = root.querySelector(".live-charts");
  const figures = data.figures;
  charts.style.gridTemplateColumns = "repeat(" + Math.max(figures.length, 1) + ", minmax(0, 1fr))";
  while (charts.children.length > figures.length) charts.lastChild.remove();
  while (charts.children.length < figures.length) charts.appendChild(document.createElement("div"));
  try {
    if (figures.length && !window.Plotly) {
      await import(new URL(module, appScript()).href);
    }
    for (let i = 0; i < figures.length; i++) {
      if (root._drawSeq !== seq) return;
      const host = charts.children[i];
      if (host._drawn === figures[i]) continue;  // unchanged since the last refresh
      host._drawn = figures[i];
      const fig = JSON.parse(figures[i]);
      await window.Plotly.react(host, fig.data, fig.layout, { displaylogo: false });
    }
  } catch (err) {
    charts.textContent = "The chart could not be drawn: " + err;
  }
}

function appScript() {  // Streamlit's own bundle: its URL is the root the static modules and the feed hang from
  const app = document.querySelector('script[src*="/static/js/index"]');
  return app ? app.src : document.baseURI;
}

function started(data) {  // the run has drawn its first batch: from then on the view refreshes once a second
  return Boolean(data.progress && data.progress.value);
}

function follow(root, feed, module, setTriggerValue, first) {
  clearTimeout(root._timer);
  root._feed = feed;
  const chain = root._chain = {};  // a later follow() (the page redrawn with another feed, or none) ends this one
  root._tick = null;
  if (!feed) return;
  const url = new URL("../../" + feed, appScript()).href;
  let busy = false;
  const tick = async () => {
    // A hidden tab (the student is on another tab or window) fetches and draws nothing, which leaves its
    // share of the CPU to the training; the visibilitychange handler below resumes at once.
    if (root._chain !== chain || !root.isConnected || document.hidden || busy) return;
    busy = true;
    let next = 1000;
    try {
      const r = await fetch(url, { cache: "no-store" });
      const d = r.ok ? await r.json() : { state: "gone" };
      if (d.state !== "running") {
        // ended (or the server lost it): ask the page to redraw itself. That redraw has no feed and ends
        // this chain; should the request be lost (it can come while the page is still busy with the click's
        // run), it is made again.
        setTriggerValue("ended", d.state);
        next = 2000;
      } else {
        await draw(root, d, module);
        if (!started(d)) next = 250;  // no batch yet: look again soon for the first point
      }
    } catch (err) {
      // the server is away for a moment: try again at the next tick
    } finally {
      busy = false;
    }
    if (root._chain === chain) root._timer = setTimeout(tick, next);
  };
  root._tick = tick;
  if (!root._onVisible) {
    root._onVisible = () => {
      if (!root.isConnected) { document.removeEventListener("visibilitychange", root._onVisible); return; }
      if (!document.hidden && root._tick) { clearTimeout(root._timer); root._tick(); }
    };
    document.addEventListener("visibilitychange", root._onVisible);
  }
  root._timer = setTimeout(tick, first);
}

export default async function (component) {
  const { data, parentElement, setTriggerValue } = component;
  let root = parentElement.querySelector(".live-view");
  if (!root) {
    root = document.createElement("div");
    root.className = "live-view";
    root.innerHTML = '<h3 class="live-head"></h3><div class="live-progress"><div class="live-progress-text"></div>'
      + '<div class="live-progress-track"><div class="live-progress-bar"></div></div></div><div class="live-charts"></div>';
    parentElement.appendChild(root);
  }
  // Follow (or stop following) the feed this state names at once, not after the draw: a draw can outlast the
  // arrival of a newer state, and this older one must not then undo the newer one's choice (it did: a view
  // drawn before Start, finishing late, stopped the running view from following its run).
  if ((data.feed || null) !== (root._feed || null)) {
    follow(root, data.feed, data.module, setTriggerValue, started(data) ? 1000 : 250);
  }
  await draw(root, data, data.module);
}
"""
_STATIC_JS = Path(st.__file__).parent / "static" / "static" / "js"
_PLOTLY_MODULE = next((p.name for p in _STATIC_JS.glob("PlotlyChart.*.js")), None)


def live_view(where, key: str, figures: dict, head: str | None = None,
              progress: tuple[float, str] | None = None, follow: str | None = None) -> None:
    """A heading, a progress bar (fraction, text) and figures side by side, redrawn in place (see _LIVE_JS).
    `figures` maps a name to a figure; tests read them by name. With `follow` (a path under the app's root:
    the live feed of pages/feed.py), the view fetches its next state from there every second until the run
    ends (not while its tab is hidden), and then reruns the fragment it is in; without it, a fragment timer
    redraws it."""
    if _PLOTLY_MODULE is None:  # a Streamlit without its plotly module where we expect it: plain elements
        with where:
            if head:
                st.subheader(head)
            if progress:
                st.progress(progress[0], text=progress[1])
            for col, (name, fig) in zip(st.columns(max(len(figures), 1)), figures.items()):
                chart(col, fig, key=name)
        return
    # registering the same definition again is cheap and keeps each runtime (and AppTest's) aware of it
    view = st.components.v2.component("live_view", js=_LIVE_JS, css=_LIVE_CSS, isolate_styles=False)
    with where:
        view(key=key, data={**feed.payload(figures, head, progress), "feed": follow, "module": _PLOTLY_MODULE},
             on_ended_change=lambda: None)


def live_chart(where, fig, key: str) -> None:
    """One figure that a fragment redraws every second, updated in place."""
    live_view(where, key, {key: fig})


def manager() -> JobManager:
    """The process-wide job manager (core.jobs.default_manager is already a process singleton)."""
    return default_manager()


class SessionJobs:
    """The job ids this browser session started; released to the reaper when the session ends."""

    def __init__(self):
        self.ids: list[str] = []


def _release(jobs: SessionJobs) -> None:
    mgr = manager()
    for job_id in jobs.ids:
        job = mgr.get(job_id)
        if job is not None:
            mgr.release(job)


@st.cache_resource(scope="session", on_release=_release, show_spinner=False)
def session_jobs() -> SessionJobs:
    return SessionJobs()


def remember(job: TrainingJob) -> None:
    session_jobs().ids.append(job.id)
    st.session_state["job_id"] = job.id
    st.query_params["job"] = job.id  # a reload of the tab finds its job again


def current_job() -> TrainingJob | None:
    """This session's latest job; after a reload, the one named in the URL (reclaimed from the reaper)."""
    mgr = manager()
    job = mgr.get(st.session_state.get("job_id"))
    if job is None and st.query_params.get("job"):
        job = mgr.get(st.query_params["job"])
        if job is not None:
            mgr.reclaim(job)
            st.session_state["job_id"] = job.id
            ids = session_jobs().ids
            if job.id not in ids:
                ids.append(job.id)
    return job


def current_view():
    """(snapshot, job) for the Results and Inside pages: the newest of this session's job and an uploaded
    checkpoint; job is None when the checkpoint is shown (or nothing is)."""
    job = current_job()
    loaded = st.session_state.get("loaded_snapshot")
    if loaded is not None and (job is None or loaded.submitted_at > job.submitted_at):
        return loaded, None
    return (job.snapshot() if job else None), job


def checkpoint_ui(key: str) -> None:
    """Upload a checkpoint, evaluate it on its test set and make it what Results and Inside show."""
    from core.runs import CheckpointError, load_checkpoint, snapshot_from_checkpoint

    up = st.file_uploader("Load a checkpoint (.pt) saved by this app", type=["pt"], key=key)
    if up is None or st.session_state.get(f"{key}_done") == up.file_id:
        return
    try:
        ckpt = load_checkpoint(up.getvalue())
    except CheckpointError as e:
        st.error(str(e), icon="🛡️")
        return
    ds = load_dataset(ckpt.config.dataset, offer_digits=False)
    if ds is None:
        return
    with st.spinner("Evaluating the checkpoint on the test set…"):
        st.session_state["loaded_snapshot"] = snapshot_from_checkpoint(ckpt, ds, up.name)
    st.session_state[f"{key}_done"] = up.file_id
    acc = st.session_state["loaded_snapshot"].done.test_acc
    saved = f" (saved with {ckpt.test_acc:.2%})" if ckpt.test_acc is not None else ""
    st.success(f"Loaded {up.name}: test accuracy {acc:.2%}{saved}.", icon="✅")


def _use_digits() -> None:
    st.session_state["w_dataset"] = "digits"
    save_kept("w_dataset")


def load_dataset(name: str, offer_digits: bool = True) -> D.Dataset | None:
    """The dataset, or an error box saying what to do, a button to switch to digits, and None."""
    try:
        with st.spinner(f"Loading {D.info(name).title}…"):
            return D.load(name)
    except D.DatasetError as e:
        st.error(str(e), icon="📂")
        if offer_digits:
            st.button("Use the embedded digits dataset instead", type="primary", on_click=_use_digits)
        return None


def keep(key: str, default):
    """Give a widget key a value that survives page switches (Streamlit forgets unrendered widgets)."""
    store = st.session_state.setdefault("_kept", {})
    if key not in st.session_state:
        st.session_state[key] = store.get(key, default)


def kept_config():
    """The TrainConfig the Train page is set to (its defaults for anything not set yet)."""
    from core.config import TrainConfig

    kept = st.session_state.get("_kept", {})
    return TrainConfig(**{f: kept[k] for f, k in FIELDS.items() if k in kept})


def save_kept(*keys: str) -> None:
    store = st.session_state.setdefault("_kept", {})
    for key in keys:
        store[key] = st.session_state[key]
