"""Same-seed race: two settings from identical initial weights and data order, on synchronized live charts."""
import streamlit as st

from core import plots
from pages.common import MODEL_LABELS, live_chart, kept_config, manager

VARY = {"lr": "Learning rate", "batch_size": "Batch size", "optimizer": "Optimizer", "model": "Model"}
LR = [0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]


def value_ui(field: str, label: str, default, key: str):
    if field == "lr":
        return st.select_slider(label, LR, value=default if default in LR else 0.1, key=key,
                                format_func=lambda v: f"{v:g}")
    if field == "batch_size":
        return st.number_input(label, 1, 4096, int(default), key=key)
    if field == "optimizer":
        return st.radio(label, ["sgd", "adam"], index=["sgd", "adam"].index(default), key=key, horizontal=True)
    return st.selectbox(label, list(MODEL_LABELS), index=list(MODEL_LABELS).index(default), key=key,
                        format_func=MODEL_LABELS.get)


st.title("Same-seed race")
st.markdown("Two runs start from **the same initial weights** and see **the same batches in the same order** "
            "(same seed); only the setting you choose differs. Whatever separates the curves is that setting.")
base = kept_config()
st.caption(f"Everything else as on the Train page: {base.dataset}, {base.model}, {base.optimizer}, lr {base.lr:g}, "
           f"batch {base.batch_size}, {base.epochs} epochs, seed {base.seed}.")
field = st.selectbox("Race on", list(VARY), format_func=VARY.get, key="race_field")
a_col, b_col = st.columns(2)
defaults = {"lr": (base.lr, base.lr / 10), "batch_size": (base.batch_size, max(1, base.batch_size // 4)),
            "optimizer": ("sgd", "adam"), "model": ("softmax", "mlp")}[field]
with a_col:
    a = value_ui(field, f"A: {VARY[field]}", defaults[0], f"race_a_{field}")
with b_col:
    b = value_ui(field, f"B: {VARY[field]}", defaults[1], f"race_b_{field}")
cfg_a, cfg_b = base.with_(**{field: a}), base.with_(**{field: b})
problems = cfg_a.errors() + cfg_b.errors()
for p in problems:
    st.error(p)
ids = st.session_state.get("race_ids", [])
jobs = [manager().get(i) for i in ids]
jobs = [j for j in jobs if j is not None]
racing = any(j.state in ("queued", "running") for j in jobs)
c1, c2 = st.columns([1, 4])
if c1.button("🏁 Start the race", type="primary", disabled=bool(problems) or racing):
    st.session_state["race_ids"] = [manager().submit(cfg_a, nickname="race A").id,
                                    manager().submit(cfg_b, nickname="race B").id]
    st.rerun()
if c2.button("■ Stop both", disabled=not racing):
    for j in jobs:
        j.stop()
    st.rerun()


@st.fragment(run_every=0.7 if racing else None)
def live():
    snaps = [j.snapshot() for j in jobs]
    if racing and not any(s.state in ("queued", "running") for s in snaps):
        st.rerun()
    names = ["A", "B"]
    cols = st.columns(2)
    for col, name, s in zip(cols, names, snaps):
        v = getattr(s.config, field)
        col.subheader(f"{name}: {VARY[field].lower()} {v:g}" if isinstance(v, float) else f"{name}: {v}")
        col.progress(min(s.progress, 1.0), text=s.state + (f" · test acc {s.done.test_acc:.1%}" if s.done else ""))
        if s.message:
            col.warning(s.message)
    if all(s.losses for s in snaps):
        st.markdown("First-batch loss: " + " · ".join(f"**{n}** {s.losses[0]:.4f}" for n, s in zip(names, snaps))
                    + " — computed before any update, so equal settings start equal.")
    series = [(f"{n}", [x / s.started.batches_per_epoch for x in s.steps], list(s.losses))
              for n, s in zip(names, snaps) if s.started]
    left, right = st.columns(2)
    live_chart(left, plots.race_losses(series), key="race_loss")
    rows = [(n, [{"epoch": e.epoch, "test_acc": e.test_acc} for e in s.epochs]) for n, s in zip(names, snaps)]
    live_chart(right, plots.compare_curves(rows, "test_acc", "Test accuracy per epoch"), key="race_acc")


if jobs:
    live()
