"""The live feed: what a running job's view shows, as JSON the browser fetches once a second.

While a run trains, the Train page's live view asks `GET /api/live/<job id>` for its heading, progress and
figures instead of Streamlit rerunning the page: a rerun costs the browser React work on the cores the
training uses. ui/server.py mounts the route. No st.* calls here: the route runs outside any script run.
"""

from __future__ import annotations

import base64
import json

import numpy as np
import plotly.graph_objects as go
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from core import plots
from core.i18n import language, tr, using
from ui import labels
from ui.services import current

PATH = "/api/live/{key}"  # a job's owner key: only the tabs that own it can follow it
_TYPED = {"float32": "f4", "float64": "f8", "int32": "i4", "uint8": "u1"}  # plotly.js typed-array names


def url(job, smooth: bool) -> str:
    """The feed of a job, relative to the app's root (the live view resolves it against the page's URL), in the
    page's language."""
    return PATH.format(key=job.owner_key).lstrip("/") + f"?smooth={int(smooth)}&lang={language()}"


def figures(s, smooth: bool = True) -> dict:
    """The Train page's two live charts for a snapshot: loss per batch, and d2l's per-epoch picture."""
    per_epoch = s.started.batches_per_epoch if s.started else None
    rows = [
        {
            "epoch": e.epoch,
            "train_loss": e.train_loss,
            "train_acc": e.train_acc,
            "val_acc": e.val_acc,
            "test_acc": e.test_acc,
        }
        for e in s.epochs
    ]
    return {
        "chart_loss": plots.batch_loss_spec(s.steps, s.losses, per_epoch, smooth=smooth, total_epochs=s.config.epochs),
        "chart_epochs": plots.epoch_curves_spec(rows, s.config.epochs),
    }


def _typed(obj):
    """numpy arrays as plotly.js typed arrays ({dtype, bdata}), as go.Figure.to_json sends them."""
    if isinstance(obj, np.ndarray) and obj.size and str(obj.dtype) in _TYPED:
        out = {"dtype": _TYPED[str(obj.dtype)], "bdata": base64.b64encode(np.ascontiguousarray(obj)).decode()}
        return {**out, "shape": str(obj.shape)[1:-1]} if obj.ndim > 1 else out
    if isinstance(obj, dict):
        return {k: _typed(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_typed(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and obj != obj:
        return None  # JSON has no NaN; plotly reads null as a gap
    return obj


def figure_json(fig) -> str:
    """A go.Figure, or a plain figure dict (core.plots' unvalidated live `*_spec` builders), as plotly JSON."""
    return fig.to_json() if isinstance(fig, go.Figure) else json.dumps(_typed(fig))


def payload(
    figs: dict, head: str | None = None, progress: tuple[float, str] | None = None, announce: str | None = None
) -> dict:
    """What the live view draws: heading, progress bar (fraction, text) and figures by name, each figure's text
    alternative, what a screen reader is told when it changes (`announce`), and the words its script shows (in
    the page's language: live_view.js writes none of its own)."""
    return {
        "texts": {
            "chart_error": tr("The chart could not be drawn: {error}"),  # {error}: filled in by the script
            "progress": tr("Training progress"),
        },
        "head": head,
        "progress": {"value": progress[0], "text": progress[1]} if progress else None,
        "announce": announce,
        "names": list(figs),
        "figures": [figure_json(f) for f in figs.values()],
        "summaries": [plots.describe(f, table=False)[0] for f in figs.values()],
    }


def view_data(s, smooth: bool = True) -> dict:
    """A job's live view as the page draws it while the job runs, with its state."""
    return {
        "state": s.state,
        **payload(figures(s, smooth), labels.heading(s), labels.live_progress(s), labels.announcement(s)),
    }


def _view(key: str, smooth: bool, lang: str | None = None) -> dict | None:
    # the language is set here, in the thread that builds the view: a context variable set on the event loop
    # is not what a pool thread reads
    with using(lang):
        job = current().jobs.by_owner_key(key)
        return view_data(job.snapshot(light=True), smooth) if job is not None else None


async def live_feed(request):
    """GET /api/live/<owner key>?smooth=0|1&lang=en|zh_CN: the job's live view as JSON, in that language
    (English by default); 404 for a key the server does not know (a job it forgot, a guess, or a job's public
    id)."""
    smooth = request.query_params.get("smooth", "1") != "0"
    # off the event loop: building figures (and, on a cluster, asking the coordinator) must not hold up every
    # other tab's websocket
    body = await run_in_threadpool(_view, request.path_params["key"], smooth, request.query_params.get("lang"))
    if body is None:
        return Response(json.dumps({"state": "gone"}), status_code=404, media_type="application/json")
    return Response(json.dumps(body), media_type="application/json", headers={"Cache-Control": "no-store"})
