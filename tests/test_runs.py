"""The run store and checkpoints: durable, concurrent, crash-safe, and closed to hostile files."""

import io
import json
import os
import pickle
import signal
import subprocess
import sys
import threading

import pytest
import torch

from core import data as D
from core import models as M
from core import store as S
from core.checkpoint import CheckpointError, checkpoint_bytes, load_checkpoint
from core.config import TrainConfig
from core.jobs import JobManager
from core.recorder import Recorder
from core.store import RunStore
from core.train import Done, EpochEnd, evaluate_checkpoint, train
from tests.conftest import ROOT, until

CFG = TrainConfig(dataset="digits", model="softmax", lr=0.5, batch_size=64, epochs=3)


def test_round_trip_through_a_job(store_where):
    store = RunStore(store_where)
    mgr = JobManager(listeners=(Recorder(store),))
    job = mgr.submit(CFG, nickname="ada")
    assert job.wait(60)
    run = store.get(job.id)
    assert run["state"] == "done" and run["nickname"] == "ada" and run["config"]["lr"] == 0.5
    assert run["test_acc"] == pytest.approx(job.snapshot().done.test_acc)
    assert len(run["confusion"]) == 10 and sum(map(sum, run["confusion"])) == 297
    epochs = store.epochs(job.id)
    assert [e["epoch"] for e in epochs] == [1, 2, 3]
    assert epochs[-1]["test_acc"] == pytest.approx(job.snapshot().epochs[-1].test_acc)
    assert store.metrics_csv(job.id).splitlines()[0].startswith("epoch,train_loss,train_acc")
    assert len(store.metrics_csv(job.id).splitlines()) == 4
    assert os.path.exists(run["checkpoint"])
    assert store.schema_version() == S.SCHEMA_VERSION == 9
    assert run["threads"] == job.threads >= 1  # the thread count it trained with, kept with the run
    assert [r["id"] for r in store.list(dataset="digits", model="softmax")] == [job.id]
    assert store.list(model="cnn") == []
    store.delete(job.id)
    assert store.get(job.id) is None and store.epochs(job.id) == [] and not os.path.exists(run["checkpoint"])
    mgr.close()


def test_epochs_are_written_as_the_run_progresses(store_where):
    store = RunStore(store_where)
    seen, record = [], Recorder(store)

    def listener(job, event):
        record(job, event)
        if isinstance(event, EpochEnd):
            seen.append(
                (
                    event.epoch,
                    len(RunStore(store_where).epochs(job.id)),
                    RunStore(store_where).get(job.id)["state"],
                )
            )

    mgr = JobManager(listeners=(listener,))
    assert mgr.submit(CFG).wait(60)
    assert seen == [(1, 1, "running"), (2, 2, "running"), (3, 3, "running")]  # visible to another reader
    mgr.close()


def test_eight_concurrent_writers_lose_nothing(store_where):
    store = RunStore(store_where)
    fake = next(e for e in train(CFG.with_(epochs=1)) if isinstance(e, EpochEnd))

    def writer(w):
        for r in range(5):
            run_id = f"w{w}-r{r}"
            store.start(run_id, CFG, nickname=f"writer {w}")
            for epoch in range(1, 11):
                store.add_epoch(run_id, fake.__class__(**{**fake.__dict__, "epoch": epoch}))
            store.finish(run_id, "stopped", "test")

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    runs = store.list()
    assert len(runs) == 40 and all(r["state"] == "stopped" for r in runs)
    assert all(len(store.epochs(r["id"])) == 10 for r in runs)


def test_kill_9_mid_run_then_reopen_marks_it_interrupted(store_where):
    db = store_where
    store = RunStore(db)
    finished = store  # a finished run from an earlier, healthy process
    mgr = JobManager(listeners=(Recorder(finished),))
    done_job = mgr.submit(CFG)
    assert done_job.wait(60)
    mgr.close()
    script = (
        "import sys, time; sys.path.insert(0, '.')\n"
        "from core.config import TrainConfig\nfrom core.jobs import JobManager\nfrom core.recorder import Recorder\n"
        "from core.store import RunStore\n"
        f"store = RunStore({str(db)!r})\n"
        "mgr = JobManager(listeners=(Recorder(store),))\n"
        "job = mgr.submit(TrainConfig(dataset='digits', batch_size=1, epochs=50))\n"
        "print(job.id, flush=True)\n"
        "time.sleep(600)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    run_id = proc.stdout.readline().strip()
    assert until(lambda: len(store.epochs(run_id)) >= 1, 60, 0.2), "the subprocess never finished an epoch"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    reopened = RunStore(db)
    assert reopened.mark_interrupted() == 1
    run = reopened.get(run_id)
    assert run["state"] == "interrupted" and "Interrupted" in run["message"]
    assert len(reopened.epochs(run_id)) >= 1  # its epochs so far are kept
    intact = reopened.get(done_job.id)
    assert intact["state"] == "done" and len(reopened.epochs(done_job.id)) == 3
    assert load_checkpoint(open(intact["checkpoint"], "rb").read()).config == CFG


def test_a_run_recorded_on_another_machine_is_not_judged_by_a_pid_here(store_where):
    """Replicas and a cluster's coordinator share one PostgreSQL store: a pid from another host means nothing here."""
    store = RunStore(store_where)
    store.start("far-away", CFG, "ada")
    store._write("UPDATE runs SET owner_pid=?, owner_host=? WHERE id=?", (2**22 + 12345, "lab-head-node", "far-away"))
    store.start("here", CFG, "bo")
    store._write("UPDATE runs SET owner_pid=? WHERE id=?", (2**22 + 12345, "here"))  # this host, a dead pid
    assert store.mark_interrupted() == 1
    assert store.get("far-away")["state"] == "running" and store.get("here")["state"] == "interrupted"


@pytest.mark.parametrize("model,opt,lr", [("softmax", "sgd", 0.5), ("cnn", "adam", 0.01), ("mlp", "sgd", 0.5)])
def test_checkpoint_round_trip_gives_identical_accuracy(model, opt, lr):
    cfg = CFG.with_(model=model, optimizer=opt, lr=lr, epochs=2)
    done = list(train(cfg))[-1]
    assert isinstance(done, Done)
    ckpt = load_checkpoint(checkpoint_bytes(cfg.to_dict(), done.weights, done.test_acc))
    assert ckpt.config == cfg and ckpt.test_acc == pytest.approx(done.test_acc)
    again = evaluate_checkpoint(ckpt, D.load("digits"))
    assert again.test_acc == done.test_acc  # exactly: the seeds' save/load check
    assert torch.equal(again.predictions, done.predictions)


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /tmp/pwned-by-checkpoint",))


def _torch_bytes(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def test_hostile_and_wrong_checkpoints_are_refused_with_a_message():
    good_cfg = CFG.to_dict()
    done = list(train(CFG.with_(epochs=1)))[-1]
    good = checkpoint_bytes(good_cfg, done.weights, done.test_acc)
    cnn_weights = {k: v for k, v in __import__("core.models").models.CNN(8).state_dict().items()}
    cases = [
        (b"", "empty"),
        (__import__("random").Random(0).randbytes(5000), "not a checkpoint"),
        (b"PK\x03\x04" + bytes(100), "not a checkpoint"),
        (good[: len(good) // 2], "not a checkpoint"),
        (pickle.dumps(Evil()), "not a checkpoint"),
        (_torch_bytes({"format": "x", "evil": Evil()}), "Python objects or code"),
        (_torch_bytes({"some": torch.zeros(3)}), "not a checkpoint saved by this app"),
        (checkpoint_bytes({**good_cfg, "model": "cnn"}, done.weights), "do not belong to a cnn model"),
        (checkpoint_bytes({**good_cfg, "dataset": "mnist"}, done.weights), "for another model or dataset"),
        (checkpoint_bytes({**good_cfg, "lr": -5}, done.weights), "config is invalid"),
        (checkpoint_bytes(good_cfg, {**done.weights, "W": torch.full((64, 10), float("nan"))}), "NaN"),
        (checkpoint_bytes({**good_cfg, "model": "cnn"}, cnn_weights), None),  # a real CNN checkpoint loads
    ]
    for data, needle in cases:
        if needle is None:
            assert load_checkpoint(data).config.model == "cnn"
            continue
        with pytest.raises(CheckpointError, match=needle):
            load_checkpoint(data)
    assert not os.path.exists("/tmp/pwned-by-checkpoint")


def test_oversized_checkpoint_is_refused(monkeypatch):
    monkeypatch.setattr("core.checkpoint.MAX_CHECKPOINT_BYTES", 100)
    with pytest.raises(CheckpointError, match="Refused"):
        load_checkpoint(bytes(1000))


def test_newer_schema_is_refused_clearly(store_where):
    store = RunStore(store_where)
    store._write("UPDATE meta SET value='99' WHERE key='schema_version'")
    with pytest.raises(RuntimeError, match="newer release"):
        RunStore(store_where)


def test_a_schema_6_store_keeps_its_rewind_points_under_their_new_name(store_where):
    """Schema 7 renamed the rewind table (snapshots: a job's Snapshot is its live state): a store written before
    opens with every point kept, under the new name, on either backend."""
    store = RunStore(store_where)
    store.start("old-run", CFG, "ada")
    blob = checkpoint_bytes(CFG.to_dict(), M.build(CFG.model, 8, 10, CFG.hidden).state_dict())
    with store._transaction() as cur:  # the store as schema 6 left it
        cur.execute("DROP TABLE rewind_points")
        cur.execute(dict(S.MIGRATIONS)[5])  # the rewind table under its schema 6 name
        cur.execute(
            "INSERT INTO snapshots (run_id, step, epoch, fraction, weights) VALUES ('old-run', 24, 1, 1.0, ?)", (blob,)
        )
        cur.execute("UPDATE meta SET value='6' WHERE key='schema_version'")
    reopened = RunStore(store_where)
    assert reopened.schema_version() == S.SCHEMA_VERSION == 9
    assert reopened.rewind_points("old-run") == [{"step": 24, "epoch": 1, "fraction": 1.0}]
    assert reopened.rewind_weights("old-run", 24) == blob
    assert not reopened._db.has_table(reopened._conn(), "snapshots")
    reopened.delete("old-run")
    assert reopened.rewind_points("old-run") == []


def test_the_store_keeps_runs_and_imports_nothing_that_trains():
    """core.store holds the schema and the backends; the models, the training loop and the checkpoint format
    are other modules' (core.recorder brings them together)."""
    script = "import sys, core.store; print(' '.join(m for m in sys.modules if m.startswith('core')))"
    loaded = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert not {"core.train", "core.models", "core.config", "core.checkpoint"} & set(loaded.stdout.split())


def test_a_schema_1_store_is_migrated_and_keeps_its_runs(tmp_path):
    """A store written before runs recorded their thread count opens, gains the column and keeps every run."""
    import sqlite3

    path = tmp_path / "runs.db"
    old = _SCHEMA_1
    conn = sqlite3.connect(path)
    conn.executescript(old)
    conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    conn.execute(
        "INSERT INTO runs (id, config, state, started_at, test_acc) VALUES ('old-run', ?, 'done', 1.0, 0.9)",
        (json.dumps(CFG.to_dict()),),
    )
    conn.commit()
    conn.close()
    store = RunStore(path)
    assert store.schema_version() == S.SCHEMA_VERSION
    run = store.get("old-run")
    assert run["test_acc"] == 0.9 and run["threads"] is None and run["tag"] == "" and run["owner"] == ""
    store.start("new-run", CFG, "ada", threads=2, tag="race")
    assert store.get("new-run")["threads"] == 2 and store.get("new-run")["tag"] == "race"


_SCHEMA_1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE runs (id TEXT PRIMARY KEY, nickname TEXT NOT NULL DEFAULT '', config TEXT NOT NULL,
    state TEXT NOT NULL, message TEXT, started_at REAL NOT NULL, ended_at REAL, owner_pid INTEGER, test_acc REAL,
    test_loss REAL, train_s_per_epoch REAL, confusion TEXT, checkpoint TEXT);
CREATE TABLE epochs (run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, epoch INTEGER NOT NULL,
    train_loss REAL, train_acc REAL, val_loss REAL, val_acc REAL, test_loss REAL, test_acc REAL,
    epoch_s REAL, elapsed_s REAL, PRIMARY KEY (run_id, epoch));
"""
