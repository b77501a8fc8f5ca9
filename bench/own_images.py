"""A class of 30 making its own dataset: how long until it can be trained on, and how long the training takes.

    python -m bench.own_images                                   # 30 students × 10 drawings, SQLite
    python -m bench.own_images --store postgresql://root@127.0.0.1:5432/test
    python -m bench.own_images --students 8 --drawings 5

Each simulated student is a thread with its own connection to the run store (a tab on some replica), adding
--drawings drawings one at a time, as the Images page's "Add this drawing" does: a 280×280 RGBA canvas (a stroke
of one of three symbols, drawn with PIL, a little different each time) prepared to 28×28 (core.own_images) and
pooled in the store (core.class_images.add_arrays). All start at once. Then the dataset becomes trainable: the
version a run pins (core.jobs.pinned: read every example, split, hash, keep the version). Then the Train page's
default model (softmax regression, lr 0.3, batch 32, 10 epochs) trains on it at full pace, as a thread here would.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core import class_images as C  # noqa: E402
from core import data as D  # noqa: E402
from core.config import TrainConfig  # noqa: E402
from core.events import Done  # noqa: E402
from core.jobs import pinned  # noqa: E402
from core.store import RunStore  # noqa: E402
from core.train import train  # noqa: E402

SYMBOLS = ("bar", "ring", "zigzag")
SIDE = 280


def drawing(kind: str, seed: int) -> np.ndarray:
    """A canvas as the drawing component sends it: (280, 280, 4) uint8, a white stroke on black."""
    rng = np.random.default_rng(seed)
    img = Image.new("RGBA", (SIDE, SIDE), (0, 0, 0, 255))
    d = ImageDraw.Draw(img)
    cx, cy, s = SIDE / 2 + rng.integers(-30, 30), SIDE / 2 + rng.integers(-30, 30), rng.integers(50, 90)
    if kind == "bar":
        points = [(cx + rng.integers(-10, 10), cy - s), (cx, cy + s)]
    elif kind == "ring":
        points = [(cx + s * math.sin(2 * math.pi * t / 40), cy - s * math.cos(2 * math.pi * t / 40)) for t in range(41)]
    else:
        points = [(cx - s, cy - s), (cx + s, cy - s), (cx - s, cy + s), (cx + s, cy + s)]
    d.line(points, fill=(255, 255, 255, 255), width=20, joint="curve")
    return np.asarray(img)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=30)
    ap.add_argument("--drawings", type=int, default=10)
    ap.add_argument("--store", default=None, help="a postgresql:// URL (default: SQLite in a temporary folder)")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        where = args.store or str(Path(tmp) / "runs.db")
        store = RunStore(where)
        C.install(store)
        name = f"bench {time.strftime('%H%M%S')}"
        C.create(store, name, list(SYMBOLS))
        canvases = [
            [drawing(SYMBOLS[(s + k) % 3], 1000 * s + k) for k in range(args.drawings)] for s in range(args.students)
        ]
        latencies: list[float] = []
        lock, go, errors = threading.Lock(), threading.Event(), []

        def student(s: int) -> None:
            mine = RunStore(where)  # a connection of its own, as each tab's server thread has
            go.wait()
            for k, canvas in enumerate(canvases[s]):
                t0 = time.perf_counter()
                try:
                    C.add_arrays(mine, name, (s + k) % 3, [canvas], by=f"tag{s}", nickname=f"student {s}")
                except Exception as e:  # noqa: BLE001 - counted and printed
                    errors.append(e)
                with lock:
                    latencies.append(time.perf_counter() - t0)

        threads = [threading.Thread(target=student, args=(s,)) for s in range(args.students)]
        for t in threads:
            t.start()
        t0 = time.perf_counter()
        go.set()
        for t in threads:
            t.join()
        added = time.perf_counter() - t0
        t1 = time.perf_counter()
        cfg = pinned(TrainConfig(dataset=D.info(f"images:{name}").name))
        pin_s = time.perf_counter() - t1
        ds = D.load(cfg.dataset)
        t2 = time.perf_counter()
        done = [e for e in train(cfg, threads=1) if isinstance(e, Done)][0]
        train_s = time.perf_counter() - t2
        counts = store.dataset(name)["counts"]
        if args.store:
            store.delete_dataset(name)

    lat = sorted(latencies)
    print(f"store: {'PostgreSQL' if args.store else 'SQLite'}; {args.students} students × {args.drawings} drawings")
    print(f"examples kept: {sum(counts)} {counts}; errors: {len(errors)} {errors[:1]}")
    print(
        f"all added (wall): {added:.2f} s; one add: median {statistics.median(lat) * 1000:.0f} ms, "
        f"p90 {lat[int(0.9 * (len(lat) - 1))] * 1000:.0f} ms"
    )
    print(f"trainable (pin: read, split, hash, keep the version): {pin_s:.3f} s; until trainable {added + pin_s:.2f} s")
    print(
        f"train/test: {len(ds.train_y)}/{len(ds.test_y)}; default model ({cfg.model}, lr {cfg.lr:g}, batch "
        f"{cfg.batch_size}, {cfg.epochs} epochs, full pace, 1 thread): {train_s:.2f} s, "
        f"test accuracy {done.test_acc:.3f}"
    )


if __name__ == "__main__":
    main()
