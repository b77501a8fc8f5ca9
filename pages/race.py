"""Same-seed race: two settings from identical initial weights and data order, on synchronized live charts."""

import streamlit as st

from core import plots
from core.events import ACTIVE, RACE
from core.i18n import N_, bare, shown, tr
from ui.controls import LABELS, setting, setting_value
from ui.i18n import fragment
from ui.labels import PAUSED, state_word
from ui.live_view import live_chart
from ui.projector import title_row
from ui.services import current
from ui.session import refused_ui, submit
from ui.state import kept, kept_config

VARY = ("lr", "batch_size", "optimizer", "model")  # the settings a race can differ in


def setting_name(field: str) -> str:
    """A setting's label without its parenthesis ('Learning rate'), in the page's language."""
    return bare(tr(LABELS[field]))


def intro_ui(base) -> None:
    st.markdown(
        tr(
            "Two runs start from **the same initial weights** and see **the same batches in the same order** "
            "(same seed); only the setting you choose differs. Whatever separates the curves is that setting."
        )
    )
    st.caption(
        tr(
            "Everything else as on the Train page: {dataset}, {model}, {optimizer}, lr {lr:g}, batch {batch}, "
            "{epochs} epochs, seed {seed}.",
            dataset=setting_value("dataset", base.dataset),
            model=setting_value("model", base.model),
            optimizer=setting_value("optimizer", base.optimizer),
            lr=base.lr,
            batch=base.batch_size,
            epochs=base.epochs,
            seed=base.seed,
        )
    )


def sides_ui(base):
    """The setting to race on and its two values: (field, A's config, B's config, what is wrong with them)."""
    field = st.selectbox(tr("Race on"), VARY, format_func=lambda f: tr(LABELS[f]), key="race_field")
    a_col, b_col = st.columns(2)
    defaults = {
        "lr": (base.lr, base.lr / 10),
        "batch_size": (base.batch_size, max(1, base.batch_size // 4)),
        "optimizer": ("sgd", "adam"),
        "model": ("softmax", "mlp"),
    }[field]
    with a_col:
        a = setting(field, f"race_a_{field}", tr("A: {setting}", setting=tr(LABELS[field])), defaults[0])
    with b_col:
        b = setting(field, f"race_b_{field}", tr("B: {setting}", setting=tr(LABELS[field])), defaults[1])
    cfg_a, cfg_b = base.with_(**{field: a}), base.with_(**{field: b})
    problems = cfg_a.errors() + cfg_b.errors()
    for p in problems:
        st.error(p)
    return field, cfg_a, cfg_b, problems


def start(cfg_a, cfg_b) -> None:
    """Both halves, credited to the student (their nickname, tagged as a race: the board leaves races out), owned
    by this session like a Train run: stopped by the reaper once its tab is gone."""
    nickname = kept("w_nick", "").strip()
    a_job = submit(cfg_a, nickname=nickname, tag=RACE)
    b_job = submit(cfg_b, nickname=nickname, tag=RACE) if a_job is not None else None
    if b_job is None and a_job is not None:  # the limit refused the second half: no half race
        a_job.stop(N_("Stopped: the other half of the race could not start."))
    st.session_state["race_ids"] = [a_job.id, b_job.id] if b_job is not None else []


def buttons_ui(jobs, cfg_a, cfg_b, problems) -> bool:
    """Start, Stop, Pause or Resume, and Step, for both runs at once; whether the race is on."""
    racing = any(j.state in ACTIVE for j in jobs)
    paused = racing and any(j.snapshot(light=True).paused for j in jobs)
    c1, c2, c3, c4 = st.columns([1.2, 1, 1, 2.8])
    if c1.button(tr("🏁 Start the race"), type="primary", disabled=bool(problems) or racing):
        start(cfg_a, cfg_b)
        st.rerun()
    if c2.button(tr("■ Stop both"), disabled=not racing):
        for j in jobs:
            j.stop()
        st.rerun()
    # Pause holds both before their next minibatch; Step runs one minibatch of each, so they stay side by side
    if c3.button(tr("▶ Resume both") if paused else tr("⏸ Pause both"), disabled=not racing):
        for j in jobs:
            if paused:
                j.resume()
            else:
                j.pause()
        st.rerun()
    if c4.button(
        tr("⏭ Step both"),
        disabled=not paused,
        help=tr("One minibatch each, with the same images: A and B see the same batch"),
    ):
        for j in jobs:
            j.step()
        st.rerun()
    refused_ui()
    return racing


def race_ui(jobs, field: str, racing: bool, presenter: bool = False) -> None:
    size = {"height": 320} if presenter else {}  # on the projector both charts end above 720 px

    @fragment(run_every=0.7 if racing else None)
    def live():
        snaps = [j.snapshot() for j in jobs]
        if racing and not any(s.state in ACTIVE for s in snaps):
            st.rerun()
        names = ["A", "B"]
        for col, name, s in zip(st.columns(2), names, snaps):
            side_ui(col, name, s, field)
        if all(s.losses for s in snaps):
            st.markdown(
                tr(
                    "First-batch loss: {losses} — computed before any update, so equal settings start equal.",
                    losses=" · ".join(f"**{n}** {s.losses[0]:.4f}" for n, s in zip(names, snaps)),
                )
            )
        series = [
            (f"{n}", [x / s.started.batches_per_epoch for x in s.steps], list(s.losses))
            for n, s in zip(names, snaps)
            if s.started
        ]
        left, right = st.columns(2)
        live_chart(left, plots.race_losses(series, **size), key="race_loss")
        rows = [(n, [{"epoch": e.epoch, "test_acc": e.test_acc} for e in s.epochs]) for n, s in zip(names, snaps)]
        accuracy = plots.compare_curves(rows, "test_acc", tr("Test accuracy per epoch"), **size)
        live_chart(right, accuracy, key="race_acc")

    live()


def side_ui(col, name: str, s, field: str) -> None:
    """One side of the race: its value of the setting, how far it got, a Step's result, why it stopped."""
    v = getattr(s.config, field)
    col.subheader(
        tr("{side}: {setting} {value:g}", side=name, setting=setting_name(field).lower(), value=v)
        if isinstance(v, float)
        else f"{name}: {setting_value(field, v)}"
    )
    state = state_word(PAUSED if s.paused else s.state)
    text = tr("{state} · test acc {acc:.1%}", state=state, acc=s.done.test_acc) if s.done else state
    col.progress(min(s.progress, 1.0), text=text)
    if s.paused and s.stepped:
        t = s.stepped
        col.caption(
            tr(
                "Step {step}: loss on its batch {before:.4f} → {after:.4f}",
                step=t.step,
                before=t.loss_before,
                after=t.loss_after,
            )
        )
    if s.message:
        col.warning(shown(s.message))  # kept as an id and its values: said in this page's language


def render() -> None:
    services = current()  # this server's jobs and run store (ui/services.py)
    base = kept_config()
    presenter = title_row(tr("Same-seed race"), tr("For the projector: the race's settings folded, its charts in view"))
    # on the projector the explanation and the settings fold away (still there, one click off): the charts move up
    with st.expander(tr("The race's settings")) if presenter else st.container():
        intro_ui(base)
        field, cfg_a, cfg_b, problems = sides_ui(base)
    jobs = [j for j in (services.jobs.get(i) for i in st.session_state.get("race_ids", [])) if j is not None]
    racing = buttons_ui(jobs, cfg_a, cfg_b, problems)
    if jobs:
        race_ui(jobs, field, racing, presenter)


render()
