"""What the dashboard costs a training run, and how soon a student sees the first point.

    python bench/dashboard_overhead.py            # digits + fashion-mnist softmax, browser latency too
    python bench/dashboard_overhead.py --no-browser --repeats 5

1. Headless: `core.train` iterated in a process's main thread, as `python -m core.train` does.
2. Dashboard: the same config as a JobManager job on a worker thread, while the main thread plays the page:
   every second it takes job.snapshot(), builds the two live figures and serialises them to JSON, as the
   Train page's fragment does. Target: within 10 % of headless seconds per epoch.
   Each measurement runs in a fresh process (as the server and the CLI do) and the two modes alternate;
   medians are reported. Training headless in a process's main thread and then a job in the same process
   would charge the job for OpenMP's idle pool of the main thread.
3. First point: a real Streamlit server on 127.0.0.1 and chromium; time from the Start click until the
   loss chart holds a point. Target: under 1 s on digits.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATA_DIR", str(ROOT.parent / "shared" / "data"))

POLL_S = 1.0
CONFIGS = {"digits softmax": dict(dataset="digits", batch_size=16, epochs=12),
           "fashion-mnist softmax": dict(dataset="fashion-mnist", lr=0.1, batch_size=256, epochs=8)}


def page_render(snap) -> int:
    """What one fragment refresh costs the server: two figures built and serialised."""
    from core import plots

    per_epoch = snap.started.batches_per_epoch if snap.started else None
    rows = [{"epoch": e.epoch, "train_loss": e.train_loss, "train_acc": e.train_acc, "val_acc": e.val_acc,
             "test_acc": e.test_acc} for e in snap.epochs]
    figs = (plots.batch_loss(snap.steps, snap.losses, per_epoch), plots.epoch_curves(rows, snap.config.epochs))
    return sum(len(f.to_json()) for f in figs)


def measure(mode: str, config: dict) -> dict:
    """Run one mode in this (fresh) process; return seconds per epoch and polls made."""
    from core import data as D
    from core.config import TrainConfig
    from core.jobs import JobManager
    from core.train import EpochEnd, train

    cfg = TrainConfig(**config)
    D.load(cfg.dataset)
    if mode == "dashboard":  # a running server has imported plotly and built its validators long ago
        from core import plots
        plots.batch_loss([1], [1.0], 1).to_json(), plots.epoch_curves([], 1).to_json()
    if mode == "headless":
        return {"s": statistics.mean(e.epoch_s for e in train(cfg) if isinstance(e, EpochEnd)), "polls": 0}
    mgr = JobManager()
    job = mgr.submit(cfg)
    polls = 0
    while not job.wait(POLL_S):
        page_render(job.snapshot())
        polls += 1
    snap = job.snapshot()
    mgr.close()
    assert snap.state == "done", snap.message
    return {"s": statistics.mean(e.epoch_s for e in snap.epochs), "polls": polls}


def in_fresh_process(mode: str, config: dict) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", mode, json.dumps(config)], cwd=ROOT,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def first_point_latency(runs: int = 3) -> list[float]:
    """Seconds from the Start click to the first point on the live loss chart, in chromium."""
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import FLAGS, free_port, start_server

    port = free_port()
    proc = start_server(port)
    out = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"), args=FLAGS)
            for _ in range(runs):
                page = browser.new_page(viewport={"width": 1600, "height": 1000})
                page.goto(f"http://127.0.0.1:{port}")
                page.get_by_text("Train a classifier, watch it learn").wait_for()
                page.locator(".js-plotly-plot").first.wait_for()
                page.wait_for_timeout(500)
                t = time.perf_counter()
                page.get_by_role("button", name="▶ Start training").click()
                page.wait_for_function("""() => { const el = document.querySelector('.js-plotly-plot');
                    return el && el._fullData && el._fullData.length && el._fullData[0].x.length > 0; }""",
                                       polling=20, timeout=30_000)
                out.append(time.perf_counter() - t)
                page.get_by_text("Done:").wait_for(timeout=60_000)
                page.close()
            browser.close()
    finally:
        proc.terminate()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-browser", action="store_true")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(measure(args.child[0], json.loads(args.child[1]))))
        return
    print(f"{os.cpu_count()} cores; page poll every {POLL_S} s; median of {args.repeats} fresh processes per mode\n")
    print(f"{'run':24} {'headless s/epoch':>17} {'dashboard s/epoch':>18} {'overhead':>9}")
    for name, config in CONFIGS.items():
        h, d = [], []
        for _ in range(args.repeats):  # alternate, so drifts of the machine hit both modes alike
            h.append(in_fresh_process("headless", config)["s"])
            d.append(in_fresh_process("dashboard", config)["s"])
        hm, dm = statistics.median(h), statistics.median(d)
        print(f"{name:24} {hm:17.3f} {dm:18.3f} {100 * (dm / hm - 1):+8.1f}%  (target <= +10 %)")
    if not args.no_browser:
        lat = first_point_latency()
        print(f"\nfirst chart point after Start (digits, chromium): "
              f"{', '.join(f'{x:.2f}' for x in lat)} s; median {statistics.median(lat):.2f} s (target < 1 s)")


if __name__ == "__main__":
    main()
