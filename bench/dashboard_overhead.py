"""What the dashboard costs a training run, and how soon a student sees the first point.

    python bench/dashboard_overhead.py            # digits + fashion-mnist softmax, browser latency too
    python bench/dashboard_overhead.py --no-browser

1. Headless: `core.train` iterated directly (what the CLI does).
2. Dashboard: the same config through JobManager on a worker thread while this thread plays the page:
   every 0.7 s it takes job.snapshot() and builds the two live figures and serialises them to JSON, as
   the Train page's fragment does. Target: within 10 % of headless seconds per epoch.
3. First point: a real Streamlit server on 127.0.0.1 and chromium; time from the Start click until the
   loss chart holds a point. Target: under 1 s on digits.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATA_DIR", str(ROOT.parent / "shared" / "data"))

from core import plots  # noqa: E402
from core.config import PRESETS, TrainConfig  # noqa: E402
from core.jobs import JobManager  # noqa: E402
from core.train import EpochEnd, train  # noqa: E402

POLL_S = 0.7


def headless(cfg: TrainConfig) -> float:
    """Mean training seconds per epoch with nothing else running."""
    return statistics.mean(e.epoch_s for e in train(cfg) if isinstance(e, EpochEnd))


def page_render(snap) -> int:
    """What one fragment refresh costs the server: two figures built and serialised."""
    per_epoch = snap.started.batches_per_epoch if snap.started else None
    rows = [{"epoch": e.epoch, "train_loss": e.train_loss, "train_acc": e.train_acc, "val_acc": e.val_acc,
             "test_acc": e.test_acc} for e in snap.epochs]
    figs = (plots.batch_loss(snap.steps, snap.losses, per_epoch), plots.epoch_curves(rows, snap.config.epochs))
    return sum(len(f.to_json()) for f in figs)


def dashboard(cfg: TrainConfig) -> tuple[float, int]:
    """Mean training seconds per epoch of a JobManager job while a page polls it; and the polls made."""
    mgr = JobManager()
    job = mgr.submit(cfg)
    polls = 0
    while not job.wait(POLL_S):
        page_render(job.snapshot())
        polls += 1
    snap = job.snapshot()
    mgr.close()
    assert snap.state == "done", snap.message
    return statistics.mean(e.epoch_s for e in snap.epochs), polls


def first_point_latency(runs: int = 3) -> list[float]:
    """Seconds from the Start click to the first point on the live loss chart, in chromium."""
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT / "tests"))
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
                page.wait_for_timeout(500)
                t = time.perf_counter()
                page.get_by_role("button", name="▶ Start training").click()
                page.wait_for_function("""() => { const el = document.querySelector('.js-plotly-plot');
                    return el && el.data && el.data[0].x.length > 0; }""", polling=20, timeout=30_000)
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
    ap.add_argument("--epochs", type=int, default=3)
    args = ap.parse_args()
    configs = {"digits softmax": TrainConfig(dataset="digits", batch_size=16, epochs=args.epochs * 4),
               "fashion-mnist softmax": PRESETS["d2l-softmax"].with_(epochs=args.epochs)}
    print(f"{os.cpu_count()} cores; page poll every {POLL_S} s\n")
    print(f"{'run':24} {'headless s/epoch':>17} {'dashboard s/epoch':>18} {'overhead':>9}  polls")
    for name, cfg in configs.items():
        headless(cfg.with_(epochs=1))  # warm caches and the dataset
        h = headless(cfg)
        d, polls = dashboard(cfg)
        print(f"{name:24} {h:17.3f} {d:18.3f} {100 * (d / h - 1):+8.1f}%  {polls}  (target <= +10 %)")
    if not args.no_browser:
        lat = first_point_latency()
        print(f"\nfirst chart point after Start (digits, chromium): "
              f"{', '.join(f'{x:.2f}' for x in lat)} s; median {statistics.median(lat):.2f} s (target < 1 s)")


if __name__ == "__main__":
    main()
