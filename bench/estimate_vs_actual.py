"""The Train page's time estimate against the real run, for every preset and a few edge settings.

    python bench/estimate_vs_actual.py            # needs the real datasets in $DATA_DIR (default ../shared/data)
    python bench/estimate_vs_actual.py --quick    # digits only

Each row: the estimate (median of 3 calls, and their spread), then the run trained as the dashboard trains it
(core.train.train at the job's thread count, core.jobs.threads_for), timed from start to Done. Target: every
estimate within a factor of 2 of the actual time.
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

import torch  # noqa: E402

from core import data as D  # noqa: E402
from core.config import PRESETS, TrainConfig  # noqa: E402
from core.events import Done  # noqa: E402
from core.jobs import threads_for  # noqa: E402
from core.train import estimate_seconds, train  # noqa: E402

CASES = {
    "digits default": TrainConfig(),
    "digits batch 1, 3 epochs": TrainConfig(batch_size=1, epochs=3),
    "digits CNN, Adam": TrainConfig(model="cnn", optimizer="adam", lr=0.01, epochs=5),
    "digits slow motion, 5 epochs": TrainConfig(epochs=5, pace="slow"),
    **{f"preset {name}": cfg for name, cfg in PRESETS.items()},
    "Fashion-MNIST MLP, 3 epochs": TrainConfig(dataset="fashion-mnist", model="mlp", epochs=3, batch_size=128),
    "Fashion-MNIST CNN, 10,000 images, batch 32": TrainConfig(
        dataset="fashion-mnist", model="cnn", lr=0.05, batch_size=32, epochs=1, train_subset=10_000
    ),
    "MNIST softmax, batch 4096, 20 % validation": TrainConfig(
        dataset="mnist", batch_size=4096, epochs=3, val_fraction=0.2
    ),
}


def actual_seconds(cfg: TrainConfig, ds: D.Dataset) -> float:
    before = torch.get_num_threads()
    torch.set_num_threads(threads_for(cfg))
    try:
        t = time.perf_counter()
        events = list(train(cfg, dataset=ds))
        assert isinstance(events[-1], Done), events[-1]
        return time.perf_counter() - t
    finally:
        torch.set_num_threads(before)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="digits cases only")
    args = parser.parse_args()
    print(f"{'case':46} {'estimate s':>11} {'(3 calls)':>17} {'actual s':>9} {'ratio':>6}")
    ratios = []
    for name, cfg in CASES.items():
        if args.quick and cfg.dataset != "digits":
            continue
        ds = D.load(cfg.dataset)
        estimates = [estimate_seconds(cfg, ds, threads_for(cfg)) for _ in range(3)]
        est, actual = statistics.median(estimates), actual_seconds(cfg, ds)
        ratios.append(est / actual)
        spread = f"{min(estimates):.2f}-{max(estimates):.2f}"
        print(f"{name:46} {est:11.2f} {spread:>17} {actual:9.2f} {est / actual:6.2f}", flush=True)
    worst = max(max(ratios), 1 / min(ratios))
    print(f"worst factor: {worst:.2f} (target <= 2)")


if __name__ == "__main__":
    main()
