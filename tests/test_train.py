import inspect
import json
import subprocess
import sys
import threading
import time

import pytest
import torch

from core import data as D
from core.config import PRESETS, TrainConfig
from core.i18n import shown
from core.train import BatchEnd, Done, EpochEnd, Failed, Started, Stopped, estimate_seconds, train

ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent
FAST = TrainConfig(dataset="digits", model="softmax", lr=0.5, batch_size=64, epochs=3)


def losses(cfg):
    return [e.loss for e in train(cfg) if isinstance(e, BatchEnd)]


def test_event_stream_shape_and_learning():
    events = list(train(FAST))
    assert isinstance(events[0], Started) and isinstance(events[-1], Done)
    start = events[0]
    assert start.n_train == 1500 and start.batches_per_epoch == 24 and start.classes[3] == "3"
    batches = [e for e in events if isinstance(e, BatchEnd)]
    epochs = [e for e in events if isinstance(e, EpochEnd)]
    assert len(batches) == 3 * 24 and [e.epoch for e in epochs] == [1, 2, 3]
    assert all(b.examples_per_s > 0 and b.eta_s >= 0 for b in batches)
    assert epochs[-1].eta_s == 0 and epochs[0].val_acc is None
    done = events[-1]
    assert done.test_acc > 0.85 and done.probs.shape == (297, 10) and done.labels.shape == (297,)
    assert done.predictions.shape == (297,)
    assert abs(float(done.probs.sum(1).mean()) - 1) < 1e-5
    assert epochs[-1].train_loss < epochs[0].train_loss


@pytest.mark.parametrize("model,opt", [("softmax", "sgd"), ("softmax", "adam"), ("mlp", "sgd"), ("cnn", "adam")])
def test_same_config_and_seed_give_identical_curve(model, opt):
    cfg = FAST.with_(model=model, optimizer=opt, lr=0.01 if opt == "adam" else 0.1, epochs=1)
    a, b = losses(cfg), losses(cfg)
    assert a == b and len(a) == 24
    assert losses(cfg.with_(seed=1)) != a


def test_every_model_learns_digits():
    for model, opt, lr in (("mlp", "sgd", 0.5), ("cnn", "adam", 0.01)):
        done = list(train(FAST.with_(model=model, optimizer=opt, lr=lr, epochs=4)))[-1]
        assert isinstance(done, Done) and done.test_acc > 0.85, (model, done)


def test_validation_split_and_subset():
    events = list(train(FAST.with_(val_fraction=0.2, train_subset=100, epochs=1)))
    assert events[0].n_train == 100 and events[0].n_val == 300
    epoch = next(e for e in events if isinstance(e, EpochEnd))
    assert 0 <= epoch.val_acc <= 1 and epoch.val_loss > 0


def test_diverging_run_fails_with_a_learning_rate_message():
    events = list(train(FAST.with_(lr=3.0, model="mlp", optimizer="adam", epochs=5)))
    last = events[-1]
    assert isinstance(last, Failed), last
    said = shown(last.message)
    assert "learning rate (3) is probably too high" in said and "try 0.3" in said and "Traceback" not in said
    assert any(isinstance(e, BatchEnd) for e in events)  # the curve so far is there


def test_divergence_rule():
    from core.train import diverged

    assert diverged(float("nan")) and diverged(float("inf")) and diverged(1e4)
    assert not diverged(2.3) and not diverged(150.0)


def test_bad_config_is_a_failed_event_not_an_exception():
    last = list(train(FAST.with_(batch_size=0, lr=-1)))[-1]
    assert isinstance(last, Failed) and "batch_size" in last.message and "lr" in last.message


def test_missing_dataset_is_a_failed_event(tmp_path, monkeypatch):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setattr("core.data.SYSTEM_DIRS", {})
    monkeypatch.setattr(
        "core.data.download",
        lambda *a, **k: (_ for _ in ()).throw(
            __import__("core.data").data.DatasetMissing("offline: put the four files in place")
        ),
    )
    last = list(train(FAST.with_(dataset="mnist")))[-1]
    assert isinstance(last, Failed) and "four files" in last.message


def test_stop_ends_within_a_batch():
    stop = threading.Event()
    seen = 0
    for e in train(FAST.with_(batch_size=1, epochs=2), stop):
        if isinstance(e, BatchEnd):
            seen += 1
            if seen == 5:
                stop.set()
        last = e
    assert isinstance(last, Stopped) and seen == 5


def test_batch_size_larger_than_dataset_is_one_batch():
    events = list(train(FAST.with_(batch_size=4096, epochs=1)))
    assert events[0].batches_per_epoch == 1 and isinstance(events[-1], Done)


def test_presets_are_the_seed_recipes():
    d2l = PRESETS["d2l-softmax"]
    assert (d2l.dataset, d2l.model, d2l.optimizer, d2l.lr, d2l.batch_size, d2l.epochs) == (
        "fashion-mnist",
        "softmax",
        "sgd",
        0.1,
        256,
        10,
    )
    cnn = PRESETS["seed-cnn"]
    assert (cnn.model, cnn.optimizer, cnn.lr, cnn.batch_size, cnn.epochs) == ("cnn", "adam", 0.01, 100, 2)
    lr = PRESETS["mnist-logreg"]
    assert (lr.dataset, lr.lr, lr.batch_size, lr.val_fraction, lr.epochs) == ("mnist", 0.001, 100, 0.2, 5)
    assert all(not p.errors() for p in PRESETS.values())


def _cli(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "core.train", *args], cwd=ROOT, capture_output=True, text=True, timeout=120, env=env
    )


def test_cli_prints_json_per_epoch_and_final():
    r = _cli(
        "--dataset",
        "digits",
        "--model",
        "softmax",
        "--lr",
        "0.5",
        "--batch-size",
        "64",
        "--epochs",
        "2",
        "--optimizer",
        "sgd",
        "--seed",
        "3",
        "--json",
    )
    assert r.returncode == 0, r.stderr
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert [x.get("epoch") for x in lines[:2]] == [1, 2]
    assert lines[-1]["done"] and lines[-1]["test_acc"] > 0.8 and lines[-1]["train_s_per_epoch"] > 0
    assert lines[-1]["config"]["seed"] == 3


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--lr", "-1"], "lr must be between"),
        (["--lr", "abc"], "invalid float value"),
        (["--batch-size", "0"], "batch_size must be between"),
        (["--epochs", "1000"], "epochs must be between"),
        (["--val-fraction", "0.95"], "val_fraction must be between"),
        (["--model", "resnet"], "invalid choice"),
        (["--preset", "nope"], "invalid choice"),
        (["--bogus"], "unrecognized arguments"),
        (["--threads", "0"], "threads must be at least 1"),
    ],
)
def test_cli_bad_argument_is_one_line_and_exit_2(args, needle):
    r = _cli(*args)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and needle in r.stderr and r.stdout == ""


def test_cli_preset_with_override(monkeypatch):
    r = _cli("--preset", "d2l-softmax", "--dataset", "digits", "--epochs", "1")
    assert r.returncode == 0, r.stderr
    final = json.loads(r.stdout.splitlines()[-1])
    assert final["config"]["lr"] == 0.1 and final["config"]["batch_size"] == 256


def test_cli_threads_sets_torchs_thread_count(monkeypatch):
    import torch

    from core import train as T

    seen = []
    monkeypatch.setattr(torch, "set_num_threads", seen.append)
    assert T.main(["--dataset", "digits", "--epochs", "1", "--threads", "1"]) == 0
    assert seen == [1]


def test_warm_up_imports_torchs_optimizer_machinery_once_in_the_background_after_the_first_page():
    code = (
        "import json, sys, time\n"
        "from core.process import page_drawn, warm_up\n"
        "before = 'torch._dynamo' in sys.modules\n"
        "t = warm_up()\n"
        "time.sleep(3)\n"
        "waits = 'torch._dynamo' not in sys.modules and t.is_alive()\n"  # torch imported, then it waits
        "page_drawn()\n"
        "t.join(300)\n"
        "print(json.dumps([before, t.daemon, 'torch' in sys.modules, waits, 'torch._dynamo' in sys.modules,\n"
        "                  warm_up() is None]))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == [False, True, True, True, True, True]


def test_slow_motion_spaces_the_epochs_and_keeps_the_maths():
    """pace="slow" makes each epoch last about a second, for a class to follow; the curve is the same."""
    cfg = TrainConfig(dataset="digits", epochs=2)
    t = time.perf_counter()
    slow = list(train(cfg.with_(pace="slow")))
    took = time.perf_counter() - t
    fast = list(train(cfg))
    losses = [[e.loss for e in run if isinstance(e, BatchEnd)] for run in (slow, fast)]
    assert losses[0] == losses[1] and took >= 2 * 0.9
    slow_epochs = [e for e in slow if isinstance(e, EpochEnd)]
    assert all(e.epoch_s < 0.5 for e in slow_epochs)  # the waits are not training time
    assert estimate_seconds(cfg.with_(pace="slow"), D.load("digits"), 1) >= 2.0
    assert "pace must be one of full, slow" in " ".join(cfg.with_(pace="snail").errors())


def test_a_finished_runs_loss_gets_a_verdict():
    from core.metrics import diagnose

    flat = [2.3] * 50
    assert diagnose([2.3, 40.0, 9.0, 6.0], [8.0, 6.0], 10)[0] == "too_high"  # ended above where it started
    assert diagnose([2.3, 200.0, 1.9, 1.6], [1.9, 1.6], 3)[0] == "too_high"  # spiked and it cost the run
    assert diagnose([2.3, 5.0] + flat, [2.3, 2.3], 0.1)[0] == "too_high"  # jumped, then stuck: collapsed
    kind, text = diagnose(flat[:-1] + [2.2], [2.25, 2.2], 0.001)
    assert kind == "too_low" and "0.01" in text  # barely fell: a larger rate
    assert diagnose([2.3, 1.0, 0.5], [0.6, 0.5], 0.1)[0] == "still_falling"
    assert diagnose([2.3, 1.0, 0.5], [0.501, 0.5], 0.1) is None  # converged: nothing to say
    assert diagnose([2.3, 40.0, 0.1], [0.2, 0.1], 10)[0] == "still_falling"  # a spike that cost nothing


def test_the_default_run_learns_and_the_page_can_show_its_settings():
    """The first thing a class runs: digits with the defaults ends learned (0.956 measured at seed 0)."""
    from core.config import LR_CHOICES

    cfg = TrainConfig()
    assert cfg.lr in LR_CHOICES  # the Train page's slider holds the same rate the CLI uses
    done = list(train(cfg))[-1]
    assert isinstance(done, Done) and done.test_acc >= 0.93, done


def test_the_first_epoch_shows_its_weights_a_few_times():
    from core.train import Peek

    events = list(train(TrainConfig(dataset="digits", epochs=2, batch_size=32, pace="full")))  # 47 batches
    peeks = [e for e in events if isinstance(e, Peek)]
    assert [p.step for p in peeks] == [3, 12, 24] and all(p.epoch == 1 for p in peeks)
    assert peeks[0].weights["W"].shape == (64, 10)
    first_epoch_end = next(i for i, e in enumerate(events) if isinstance(e, EpochEnd))
    assert all(events.index(p) < first_epoch_end for p in peeks)


def test_the_learning_rate_schedules():
    from core.train import lr_at

    cfg = TrainConfig(lr=0.4)
    assert [lr_at(cfg, s, 100) for s in (0, 99)] == [0.4, 0.4]
    stepped = cfg.with_(schedule="step")
    assert [round(lr_at(stepped, s, 100), 6) for s in (0, 49, 50, 74, 75, 99)] == [0.4, 0.4, 0.04, 0.04, 0.004, 0.004]
    cosine = cfg.with_(schedule="cosine")
    assert lr_at(cosine, 0, 100) == 0.4 and lr_at(cosine, 50, 100) == pytest.approx(0.2)
    assert lr_at(cosine, 99, 100) < 0.001


def test_weight_decay_shrinks_the_weights_and_the_code_view_shows_how():
    from core.optim import decayed
    from core.train import lr_at, training_code

    plain, decay = (TrainConfig(epochs=3, weight_decay=wd) for wd in (0.0, 0.05))
    norms = [list(train(c))[-1].weights["W"].norm() for c in (plain, decay)]
    assert norms[1] < 0.8 * norms[0], norms
    code = lambda cfg: [piece.code for piece in training_code(cfg)]
    assert "weight_decay" in inspect.getsource(code(decay)[-2])  # softmax_regression_step, written by hand
    mlp = decay.with_(model="mlp", schedule="cosine")
    assert decayed in code(mlp) and lr_at in code(mlp)
    assert lr_at not in code(plain)


def test_dropout_is_a_layer_of_the_mlp_and_cnn_only_while_training():
    from core import models as M

    mlp = M.build("mlp", 8, dropout=0.5)
    assert any(isinstance(m, torch.nn.Dropout) for m in mlp.modules())
    assert not any(isinstance(m, torch.nn.Dropout) for m in M.build("mlp", 8).modules())  # the seed's layers
    x = torch.rand(4, 1, 8, 8)
    mlp.eval()
    assert torch.equal(mlp(x), mlp(x))  # no dropout at evaluation
    cnn = M.build("cnn", 28, dropout=0.3)
    assert sum(isinstance(m, torch.nn.Dropout) for m in cnn.modules()) == 2
    done = list(train(TrainConfig(model="mlp", dropout=0.5, epochs=2, lr=0.1)))[-1]
    assert isinstance(done, Done) and done.test_acc > 0.8
