import threading
import time

import pytest
import torch

import core.jobs as J
from core import data as D
from core import models as M
from core.config import TrainConfig
from core.i18n import shown, using
from core.process import settle_heap
from tests.conftest import require_real, until

CFG = TrainConfig(dataset="digits", model="softmax", lr=0.5, batch_size=64, epochs=2)
SLOW = CFG.with_(batch_size=1, epochs=5)  # ~7,500 steps: long enough to stop or queue behind


def test_eight_jobs_finish_and_never_exceed_the_cap():
    mgr = J.JobManager(cap=2)
    running_seen = []
    lock = threading.Lock()

    def watch(job, event):
        with lock:
            running_seen.append(mgr.counts()["running"])

    mgr.listeners = (watch,)
    jobs = [mgr.submit(CFG.with_(seed=i, model=("softmax", "mlp")[i % 2])) for i in range(8)]
    queued = [j.snapshot().queue_position for j in jobs]
    assert queued[:2] == [None, None] and queued[2:] == [1, 2, 3, 4, 5, 6]
    for j in jobs:
        assert j.wait(120), j.snapshot().state
    snaps = [j.snapshot() for j in jobs]
    assert [s.state for s in snaps] == ["done"] * 8
    assert all(s.done.test_acc > 0.8 for s in snaps)
    assert max(running_seen) <= 2 and mgr.peak_running == 2
    assert mgr.counts()["running"] == 0 and mgr.counts()["queued"] == 0
    mgr.close()


def test_stop_takes_effect_within_a_batch_and_frees_the_slot():
    mgr = J.JobManager(cap=1)
    job = mgr.submit(SLOW)
    waiting = mgr.submit(CFG)
    assert until(lambda: job.snapshot().last_batch is not None, 30, 0.01)
    assert waiting.snapshot().state == "queued" and waiting.snapshot().queue_position == 1
    t = time.time()
    job.stop()
    assert job.wait(5) and time.time() - t < 2
    s = job.snapshot()
    assert s.state == "stopped" and s.message == "Stopped by request."
    assert s.last_batch.step < 7500
    assert waiting.wait(60) and waiting.snapshot().state == "done"
    mgr.close()


def test_a_queued_job_can_be_cancelled():
    mgr = J.JobManager(cap=1)
    first = mgr.submit(SLOW)
    second = mgr.submit(CFG)
    second.stop()
    assert second.wait(1) and second.snapshot().state == "stopped"
    first.stop()
    assert first.wait(5)
    assert mgr.counts()["queued"] == 0
    mgr.close()


def test_a_crashing_job_fails_alone(monkeypatch):
    real_train = J.train

    def flaky(cfg, stop=None, **kw):
        for i, event in enumerate(real_train(cfg, stop, **kw)):
            if cfg.seed == 666 and i == 5:
                raise RuntimeError("disk on fire")
            yield event

    monkeypatch.setattr(J, "train", flaky)
    mgr = J.JobManager(cap=2)
    jobs = [mgr.submit(CFG.with_(seed=s)) for s in (1, 666, 2, 3)]
    for j in jobs:
        assert j.wait(60)
    states = [j.snapshot().state for j in jobs]
    assert states == ["done", "failed", "done", "done"]
    assert "disk on fire" in shown(jobs[1].snapshot().message)
    assert len(jobs[1].snapshot().losses) >= 1  # its curve so far is kept
    mgr.close()


def test_diverging_job_is_failed_with_the_reason():
    mgr = J.JobManager(cap=1)
    job = mgr.submit(CFG.with_(model="mlp", optimizer="adam", lr=3.0, epochs=5))
    assert job.wait(60)
    s = job.snapshot()
    assert s.state == "failed" and "learning rate" in shown(s.message) and s.losses
    mgr.close()


def test_max_runtime_stops_a_job_with_a_message():
    mgr = J.JobManager(cap=1, max_runtime_s=0.3)
    job = mgr.submit(SLOW)
    assert job.wait(10)
    s = job.snapshot()
    assert s.state == "stopped" and shown(s.message) == "Stopped: the run hit the server's limit of 0.3 s."
    with using("zh_CN"):  # kept as an id and its values: each reader reads it in their own language
        assert shown(s.message) == "已停止：这次运行达到了服务器 0.3 秒的时长上限。"
    mgr.close()


def test_released_job_is_stopped_after_the_grace_period_and_forgotten():
    mgr = J.JobManager(cap=2, grace_s=30, reap_every_s=3600)
    kept, gone = mgr.submit(SLOW), mgr.submit(SLOW)
    mgr.release(gone)
    assert mgr.reap() == 0  # still inside the grace period
    assert mgr.reap(now=time.time() + 31) == 1
    assert gone.wait(5) and gone.snapshot().state == "stopped"
    assert "tab was closed" in gone.snapshot().message
    assert kept.state == "running"
    mgr.reap(now=time.time() + 31)
    assert mgr.get(gone.id) is None and mgr.get(kept.id) is kept
    kept.stop()
    assert kept.wait(5)
    mgr.close()


def test_long_runs_keep_a_bounded_thinned_curve(monkeypatch):
    monkeypatch.setattr(J, "MAX_POINTS", 100)
    job = J.TrainingJob(CFG.with_(batch_size=4, epochs=1))  # 375 steps
    job.start()
    assert job.wait(60)
    s = job.snapshot()
    assert len(s.steps) <= 101 and s.steps == tuple(sorted(s.steps))
    assert s.steps[-1] > 300 and s.last_batch.step == 375


def test_snapshot_keeps_weights_only_on_the_latest_epoch():
    job = J.TrainingJob(CFG.with_(epochs=3))
    job.start()
    assert job.wait(60)
    s = job.snapshot()
    assert [e.weights is None for e in s.epochs] == [True, True, False]
    assert s.epochs[-1].test_probs.shape == (297, 10)
    assert s.progress == 1.0


def test_a_jobs_threads_depend_on_its_config_and_the_machine_only():
    """Not on what else runs: the thread count changes the arithmetic, so it must not change with the load."""
    assert J.threads_for(TrainConfig(dataset="fashion-mnist", model="softmax"), cores=4) == 1
    assert J.threads_for(TrainConfig(dataset="digits", model="cnn"), cores=4) == 1
    assert J.threads_for(TrainConfig(dataset="fashion-mnist", model="cnn"), cores=4) == 2
    assert J.threads_for(TrainConfig(dataset="fashion-mnist", model="mlp"), cores=2) == 2
    assert J.threads_for(TrainConfig(dataset="mnist", model="cnn"), cores=1) == 1


def test_a_job_trains_with_the_threads_it_was_given():
    import torch

    seen = []
    job = J.TrainingJob(
        TrainConfig(dataset="digits", epochs=1, train_subset=64),
        listeners=(lambda j, e: seen.append(torch.get_num_threads()),),
    )
    job.start(threads=1)
    assert job.wait(60)
    assert seen and set(seen) == {1}


def test_settle_heap_freezes_the_warm_heap_and_shortens_the_switch_interval():
    import gc
    import sys

    before = sys.getswitchinterval()
    try:
        settle_heap()
        assert gc.get_freeze_count() > 1000
        assert sys.getswitchinterval() == pytest.approx(0.0005)
    finally:
        gc.unfreeze()
        sys.setswitchinterval(before)


def test_memory_is_handed_back_whenever_a_job_ends(monkeypatch):
    calls = []
    monkeypatch.setattr(J, "release_memory", lambda: calls.append(1))
    mgr = J.JobManager(cap=1)
    try:
        done = mgr.submit(TrainConfig(dataset="digits", epochs=1, train_subset=64))
        cancelled = mgr.submit(TrainConfig(dataset="digits", epochs=1))
        cancelled.stop()
        assert done.wait(60) and cancelled.wait(5)
        until(lambda: len(calls) >= 2, 5, 0.05)
        assert len(calls) >= 2
    finally:
        mgr.close()


def test_concurrent_runs_of_one_config_give_the_same_curve_as_one_alone(monkeypatch):
    """Two students start the same seed at once: both get the curve it gives alone, bit for bit, and the
    cores are never oversubscribed (the second CNN waits for its two cores instead of training on one)."""
    root = require_real("fashion-mnist")
    monkeypatch.setenv("DATA_DIR", str(root))
    cfg = TrainConfig(
        dataset="fashion-mnist", model="cnn", optimizer="adam", lr=0.01, batch_size=50, epochs=1, train_subset=1000
    )
    mgr = J.JobManager(cap=4)
    mgr.cores = 2
    busy = []
    mgr.listeners = (lambda job, event: busy.append(sum(j.threads for j in mgr.jobs() if j.state == "running")),)
    try:
        alone = mgr.submit(cfg)
        assert alone.wait(120)
        pair = [mgr.submit(cfg), mgr.submit(cfg), mgr.submit(cfg.with_(model="softmax"))]
        for job in pair:
            assert job.wait(120) and job.state == "done", job.snapshot().message
        assert alone.snapshot().threads == pair[0].snapshot().threads == pair[1].snapshot().threads == 2
        assert alone.snapshot().losses == pair[0].snapshot().losses == pair[1].snapshot().losses
        assert max(busy) <= 2
    finally:
        mgr.close()


def test_a_run_stopped_by_the_server_is_stored_with_that_reason(tmp_path):
    from core.recorder import Recorder
    from core.store import RunStore

    store = RunStore(tmp_path / "runs.db")
    mgr = J.JobManager(cap=2, max_runtime_s=0.3, grace_s=0, reap_every_s=3600, listeners=(Recorder(store),))
    try:
        capped = mgr.submit(SLOW.with_(epochs=50))
        assert capped.wait(30)
        abandoned = J.JobManager(cap=1, grace_s=0, reap_every_s=3600, listeners=(Recorder(store),))
        tab = abandoned.submit(SLOW.with_(epochs=50))
        abandoned.hold(tab, "tab-1")
        abandoned.release(tab, "tab-1")
        abandoned.reap(now=time.time() + 1)
        assert tab.wait(30)
        assert "limit of 0.3 s" in shown(store.get(capped.id)["message"])
        assert "tab was closed" in store.get(tab.id)["message"]  # not "Stopped by request."
        abandoned.close()
    finally:
        mgr.close()


def test_a_light_snapshot_keeps_what_the_live_charts_draw_and_leaves_the_weights():
    import pickle

    job = J.JobManager().submit(CFG.with_(model="mlp", lr=0.1))
    assert job.wait(60)
    full, light = job.snapshot(), job.snapshot(light=True)
    assert (light.steps, light.losses, light.state) == (full.steps, full.losses, full.state)
    assert [e.test_acc for e in light.epochs] == [e.test_acc for e in full.epochs]
    assert light.done.test_acc == full.done.test_acc and not light.done.weights
    assert all(e.weights is None and e.test_probs is None for e in light.epochs) and light.peek is None
    assert len(pickle.dumps(light)) * 4 < len(pickle.dumps(full))  # what a cluster sends each tab each second


def test_pause_holds_the_run_step_runs_exactly_one_minibatch_and_shows_the_sgd_update():
    mgr = J.JobManager(cap=1)
    job = mgr.submit(SLOW)
    assert job.wait_first_batch(30)
    job.pause()
    assert until(lambda: job.snapshot().paused, 30, 0.02)
    time.sleep(0.2)  # the batch under way when Pause came ends; then nothing moves
    held = job.snapshot().last_batch.step
    time.sleep(0.4)
    assert job.snapshot().last_batch.step == held
    waiting = mgr.submit(CFG)  # a paused run keeps its slot
    assert waiting.state == J.QUEUED
    job.step()
    assert until(lambda: job.snapshot().stepped is not None, 30, 0.02)
    s = job.snapshot()
    st = s.stepped
    assert s.last_batch.step == held + 1 == st.step and s.paused
    # the update made visible: W <- W - lr * dW, with dW the hand-written gradient on exactly this batch
    X = D.to_float(st.images.unsqueeze(1)).reshape(len(st.images), -1)
    O = X @ st.before["W"] + st.before["b"]
    dW, db = M.softmax_regression_grads(X, O, st.labels)
    assert torch.allclose(st.after["W"], st.before["W"] - st.lr * dW, atol=1e-6)
    assert st.loss_before == pytest.approx(float(M.cross_entropy(O, st.labels).mean()), rel=1e-5)
    assert st.loss_after < st.loss_before  # one step on this batch lowers its loss
    job.resume()
    assert until(lambda: job.snapshot().last_batch.step > held + 5, 30, 0.02)
    job.stop()
    assert waiting.wait(30) and waiting.state == J.DONE  # the slot passed on


@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_a_step_of_the_mlp_and_cnn_reports_each_layers_gradient_norm(model):
    job = J.JobManager().submit(SLOW.with_(model=model, lr=0.05, batch_size=16))
    assert job.wait_first_batch(30)
    job.pause()
    job.step()
    assert until(lambda: job.snapshot().stepped is not None, 30, 0.02)
    st = job.snapshot().stepped
    layers = {n for n, _ in M.build(model, 8).named_parameters()}
    assert set(st.grad_norms) == layers and all(v > 0 for v in st.grad_norms.values())
    assert st.loss_after < st.loss_before and st.before == {} and len(st.images) == 16
    job.stop()
    assert job.wait(30)


def test_a_paused_run_whose_tab_closed_is_reaped_like_any_other():
    mgr = J.JobManager(grace_s=0.5, reap_every_s=3600)
    job = mgr.submit(SLOW)
    assert job.wait_first_batch(30)
    mgr.hold(job, "tab")
    job.pause()
    mgr.release(job, "tab")
    time.sleep(0.6)
    assert mgr.reap() == 1
    assert job.wait(10) and job.state == J.STOPPED
    assert job.snapshot().message == "Stopped: its browser tab was closed."
