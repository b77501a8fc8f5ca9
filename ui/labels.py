"""Words the pages and the live feed show about a run: headings and progress lines, written once."""

from __future__ import annotations

import re

from core import data as D
from core import models as M
from core.events import DONE, FAILED, INTERRUPTED, QUEUED, RUNNING, STOPPED
from core.i18n import N_, bare, ntr, tr

READY = "ready"  # the Train page before its first run
# Characters Streamlit's Markdown gives a meaning (links, images, emphasis, :colour[...] and emoji, $LaTeX$, HTML)
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$&])")
_AUTOLINK = re.compile(r"(?i)(?:://|www\.|@)")  # what makes Markdown (GFM) link a bare address


def md(text: str) -> str:
    """A student's text (a nickname, a file name) as literal characters in anything Streamlit reads as
    Markdown: st.markdown, captions, alerts, table cells, widget and button labels. A web or mail address is
    never made a link: Markdown links a bare "https://", "www." or "a@b" by itself, escaped or not, so a word
    joiner (invisible, U+2060) goes inside each."""
    text = _AUTOLINK.sub(lambda m: m.group(0)[:-1] + "\u2060" + m.group(0)[-1], str(text))
    return _MARKDOWN.sub(r"\\\1", text)


STATE_ICONS = {READY: "👉", QUEUED: "⏳", RUNNING: "🏃", DONE: "✅", STOPPED: "⏹️", FAILED: "❌"}
# a state as a heading names it (the states themselves are data: compared, stored, sent in the feed)
STATE_NAMES = {
    READY: N_("Ready"),
    QUEUED: N_("Queued"),
    RUNNING: N_("Running"),
    DONE: N_("Done"),
    STOPPED: N_("Stopped"),
    FAILED: N_("Failed"),
}
PAUSED = "paused"  # not a state of its own (a paused run is running): a word the race's cards show
# a state as tables and captions name it, in lower case (in English, the state itself)
STATE_WORDS = {
    QUEUED: N_("queued"),
    RUNNING: N_("running"),
    DONE: N_("done"),
    STOPPED: N_("stopped"),
    FAILED: N_("failed"),
    INTERRUPTED: N_("interrupted"),
    PAUSED: N_("paused"),
}


def model_label(name: str) -> str:
    """A model's label in the current language: 'Softmax regression (from scratch)'."""
    return M.spec(name).display_label


def model_short(name: str) -> str:
    """A model's label without its parenthesis, for headings: 'Softmax regression'."""
    return M.spec(name).short


def dataset_title(name: str) -> str:
    """A dataset's title in the current language: 'Digits 8x8 (embedded)'."""
    return D.info(name).display_title


def dataset_short(name: str) -> str:
    """A dataset's title without its parenthesis: 'Digits 8x8'."""
    return bare(dataset_title(name))


def state_name(state: str) -> str:
    """A run's state as a person reads it: 'Done'."""
    return tr(STATE_NAMES[state]) if state in STATE_NAMES else state.capitalize()


# Run tables' headers and the settings' names in legends: the config's and the store's own names in English (the
# names a student sees in the CLI and in a CSV), a word in other languages
COLUMNS = {
    "rank": N_("rank"),
    "nickname": N_("nickname"),
    "run": N_("run"),
    "dataset": N_("dataset"),
    "model": N_("model"),
    "optimizer": N_("optimizer"),
    "lr": N_("lr"),
    "batch_size": N_("batch size"),
    "epochs": N_("epochs"),
    "val_fraction": N_("validation share"),
    "train_subset": N_("training subset"),
    "seed": N_("seed"),
    "hidden": N_("hidden"),
    "pace": N_("pace"),
    "weight_decay": N_("weight decay"),
    "dropout": N_("dropout"),
    "schedule": N_("schedule"),
    "state": N_("state"),
    "test acc": N_("test acc"),
    "test loss": N_("test loss"),
    "s/epoch": N_("s/epoch"),
}


def column(name: str) -> str:
    """A run table's header or a setting's name, in the current language."""
    return tr(COLUMNS.get(name, name))


def state_word(state: str) -> str:
    """A run's state in a table or a caption: 'done' (in Chinese, 已完成)."""
    return tr(STATE_WORDS.get(state, state))


def describe(cfg) -> str:
    """'Softmax regression on Digits 8x8 · lr 0.3 · batch 32': a run's settings in a line."""
    return tr(
        "{model} on {dataset} · lr {lr:g} · batch {batch}",
        model=model_short(cfg.model),
        dataset=dataset_short(cfg.dataset),
        lr=cfg.lr,
        batch=cfg.batch_size,
    )


def heading_for(cfg, state: str) -> str:
    return tr("{icon} {state}: {run}", icon=STATE_ICONS[state], state=state_name(state), run=describe(cfg))


def heading(s) -> str:
    if getattr(s, "paused", False):  # running, but held by Pause: Step runs one minibatch
        return tr("⏸️ Paused: {run}", run=describe(s.config))
    return heading_for(s.config, s.state)


def progress_of(s) -> tuple[float, str] | None:
    """A job's progress bar (fraction, text), or None before its first batch."""
    b = s.last_batch
    if b is None:
        return None
    values = dict(
        epoch=b.epoch,
        epochs=s.config.epochs,
        batch=b.batch,
        batches=b.batches,
        speed=b.examples_per_s,
        elapsed=b.elapsed_s,
        eta=b.eta_s,
    )
    if s.state == RUNNING:
        text = tr(
            "epoch {epoch}/{epochs} · batch {batch}/{batches} · {speed:,.0f} images/s · elapsed {elapsed:.1f} s"
            " · about {eta:.0f} s left",
            **values,
        )
    else:
        values.pop("eta")
        text = tr(
            "epoch {epoch}/{epochs} · batch {batch}/{batches} · {speed:,.0f} images/s · elapsed {elapsed:.1f} s",
            **values,
        )
    return min(s.progress, 1.0), text


def announcement(s) -> str:
    """What a screen reader is told, politely, as a run goes: that it began, how it stands once an epoch, how it
    ended. It changes once an epoch, not once a second (a student can listen to something else), and it says
    in other words what the heading says, which a screen reader reads as a heading."""
    if s.done is not None:
        return tr("Training complete: {acc:.1%} of the test images right.", acc=s.done.test_acc)
    if s.state == STOPPED:
        return tr("Training ended early.")
    if s.state == FAILED:
        return tr("Training ended with an error, written below.")
    if getattr(s, "paused", False):
        return tr("On hold: Step runs one minibatch, Resume carries on.")
    if s.epochs:
        e = s.epochs[-1]
        return tr("Epoch {epoch} of {epochs} finished: {acc:.1%} of the test images right.", epoch=e.epoch,
                  epochs=s.config.epochs, acc=e.test_acc)  # fmt: skip
    return tr("Training has begun.")


def live_progress(s) -> tuple[float, str]:
    """A running job's progress line from its start, so the charts below it do not move at the first batch."""
    return progress_of(s) or (0.0, tr("Starting: loading the images and building the model…"))


def ended_progress(s) -> tuple[float, str] | None:
    """A queued or ended run's progress line: a finished run's result, else how far it got."""
    if s.done is not None:
        d = s.done
        return 1.0, ntr(
            "test accuracy {acc:.1%} · test loss {loss:.3f} · {n} epoch, {seconds:.2f} s each",
            "test accuracy {acc:.1%} · test loss {loss:.3f} · {n} epochs, {seconds:.2f} s each",
            s.config.epochs,
            acc=d.test_acc,
            loss=d.test_loss,
            seconds=d.train_s_per_epoch,
        )
    return progress_of(s)
