"""What the dashboard costs a training run, and how soon a student sees the first point.

    python bench/dashboard_overhead.py                 # digits + Fashion-MNIST softmax, 3 repeats
    python bench/dashboard_overhead.py --cnn           # also the seed CNN on Fashion-MNIST (slower)
    python bench/dashboard_overhead.py --repeats 5
    python bench/dashboard_overhead.py --cnn --only seed-cnn --repeats 8   # one run, more repeats

1. Headless: `python -m core.train` in a fresh process: no server, no browser.
2. Dashboard: a real Streamlit server on 127.0.0.1 and a real chromium tab on this same machine, the Train
   page open and redrawing its live charts every second while the run trains, as on a student's laptop.
   Seconds per epoch come from the run store the server writes. The browser's rendering competes for the
   same cores, so this is the harder case; a class server whose students watch from their own laptops only
   pays the server's share.
   With --browser-elsewhere (Linux), chromium is pinned to one core and the server and the headless run to
   the others: the class-server case, where students watch from their own laptops.
   Target: dashboard seconds per epoch within 10 % of headless (mean over the run's epochs, median of the
   repeats; the two modes alternate so drifts of the machine hit both alike).
   The dashboard trains softmax runs and the digits on one thread (core.jobs.threads_for), torch's CLI on one
   per core; for those runs a third mode, headless with --threads 1, shows which part of the overhead is that
   choice and which the dashboard itself.
3. First point: time from the Start click until the loss chart holds a point. Target: under 1 s on digits.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATA_DIR", str(ROOT.parent / "shared" / "data"))

# name -> (CLI flags, how the Train page is set to the same config)
RUNS = {
    "digits softmax, batch 16, 12 epochs": (
        ["--dataset", "digits", "--batch-size", "16", "--epochs", "12"],
        {"numbers": {"Batch size": 16, "Epochs": 12}},
    ),
    "d2l-softmax (Fashion-MNIST, 10 epochs)": (["--preset", "d2l-softmax"], {"recipe": "d2l-softmax"}),
}
CNN_RUN = {"seed-cnn (Fashion-MNIST CNN, 2 epochs)": (["--preset", "seed-cnn"], {"recipe": "seed-cnn"})}
JS_POINTS = """() => { const el = document.querySelector('.js-plotly-plot');
    return el && el._fullData && el._fullData.length ? el._fullData[0].x.length : 0; }"""


PIN: list[str] = []  # taskset prefix for the server and the headless run (--browser-elsewhere)


def job_threads(flags: list[str]) -> int:
    """The CPU threads the dashboard gives this run when it trains alone (core.jobs.threads_for)."""
    from core.jobs import threads_for
    from core.train import config_from_args

    return threads_for(config_from_args(flags))


def headless(flags: list[str], threads: int | None = None) -> float:
    """Mean training seconds per epoch of the CLI in a fresh process (torch's default threads, or `threads`)."""
    extra = ["--threads", str(threads)] if threads else []
    out = subprocess.run(
        [*PIN, sys.executable, "-m", "core.train", *flags, *extra], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return statistics.mean(json.loads(line)["epoch_s"] for line in out.splitlines() if '"epoch"' in line)


def torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def open_train_page(browser, url: str):
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    page.goto(url)
    page.get_by_text("Train a classifier, watch it learn").wait_for()
    page.locator(".js-plotly-plot").first.wait_for()  # the empty charts: plotly is loaded before Start
    return page


def set_up(page, how: dict) -> None:
    from core.config import PRESET_TITLES
    from tests.e2e.conftest import pick, type_into

    if "recipe" in how:
        pick(page, "Recipe", PRESET_TITLES[how["recipe"]])
    for label, value in how.get("numbers", {}).items():
        type_into(page, label, value, settle_ms=300)
    page.get_by_text("Full speed", exact=True).click()  # as headless trains: the Train page starts in slow motion
    page.wait_for_timeout(1500)
    # then until the page has finished redrawing for the new settings (the time estimate runs real steps),
    # as a student presses Start on a settled page: a click during that run waits
    # for it, and the job would start under the run's "Running" animation
    page.wait_for_function(
        """() => !document.querySelector('[data-testid^="stStatusWidgetRunning"]')
                                   && !document.querySelector('[data-stale="true"]')""",
        polling=100,
    )
    page.wait_for_timeout(500)


def wait_finished(db: Path, timeout: float = 900) -> None:
    """Wait for the run to end by reading the run store every half second. Waiting in the page instead
    (playwright re-querying the DOM for "Done:" at every frame) adds browser work the dashboard does not do."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        time.sleep(0.5)
        with sqlite3.connect(db) as con:
            states = [r[0] for r in con.execute("SELECT state FROM runs")]
        if states and "running" not in states:
            return
    raise TimeoutError("the run did not finish")


def served(browser, how: dict) -> float:
    """Mean training seconds per epoch of the same run started and watched from the Train page."""
    from tests.e2e.conftest import free_port, start_server

    db = Path(tempfile.mkdtemp()) / "runs.db"
    port = free_port()
    proc = start_server(port, {"RUNS_DB": str(db)}, prefix=PIN)
    try:
        page = open_train_page(browser, f"http://127.0.0.1:{port}")
        set_up(page, how)
        page.get_by_role("button", name="▶ Start training").click()
        wait_finished(db)
        page.get_by_text("Done:").wait_for(timeout=30_000)
        page.close()
    finally:
        proc.terminate()
        proc.wait(30)
    with sqlite3.connect(db) as con:
        return statistics.mean(r[0] for r in con.execute("SELECT epoch_s FROM epochs"))


def first_point_latency(browser, runs: int = 3) -> list[float]:
    """Seconds from the Start click to the first point on the live loss chart (digits defaults)."""
    from tests.e2e.conftest import free_port, start_server

    port = free_port()
    proc = start_server(port, {"RUNS_DB": str(Path(tempfile.mkdtemp()) / "runs.db")})
    out = []
    try:
        for _ in range(runs):
            page = open_train_page(browser, f"http://127.0.0.1:{port}")
            page.wait_for_timeout(500)
            t = time.perf_counter()
            page.get_by_role("button", name="▶ Start training").click()
            page.wait_for_function(f"() => ({JS_POINTS})() > 0", polling=20, timeout=30_000)
            out.append(time.perf_counter() - t)
            page.get_by_text("Done:").wait_for(timeout=60_000)
            page.close()
    finally:
        proc.terminate()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cnn", action="store_true", help="also the seed CNN (about 3 min more on 2 cores)")
    ap.add_argument("--only", default="", help="only the runs whose name starts with this (e.g. seed-cnn)")
    ap.add_argument(
        "--browser-elsewhere",
        action="store_true",
        help="pin chromium to the last core, the server and the headless run to the others",
    )
    args = ap.parse_args()
    where = "server and chromium on this machine"
    if args.browser_elsewhere:
        cores = sorted(os.sched_getaffinity(0))
        PIN[:] = ["taskset", "-c", ",".join(map(str, cores[:-1]))]
        os.sched_setaffinity(0, {cores[-1]})  # chromium, started from this process, inherits it
        where = f"server and headless run on cores {PIN[-1]}, chromium on core {cores[-1]}"
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import CHROMIUM, FLAGS

    runs = {name: run for name, run in {**RUNS, **(CNN_RUN if args.cnn else {})}.items() if name.startswith(args.only)}
    if not runs:
        ap.error(f"no run named {args.only!r}...; the runs are: {', '.join({**RUNS, **CNN_RUN})}")
    print(
        f"{os.cpu_count()} cores; {where}; Train page redrawing every second; median of {args.repeats} runs per mode\n"
    )
    print(f"{'run':40} {'headless s/epoch':>17} {'dashboard s/epoch':>18} {'overhead':>9}")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        for name, (flags, how) in runs.items():
            # The dashboard trains a softmax run on one thread, to leave a core to the browser and the server
            # (core.jobs.threads_for); the CLI uses torch's default of one per core. A second headless run at
            # the dashboard's thread count separates what the dashboard itself costs from that choice.
            threads = job_threads(flags)
            same = threads if threads != torch_threads() else None
            h, h1, d = [], [], []
            for _ in range(args.repeats):
                h.append(headless(flags))
                if same:
                    h1.append(headless(flags, same))
                d.append(served(browser, how))
            hm, dm = statistics.median(h), statistics.median(d)
            # each dashboard run next to the headless run just before it: drifts of the machine over minutes
            # cancel out of these ratios, and their spread shows how far one pair can be trusted
            pairs = sorted(100 * (b / a - 1) for a, b in zip(h, d))
            print(
                f"{name:40} {hm:17.3f} {dm:18.3f} {100 * (dm / hm - 1):+8.1f}%  (target <= +10 %)\n"
                f"{'':40} paired: median {statistics.median(pairs):+.1f} %, each "
                f"{', '.join(f'{x:+.0f}' for x in pairs)} %",
                flush=True,
            )
            if same:
                h1m = statistics.median(h1)
                pairs1 = sorted(100 * (b / a - 1) for a, b in zip(h1, d))
                print(
                    f"{'':40} headless on {same} thread(s) as in the dashboard: {h1m:.3f} s/epoch "
                    f"({100 * (h1m / hm - 1):+.1f} % against the default); the dashboard against it: "
                    f"{100 * (dm / h1m - 1):+.1f} %, paired median {statistics.median(pairs1):+.1f} %, each "
                    f"{', '.join(f'{x:+.0f}' for x in pairs1)} %",
                    flush=True,
                )
        lat = first_point_latency(browser)
        browser.close()
    print(
        f"\nfirst chart point after Start (digits, chromium): "
        f"{', '.join(f'{x:.2f}' for x in lat)} s; median {statistics.median(lat):.2f} s (target < 1 s)"
    )


if __name__ == "__main__":
    main()
