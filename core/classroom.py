"""The lesson a teacher leads: the exercise pushed to every student's Train page (its settings, the fields it
locks, and optionally a class experiment: one setting swept over values, one value per student), the class plot
that answers the experiment, and the class's results as CSV a spreadsheet reads safely.

Pure logic: the run store (core/store.py) keeps the exercise and hands out the values; the pages draw them."""

from __future__ import annotations

import csv
import io
import math
import statistics
import time
import uuid
from dataclasses import dataclass, field

from core.config import LIMITS, LR_CHOICES, MODELS, OPTIMIZERS, WEIGHT_DECAY_CHOICES, TrainConfig
from core.i18n import tr

# The settings a class experiment can sweep, each parsed from the teacher's text as its config field's type.
SWEEPS = ("lr", "batch_size", "model", "optimizer", "weight_decay", "epochs")
MAX_VALUES = 12  # more values than that and each gets too few students for a spread
EXPERIMENT_TAG = "experiment:"  # a run's tag, followed by the exercise's id: it answers that experiment
# A cell a spreadsheet would run as a formula starts with one of these (OWASP, "CSV injection")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Exercise:
    """What the teacher sent: a title, the settings, the fields students cannot change while it lasts, and an
    optional sweep (the experiment's setting and its values)."""

    title: str
    config: TrainConfig
    locked: tuple[str, ...] = ()
    sweep: str | None = None
    values: tuple = ()
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    sent_at: float = field(default_factory=time.time)

    @property
    def tag(self) -> str:
        """The tag of a run started under this exercise's experiment (core.store keeps it on the run)."""
        return EXPERIMENT_TAG + self.id if self.sweep else ""

    @property
    def frozen(self) -> tuple[str, ...]:
        """The fields a student cannot change: the locked ones and, in an experiment, the swept one."""
        return tuple(dict.fromkeys((*self.locked, *([self.sweep] if self.sweep else []))))

    def config_for(self, index: int | None) -> TrainConfig:
        """The settings for the student handed value number `index` (the exercise's own without a sweep)."""
        if not self.sweep or index is None:
            return self.config
        return self.config.with_(**{self.sweep: self.values[index]})

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "title": self.title,
            "config": self.config.to_dict(),
            "locked": list(self.locked),
            "sweep": self.sweep,
            "values": list(self.values),
            "sent_at": self.sent_at,
        }

    @classmethod
    def from_dict(cls, d: dict) -> Exercise:
        return cls(
            title=d["title"],
            config=TrainConfig.from_dict(d["config"]),
            locked=tuple(d.get("locked", ())),
            sweep=d.get("sweep"),
            values=tuple(d.get("values", ())),
            id=d["id"],
            sent_at=d.get("sent_at", 0.0),
        )


def parse_values(sweep: str, text: str) -> tuple[tuple, list[str]]:
    """The teacher's values for a sweep ('0.01, 0.1, 1' or 'softmax, mlp'), typed as the field is, and what is
    wrong with them (every problem, in sentences). Learning rates and weight decays must be the sliders' stops,
    which a student's page can show."""
    if sweep not in SWEEPS:
        return (), [tr("A class experiment sweeps one of: {sweeps}.", sweeps=", ".join(SWEEPS))]
    parts = [p.strip() for p in text.replace(";", ",").replace("，", ",").split(",") if p.strip()]
    values, problems = [], []
    for part in parts:
        value, problem = _parse_one(sweep, part)
        if problem:
            problems.append(problem)
        elif value in values:
            problems.append(tr("{value} is listed twice.", value=part))
        else:
            values.append(value)
    if len(values) + len(problems) < 2:
        problems.append(tr("An experiment needs at least two values, separated by commas."))
    if len(values) > MAX_VALUES:
        problems.append(tr("At most {n} values: each needs a few students.", n=MAX_VALUES))
    return tuple(values), problems


def _parse_one(sweep: str, part: str):
    if sweep in ("model", "optimizer"):
        allowed = MODELS if sweep == "model" else OPTIMIZERS
        if part not in allowed:
            return None, tr("{value!r} is not one of {allowed}.", value=part, allowed=", ".join(allowed))
        return part, None
    try:
        number = float(part)
    except ValueError:
        return None, tr("{value!r} is not a number.", value=part)
    if sweep in ("batch_size", "epochs"):
        lo, hi = LIMITS[sweep]
        if not number.is_integer() or not lo <= number <= hi:
            return None, tr("{value!r}: a whole number from {lo} to {hi}.", value=part, lo=lo, hi=hi)
        return int(number), None
    stops = LR_CHOICES if sweep == "lr" else WEIGHT_DECAY_CHOICES
    match = next((s for s in stops if math.isclose(s, number, rel_tol=1e-9, abs_tol=1e-12)), None)
    if match is None:
        return None, tr(
            "{value!r} is not on the slider; choose from {stops}.", value=part, stops=", ".join(f"{s:g}" for s in stops)
        )
    return match, None


@dataclass(frozen=True)
class Point:
    """One student's answer to the experiment: the swept value and their run's final figures."""

    value: object
    index: int  # the value's place in the exercise's list (the plot's x order)
    nickname: str
    test_acc: float
    test_loss: float | None
    run_id: str


def points(exercise: Exercise, runs: list[dict]) -> list[Point]:
    """Finished runs of this experiment, one point each (the newest run of a student on a value counts once)."""
    out, seen = [], set()
    for r in sorted(runs, key=lambda r: r.get("started_at") or 0, reverse=True):
        if r.get("tag") != exercise.tag or r.get("test_acc") is None or not exercise.sweep:
            continue
        value = r["config"].get(exercise.sweep)
        if value not in exercise.values:
            continue
        who = (r.get("nickname") or r["id"], value)
        if who in seen:
            continue
        seen.add(who)
        out.append(
            Point(
                value, exercise.values.index(value), r.get("nickname") or "", r["test_acc"], r.get("test_loss"), r["id"]
            )
        )
    return sorted(out, key=lambda p: (p.index, p.nickname))


def spread(pts: list[Point]) -> list[dict]:
    """Per value, in the exercise's order: how many students answered, and their accuracies' median, min, max."""
    by_value: dict[int, list[Point]] = {}
    for p in pts:
        by_value.setdefault(p.index, []).append(p)
    return [
        {
            "value": ps[0].value,
            "n": len(ps),
            "median": statistics.median(p.test_acc for p in ps),
            "min": min(p.test_acc for p in ps),
            "max": max(p.test_acc for p in ps),
        }
        for _, ps in sorted(by_value.items())
    ]


def safe_cell(value) -> object:
    """A value as a spreadsheet cell that is never run as a formula: text that starts like one gets a leading
    apostrophe (a nickname such as '=HYPERLINK(...)' stays the text the student typed)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(header: list[str], rows: list[list]) -> str:
    """CSV with every text cell made safe (safe_cell)."""
    out = io.StringIO()
    writer = csv.writer(out)  # CRLF, as RFC 4180: a field holding \r or \n is quoted, never a new row
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else safe_cell(v) for v in row])
    return out.getvalue()


RUN_COLUMNS = ("nickname", "state", "started", "seconds", "test_acc", "test_loss", "s_per_epoch", "tag", "run_id")


def runs_csv(runs: list[dict]) -> str:
    """The class's runs, one row each: who, every setting, the final figures and times."""
    settings = list(TrainConfig().to_dict())
    rows = []
    for r in runs:
        ended = r.get("ended_at")
        rows.append(
            [
                r.get("nickname") or "",
                r["state"],
                time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r["started_at"])),
                None if ended is None else round(ended - r["started_at"], 1),
                r.get("test_acc"),
                r.get("test_loss"),
                r.get("train_s_per_epoch"),
                r.get("tag") or "",
                r["id"],
                *(r["config"].get(s) for s in settings),
            ]
        )
    return csv_text([*RUN_COLUMNS, *settings], rows)


def experiment_csv(exercise: Exercise, pts: list[Point]) -> str:
    """The experiment's table: one row per student's answer."""
    return csv_text(
        ["nickname", exercise.sweep or "value", "test_acc", "test_loss", "run_id"],
        [[p.nickname, p.value, p.test_acc, p.test_loss, p.run_id] for p in pts],
    )
