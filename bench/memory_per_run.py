"""How a server process's memory grows run after run: the first run of a kind, then the next ones.

    python bench/memory_per_run.py                  # 6 digits CNN runs (Adam), then 6 softmax runs
    python bench/memory_per_run.py --runs 10

Each run goes through a JobManager as on the server (a new thread each, memory handed back when it ends).
Prints the growth of resident memory after each run, split into anonymous memory (heap, JIT code) and
file-backed pages (torch's and oneDNN's code, mapped from the shared libraries as it is first used).
The first CNN or Adam run of a process pays a one-time cost; the classroom bench therefore measures
per-session memory against a server that has already trained each kind of run once.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def rss() -> dict[str, float]:
    out = {}
    for line in open("/proc/self/status"):
        key = line.split(":")[0]
        if key in ("VmRSS", "RssAnon", "RssFile"):
            out[key] = int(line.split()[1]) / 1024
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=6)
    args = ap.parse_args()
    from core import data as D
    from core.config import TrainConfig
    from core.jobs import JobManager

    D.load("digits")
    mgr = JobManager(cap=1)
    kinds = {
        "digits CNN, Adam, 3 epochs": TrainConfig(
            dataset="digits", model="cnn", optimizer="adam", lr=0.01, batch_size=64, epochs=3
        ),
        "digits softmax, SGD, 5 epochs": TrainConfig(dataset="digits", batch_size=64, epochs=5),
    }
    print(f"{'run':34} {'RSS MB':>8} {'anon MB':>8} {'file MB':>8}   (growth from the previous line)")
    prev = rss()
    print(f"{'process with digits loaded':34} {prev['VmRSS']:8.1f} {prev['RssAnon']:8.1f} {prev['RssFile']:8.1f}")
    for name, cfg in kinds.items():
        for i in range(1, args.runs + 1):
            job = mgr.submit(cfg)
            job.wait()
            assert job.state == "done", job.snapshot().message
            now = rss()
            d = {k: now[k] - prev[k] for k in now}
            print(f"{name + f' #{i}':34} {d['VmRSS']:+8.1f} {d['RssAnon']:+8.1f} {d['RssFile']:+8.1f}")
            prev = now
    mgr.close()
    os._exit(0)  # skip interpreter teardown of torch's thread pools


if __name__ == "__main__":
    main()
