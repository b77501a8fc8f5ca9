"""Words the pages and the live feed show about a run: headings and progress lines, written once."""

from __future__ import annotations

import re

from core import data as D
from core import models as M
from core.events import DONE, FAILED, QUEUED, RUNNING, STOPPED

READY = "ready"  # the Train page before its first run
# Characters Streamlit's Markdown gives a meaning (links, images, emphasis, :colour[...] and emoji, $LaTeX$, HTML)
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$&])")


def md(text: str) -> str:
    """A student's text (a nickname, a file name) as literal characters in anything Streamlit reads as
    Markdown: st.markdown, captions, alerts, table cells, widget and button labels."""
    return _MARKDOWN.sub(r"\\\1", str(text))


STATE_ICONS = {READY: "👉", QUEUED: "⏳", RUNNING: "🏃", DONE: "✅", STOPPED: "⏹️", FAILED: "❌"}


def model_label(name: str) -> str:
    return M.spec(name).label


def describe(cfg) -> str:
    """'Softmax regression on Digits 8x8 · lr 0.3 · batch 32': a run's settings in a line."""
    dataset = D.info(cfg.dataset).title.split(" (")[0]
    return f"{M.spec(cfg.model).short} on {dataset} · lr {cfg.lr:g} · batch {cfg.batch_size}"


def heading_for(cfg, state: str) -> str:
    return f"{STATE_ICONS[state]} {state.capitalize()}: {describe(cfg)}"


def heading(s) -> str:
    if getattr(s, "paused", False):  # running, but held by Pause: Step runs one minibatch
        return f"⏸️ Paused: {describe(s.config)}"
    return heading_for(s.config, s.state)


def progress_of(s) -> tuple[float, str] | None:
    """A job's progress bar (fraction, text), or None before its first batch."""
    b = s.last_batch
    if b is None:
        return None
    text = (
        f"epoch {b.epoch}/{s.config.epochs} · batch {b.batch}/{b.batches} · "
        f"{b.examples_per_s:,.0f} images/s · elapsed {b.elapsed_s:.1f} s"
    )
    if s.state == RUNNING:
        text += f" · about {b.eta_s:.0f} s left"
    return min(s.progress, 1.0), text


def live_progress(s) -> tuple[float, str]:
    """A running job's progress line from its start, so the charts below it do not move at the first batch."""
    return progress_of(s) or (0.0, "Starting: loading the images and building the model…")


def ended_progress(s) -> tuple[float, str] | None:
    """A queued or ended run's progress line: a finished run's result, else how far it got."""
    if s.done is not None:
        d = s.done
        return 1.0, (
            f"test accuracy {d.test_acc:.1%} · test loss {d.test_loss:.3f} · {s.config.epochs} epochs, "
            f"{d.train_s_per_epoch:.2f} s each"
        )
    return progress_of(s)
