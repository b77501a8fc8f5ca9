"""What Rewind costs: the bytes a run stores for its kept points, and the time to read one back and rebuild the
model (what Inside does when the student moves the epoch slider), and to score the test set with it (Results).
Prints a Markdown table.

    python bench/rewind_cost.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core import data as D  # noqa: E402
from core import models as M  # noqa: E402
from core.checkpoint import checkpoint_bytes, load_weights  # noqa: E402
from core.config import TrainConfig  # noqa: E402
from core.recorder import Recorder, rewind_epochs  # noqa: E402
from core.store import RunStore  # noqa: E402
from core.train import PEEKS, evaluate, restore  # noqa: E402

CASES = [
    TrainConfig(dataset="mnist", model="softmax", epochs=10),
    TrainConfig(dataset="mnist", model="mlp", hidden=256, epochs=40),
    TrainConfig(dataset="mnist", model="mlp", hidden=1024, epochs=40),
    TrainConfig(dataset="mnist", model="cnn", epochs=10),
]


def main() -> None:
    store = RunStore(Path(tempfile.mkdtemp()) / "runs.db")
    print(
        "| model | epochs | bytes a point | points kept | bytes a run | read + rebuild one | score 10,000 test images |"
    )
    print("|---|---|---|---|---|---|---|")
    ds = D.load("mnist")
    for cfg in CASES:
        info = D.info(cfg.dataset)
        weights = M.build(cfg.model, info.size, len(info.classes), cfg.hidden, cfg.dropout).state_dict()
        size = len(checkpoint_bytes(cfg.to_dict(), weights))
        kept = len(rewind_epochs(cfg.epochs, size)) + len(PEEKS)
        run_id = f"{cfg.model}-{cfg.hidden}"  # medians: 20 reads, 3 scorings
        store.start(run_id, cfg)
        Recorder.rewind_point(store, run_id, cfg, 1, 1, 0.05, weights)
        times = []
        for _ in range(20):
            t = time.perf_counter()
            restore(cfg.to_dict(), load_weights(store.rewind_weights(run_id, 1)))
            times.append(time.perf_counter() - t)
        scores = []
        for _ in range(3):
            t = time.perf_counter()
            evaluate(restore(cfg.to_dict(), weights), ds.test_x, ds.test_y)
            scores.append(time.perf_counter() - t)
        label = f"{M.spec(cfg.model).label}" + (f" {cfg.hidden}" if cfg.model == "mlp" else "")
        print(
            f"| {label} | {cfg.epochs} | {size / 1e6:.2f} MB | {kept} | {kept * size / 1e6:.1f} MB "
            f"| {statistics.median(times) * 1e3:.1f} ms | {statistics.median(scores) * 1e3:.0f} ms |"
        )


if __name__ == "__main__":
    main()
