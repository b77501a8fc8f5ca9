"""Rewind: a run keeps its weights at each epoch and in the first epoch's first minutes, bounded, in its store,
so a finished run can be rewound after a restart; the weights read back are the ones it had."""

import pytest
import torch

from core import data as D
from core import recorder as R
from core.checkpoint import load_weights
from core.config import TrainConfig
from core.events import EpochEnd, Peek
from core.jobs import JobManager
from core.recorder import Recorder, rewind_epochs
from core.store import RunStore
from core.train import PEEKS, evaluate, restore

CFG = TrainConfig(dataset="digits", model="softmax", lr=0.5, batch_size=64, epochs=3)


def run_with_store(store, cfg=CFG):
    events = []
    mgr = JobManager(listeners=(Recorder(store), lambda job, e: events.append(e)))
    job = mgr.submit(cfg)
    assert job.wait(120)
    mgr.close()
    return job, events


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_a_run_keeps_its_weights_at_each_epoch_and_its_first_peeks(store_where):
    store = RunStore(store_where)
    job, events = run_with_store(store)
    points = store.rewind_points(job.id)
    per_epoch = job.snapshot().started.batches_per_epoch
    peeks = [e for e in events if isinstance(e, Peek)]
    epochs = [e for e in events if isinstance(e, EpochEnd)]
    assert [p["step"] for p in points] == [p.step for p in peeks] + [e.epoch * per_epoch for e in epochs]
    assert [p["epoch"] for p in points] == [1] * len(PEEKS) + [1, 2, 3]
    assert [p["fraction"] for p in points][-3:] == [1.0, 1.0, 1.0] and points[0]["fraction"] < 0.1
    for p, e in zip(points[len(PEEKS) :], epochs):
        assert same(load_weights(store.rewind_weights(job.id, p["step"])), e.weights)
    assert same(load_weights(store.rewind_weights(job.id, points[0]["step"])), peeks[0].weights)
    assert same(load_weights(store.rewind_weights(job.id, points[-1]["step"])), job.snapshot().done.weights)
    assert store.rewind_weights(job.id, 10**6) is None


def test_a_rewound_epoch_scores_what_that_epoch_scored_after_a_restart(tmp_path):
    where = tmp_path / "runs.db"
    job, events = run_with_store(RunStore(where))
    reopened = RunStore(where)  # the server restarted: a new store object on the same file
    first = reopened.rewind_points(job.id)[len(PEEKS)]
    ds = D.load("digits")
    weights = load_weights(reopened.rewind_weights(job.id, first["step"]))
    loss, acc, _ = evaluate(restore(CFG.to_dict(), weights), ds.test_x, ds.test_y)
    epoch1 = next(e for e in events if isinstance(e, EpochEnd))
    assert acc == pytest.approx(epoch1.test_acc, abs=1e-6) and loss == pytest.approx(epoch1.test_loss, rel=1e-5)
    reopened.delete(job.id)
    assert reopened.rewind_points(job.id) == []


def test_rewind_is_bounded_in_count_and_bytes_and_keeps_first_and_last():
    assert rewind_epochs(10, 31_000) == set(range(1, 11))
    for epochs, size in ((100, 31_000), (40, 3_300_000), (100, 10**9)):
        kept = rewind_epochs(epochs, size)
        assert {1, epochs} <= kept and len(kept) + len(PEEKS) <= max(R.REWIND_MAX, len(PEEKS) + 2)
        assert len(kept) <= 2 or (len(kept) + len(PEEKS)) * size <= R.REWIND_BYTES
    assert len(rewind_epochs(100, 31_000)) == R.REWIND_MAX - len(PEEKS)


def test_a_long_run_stores_only_the_epochs_its_bound_keeps(tmp_path, monkeypatch):
    monkeypatch.setattr(R, "REWIND_MAX", len(PEEKS) + 3)
    store = RunStore(tmp_path / "runs.db")
    cfg = CFG.with_(epochs=7)
    job, _ = run_with_store(store, cfg)
    ends = [p["epoch"] for p in store.rewind_points(job.id) if p["fraction"] == 1]
    assert ends == [1, 4, 7] == sorted(rewind_epochs(7, 1))


# ---------------------------------------------------------------------------------------------- the pages


def trained_in_app(epochs=3):
    from tests.conftest import app, start_job

    at = app()
    at.number_input(key="w_epochs").set_value(epochs).run()
    return at, start_job(at)


def test_results_rewound_to_epoch_1_shows_epoch_1s_test_accuracy():
    at, job = trained_in_app()
    s = job.snapshot()
    at.switch_page("pages/results.py").run()
    slider = at.select_slider(key="res_rewind")
    assert slider.value == -1 and slider.options[-1] == "now" and slider.options[len(PEEKS)] == "epoch 1"
    epoch1 = RunStore_default().rewind_points(job.id)[len(PEEKS)]["step"]  # the first epoch's end, after its peeks
    slider.set_value(epoch1).run()
    assert not at.exception, at.exception
    shown = float(at.metric[0].value.rstrip("%")) / 100
    assert shown == pytest.approx(s.epochs[0].test_acc, abs=0.0006)  # shown to 0.1 %
    assert any("rewound to epoch 1" in c.value for c in at.caption), [c.value for c in at.caption]
    at.switch_page("pages/inside.py").run()  # Inside shows the same point, then the run as it is now
    assert at.select_slider(key="in_rewind").value == epoch1
    assert any("epoch 1 (rewound)" in c.value for c in at.caption)
    at.select_slider(key="in_rewind").set_value(-1).run()
    at.switch_page("pages/results.py").run()
    assert float(at.metric[0].value.rstrip("%")) / 100 == pytest.approx(s.done.test_acc, abs=0.0006)


def test_inside_rewound_shows_that_points_templates_and_plays_every_point():
    at, job = trained_in_app()
    at.switch_page("pages/inside.py").run()
    slider = at.select_slider(key="in_rewind")
    first = RunStore_default().rewind_points(job.id)[0]["step"]
    slider.set_value(first).run()
    assert not at.exception, at.exception
    assert any("of epoch 1 (rewound)" in c.value for c in at.caption), [c.value for c in at.caption]
    import json

    fig = json.loads(next(c for c in at.get("plotly_chart") if "in_templates" in c.proto.id).proto.spec)
    from tests.conftest import plotly_array

    peek = next(p for p in RunStore_default().rewind_points(job.id) if p["step"] == first)
    W = load_weights(RunStore_default().rewind_weights(job.id, peek["step"]))["W"].numpy()
    assert plotly_array(fig["data"][0]["z"]).ravel() == pytest.approx(W[:, 0], abs=1e-6)
    at.select_slider(key="in_rewind").set_value(-1).run()  # now: the Play figure has a frame per kept point
    play = json.loads(next(c for c in at.get("plotly_chart") if "in_templates_play" in c.proto.id).proto.spec)
    assert len(play["frames"]) == len(PEEKS) + 3
    assert [s["label"] for s in play["layout"]["sliders"][0]["steps"]][-1] == "epoch 3"


def RunStore_default():
    from ui.services import current

    return current().store()


def test_play_waits_for_the_run_to_end_while_inside_redraws_every_second():
    from tests.conftest import app, start_job, until

    at = app()
    at.number_input(key="w_epochs").set_value(100).run()
    job = start_job(at, wait=None)
    try:
        assert until(lambda: len(RunStore_default().rewind_points(job.id)) >= len(PEEKS) + 1)
        at.switch_page("pages/inside.py").run()
        ids = [c.proto.id for c in at.get("plotly_chart")]
        assert any("in_templates" in i for i in ids) and not any("in_templates_play" in i for i in ids)
    finally:
        job.stop()
        assert job.wait(60)
    at.run()
    assert any("in_templates_play" in c.proto.id for c in at.get("plotly_chart"))  # ended: Play is offered
