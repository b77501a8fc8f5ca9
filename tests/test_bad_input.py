"""Every bad input ends in a clear message and a working app (AppTest, CLI, jobs)."""

import numpy as np
import pytest

from core import data as D
from core.config import LIMITS, TrainConfig
from core.jobs import JobManager
from core.train import Done, Failed, config_from_args, train
from tests.conftest import app

NUMERIC = {"w_batch": "batch_size", "w_epochs": "epochs", "w_subset": "train_subset", "w_seed": "seed"}


def start_button(at):
    return next(b for b in at.button if "Start" in b.label)


@pytest.mark.parametrize("key,field", NUMERIC.items())
def test_numeric_controls_at_their_bounds_are_accepted(key, field):
    lo, hi = LIMITS[field]
    at = app()
    for value in (lo, hi):
        at.number_input(key=key).set_value(value).run()
        assert not at.exception and not at.error, (key, value, [e.value for e in at.error])
        assert start_button(at).disabled is False


@pytest.mark.parametrize("key,field", NUMERIC.items())
def test_numeric_controls_beyond_their_bounds_cannot_be_entered(key, field):
    lo, hi = LIMITS[field]
    for value in (lo - 1, hi + 1):
        at = app()
        at.number_input(key=key).set_value(value).run()
        assert not at.exception
        assert lo <= at.number_input(key=key).value <= hi  # Streamlit refuses it, the app keeps working
        assert not at.error and start_button(at).disabled is False


def test_validation_fraction_bounds_and_a_tiny_subset_work_in_the_app():
    at = app()
    at.slider(key="w_val").set_value(0.9).run()
    at.number_input(key="w_subset").set_value(1).run()
    assert not at.exception and not at.error
    assert at.caption[0].value.startswith("1 training images ·"), at.caption[0].value  # not 11, not 10 %


@pytest.mark.parametrize(
    "args",
    [
        ["--lr", "1e-5"],
        ["--lr", "10"],
        ["--batch-size", "1"],
        ["--batch-size", "4096"],
        ["--epochs", "1"],
        ["--epochs", "100"],
        ["--val-fraction", "0"],
        ["--val-fraction", "0.9"],
        ["--train-subset", "0"],
        ["--train-subset", "60000"],
        ["--seed", "0"],
        ["--seed", str(2**31 - 1)],
        ["--weight-decay", "0"],
        ["--weight-decay", "0.1"],
        ["--model", "mlp", "--dropout", "0.9"],
        ["--model", "cnn", "--dropout", "0"],
        ["--schedule", "cosine"],
    ],
)
def test_cli_accepts_every_bound(args):
    assert config_from_args(args).errors() == []


@pytest.mark.parametrize(
    "args",
    [
        ["--lr", "0"],
        ["--lr", "11"],
        ["--lr", "nan"],
        ["--batch-size", "4097"],
        ["--epochs", "0"],
        ["--val-fraction", "-0.1"],
        ["--val-fraction", "1"],
        ["--train-subset", "-1"],
        ["--seed", "-1"],
        ["--hidden", "2"],
        ["--epochs", "1.5"],
        ["--weight-decay", "-0.01"],
        ["--weight-decay", "0.2"],
        ["--model", "mlp", "--dropout", "1"],
        ["--dropout", "0.5"],  # softmax regression has no hidden units to drop
        ["--schedule", "sometimes"],
    ],
)
def test_cli_refuses_beyond_every_bound_with_exit_2(args, capsys):
    with pytest.raises(SystemExit) as e:
        config_from_args(args)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1


@pytest.mark.parametrize(
    "cfg",
    [
        TrainConfig(val_fraction=0.9, epochs=2),
        TrainConfig(train_subset=1, epochs=2),
        TrainConfig(batch_size=4096, epochs=2),
        TrainConfig(val_fraction=0.9, train_subset=1, batch_size=1, epochs=1),
    ],
)
def test_edge_configurations_train_to_the_end(cfg):
    last = list(train(cfg))[-1]
    assert isinstance(last, Done), last


def test_a_dataset_file_truncated_between_runs_fails_the_next_run_clearly(tmp_path, monkeypatch):
    folder = tmp_path / "mnist"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for stem, shape in zip(D.IDX_FILES, [(64, 28, 28), (64,), (16, 28, 28), (16,)]):
        D.write_idx(folder / stem, rng.integers(0, 10 if len(shape) == 1 else 256, shape, dtype=np.uint8))
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    mgr = JobManager(cap=1)
    cfg = TrainConfig(dataset="mnist", batch_size=16, epochs=1)
    ok = mgr.submit(cfg)
    assert ok.wait(60) and ok.state == "done"
    images = folder / "train-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:-500])
    bad = mgr.submit(cfg)
    assert bad.wait(60) and bad.state == "failed"
    assert "truncated" in bad.snapshot().message and "Traceback" not in bad.snapshot().message
    images.unlink()
    gone = mgr.submit(cfg)
    assert gone.wait(60) and gone.state == "failed"
    assert "train-images-idx3-ubyte" in gone.snapshot().message
    mgr.close()


def test_failed_event_for_bad_config_reaches_the_job():
    mgr = JobManager(cap=1)
    job = mgr.submit(TrainConfig(batch_size=0))
    assert job.wait(10) and job.state == "failed" and "batch_size" in job.snapshot().message
    mgr.close()
    assert isinstance(list(train(TrainConfig(lr=float("nan"))))[-1], Failed)


def test_dropout_on_softmax_regression_is_refused_in_the_app_with_the_reason():
    at = app()
    at.slider(key="w_dropout").set_value(0.5).run()
    assert any("dropout needs hidden units" in e.value for e in at.error), [e.value for e in at.error]
    assert next(b for b in at.button if "Start" in b.label).disabled
    at.selectbox(key="w_model").set_value("mlp").run()
    assert not at.error
