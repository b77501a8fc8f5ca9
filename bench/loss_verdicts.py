"""What a run's losses look like when its learning rate is too high, right, or too low: the measurements behind
core.metrics.diagnose's thresholds.

    python bench/loss_verdicts.py          # real Fashion-MNIST in $DATA_DIR (default ../shared/data), and digits

Per run: the first batch's loss (before any update), the largest batch loss over that, the last epoch's mean
train loss over the first, the last epoch's relative drop in train loss, the test accuracy, and the verdict
core.metrics.diagnose gives.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATA_DIR", str(ROOT.parent / "shared" / "data"))

from core.config import TrainConfig  # noqa: E402
from core.events import BatchEnd, Done, EpochEnd, Failed  # noqa: E402
from core.metrics import diagnose  # noqa: E402
from core.train import train  # noqa: E402

RUNS = [
    *(TrainConfig(dataset="fashion-mnist", lr=lr, epochs=5) for lr in (0.001, 0.01, 0.1, 0.3, 1.0, 3.0, 10.0)),
    *(TrainConfig(dataset="digits", lr=lr, batch_size=32, epochs=10) for lr in (0.001, 0.01, 0.1, 1.0, 10.0)),
    *(
        TrainConfig(dataset="digits", model="mlp", optimizer="adam", lr=lr, epochs=10)
        for lr in (0.0003, 0.01, 0.3, 1.0)
    ),
    *(TrainConfig(dataset="digits", model="cnn", optimizer="adam", lr=lr, epochs=10) for lr in (0.001, 0.01, 0.1, 0.3)),
]


def main() -> None:
    print(f"{'run':44} {'first':>6} {'max/first':>9} {'end/first':>9} {'last drop':>9} {'test acc':>8}  verdict")
    for cfg in RUNS:
        events = list(train(cfg))
        losses = [e.loss for e in events if isinstance(e, BatchEnd)]
        epochs = [e.train_loss for e in events if isinstance(e, EpochEnd)]
        end = events[-1]
        acc = f"{end.test_acc:.3f}" if isinstance(end, Done) else "failed"
        drop = (epochs[-2] - epochs[-1]) / epochs[-2] if len(epochs) > 1 else float("nan")
        verdict = diagnose(losses, epochs, cfg.lr)
        name = f"{cfg.dataset} {cfg.model} {cfg.optimizer} lr {cfg.lr:g} b{cfg.batch_size}"
        tail = verdict[0] if verdict else ("(diverged: run failed)" if isinstance(end, Failed) else "-")
        print(
            f"{name:44} {losses[0]:6.2f} {max(losses) / losses[0]:9.1f} "
            f"{(epochs[-1] if epochs else float('nan')) / losses[0]:9.3f} {drop:9.3f} {acc:>8}  {tail}",
            flush=True,
        )


if __name__ == "__main__":
    main()
