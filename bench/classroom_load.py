"""A class on one server: 16 students in real browser sessions, then 16 who close their tabs.

    python bench/classroom_load.py                 # both scenarios, prints a report
    python bench/classroom_load.py --students 8 --skip-abandon

Everything talks to a Streamlit server this script starts on 127.0.0.1. Reported:
  * jobs finished / stopped / failed (from the run store) and the most that waited in the queue;
  * time from Start to the first chart point, for students whose job started at once and for queued ones;
  * page-load latency p50 / p95 of fresh tabs opened while the class trains;
  * server memory: after start-up; warmed up (datasets loaded and one run of each kind trained, since a
    process's first CNN or Adam run maps ~170 MB of torch and oneDNN code once, whoever starts it); at peak
    while the class trains; and once the class has finished, per student session beyond the warm server;
  * CPU oversubscription: the most threads of the server seen running at once, against the cores;
  * abandoned tabs: how long until every job of a closed tab is stopped, and memory afterwards.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATA_DIR", str(ROOT.parent / "shared" / "data"))

from core import models as M  # noqa: E402
from tests.e2e.conftest import FLAGS, free_port, start_server, type_into  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
JS_POINTS = """() => { const el = document.querySelector('.js-plotly-plot');
    return !!(el && el._fullData && el._fullData.length && el._fullData[0].x.length > 0); }"""
# (dataset, model, optimizer, lr, batch, epochs, subset): small enough that a class finishes in minutes
MIX = [
    ("digits", "softmax", "sgd", 0.3, 64, 5, 0),
    ("fashion-mnist", "softmax", "sgd", 0.1, 256, 2, 10000),
    ("digits", "cnn", "adam", 0.01, 64, 3, 0),
    ("fashion-mnist", "cnn", "adam", 0.01, 100, 1, 3000),
]


class Monitor(threading.Thread):
    """Samples the server's resident memory and its number of running threads every 0.2 s."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.rss, self.running, self.stop = pid, [], [], threading.Event()

    def rss_mb(self) -> float:
        for line in open(f"/proc/{self.pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def running_threads(self) -> int:
        n = 0
        for task in os.listdir(f"/proc/{self.pid}/task"):
            try:
                stat = open(f"/proc/{self.pid}/task/{task}/stat").read()
            except OSError:
                continue
            n += stat[stat.rindex(")") + 2] == "R"
        return n

    def run(self):
        while not self.stop.wait(0.2):
            try:
                self.rss.append(self.rss_mb())
                self.running.append(self.running_threads())
            except OSError:
                return


def set_up(page, url: str, i: int, spec) -> None:
    """Open the Train page with the student's settings, as a link from the teacher would carry them (the
    settings live in the URL), at full speed: the class's throughput is measured, not slow motion's."""
    dataset, model, opt, lr, batch, epochs, subset = spec
    query = urllib.parse.urlencode(
        {
            "dataset": dataset,
            "model": model,
            "optimizer": opt,
            "lr": lr,
            "batch_size": batch,
            "epochs": epochs,
            "train_subset": subset,
            "pace": "full",
        }
    )
    page.goto(f"{url}/?{query}")
    page.get_by_text(f"Ready: {M.REGISTRY[model].short} on").wait_for(timeout=60_000)
    type_into(page, "Your nickname (shown on the class board)", f"student{i:02d}", settle_ms=250)


T0 = time.perf_counter()


def say(msg: str) -> None:
    print(f"[{time.perf_counter() - T0:6.1f} s] {msg}", file=sys.stderr, flush=True)


def states(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return dict(conn.execute("SELECT state, count(*) FROM runs GROUP BY state").fetchall())


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def classroom(browser, url: str, n: int, mon: Monitor, db: Path) -> float:
    """Run the class; returns the server's memory (MB) once every run ended, all sessions still open."""
    contexts, pages = [], []
    for i in range(n):
        ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(120_000)
        set_up(page, url, i, MIX[i % len(MIX)])
        pages.append(page)
    say(f"{n} students set up")
    starts, queued_seen = [], 0
    for page in pages:  # the class presses Start within a few seconds
        page.get_by_role("button", name="▶ Start training").click()
        starts.append(time.perf_counter())
    say("all pressed Start")
    first_point, waited = [], []
    for page, t in zip(pages, starts):
        queued = page.get_by_text("Waiting for a free slot").count() > 0
        queued_seen += queued
        page.wait_for_function(JS_POINTS, polling=50, timeout=600_000)
        (waited if queued else first_point).append(time.perf_counter() - t)
    say("every student saw a first point")
    loads = []
    for _ in range(10):  # fresh tabs while the class trains
        ctx = browser.new_context()
        p = ctx.new_page()
        t = time.perf_counter()
        p.goto(url)
        p.get_by_text("Train a classifier, watch it learn").wait_for(timeout=60_000)
        loads.append(time.perf_counter() - t)
        ctx.close()
    say("page loads measured")
    deadline = time.time() + 900
    while states(db).get("running", 0) and time.time() < deadline:
        time.sleep(1)
    say("every run ended")
    time.sleep(3)
    settled_mb = mon.rss_mb()
    for ctx in contexts:
        ctx.close()
    print(f"\n== {n} students on one server ==")
    print(f"runs by state: {states(db)} (queued visibly at Start: {queued_seen})")
    if first_point:
        print(
            f"start -> first chart point, job started at once: p50 {statistics.median(first_point):.2f} s, "
            f"max {max(first_point):.2f} s ({len(first_point)} students)"
        )
    if waited:
        print(
            f"start -> first chart point, after waiting in the queue: p50 {statistics.median(waited):.1f} s, "
            f"max {max(waited):.1f} s ({len(waited)} students)"
        )
    print(
        f"page load while training (10 fresh tabs): p50 {statistics.median(loads):.2f} s, "
        f"p95 {pct(loads, 95):.2f} s (target p95 < 2 s)"
    )
    print(
        f"server threads running at once: max {max(mon.running)}, p95 {pct(mon.running, 95):.0f} "
        f"on {os.cpu_count()} cores"
    )
    return settled_mb


def abandoned(browser, url: str, n: int, mon: Monitor, db: Path, grace: float, ttl: float, base_mb: float) -> None:
    contexts = []
    for _ in range(n):
        ctx = browser.new_context()
        page = ctx.new_page()
        page.set_default_timeout(120_000)
        page.goto(url)
        page.get_by_text("Train a classifier, watch it learn").wait_for(timeout=60_000)
        type_into(page, "Batch size", 1, settle_ms=250)
        type_into(page, "Epochs", 100, settle_ms=250)  # far longer than the test: only the reaper can end it
        page.get_by_role("button", name="▶ Start training").click()
        page.get_by_text("Running:").or_(page.get_by_text("Waiting for a free slot")).wait_for()
        contexts.append(ctx)
    before = states(db)
    say(f"{n} abandoning students started runs: {before}")
    t = time.perf_counter()
    for ctx in contexts:
        ctx.close()
    limit = ttl + grace + 60
    while time.perf_counter() - t < limit:
        live = states(db).get("running", 0)
        if live == 0:
            break
        time.sleep(1)
    took = time.perf_counter() - t
    time.sleep(3)
    after_mb = mon.rss_mb()
    print(f"\n== {n} abandoned tabs (session TTL {ttl:g} s + grace {grace:g} s) ==")
    print(f"runs before closing: {before}; after: {states(db)}")
    print(f"all jobs stopped {took:.0f} s after the tabs closed (limit {limit:.0f} s)")
    print(f"server memory: {after_mb:.0f} MB afterwards vs {base_mb:.0f} MB warmed up before the class")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--students", type=int, default=16)
    ap.add_argument("--skip-abandon", action="store_true")
    ap.add_argument("--grace", type=float, default=10)
    ap.add_argument("--ttl", type=float, default=5)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="classroom-"))
    db = tmp / "runs.db"
    port = free_port()
    env = {
        "RUNS_DB": str(db),
        "JOB_GRACE_S": str(args.grace),
        "STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL": str(args.ttl),
    }
    proc = start_server(port, env, tmp / "server.log")
    url = f"http://127.0.0.1:{port}"
    mon = Monitor(proc.pid)
    try:
        start_mb = mon.rss_mb()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            warm = browser.new_page()  # the teacher tries each kind of run once before the class comes in
            for spec in MIX:
                set_up(warm, url, 99, spec)
                warm.get_by_role("button", name="▶ Start training").click()
                warm.get_by_text("Done:").wait_for(timeout=120_000)
            warm.close()
            time.sleep(3)
            warm_mb = mon.rss_mb()
            say(f"server warmed up: {start_mb:.0f} -> {warm_mb:.0f} MB")
            mon.start()
            after_mb = classroom(browser, url, args.students, mon, db)
            peak = max(mon.rss)
            print(
                f"server memory: {start_mb:.0f} MB at start, {warm_mb:.0f} MB warmed up (datasets loaded, one "
                f"run of each kind), peak {peak:.0f} MB while the class trained "
                f"({(peak - warm_mb) / args.students:.1f} MB per student), {after_mb:.0f} MB once every run "
                f"ended with all {args.students} sessions still open: "
                f"{(after_mb - warm_mb) / args.students:.1f} MB per student session"
            )
            if not args.skip_abandon:
                abandoned(browser, url, args.students, mon, db, args.grace, args.ttl, warm_mb)
            browser.close()
    finally:
        mon.stop.set()
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
