"""Time the seed tutorials' Fashion-MNIST pipelines against this project's core.train, side by side.

Run from the repository root (the real files live outside the repo, in ../shared/data by default):

    python bench/seed_vs_core.py                       # softmax and CNN, 2 epochs each side
    python bench/seed_vs_core.py --models cnn --epochs 3 --threads 2 --json
    python bench/seed_vs_core.py --data-dir /path/holding/fashion-mnist

Both sides run in this one process, on the same machine, on the CPU, with the same torch thread count.
"Seed" is the tutorials' code written out below as they wrote it: torchvision's FashionMNIST with
ToTensor, a DataLoader, and their train/evaluate loops. "Core" is `core.train.train` with the
`d2l-softmax` and `seed-cnn` presets. Dataset loading is excluded on both sides (core gets a dataset
loaded beforehand; the seed's FashionMNIST objects are built before its clock starts), but the seed's
DataLoader iteration (per-item PIL/ToTensor, worker start-up) is included: that *is* its pipeline.

Like is compared with like: one epoch = training plus the per-epoch test-set evaluation on both sides
(d2l's train_ch3 evaluates every epoch, core.train does too). Training-only figures are printed as well.
This is a benchmark, not a test: it asserts nothing, it prints the ratios next to their targets.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from statistics import mean

import torch
import torchvision
from torch import nn
from torch.utils.data import DataLoader
from torchvision import transforms

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # `python bench/seed_vs_core.py` puts bench/, not the repo, on sys.path

from core import data  # noqa: E402
from core.config import PRESETS  # noqa: E402
from core.train import Done, EpochEnd, Failed, Stopped, train  # noqa: E402

IDX_FILES = data.IDX_FILES
PRESET_OF = {"softmax": "d2l-softmax", "cnn": "seed-cnn"}
TARGETS = {"softmax": 20.0, "cnn": 3.0}  # wanted speed-up of core over the seed, per-epoch wall time
NOISY = 1.5  # reference probes further apart than this factor mean the machine's speed changed mid-run

# The seed code as written triggers two warnings: d2l's 4 workers on a machine with fewer cores, and
# float() on a tensor that requires grad (d2l's Accumulator). Both are known; keep the table readable.
warnings.filterwarnings("ignore", message="This DataLoader will create")
warnings.filterwarnings("ignore", message="Converting a tensor with requires_grad=True")


@dataclass
class Timing:
    """Per-epoch seconds of one side: wall (training + test evaluation) and training only."""

    epoch_s: list[float]  # training + per-epoch test evaluation
    train_s: list[float]  # training only
    test_acc: float

    @property
    def mean_epoch_s(self) -> float:
        return mean(self.epoch_s)

    @property
    def mean_train_s(self) -> float:
        return mean(self.train_s)


# ------------------------------------------------------------------------------------ noise check


def reference_ms(reps: int = 200) -> float:
    """Median ms of a fixed small workload (a batch gather, to-float and matmul): a speed probe.

    Run before every side; if the probes differ a lot, the CPU was shared or throttled mid-run and
    the ratios are not trustworthy.
    """
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (10_000, 28, 28), dtype=torch.uint8, generator=g)
    W = torch.randn(784, 10, generator=g)
    times = []
    for _ in range(reps):
        idx = torch.randint(0, len(images), (256,), generator=g)
        t = time.perf_counter()
        _ = (images[idx].reshape(256, -1).float() / 255) @ W
        times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2] * 1000


# ------------------------------------------------------------------------------------ data setup


def make_torchvision_root(data_dir: Path, tmp: Path) -> Path:
    """Gunzip the four Fashion-MNIST files into <tmp>/FashionMNIST/raw/, where torchvision looks."""
    raw = tmp / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for stem in IDX_FILES:
        src = data_dir / "fashion-mnist" / f"{stem}.gz"
        if not src.is_file():
            sys.exit(f"error: {src} not found; pass --data-dir pointing at the folder holding fashion-mnist/")
        with gzip.open(src, "rb") as fin, open(raw / stem, "wb") as fout:
            shutil.copyfileobj(fin, fout)
    return tmp


def tv_fashion_mnist(root: Path) -> tuple[torchvision.datasets.FashionMNIST, torchvision.datasets.FashionMNIST]:
    """The seeds' datasets: torchvision's FashionMNIST with ToTensor (download=False: never download)."""
    trans = transforms.Compose([transforms.ToTensor()])  # d2l's load_data_fashion_mnist, no resize
    train_set = torchvision.datasets.FashionMNIST(root=str(root), train=True, transform=trans, download=False)
    test_set = torchvision.datasets.FashionMNIST(root=str(root), train=False, transform=trans, download=False)
    return train_set, test_set


# ------------------------------------------------------------- seed 1: d2l 3.6 softmax from scratch


def get_dataloader_workers() -> int:
    """d2l: use 4 processes to read the data."""
    return 4


class Accumulator:
    """d2l: for accumulating sums over n variables."""

    def __init__(self, n: int):
        self.data = [0.0] * n

    def add(self, *args) -> None:
        self.data = [a + float(b) for a, b in zip(self.data, args)]

    def __getitem__(self, idx: int) -> float:
        return self.data[idx]


def d2l_softmax(X: torch.Tensor) -> torch.Tensor:
    X_exp = torch.exp(X)
    partition = X_exp.sum(1, keepdim=True)
    return X_exp / partition  # the broadcasting mechanism is applied here


def d2l_cross_entropy(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return -torch.log(y_hat[range(len(y_hat)), y])


def d2l_accuracy(y_hat: torch.Tensor, y: torch.Tensor) -> float:
    """d2l: compute the number of correct predictions."""
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())


def d2l_sgd(params, lr: float, batch_size: int) -> None:
    """d2l: minibatch stochastic gradient descent."""
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


def d2l_evaluate_accuracy(net, data_iter) -> float:
    """d2l: compute the accuracy for a model on a dataset."""
    if isinstance(net, torch.nn.Module):
        net.eval()
    metric = Accumulator(2)  # no. of correct predictions, no. of predictions
    with torch.no_grad():
        for X, y in data_iter:
            metric.add(d2l_accuracy(net(X), y), y.numel())
    return metric[0] / metric[1]


def d2l_train_epoch_ch3(net, train_iter, loss, updater) -> tuple[float, float]:
    """d2l: the training loop for one epoch (chapter 3)."""
    if isinstance(net, torch.nn.Module):
        net.train()
    metric = Accumulator(3)  # sum of training loss, sum of training accuracy, no. of examples
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)  # noqa: E741 (d2l's name)
        if isinstance(updater, torch.optim.Optimizer):
            updater.zero_grad()
            l.mean().backward()
            updater.step()
        else:
            l.sum().backward()
            updater(X.shape[0])
        metric.add(float(l.sum()), d2l_accuracy(y_hat, y), y.numel())
    return metric[0] / metric[2], metric[1] / metric[2]


def seed_softmax(train_set, test_set, epochs: int) -> Timing:
    """d2l 3.6 as written: train_ch3 = train_epoch_ch3 then evaluate_accuracy, each epoch."""
    batch_size, lr, num_inputs, num_outputs = 256, 0.1, 784, 10
    train_iter = DataLoader(train_set, batch_size, shuffle=True, num_workers=get_dataloader_workers())
    test_iter = DataLoader(test_set, batch_size, shuffle=False, num_workers=get_dataloader_workers())
    torch.manual_seed(0)
    W = torch.normal(0, 0.01, size=(num_inputs, num_outputs), requires_grad=True)
    b = torch.zeros(num_outputs, requires_grad=True)

    def net(X: torch.Tensor) -> torch.Tensor:
        return d2l_softmax(torch.matmul(X.reshape((-1, W.shape[0])), W) + b)

    def updater(batch_size: int) -> None:
        return d2l_sgd([W, b], lr, batch_size)

    epoch_s, train_s, test_acc = [], [], float("nan")
    for _ in range(epochs):
        t0 = time.perf_counter()
        d2l_train_epoch_ch3(net, train_iter, d2l_cross_entropy, updater)
        t1 = time.perf_counter()
        test_acc = d2l_evaluate_accuracy(net, test_iter)
        t2 = time.perf_counter()
        train_s.append(t1 - t0)
        epoch_s.append(t2 - t0)
    return Timing(epoch_s, train_s, test_acc)


# ----------------------------------------------------------------------------------- seed 2: CNN


def seed_cnn(train_set, test_set, epochs: int) -> Timing:
    """The seed's LeNet-like CNN with Adam: a plain train loop, then test accuracy once per epoch."""
    torch.manual_seed(0)
    network = nn.Sequential(
        nn.Conv2d(in_channels=1, out_channels=6, kernel_size=5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(in_channels=6, out_channels=12, kernel_size=5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(in_features=12 * 4 * 4, out_features=120),
        nn.ReLU(),
        nn.Linear(in_features=120, out_features=60),
        nn.ReLU(),
        nn.Linear(in_features=60, out_features=10),
    )
    # num_workers=0 (the DataLoader default): the seed tutorial's loader passes only batch_size and
    # shuffle as far as we know; we could not check its source offline, so we assume it kept the default.
    train_loader = DataLoader(train_set, batch_size=100, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=100, shuffle=False)
    optimizer = torch.optim.Adam(network.parameters(), lr=0.01)
    criterion = nn.CrossEntropyLoss()

    epoch_s, train_s, test_acc = [], [], float("nan")
    for _ in range(epochs):
        t0 = time.perf_counter()
        network.train()
        total_loss, total_correct = 0.0, 0
        for images, labels in train_loader:
            preds = network(images)
            loss = criterion(preds, labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total_loss += loss.item()
            total_correct += preds.argmax(dim=1).eq(labels).sum().item()
        t1 = time.perf_counter()
        network.eval()
        correct = 0
        with torch.no_grad():
            for images, labels in test_loader:
                correct += network(images).argmax(dim=1).eq(labels).sum().item()
        test_acc = correct / len(test_set)
        t2 = time.perf_counter()
        train_s.append(t1 - t0)
        epoch_s.append(t2 - t0)
    return Timing(epoch_s, train_s, test_acc)


# ------------------------------------------------------------------------------------ core side


def core_run(model: str, dataset: data.Dataset, epochs: int) -> Timing:
    """core.train on the model's preset, CPU; epoch wall time from consecutive EpochEnd.elapsed_s."""
    cfg = PRESETS[PRESET_OF[model]].with_(epochs=epochs, device="cpu")
    epoch_s, train_s, test_acc, last_elapsed = [], [], float("nan"), 0.0
    for event in train(cfg, dataset=dataset):
        if isinstance(event, EpochEnd):
            epoch_s.append(event.elapsed_s - last_elapsed)
            train_s.append(event.epoch_s)
            test_acc, last_elapsed = event.test_acc, event.elapsed_s
        elif isinstance(event, (Failed, Stopped)):
            raise RuntimeError(f"core.train {type(event).__name__}: {getattr(event, 'message', None) or event}")
        elif isinstance(event, Done):
            break
    if len(epoch_s) != epochs:
        raise RuntimeError(f"core.train yielded {len(epoch_s)} EpochEnd events, expected {epochs}")
    return Timing(epoch_s, train_s, test_acc)


# -------------------------------------------------------------------------------------- report


def ratio(seed: float, core: float) -> float:
    return seed / core if core > 0 else float("inf")


def print_table(title: str, results: dict[str, dict[str, Timing]], key: str, with_targets: bool) -> None:
    """One row per model: seed s/epoch | core s/epoch | speed-up (| target)."""
    header = f"{'model':<8} | {'seed s/epoch':>12} | {'core s/epoch':>12} | {'speed-up ×':>10}"
    print(f"\n{title}\n{header}" + (" | target" if with_targets else ""))
    print("-" * (len(header) + (9 if with_targets else 0)))
    for model, sides in results.items():
        s, c = getattr(sides["seed"], key), getattr(sides["core"], key)
        line = f"{model:<8} | {s:>12.3f} | {c:>12.3f} | {ratio(s, c):>9.1f}×"
        if with_targets:
            target = TARGETS[model]
            line += f" | ≥ {target:g}× {'met' if ratio(s, c) >= target else 'NOT met'}"
        print(line)


def report(results: dict[str, dict[str, Timing]], machine: dict, epochs: int) -> None:
    print(
        f"\nmachine: {machine['cores']} cores, torch {machine['torch']}, torchvision "
        f"{machine['torchvision']}, {machine['threads']} torch threads, python {machine['python']}"
    )
    print(f"mean over {epochs} epoch(s) per side, Fashion-MNIST, CPU")
    print_table(
        "Per epoch, training + per-epoch test evaluation (like with like):", results, "mean_epoch_s", with_targets=True
    )
    print_table("Per epoch, training only:", results, "mean_train_s", with_targets=False)
    print("\nTest accuracy after the run:")
    for model, sides in results.items():
        print(f"  {model:<8} seed {sides['seed'].test_acc:.4f}   core {sides['core'].test_acc:.4f}")
    print("\nPer-epoch seconds (training + eval):")
    for model, sides in results.items():
        for side, t in sides.items():
            print(f"  {model:<8} {side:<5} " + ", ".join(f"{s:.3f}" for s in t.epoch_s))


def report_noise(probes: list[float]) -> None:
    """Print the speed probes taken before each side; warn when they disagree."""
    spread = max(probes) / min(probes)
    print(
        "\nspeed probe before each side, then at the end (ms, lower is faster): "
        + ", ".join(f"{p:.3f}" for p in probes)
    )
    if spread > NOISY:
        print(
            f"WARNING: probes differ {spread:.1f}x: the CPU was shared or throttled during the run; "
            f"rerun on a quiet machine before trusting the ratios."
        )
    else:
        print(f"probes agree within {spread:.2f}x: the machine's speed looked steady.")


def to_json(results: dict[str, dict[str, Timing]], machine: dict, epochs: int) -> dict:
    out: dict = {"machine": machine, "epochs": epochs, "models": {}}
    for model, sides in results.items():
        seed, core = sides["seed"], sides["core"]
        out["models"][model] = {
            "seed": asdict(seed) | {"mean_epoch_s": seed.mean_epoch_s, "mean_train_s": seed.mean_train_s},
            "core": asdict(core) | {"mean_epoch_s": core.mean_epoch_s, "mean_train_s": core.mean_train_s},
            "speedup": ratio(seed.mean_epoch_s, core.mean_epoch_s),
            "speedup_train_only": ratio(seed.mean_train_s, core.mean_train_s),
            "target": TARGETS[model],
        }
    return out


# ---------------------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Seed tutorials' pipeline vs core.train, seconds per epoch.")
    p.add_argument(
        "--data-dir",
        type=Path,
        default=REPO.parent / "shared" / "data",
        help="folder holding fashion-mnist/*.gz (default: ../shared/data from the repo root)",
    )
    p.add_argument("--epochs", type=int, default=2, help="epochs per side and model (default 2)")
    p.add_argument("--models", default="softmax,cnn", help="comma-separated: softmax,cnn")
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch.set_num_threads for both sides (default: torch's default, all cores)",
    )
    p.add_argument("--json", action="store_true", help="also print a final JSON object")
    args = p.parse_args(argv)
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in args.models if m not in PRESET_OF]
    if unknown or not args.models:
        p.error(f"--models takes softmax and/or cnn (got {','.join(unknown) or 'nothing'})")
    if args.epochs < 1:
        p.error("--epochs must be at least 1")
    return args


def machine_info() -> dict:
    return {
        "cores": os.cpu_count(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "threads": torch.get_num_threads(),
        "python": platform.python_version(),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    data_dir = args.data_dir.resolve()
    os.environ["DATA_DIR"] = str(data_dir)
    t_start = time.perf_counter()
    dataset = data.load("fashion-mnist", allow_download=False)  # once, outside every clock
    results: dict[str, dict[str, Timing]] = {}
    probes: list[float] = []
    with tempfile.TemporaryDirectory(prefix="seed-fmnist-") as tmp:
        train_set, test_set = tv_fashion_mnist(make_torchvision_root(data_dir, Path(tmp)))
        seeds = {"softmax": seed_softmax, "cnn": seed_cnn}
        for model in args.models:
            probes.append(reference_ms())
            print(f"[{model}] seed pipeline, {args.epochs} epoch(s)...", flush=True)
            seed = seeds[model](train_set, test_set, args.epochs)
            probes.append(reference_ms())
            print(f"[{model}] core.train ({PRESET_OF[model]}), {args.epochs} epoch(s)...", flush=True)
            core = core_run(model, dataset, args.epochs)
            results[model] = {"seed": seed, "core": core}
    probes.append(reference_ms())
    machine = machine_info()
    report(results, machine, args.epochs)
    report_noise(probes)
    total = time.perf_counter() - t_start
    print(f"\ntotal benchmark time: {total:.1f} s")
    if args.json:
        print(json.dumps(to_json(results, machine, args.epochs) | {"total_s": total, "probe_ms": probes}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
