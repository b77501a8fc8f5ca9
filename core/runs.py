"""Runs that last: a store written as a run progresses, and checkpoints that load safely.

SQLite by default (a file, nothing to install or start); PostgreSQL when RUNS_DB is a postgresql:// URL (a class
on several servers). One code path for both: portable SQL through a two-method backend (how to connect, how to
ask whether a table exists), with psycopg for PostgreSQL. No ORM: the schema is two tables, and the SQLite
default keeps needing nothing beyond Python. One connection per thread and per store (neither driver's
connections may cross threads); SQLite in WAL mode, so readers never block the writer.
"""

from __future__ import annotations

import io
import json
import os
import socket
import sqlite3
import sys
import threading
import time
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch

from core import data as D
from core import models as M
from core.config import TrainConfig
from core.events import DONE, FAILED, INTERRUPTED, RUNNING, STOPPED, Done, EpochEnd, Failed, Peek, Started, Stopped
from core.i18n import N_, tr
from core.metrics import confusion
from core.train import PEEKS, evaluate, restore

SCHEMA_VERSION = 6
HOST = socket.gethostname()
RECONNECT_S = 30.0  # how long a write waits for a PostgreSQL server that went away (a restart) before failing
MAX_CHECKPOINT_BYTES = 20 * 1024 * 1024  # the seed CNN is ~0.2 MB, an MLP-1024 ~3.3 MB
CHECKPOINT_FORMAT = "image-classification-dashboard/1"
MAX_ARCHIVE_ENTRIES = 64  # torch.save writes a few per tensor: these models have at most 10 tensors
# Rewind: a run keeps its weights at each epoch's end and at the first epoch's peeks (core.train.PEEKS), at most
# this many and this many bytes; a longer run keeps evenly spaced epochs (its first and last always).
REWIND_MAX = 32
REWIND_BYTES = 16 * 1024 * 1024  # a class server keeps many runs: bench/rewind_cost.py prints what each model keeps

_SNAPSHOTS = """
CREATE TABLE IF NOT EXISTS snapshots (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step INTEGER NOT NULL,            -- minibatches trained when taken: orders a run's snapshots
    epoch INTEGER NOT NULL,           -- the epoch it was taken in (1-based)
    fraction DOUBLE PRECISION NOT NULL, -- of that epoch done: 1 at its end
    weights BYTEA NOT NULL,           -- checkpoint_bytes (SQLite keeps bytes as they are in any column)
    PRIMARY KEY (run_id, step)
)"""

_SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    nickname TEXT NOT NULL DEFAULT '',
    config TEXT NOT NULL,             -- TrainConfig as JSON
    state TEXT NOT NULL,              -- running | done | stopped | failed | interrupted
    message TEXT,
    started_at DOUBLE PRECISION NOT NULL,
    ended_at DOUBLE PRECISION,
    owner_pid INTEGER,                -- the server process writing it: dead owner + running = interrupted
    test_acc DOUBLE PRECISION,
    test_loss DOUBLE PRECISION,
    train_s_per_epoch DOUBLE PRECISION,
    confusion TEXT,                   -- JSON list of lists, rows = true class
    checkpoint TEXT,                  -- path of the saved weights
    threads INTEGER,                  -- torch's intra-op threads it trained with (schema 2)
    tag TEXT NOT NULL DEFAULT '',     -- what it is for: '' a Train page run, 'race' half a race (schema 3)
    owner TEXT NOT NULL DEFAULT '',   -- a hash of its owner key (core.jobs.owner_tag): who may delete it (schema 4)
    owner_host TEXT                   -- the machine of owner_pid: a pid means nothing on another one (schema 5)
);
CREATE TABLE IF NOT EXISTS epochs (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    epoch INTEGER NOT NULL,
    train_loss DOUBLE PRECISION, train_acc DOUBLE PRECISION, val_loss DOUBLE PRECISION,
    val_acc DOUBLE PRECISION, test_loss DOUBLE PRECISION, test_acc DOUBLE PRECISION,
    epoch_s DOUBLE PRECISION, elapsed_s DOUBLE PRECISION,
    PRIMARY KEY (run_id, epoch)
);
"""
    + _SNAPSHOTS
)
EPOCH_FIELDS = ("train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc", "epoch_s", "elapsed_s")

# (from_version, sql) steps; opening a store applies the ones a database has not seen, in order.
MIGRATIONS: list[tuple[int, str]] = [
    (1, "ALTER TABLE runs ADD COLUMN threads INTEGER"),
    (2, "ALTER TABLE runs ADD COLUMN tag TEXT NOT NULL DEFAULT ''"),
    (3, "ALTER TABLE runs ADD COLUMN owner TEXT NOT NULL DEFAULT ''"),
    (4, "ALTER TABLE runs ADD COLUMN owner_host TEXT"),
    (5, _SNAPSHOTS),  # rewind (schema 6); opening the store has created it already
]


class CheckpointError(ValueError):
    """A checkpoint that cannot be used; the message says why, for a student."""


def default_path() -> Path | str:
    """$RUNS_DB: a SQLite file (default runs/runs.db) or a postgresql:// URL."""
    where = os.environ.get("RUNS_DB") or "runs/runs.db"
    return where if is_url(where) else Path(where)


def is_url(where) -> bool:
    return str(where).startswith(("postgresql://", "postgres://"))


def db_errors() -> tuple[type[Exception], ...]:
    """The exceptions a failing store raises (a damaged file, a database server gone), for callers to catch."""
    errors: tuple[type[Exception], ...] = (sqlite3.Error,)
    if "psycopg" in sys.modules:
        errors += (sys.modules["psycopg"].Error,)
    return errors


class _SQLite:
    """A SQLite file: WAL, foreign keys on, writes in BEGIN IMMEDIATE (no lock upgrades between writers)."""

    begin = "BEGIN IMMEDIATE"

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)

    def connect(self):
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)  # autocommit; explicit BEGIN
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    def sql(self, query: str) -> str:
        return query

    def has_table(self, conn, name: str) -> bool:
        return conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)).fetchone() is not None


class _Postgres:
    """A PostgreSQL database by URL (psycopg, from requirements-cluster.txt)."""

    begin = "BEGIN"

    def __init__(self, url: str):
        import psycopg  # only a class server on PostgreSQL needs it

        self.url, self.psycopg = url, psycopg

    def connect(self):
        from psycopg.rows import dict_row

        return self.psycopg.connect(self.url, autocommit=True, row_factory=dict_row, connect_timeout=10)

    def sql(self, query: str) -> str:
        return query.replace("?", "%s")  # the one difference in the SQL: psycopg's placeholders

    def has_table(self, conn, name: str) -> bool:
        return conn.execute("SELECT to_regclass(%s) AS t", (name,)).fetchone()["t"] is not None


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _Cursor:
    """A transaction's connection, writing this project's SQL in the backend's placeholders."""

    def __init__(self, conn, db):
        self.conn, self._db = conn, db

    def execute(self, sql: str, args=()):
        return self.conn.execute(self._db.sql(sql), args)


class RunStore:
    """Persisted runs, in a SQLite file or a PostgreSQL database. Thread-safe: a connection per thread."""

    def __init__(self, where: str | os.PathLike | None = None, checkpoints: str | os.PathLike | None = None):
        where = default_path() if where is None else where
        self.url = str(where) if is_url(where) else None
        self.path = None if self.url else Path(where)
        self._db = _Postgres(self.url) if self.url else _SQLite(self.path)
        # checkpoints are files beside a SQLite store; with PostgreSQL, in $RUNS_CHECKPOINTS (default runs/)
        folder = self.path.parent if self.path else Path(os.environ.get("RUNS_CHECKPOINTS") or "runs")
        self.checkpoints = Path(checkpoints) if checkpoints else folder / "checkpoints"
        self._local = threading.local()
        self._migrate()

    def __str__(self) -> str:
        return self.url.split("@")[-1] if self.url else str(self.path)  # no password in a message

    # ------------------------------------------------------------------ connections
    def _conn(self):
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._db.connect()
        return conn

    def _reconnect(self) -> None:
        """Drop this thread's connection (the database server restarted, say): the next use opens a new one."""
        conn, self._local.conn = getattr(self._local, "conn", None), None
        try:
            if conn is not None:
                conn.close()
        except db_errors():
            pass

    def _query(self, sql: str, args=()):
        """Run a read on this thread's connection; a connection the server dropped is reopened once."""
        try:
            return self._conn().execute(self._db.sql(sql), args)
        except db_errors():
            if self.url is None:
                raise  # a SQLite file that fails is damaged, not disconnected
            self._reconnect()
            return self._conn().execute(self._db.sql(sql), args)

    @contextmanager
    def _transaction(self):
        """This thread's connection inside BEGIN ... COMMIT, rolled back on any error."""
        conn = self._conn()
        conn.execute(self._db.begin)
        try:
            yield _Cursor(conn, self._db)
            conn.execute("COMMIT")
        except BaseException:
            try:
                conn.execute("ROLLBACK")
            except db_errors():
                self._reconnect()
            raise

    def _write(self, sql: str, args=()) -> None:
        """One statement in its own transaction; on PostgreSQL, retried on a fresh connection until the server
        is back (a restart takes seconds) or RECONNECT_S has passed: a running run's epochs are not dropped."""
        deadline, wait = time.monotonic() + RECONNECT_S, 0.25
        while True:
            try:
                with self._transaction() as cur:
                    cur.execute(sql, args)
                return
            except db_errors():
                if self.url is None or time.monotonic() > deadline:
                    raise  # a SQLite file that fails is damaged, not disconnected
                self._reconnect()
                time.sleep(wait)
                wait = min(2 * wait, 4.0)

    def _migrate(self) -> None:
        with self._transaction() as conn:
            fresh = not self._db.has_table(conn.conn, "runs")
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            version = int(row["value"]) if row else (SCHEMA_VERSION if fresh else 1)
            for from_version, sql in MIGRATIONS:
                if version == from_version:
                    conn.execute(sql)
                    version += 1
            if version > SCHEMA_VERSION:
                raise RuntimeError(
                    tr(
                        "{store} was written by a newer release (schema {version}); this one reads up to {supported}.",
                        store=self,
                        version=version,
                        supported=SCHEMA_VERSION,
                    )
                )
            conn.execute(
                "INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (str(version),),
            )

    def schema_version(self) -> int:
        return int(self._query("SELECT value FROM meta WHERE key='schema_version'").fetchone()["value"])

    # ------------------------------------------------------------------ recording
    def start(
        self,
        run_id: str,
        cfg: TrainConfig,
        nickname: str = "",
        threads: int | None = None,
        tag: str = "",
        owner: str = "",
    ) -> None:
        columns = (
            "id",
            "nickname",
            "config",
            "state",
            "started_at",
            "owner_pid",
            "owner_host",
            "threads",
            "tag",
            "owner",
        )
        self._write(
            f"INSERT INTO runs ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "
            f"ON CONFLICT (id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in columns[1:])}",
            (run_id, nickname, json.dumps(cfg.to_dict()), RUNNING, time.time(), os.getpid(), HOST, threads, tag, owner),
        )

    def add_epoch(self, run_id: str, e: EpochEnd) -> None:
        self._write(
            f"INSERT INTO epochs (run_id, epoch, {', '.join(EPOCH_FIELDS)}) "
            f"VALUES (?, ?, {', '.join('?' * len(EPOCH_FIELDS))}) "
            f"ON CONFLICT (run_id, epoch) DO UPDATE SET {', '.join(f'{f} = excluded.{f}' for f in EPOCH_FIELDS)}",
            (run_id, e.epoch, *(getattr(e, f) for f in EPOCH_FIELDS)),
        )

    def finish(
        self,
        run_id: str,
        state: str,
        message: str | None = None,
        done: Done | None = None,
        config: TrainConfig | None = None,
    ) -> None:
        """Record how a run ended; a finished run (done, with its config) also gets metrics and a checkpoint."""
        if done is None:
            self._write(
                "UPDATE runs SET state=?, message=?, ended_at=? WHERE id=?", (state, message, time.time(), run_id)
            )
            return
        cm = confusion(done.labels.numpy(), done.predictions.numpy(), len(D.info(config.dataset).classes)).tolist()
        try:
            ckpt = self.save_checkpoint(run_id, config.to_dict(), done.weights, done.test_acc)
        except OSError as e:  # a full disk, a read-only folder: the run finished all the same
            ckpt = None
            message = tr(  # in the run's thread: its student's language
                "Finished, but its checkpoint could not be written ({error}): its weights "
                "are not saved. Free some space in {folder}, or download them from Results "
                "while this server still has the run.",
                error=e.strerror or e,
                folder=self.checkpoints.parent,
            )
        self._write(
            "UPDATE runs SET state=?, message=?, ended_at=?, test_acc=?, test_loss=?, "
            "train_s_per_epoch=?, confusion=?, checkpoint=? WHERE id=?",
            (
                state,
                message,
                time.time(),
                done.test_acc,
                done.test_loss,
                done.train_s_per_epoch,
                json.dumps(cm),
                None if ckpt is None else str(ckpt),
                run_id,
            ),
        )

    def add_snapshot(self, run_id: str, cfg: TrainConfig, epoch: int, step: int, fraction: float, weights) -> bool:
        """Keep the weights at this point for Rewind, if the run's bounds (rewind_epochs) keep it; True if kept."""
        data = checkpoint_bytes(cfg.to_dict(), weights)
        if fraction >= 1 and epoch not in rewind_epochs(cfg.epochs, len(data)):
            return False
        self._write(
            "INSERT INTO snapshots (run_id, step, epoch, fraction, weights) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (run_id, step) DO NOTHING",
            (run_id, step, epoch, fraction, data),
        )
        return True

    def record(self, job, event) -> None:
        """A JobManager listener: persist each event as it happens, not only at the end."""
        if isinstance(event, Peek):
            self.add_snapshot(job.id, job.config, event.epoch, event.step, event.fraction, event.weights)
        elif isinstance(event, EpochEnd) and event.weights is not None:
            self.add_epoch(job.id, event)
            step = event.epoch * job.snapshot(light=True).started.batches_per_epoch
            self.add_snapshot(job.id, job.config, event.epoch, step, 1.0, event.weights)
        elif isinstance(event, Started):
            self.start(job.id, job.config, job.nickname, event.threads, job.tag, job.owner)
        elif isinstance(event, EpochEnd):
            self.add_epoch(job.id, event)
        elif isinstance(event, Done):
            self.finish(job.id, DONE, done=event, config=job.config)
        elif isinstance(event, Failed):
            if self.get(job.id) is None:  # failed before Started (bad config, missing data)
                self.start(job.id, job.config, job.nickname, tag=job.tag, owner=job.owner)
            self.finish(job.id, FAILED, event.message)
        elif isinstance(event, Stopped):
            self.finish(job.id, STOPPED, event.reason)

    def mark_interrupted(self) -> int:
        """Runs left 'running' by a process of this machine that no longer exists (killed server): mark them
        interrupted. Another machine's runs (a cluster's coordinator, another server) are that machine's to judge."""
        rows = self._query("SELECT id, owner_pid, owner_host FROM runs WHERE state=?", (RUNNING,)).fetchall()
        mine = [r for r in rows if r["owner_host"] in (None, HOST)]
        dead = [r["id"] for r in mine if r["owner_pid"] != os.getpid() and not _pid_alive(r["owner_pid"])]
        for run_id in dead:
            self._write(
                "UPDATE runs SET state=?, message=? WHERE id=? AND state=?",
                (
                    INTERRUPTED,
                    # stored in English (no student's language here): a page shows it with tr()
                    N_("Interrupted: the server stopped while this run was training. Its epochs so far are kept."),
                    run_id,
                    RUNNING,
                ),
            )
        return len(dead)

    # ------------------------------------------------------------------ reading
    def _row(self, r) -> dict:
        d = dict(r)
        d["config"] = json.loads(d["config"])
        d["confusion"] = json.loads(d["confusion"]) if d["confusion"] else None
        return d

    def get(self, run_id: str) -> dict | None:
        r = self._query("SELECT * FROM runs WHERE id=?", (run_id,)).fetchone()
        return self._row(r) if r else None

    def owned_by(self, owner: str) -> str | None:
        """The newest run whose owner tag this is (core.jobs.owner_tag of an owner link), or None."""
        r = self._query("SELECT id FROM runs WHERE owner=? ORDER BY started_at DESC", (owner,)).fetchone()
        return r["id"] if r and owner else None

    def list(self, dataset: str | None = None, model: str | None = None) -> list[dict]:
        """All runs, newest first, optionally filtered by dataset and model."""
        runs = [self._row(r) for r in self._query("SELECT * FROM runs ORDER BY started_at DESC").fetchall()]
        return [
            r
            for r in runs
            if (dataset is None or r["config"]["dataset"] == dataset)
            and (model is None or r["config"]["model"] == model)
        ]

    def epochs(self, run_id: str) -> list[dict]:
        return [
            dict(r) for r in self._query("SELECT * FROM epochs WHERE run_id=? ORDER BY epoch", (run_id,)).fetchall()
        ]

    def snapshots(self, run_id: str) -> list[dict]:
        """The points a run can be rewound to, oldest first: step, epoch, fraction (their weights: snapshot())."""
        rows = self._query("SELECT step, epoch, fraction FROM snapshots WHERE run_id=? ORDER BY step", (run_id,))
        return [dict(r) for r in rows.fetchall()]

    def snapshot(self, run_id: str, step: int) -> dict | None:
        """The weights a run had after `step` minibatches (read as a checkpoint is: weights only), or None."""
        r = self._query("SELECT weights FROM snapshots WHERE run_id=? AND step=?", (run_id, step)).fetchone()
        return load_checkpoint(bytes(r["weights"])).model.state_dict() if r else None

    def delete(self, run_id: str) -> None:
        run = self.get(run_id)
        with self._transaction() as cur:
            cur.execute("DELETE FROM snapshots WHERE run_id=?", (run_id,))
            cur.execute("DELETE FROM epochs WHERE run_id=?", (run_id,))
            cur.execute("DELETE FROM runs WHERE id=?", (run_id,))
        if run and run["checkpoint"]:
            Path(run["checkpoint"]).unlink(missing_ok=True)

    def metrics_csv(self, run_id: str) -> str:
        """Per-epoch metrics of a run as CSV text."""
        rows = self.epochs(run_id)
        lines = [",".join(("epoch",) + EPOCH_FIELDS)]
        for r in rows:
            lines.append(",".join([str(r["epoch"])] + ["" if r[f] is None else f"{r[f]:.6g}" for f in EPOCH_FIELDS]))
        return "\n".join(lines) + "\n"

    # ------------------------------------------------------------------ checkpoints
    def save_checkpoint(self, run_id: str, config: dict, weights: dict, test_acc: float) -> Path:
        self.checkpoints.mkdir(parents=True, exist_ok=True)
        path = self.checkpoints / f"{run_id}.pt"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(checkpoint_bytes(config, weights, test_acc))
        tmp.replace(path)  # atomic: a crash never leaves half a checkpoint under the real name
        return path


def rewind_epochs(epochs: int, snapshot_bytes: int) -> set[int]:
    """The epochs whose end a run keeps for Rewind: all of them, or, past REWIND_MAX snapshots or REWIND_BYTES,
    evenly spaced ones with the first and the last (the first epoch's peeks are counted in)."""
    room = max(2, min(REWIND_MAX, REWIND_BYTES // max(snapshot_bytes, 1)) - len(PEEKS))
    if epochs <= room:
        return set(range(1, epochs + 1))
    return {1 + round(i * (epochs - 1) / (room - 1)) for i in range(room)}


def checkpoint_bytes(config: dict, weights: dict, test_acc: float | None = None) -> bytes:
    """A checkpoint as bytes: the state_dict plus the config as JSON (only tensors, strings and numbers)."""
    buf = io.BytesIO()
    torch.save(
        {
            "format": CHECKPOINT_FORMAT,
            "config": json.dumps(config),
            "state_dict": weights,
            "test_acc": float(test_acc) if test_acc is not None else -1.0,
        },
        buf,
    )
    return buf.getvalue()


@dataclass(frozen=True)
class Checkpoint:
    config: TrainConfig
    model: torch.nn.Module
    test_acc: float | None


def check_archive(data: bytes) -> None:
    """Refuse an archive before torch inflates it: torch.save stores its entries uncompressed, so a compressed
    entry, or sizes that add up to more than the file could hold, is not a checkpoint of this app (a 2 MB file
    can inflate to gigabytes)."""
    try:
        entries = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise CheckpointError(tr("This is not a checkpoint file (or it is truncated or damaged).")) from None
    if any(e.compress_type != zipfile.ZIP_STORED for e in entries):
        raise CheckpointError(
            tr(
                "Refused: the file is a compressed archive, which this app never writes. Only "
                "checkpoints saved by this app can be loaded."
            )
        )
    if len(entries) > MAX_ARCHIVE_ENTRIES or sum(e.file_size for e in entries) > len(data):
        raise CheckpointError(
            tr(
                "Refused: the archive's table of contents does not match its size (damaged or "
                "crafted). Only checkpoints saved by this app can be loaded."
            )
        )


def load_checkpoint(data: bytes) -> Checkpoint:
    """Parse checkpoint bytes safely: size cap, weights_only unpickling, and shapes checked against the config."""
    if not data:
        raise CheckpointError(tr("The file is empty."))
    if len(data) > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(
            tr(
                "The file is {size:.1f} MB; checkpoints of these models are under {limit} MB. Refused.",
                size=len(data) / 2**20,
                limit=MAX_CHECKPOINT_BYTES // 2**20,
            )
        )
    if not data.startswith(b"PK\x03\x04"):  # torch.save always writes a zip archive
        raise CheckpointError(
            tr("This is not a checkpoint file saved by this app (a .pt file from its Download button).")
        )
    check_archive(data)
    try:
        obj = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - every failure here means "not a usable checkpoint"
        text = str(e).lower()
        # torch names what it blocked: "unsupported GLOBAL posix.system", "Unsupported operand", ...
        if "global" in text or "unsupported operand" in text or "reduce" in text:
            raise CheckpointError(
                tr(
                    "Refused: the file contains Python objects or code, not just weights. "
                    "Only checkpoints saved by this app can be loaded."
                )
            ) from None
        raise CheckpointError(tr("This is not a checkpoint file (or it is truncated or damaged).")) from None
    if not isinstance(obj, dict) or obj.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(tr("This file is a PyTorch file but not a checkpoint saved by this app."))
    try:
        cfg = TrainConfig.from_dict(json.loads(obj["config"]))
    except (TypeError, ValueError, KeyError) as e:
        raise CheckpointError(tr("The checkpoint's config is unreadable ({error}).", error=e)) from None
    if cfg.errors():
        raise CheckpointError(tr("The checkpoint's config is invalid: {problems}", problems=" ".join(cfg.errors())))
    weights = obj.get("state_dict")
    info = D.info(cfg.dataset)
    fresh = M.build(cfg.model, info.size, len(info.classes), cfg.hidden).state_dict()
    if not isinstance(weights, dict) or set(weights) != set(fresh):
        raise CheckpointError(
            tr(
                "The weights do not belong to a {model} model: expected layers {layers}.",
                model=cfg.model,
                layers=", ".join(fresh),
            )
        )
    for name, tensor in fresh.items():
        got = weights[name]
        if not isinstance(got, torch.Tensor) or tuple(got.shape) != tuple(tensor.shape):
            shape = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
            raise CheckpointError(
                tr(
                    "Layer {layer} has shape {shape}, but a {model} model for {dataset} "
                    "needs {needed}: the checkpoint is for another model or dataset.",
                    layer=name,
                    shape=shape,
                    model=cfg.model,
                    dataset=cfg.dataset,
                    needed=tuple(tensor.shape),
                )
            )
        if not torch.isfinite(got).all():
            raise CheckpointError(tr("Layer {layer} holds NaN or infinite values: this run had diverged.", layer=name))
    acc = float(obj.get("test_acc", -1))
    return Checkpoint(cfg, restore(cfg.to_dict(), weights), acc if acc >= 0 else None)


def evaluate_checkpoint(ckpt: Checkpoint, ds: D.Dataset) -> Done:
    """Evaluate a loaded checkpoint on the test set, as a Done event the Results and Inside pages can show."""
    loss, acc, probs = evaluate(ckpt.model, ds.test_x, ds.test_y)
    weights = {k: v.detach().clone() for k, v in ckpt.model.state_dict().items()}
    return Done(
        test_loss=loss,
        test_acc=acc,
        labels=ds.test_y.clone(),
        probs=probs,
        weights=weights,
        train_s_per_epoch=float("nan"),
        elapsed_s=0.0,
        epochs=ckpt.config.epochs,
    )


_stores: dict[str, RunStore] = {}
_stores_lock = threading.Lock()


def default_store() -> RunStore:
    """The store at $RUNS_DB for this process; opening it marks runs of dead servers interrupted."""
    where = default_path()
    key = where if isinstance(where, str) else str(where.resolve())
    with _stores_lock:
        if key not in _stores:
            store = RunStore(where)
            store.mark_interrupted()
            _stores[key] = store
        return _stores[key]
