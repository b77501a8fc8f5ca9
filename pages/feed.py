"""The live feed: what a running job's view shows, as JSON the browser fetches once a second.

Not a page. While a run trains, the Train page's live view asks `GET /api/live/<job id>` for its heading,
progress and figures instead of Streamlit rerunning a fragment every second: each rerun cost the browser
~0.05 s of React work (whatever the page holds) on the cores the training uses. app.py serves the route
(st.App) when `streamlit run app.py` starts the server; without it (AppTest, another launcher) the page keeps
its one-second fragment. No Streamlit here: the route runs outside any script run.
"""
from __future__ import annotations

import json

import plotly.graph_objects as go
from _plotly_utils.utils import convert_to_base64
from plotly.io.json import to_json_plotly
from starlette.responses import Response

from core import data as D
from core import plots
from core.jobs import default_manager

MODEL_LABELS = {"softmax": "Softmax regression (from scratch)", "mlp": "MLP (one hidden layer)",
                "cnn": "CNN (the seed LeNet)"}
STATE_ICONS = {"ready": "👉", "queued": "⏳", "running": "🏃", "done": "✅", "stopped": "⏹️", "failed": "❌"}
PATH = "/api/live/{job_id}"
SERVED = False  # set by app.py when this server answers PATH


def heading(s) -> str:
    return heading_for(s.config, s.state)


def heading_for(cfg, state: str) -> str:
    return (f"{STATE_ICONS[state]} {state.capitalize()}: {MODEL_LABELS[cfg.model].split(' (')[0]} on "
            f"{D.REGISTRY[cfg.dataset].title}, lr {cfg.lr:g}, batch {cfg.batch_size}")


def progress_of(s) -> tuple[float, str] | None:
    b = s.last_batch
    if b is None:
        return None
    text = (f"epoch {b.epoch}/{s.config.epochs} · batch {b.batch}/{b.batches} · "
            f"{b.examples_per_s:,.0f} images/s · elapsed {b.elapsed_s:.1f} s")
    if s.state == "running":
        text += f" · about {b.eta_s:.0f} s left"
    return min(s.progress, 1.0), text


def live_progress(s) -> tuple[float, str]:
    """A running job's progress line, from its start: the line is there before the first batch, so the
    charts below it do not move when that batch arrives."""
    return progress_of(s) or (0.0, "Starting: loading the images and building the model…")


def figures(s, smooth: bool = True) -> dict:
    """The Train page's two live charts for a snapshot: loss per batch, and d2l's per-epoch picture."""
    per_epoch = s.started.batches_per_epoch if s.started else None
    rows = [{"epoch": e.epoch, "train_loss": e.train_loss, "train_acc": e.train_acc, "val_acc": e.val_acc,
             "test_acc": e.test_acc} for e in s.epochs]
    return {"chart_loss": plots.batch_loss_spec(s.steps, s.losses, per_epoch, smooth=smooth,
                                                 total_epochs=s.config.epochs),
            "chart_epochs": plots.epoch_curves_spec(rows, s.config.epochs)}


def figure_json(fig) -> str:
    """A go.Figure, or a fresh plain figure dict (core.plots' live `*_spec` builders), as plotly JSON; numpy
    arrays become plotly's typed arrays either way (convert_to_base64 is what go.Figure.to_dict calls)."""
    if isinstance(fig, go.Figure):
        return fig.to_json()
    convert_to_base64(fig)
    return to_json_plotly(fig)


def payload(figs: dict, head: str | None = None, progress: tuple[float, str] | None = None) -> dict:
    """What the live view draws: heading, progress bar (fraction, text) and figures by name."""
    return {"head": head, "progress": {"value": progress[0], "text": progress[1]} if progress else None,
            "names": list(figs), "figures": [figure_json(f) for f in figs.values()]}


def view_data(s, smooth: bool = True) -> dict:
    """A job's live view as the page draws it while the job runs, with its state."""
    return {"state": s.state, **payload(figures(s, smooth), heading(s), live_progress(s))}


async def live_feed(request):
    """GET /api/live/<job id>?smooth=0|1: the job's live view as JSON; 404 once the server no longer has it."""
    job = default_manager().get(request.path_params["job_id"])
    if job is None:
        return Response(json.dumps({"state": "gone"}), status_code=404, media_type="application/json")
    body = view_data(job.snapshot(), smooth=request.query_params.get("smooth", "1") != "0")
    return Response(json.dumps(body), media_type="application/json", headers={"Cache-Control": "no-store"})
