"""The run store: every run as it progresses, its epochs and its rewind points, in a database that outlives the
server. It keeps runs; it does not train (nothing here imports the models or the training loop): core.recorder
turns a job's events into its writes, core.checkpoint reads the weights it keeps.

SQLite by default (a file, nothing to install or start); PostgreSQL when RUNS_DB is a postgresql:// URL (a class
on several servers). One code path for both: portable SQL through a two-method backend (how to connect, how to
ask whether a table exists), with psycopg for PostgreSQL. No ORM: the schema is a few tables, and the SQLite
default keeps needing nothing beyond Python. One connection per thread and per store (neither driver's
connections may cross threads); SQLite in WAL mode, so readers never block the writer.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from core.events import INTERRUPTED, RUNNING
from core.i18n import N_, tr

if TYPE_CHECKING:  # only named: the store writes what it is given, and builds no config or model
    from core.config import TrainConfig
    from core.events import EpochEnd

SCHEMA_VERSION = 9
HOST = socket.gethostname()
RECONNECT_S = 30.0  # how long a write waits for a PostgreSQL server that went away (a restart) before failing

_REWIND_POINTS = """
CREATE TABLE IF NOT EXISTS rewind_points (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step INTEGER NOT NULL,            -- minibatches trained when taken: orders a run's points
    epoch INTEGER NOT NULL,           -- the epoch it was taken in (1-based)
    fraction DOUBLE PRECISION NOT NULL, -- of that epoch done: 1 at its end
    weights BYTEA NOT NULL,           -- core.checkpoint's bytes (SQLite keeps bytes as they are in any column)
    PRIMARY KEY (run_id, step)
)"""

# The lesson the teacher leads (core/classroom.py), shared by every replica: the exercise sent to the class, and
# which value of its experiment each student was handed (once, whichever replica asked) (schema 8)
_CLASS = """
CREATE TABLE IF NOT EXISTS class_state (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at DOUBLE PRECISION);
CREATE TABLE IF NOT EXISTS handed_out (
    exercise TEXT NOT NULL,
    student TEXT NOT NULL,            -- the student's nickname, or their tab's token before they typed one
    value_index INTEGER NOT NULL,
    PRIMARY KEY (exercise, student)
)"""

# The class's own images (core/own_images.py, core/class_images.py), pooled by every student and replica: each
# dataset and its class names, each example as prepared for the models (and the picture it came from, for an
# export), and each version a run trained on, kept as it was (schema 9)
_OWN_IMAGES = """
CREATE TABLE IF NOT EXISTS own_datasets (
    name TEXT PRIMARY KEY,            -- as typed, checked by core.own_images.clean_name
    classes TEXT NOT NULL,            -- JSON list of the class names, in order: an example's label indexes it
    created_by TEXT NOT NULL DEFAULT '', -- the owner tag of who made it (core.jobs.owner_tag)
    nickname TEXT NOT NULL DEFAULT '',
    created_at DOUBLE PRECISION NOT NULL,
    revision INTEGER NOT NULL DEFAULT 0 -- one more at every change: a cache, and a run's pin, know it by this
);
CREATE TABLE IF NOT EXISTS own_examples (
    id TEXT PRIMARY KEY,              -- time-ordered: examples list in the order they were added
    dataset TEXT NOT NULL REFERENCES own_datasets(name) ON DELETE CASCADE,
    label INTEGER NOT NULL,           -- the class's index in own_datasets.classes
    pixels BYTEA NOT NULL,            -- the example as the model sees it: size*size uint8
    original BYTEA,                   -- the picture it came from (capped by the caller), for an export
    filename TEXT NOT NULL DEFAULT '', -- its name in an imported zip's class folder, kept for an export
    added_by TEXT NOT NULL DEFAULT '', -- the owner tag of who added it: they, or the teacher, may remove it
    nickname TEXT NOT NULL DEFAULT '',
    added_at DOUBLE PRECISION NOT NULL
);
CREATE TABLE IF NOT EXISTS own_versions (
    name TEXT PRIMARY KEY,            -- what a run's config names: "images:<dataset>@<content hash>"
    data BYTEA NOT NULL,              -- the class names and examples as they were when the run started
    created_at DOUBLE PRECISION NOT NULL
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
    + _REWIND_POINTS
    + ";"
    + _CLASS
    + ";"
    + _OWN_IMAGES
)
EPOCH_FIELDS = ("train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc", "epoch_s", "elapsed_s")

# (from_version, sql) steps; opening a store applies the ones a database has not seen, in order. A step may hold
# several statements, separated by ";".
MIGRATIONS: list[tuple[int, str]] = [
    (1, "ALTER TABLE runs ADD COLUMN threads INTEGER"),
    (2, "ALTER TABLE runs ADD COLUMN tag TEXT NOT NULL DEFAULT ''"),
    (3, "ALTER TABLE runs ADD COLUMN owner TEXT NOT NULL DEFAULT ''"),
    (4, "ALTER TABLE runs ADD COLUMN owner_host TEXT"),
    (5, _REWIND_POINTS.replace("rewind_points", "snapshots")),  # rewind (schema 6), under its first name
    # schema 7: one name for one thing (a job's Snapshot is its live state); opening created rewind_points already
    (6, "INSERT INTO rewind_points SELECT run_id, step, epoch, fraction, weights FROM snapshots; DROP TABLE snapshots"),
    (7, _CLASS),  # the class's exercise and experiment (schema 8); opening created the tables already
    (8, _OWN_IMAGES),  # the class's own images (schema 9); opening created the tables already
]


def default_path() -> Path | str:
    """$RUNS_DB: a SQLite file (default runs/runs.db) or a postgresql:// URL."""
    where = os.environ.get("RUNS_DB") or "runs/runs.db"
    return where if is_url(where) else Path(where)


def is_url(where) -> bool:
    return str(where).startswith(("postgresql://", "postgres://"))


def shown(where) -> str:
    """Where a store is, for a message: a URL without its user and password."""
    return str(where).split("@")[-1] if is_url(where) else str(where)


def db_errors() -> tuple[type[Exception], ...]:
    """The exceptions a failing store raises (a damaged file, a database server gone), for callers to catch."""
    errors: tuple[type[Exception], ...] = (sqlite3.Error,)
    if "psycopg" in sys.modules:
        errors += (sys.modules["psycopg"].Error,)
    return errors


class StoreFull(ValueError):
    """A class of the class's own images would hold more examples than allowed: nothing was added."""

    def __init__(self, has: int, adding: int, limit: int):
        super().__init__(f"the class has {has} examples; adding {adding} would pass the limit of {limit}")
        self.has, self.adding, self.limit = has, adding, limit


class _SQLite:
    """A SQLite file: WAL, foreign keys on, writes in BEGIN IMMEDIATE (no lock upgrades between writers)."""

    begin = "BEGIN IMMEDIATE"
    lock = None  # BEGIN IMMEDIATE already keeps other writers out until COMMIT

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
    lock = "LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE"  # one writer at a time on that table, until COMMIT

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
        return shown(self.url or self.path)  # no password in a message

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
                    for statement in sql.split(";"):
                        conn.execute(statement)
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
        *,
        test_acc: float | None = None,
        test_loss: float | None = None,
        train_s_per_epoch: float | None = None,
        confusion: list[list[int]] | None = None,
        checkpoint: Path | None = None,
    ) -> None:
        """Record how a run ended; a finished run (with its test accuracy) also gets its metrics and checkpoint."""
        if test_acc is None:
            self._write(
                "UPDATE runs SET state=?, message=?, ended_at=? WHERE id=?", (state, message, time.time(), run_id)
            )
            return
        self._write(
            "UPDATE runs SET state=?, message=?, ended_at=?, test_acc=?, test_loss=?, "
            "train_s_per_epoch=?, confusion=?, checkpoint=? WHERE id=?",
            (
                state,
                message,
                time.time(),
                test_acc,
                test_loss,
                train_s_per_epoch,
                json.dumps(confusion),
                None if checkpoint is None else str(checkpoint),
                run_id,
            ),
        )

    def add_rewind_point(self, run_id: str, step: int, epoch: int, fraction: float, weights: bytes) -> None:
        """Keep a run's weights (core.checkpoint's bytes) after `step` minibatches, for Rewind."""
        self._write(
            "INSERT INTO rewind_points (run_id, step, epoch, fraction, weights) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (run_id, step) DO NOTHING",
            (run_id, step, epoch, fraction, weights),
        )

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
        """All runs, newest first, optionally filtered by dataset and model. A run on a version of a dataset
        ("images:shapes@1a2b...", a class's own: core.class_images) counts as a run on that dataset."""
        runs = [self._row(r) for r in self._query("SELECT * FROM runs ORDER BY started_at DESC").fetchall()]
        return [
            r
            for r in runs
            if (dataset is None or r["config"]["dataset"].split("@")[0] == dataset)
            and (model is None or r["config"]["model"] == model)
        ]

    def epochs(self, run_id: str) -> list[dict]:
        return [
            dict(r) for r in self._query("SELECT * FROM epochs WHERE run_id=? ORDER BY epoch", (run_id,)).fetchall()
        ]

    def rewind_points(self, run_id: str) -> list[dict]:
        """The points a run can be rewound to, oldest first: step, epoch, fraction (their weights: rewind_weights)."""
        rows = self._query("SELECT step, epoch, fraction FROM rewind_points WHERE run_id=? ORDER BY step", (run_id,))
        return [dict(r) for r in rows.fetchall()]

    def rewind_weights(self, run_id: str, step: int) -> bytes | None:
        """The weights a run had after `step` minibatches, as checkpoint bytes (core.checkpoint.load_weights reads
        them), or None."""
        r = self._query("SELECT weights FROM rewind_points WHERE run_id=? AND step=?", (run_id, step)).fetchone()
        return bytes(r["weights"]) if r else None

    def delete(self, run_id: str) -> None:
        run = self.get(run_id)
        with self._transaction() as cur:
            cur.execute("DELETE FROM rewind_points WHERE run_id=?", (run_id,))
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

    # ------------------------------------------------------------------ the lesson
    def class_value(self, key: str):
        """A value the teacher set for the whole class (the exercise, as JSON-able data), or None."""
        r = self._query("SELECT value FROM class_state WHERE key=?", (key,)).fetchone()
        return json.loads(r["value"]) if r else None

    def set_class_value(self, key: str, value) -> None:
        """Set (or, with None, clear) a class-wide value: every replica reads it on its next look."""
        if value is None:
            self._write("DELETE FROM class_state WHERE key=?", (key,))
            return
        self._write(
            "INSERT INTO class_state (key, value, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            (key, json.dumps(value), time.time()),
        )

    def hand_out(self, exercise: str, student: str, n_values: int) -> int:
        """The index of the experiment value this student has: the one handed before, or, the first time, the
        value fewest students have, the first of those on a tie (so a class spreads evenly over the values in
        whatever order its students arrive). One transaction holding the table: two replicas asking at once never
        hand out by the same counts."""
        with self._transaction() as cur:
            if self._db.lock:
                cur.execute(self._db.lock.format("handed_out"))
            r = cur.execute(
                "SELECT value_index FROM handed_out WHERE exercise=? AND student=?", (exercise, student)
            ).fetchone()
            if r is not None:
                return int(r["value_index"])
            counts = [0] * n_values
            for row in cur.execute("SELECT value_index FROM handed_out WHERE exercise=?", (exercise,)).fetchall():
                if 0 <= row["value_index"] < n_values:
                    counts[row["value_index"]] += 1
            index = min(range(n_values), key=lambda i: (counts[i], i))
            cur.execute(
                "INSERT INTO handed_out (exercise, student, value_index) VALUES (?, ?, ?)", (exercise, student, index)
            )
            return index

    def handed(self, exercise: str) -> dict[str, int]:
        """Who was handed which value of an experiment: student -> value index."""
        rows = self._query("SELECT student, value_index FROM handed_out WHERE exercise=?", (exercise,)).fetchall()
        return {r["student"]: int(r["value_index"]) for r in rows}

    # ------------------------------------------------------------------ the class's own images
    def create_dataset(self, name: str, classes: list[str], created_by: str = "", nickname: str = "") -> bool:
        """A new dataset of the class's own images, with its class names in order (checked by the caller:
        core.own_images.check_class_names); False, and nothing changed, if one of that name exists."""
        with self._transaction() as cur:
            if cur.execute("SELECT 1 FROM own_datasets WHERE name=?", (name,)).fetchone():
                return False
            cur.execute(
                "INSERT INTO own_datasets (name, classes, created_by, nickname, created_at, revision) "
                "VALUES (?, ?, ?, ?, ?, 0) ON CONFLICT (name) DO NOTHING",
                (name, json.dumps(list(classes)), created_by, nickname, time.time()),
            )
            return True

    def datasets(self, name: str | None = None) -> list[dict]:
        """Every dataset of the class's own images (or the one named), oldest first: name, classes (a list),
        created_by, nickname, created_at, revision, and counts (examples per class)."""
        where, args = ("WHERE name=? ", (name,)) if name is not None else ("", ())
        rows = self._query(f"SELECT * FROM own_datasets {where}ORDER BY created_at, name", args).fetchall()
        counts: dict[tuple[str, int], int] = {}
        where = "WHERE dataset=? " if name is not None else ""
        query = f"SELECT dataset, label, COUNT(*) AS n FROM own_examples {where}GROUP BY dataset, label"
        for r in self._query(query, args):
            counts[(r["dataset"], int(r["label"]))] = int(r["n"])
        out = []
        for r in rows:
            d = dict(r)
            d["classes"] = json.loads(d["classes"])
            d["counts"] = [counts.get((d["name"], k), 0) for k in range(len(d["classes"]))]
            out.append(d)
        return out

    def dataset(self, name: str) -> dict | None:
        """One dataset as datasets() gives it, or None."""
        return next(iter(self.datasets(name)), None)

    def revision(self, name: str) -> int | None:
        """How many changes a dataset has seen (None: there is no such dataset): one cheap read."""
        r = self._query("SELECT revision FROM own_datasets WHERE name=?", (name,)).fetchone()
        return None if r is None else int(r["revision"])

    def add_examples(
        self,
        name: str,
        label: int,
        items: list[tuple[bytes, bytes | None, str]],
        added_by: str = "",
        nickname: str = "",
        max_per_class: int | None = None,
    ) -> list[str]:
        """Add examples to class `label` of a dataset: (pixels, original or None, file name) each. All or none:
        raises KeyError for a dataset or class that does not exist, StoreFull when the class would hold more than
        max_per_class. One transaction holding the examples, so students adding at once never overshoot it.
        Returns the new examples' ids."""
        with self._transaction() as cur:
            if self._db.lock:
                cur.execute(self._db.lock.format("own_examples"))
            r = cur.execute("SELECT classes FROM own_datasets WHERE name=?", (name,)).fetchone()
            if r is None or not 0 <= label < len(json.loads(r["classes"])):
                raise KeyError(f"no class {label} in dataset {name!r}")
            if max_per_class is not None:
                n = cur.execute(
                    "SELECT COUNT(*) AS n FROM own_examples WHERE dataset=? AND label=?", (name, label)
                ).fetchone()["n"]
                if n + len(items) > max_per_class:
                    raise StoreFull(int(n), len(items), max_per_class)
            ids, now, base = [], time.time(), time.time_ns()
            for i, (pixels, original, filename) in enumerate(items):
                ids.append(f"{base + i:020d}-{os.urandom(4).hex()}")
                cur.execute(
                    "INSERT INTO own_examples (id, dataset, label, pixels, original, filename, added_by, nickname, "
                    "added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (ids[-1], name, label, pixels, original, filename, added_by, nickname, now),
                )
            cur.execute("UPDATE own_datasets SET revision = revision + 1 WHERE name=?", (name,))
            return ids

    def examples(self, name: str, originals: bool = False) -> list[dict]:
        """A dataset's examples in the order they were added: id, label, pixels (bytes), filename, added_by,
        nickname, added_at, and with `originals` the original picture (bytes or None)."""
        columns = "id, label, pixels, filename, added_by, nickname, added_at" + (", original" if originals else "")
        rows = self._query(f"SELECT {columns} FROM own_examples WHERE dataset=? ORDER BY id", (name,)).fetchall()
        out = []
        for r in rows:
            d = dict(r)
            d["pixels"] = bytes(d["pixels"])
            if originals and d["original"] is not None:
                d["original"] = bytes(d["original"])
            out.append(d)
        return out

    def originals_bytes(self, name: str) -> int:
        """How many bytes a dataset's original pictures take together."""
        r = self._query(
            "SELECT COALESCE(SUM(LENGTH(original)), 0) AS n FROM own_examples WHERE dataset=?", (name,)
        ).fetchone()
        return int(r["n"])

    def example(self, example_id: str) -> dict | None:
        """One example's dataset, label, added_by and nickname (to check who may remove it), or None."""
        r = self._query(
            "SELECT id, dataset, label, added_by, nickname FROM own_examples WHERE id=?", (example_id,)
        ).fetchone()
        return dict(r) if r else None

    def remove_example(self, example_id: str) -> bool:
        """Remove one example (the caller checks that its owner or the teacher asks); False if it was gone."""
        with self._transaction() as cur:
            r = cur.execute("SELECT dataset FROM own_examples WHERE id=?", (example_id,)).fetchone()
            if r is None:
                return False
            cur.execute("DELETE FROM own_examples WHERE id=?", (example_id,))
            cur.execute("UPDATE own_datasets SET revision = revision + 1 WHERE name=?", (r["dataset"],))
            return True

    def delete_dataset(self, name: str) -> None:
        """Delete a dataset and its examples (the versions runs trained on stay: their results still show)."""
        with self._transaction() as cur:
            cur.execute("DELETE FROM own_examples WHERE dataset=?", (name,))
            cur.execute("DELETE FROM own_datasets WHERE name=?", (name,))

    def save_version(self, name: str, data: bytes) -> None:
        """Keep the content a run trains on under its versioned name (once: the name is its content's hash)."""
        self._write(
            "INSERT INTO own_versions (name, data, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
            (name, data, time.time()),
        )

    def version(self, name: str) -> bytes | None:
        """The content kept under a versioned name, or None."""
        r = self._query("SELECT data FROM own_versions WHERE name=?", (name,)).fetchone()
        return bytes(r["data"]) if r else None

    # ------------------------------------------------------------------ checkpoints
    def save_checkpoint(self, run_id: str, data: bytes) -> Path:
        """Write a run's checkpoint (core.checkpoint's bytes) beside the store; OSError when the disk refuses."""
        self.checkpoints.mkdir(parents=True, exist_ok=True)
        path = self.checkpoints / f"{run_id}.pt"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)  # atomic: a crash never leaves half a checkpoint under the real name
        return path
