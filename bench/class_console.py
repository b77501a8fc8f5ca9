"""The teacher's console with a class of 32: how long it takes to redraw while every student's run is live.

    python -m bench.class_console                   # 32 students, 15 redraws per phase (~2 min)
    python -m bench.class_console --students 8 --redraws 5

Everything in this process, as one server holds it: a run store in a temporary folder and the server's own job
threads (ui.services.Services). The teacher sends a learning-rate experiment of six values; each simulated student
(a distinct nickname) is handed a value by the store (RunStore.hand_out) and starts one run with it:
1. Live: the Train page's default run (digits, softmax, slow motion) for 100 epochs, all training at once (the
   scheduler told it has a core per student, as a lab server would; slow motion mostly sleeps) while the console
   redraws: the full console page (pages/teacher.py through app.py, in Streamlit's AppTest: the store's runs,
   every live job's snapshot, the small multiples of 32 loss curves) --redraws times.
2. Answered: the same students' 2-epoch runs at full speed, all finished: the console with the class plot of
   32 points (and the 64 runs' small multiples, the newest 36 drawn).
Each: the median and p90 of a page run, and the bytes of the figures it sends. Target: a redraw under 1 s.
A browser adds its own drawing of those figures; this measures what the server does for each redraw.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATA_DIR", str(ROOT.parent / "shared" / "data"))

from core.classroom import Exercise  # noqa: E402
from core.config import TrainConfig  # noqa: E402
from core.events import RUNNING  # noqa: E402
from tests.conftest import app, until  # noqa: E402  (routes AppTest's pages through app.py, as the server does)
from ui import lesson, services  # noqa: E402

VALUES = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0)


def redraws(n: int) -> tuple[list[float], int]:
    """Seconds per console page run (the first, which imports the page, left out), and the figures' bytes."""
    at = app(run=False)
    at.switch_page("pages/teacher.py")
    at.run()
    assert not at.exception, at.exception
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - t0)
        assert not at.exception, at.exception
    sent = sum(len(el.proto.json) for el in at.get("bidi_component") if el.proto.component_name == "live_view")
    return times, sent


def summary(name: str, times: list[float], sent: int) -> str:
    p90 = sorted(times)[max(0, int(round(0.9 * len(times))) - 1)]
    return f"{name}: median {statistics.median(times):.3f} s, p90 {p90:.3f} s over {len(times)} redraws; {sent:,} bytes"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--students", type=int, default=32)
    ap.add_argument("--redraws", type=int, default=15)
    args = ap.parse_args()
    os.environ["JOB_CAP"] = str(args.students)  # every run trains at once: the console's worst case
    os.environ["JOB_PER_STUDENT"] = "3"
    folder = Path(tempfile.mkdtemp())
    os.environ["RUNS_DB"] = str(folder / "runs.db")
    made = services.Services(folder / "runs.db")
    services.install(made)
    store = made.store()
    # a lab server's cores: all of them train at once (slow motion mostly sleeps, so 2 real cores carry them)
    made.jobs.cores = made.jobs.node_cores = args.students
    base = TrainConfig(pace="slow", epochs=100)
    exercise = Exercise("How big a step?", base, (), "lr", VALUES)
    lesson.send(made, exercise)
    jobs = []
    for i in range(args.students):
        index = store.hand_out(exercise.id, f"student{i}", len(VALUES))
        cfg = exercise.config_for(index)
        jobs.append(made.jobs.submit(cfg, f"student{i}", exercise.tag, student=f"s{i}"))
    live = until(lambda: all(j.state == RUNNING and j.snapshot(light=True).losses for j in jobs), 120)
    assert live, [(j.state, j.snapshot(light=True).message) for j in jobs]
    print(f"{args.students} students, {len(VALUES)} values, every run live ({made.jobs.counts()})", flush=True)
    live, sent = redraws(args.redraws)
    assert all(j.state == RUNNING for j in jobs), "the runs ended before the console was measured"
    print(summary(f"1. console, {args.students} live runs", live, sent), flush=True)
    for j in jobs:
        j.stop()
    until(lambda: all(j.state != RUNNING for j in jobs), 60)
    quick = [
        made.jobs.submit(
            exercise.config_for(i % len(VALUES)).with_(pace="full", epochs=2),
            f"student{i}",
            exercise.tag,
            student=f"s{i}",
        )
        for i in range(args.students)
    ]
    assert until(lambda: all(j.snapshot(light=True).done is not None for j in quick), 600)
    answered, sent = redraws(args.redraws)
    print(summary(f"2. console, {args.students} answers in the class plot", answered, sent), flush=True)
    made.close()


if __name__ == "__main__":
    main()
