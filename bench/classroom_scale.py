"""A class bigger than one server: what the Ray backend costs a student, and what a second machine buys.

    python -m bench.classroom_scale                  # 7 latency pairs, 32 students, 20 page loads (~6 min)
    python -m bench.classroom_scale --quick          # a smoke run: 3 pairs, 8 short runs, 6 page loads
    python -m bench.classroom_scale --parts scale --students 16 --epochs 20     # only 2. and 4.

Everything runs on this machine, in one run, so the figures side by side share its load:
1. Start latency, in-process threads (core.jobs.JobManager) against the Ray backend (ClusterJobs, a local
   cluster of one 1-CPU head node): how long submit() takes to return (dispatch), and from submit until the
   job's snapshot holds its first batch (Start -> first chart point: wait_first_batch, then snapshot(), as the
   Train page's click does). A short digits softmax run at full pace, one at a time. The two backends alternate,
   one pair per repetition; medians, and the median of the paired differences Ray minus in-process. Ray's
   first run starts a worker process (torch, the dataset): it is reported as the cold run, not in the medians.
   Target: Ray adds at most 0.5 s to Start -> first point.
2. Throughput: N students (distinct ids and nicknames) each submit one run at once (the digits CNN with Adam at
   full pace, a few seconds of one core), first on one node of 1 CPU (the head alone), then with a second node
   of 1 CPU added to the same cluster. A fresh coordinator each time (its own queue), after a warm-up round that
   starts a worker on every node. Runs per minute = runs done / (last finish - first submit). Target: two nodes
   >= 1.7x one node. Also the CPU seconds each kind of process used meanwhile (this script's processes told
   from anyone else's by descent), and, on two nodes, two runs of the Train page's default (slow motion) for
   what the coordinator costs per run at that pace.
3. Page load with two app replicas: `ray start` head + one worker (1 CPU each, token authentication, on
   127.0.0.1), two `streamlit run app.py` servers with RAY_ADDRESS set, and headless chromium opening the Train
   page in a fresh tab, alternating replicas, until its title and the Start button are visible; after every
   second load, the same on a server without Ray, for reference. The cluster is idle meanwhile. Target: p95 < 2 s.
4. On paper: runs per minute per core (the two-node figure / 2), what a lab of --lab-cores cores serves, and
   where the one coordinator (a Python process, one core at most) would cap it.

On a 2-core machine the two 1-CPU nodes share its cores with the coordinator, the raylets and this script: a
real cluster's nodes have cores of their own, so read the ratio as a lower bound.
Progress goes to stderr, the report to stdout. Everything this script starts (the local cluster, the
`ray start` nodes with their workers, the Streamlit servers) is ended in finally blocks, by process id: not with
`ray stop --force`, which would end every Ray process of the machine, another run's or a test's too.
"""

from __future__ import annotations

import argparse
import collections
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATA_DIR", str(ROOT.parent / "shared" / "data"))

from core.config import TrainConfig  # noqa: E402
from core.events import DONE, FINISHED  # noqa: E402
from core.jobs import JobManager  # noqa: E402
from tests.conftest import ray_env, until  # noqa: E402  (its import turns token authentication on, before ray's)
from tests.e2e.conftest import FLAGS, free_port, start_server, stop_server  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
TITLE = "Train a classifier, watch it learn"
START = "▶ Start training"
LATENCY_CFG = TrainConfig(dataset="digits", model="softmax", epochs=3, batch_size=32, lr=0.3, pace="full")
SETTINGS = {"cap": None, "max_runtime_s": 600, "grace_s": 60, "per_student": 3, "store": None, "checkpoints": None}
TARGET_ADDED_S, TARGET_RATIO, TARGET_P95_S = 0.5, 1.7, 2.0

T0 = time.perf_counter()


def say(msg: str) -> None:
    print(f"[{time.perf_counter() - T0:6.1f} s] {msg}", file=sys.stderr, flush=True)


def pct(values: list[float], q: int) -> float:
    """The q-th percentile, interpolated between the values measured (never past the largest)."""
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def ms(s: float) -> str:
    return f"{s * 1000:.1f} ms" if abs(s) < 1 else f"{s:.2f} s"


def signed_ms(s: float) -> str:
    return ("+" if s >= 0 else "-") + ms(abs(s))


# ---------------------------------------------------------------------------------------- one run, timed
def timed_start(jobs, cfg: TrainConfig, student: str) -> tuple[float, float, object]:
    """(dispatch s, Start -> first point s, job): submit(), then wait_first_batch and a snapshot, as the Train
    page's click does; waits for the run to end so the next one starts on an idle machine."""
    t = time.perf_counter()
    job = jobs.submit(cfg, student, student=student)
    dispatched = time.perf_counter() - t
    job.wait_first_batch(120)
    snap = job.snapshot()
    first = time.perf_counter() - t
    if not snap.steps:
        raise RuntimeError(f"{student}: no first batch ({snap.state}: {snap.message})")
    if not until(lambda: job.state in FINISHED, 120, every=0.05):
        raise RuntimeError(f"{student}: the run did not end")
    if job.state != DONE:
        raise RuntimeError(f"{student}: {job.state} ({job.snapshot().message})")
    time.sleep(0.2)  # let the worker's and the coordinator's end-of-run work settle
    return dispatched, first, job


def connect(address: str, name: str, settings: dict | None = None):
    """A replica's ClusterJobs on a coordinator of its own, once it answers; returns (jobs, seconds taken)."""
    from core.backends.ray_cluster import ClusterJobs
    from core.jobs import JobsUnavailable

    t = time.perf_counter()
    jobs = ClusterJobs(address, {**SETTINGS, **(settings or {})}, name=name)

    def answers() -> bool:
        try:
            jobs.call("ping")
            return True
        except JobsUnavailable:
            return False

    if not until(answers, 180, every=0.05):
        jobs.close()
        raise RuntimeError(f"no coordinator {name} at {address}: {jobs.error()}")
    return jobs, time.perf_counter() - t


def retire(jobs) -> None:
    """Close a replica's ClusterJobs and end its coordinator (each measurement had its own queue)."""
    import ray

    from core.backends.ray_cluster import NAMESPACE

    jobs.close()
    try:
        ray.kill(ray.get_actor(jobs.name, namespace=NAMESPACE))
    except Exception as e:  # noqa: BLE001 - already gone: nothing to end
        say(f"coordinator {jobs.name}: {type(e).__name__}")


# ---------------------------------------------------------------------------------------- 1. latency
def latency(address: str, reps: int) -> dict:
    local = JobManager(cap=None, max_runtime_s=600, grace_s=60, per_student=None)
    say("connecting a replica to the local cluster (ray.init, coordinator actor)")
    remote, connect_s = connect(address, f"latency-{uuid.uuid4().hex[:8]}")
    try:
        say(f"connected in {connect_s:.1f} s; Ray's cold first run (starts a worker process)")
        cold_ray = timed_start(remote, LATENCY_CFG, "cold-ray")[:2]
        cold_local = timed_start(local, LATENCY_CFG, "cold-local")[:2]
        rows = []  # (local dispatch, local first, ray dispatch, ray first)
        for i in range(reps):
            if i % 2 == 0:  # alternate which goes first, so a drift of the machine hits both alike
                lo = timed_start(local, LATENCY_CFG, f"local-{i}")[:2]
                ra = timed_start(remote, LATENCY_CFG, f"ray-{i}")[:2]
            else:
                ra = timed_start(remote, LATENCY_CFG, f"ray-{i}")[:2]
                lo = timed_start(local, LATENCY_CFG, f"local-{i}")[:2]
            rows.append((*lo, *ra))
            say(f"pair {i + 1}/{reps}: first point in-process {ms(lo[1])}, Ray {ms(ra[1])}")
    finally:
        local.close()
        retire(remote)
    return {"connect_s": connect_s, "cold_ray": cold_ray, "cold_local": cold_local, "rows": rows}


def print_latency(r: dict, reps: int) -> None:
    rows = r["rows"]
    med = lambda k: statistics.median(row[k] for row in rows)
    diff = lambda a, b: statistics.median(row[b] - row[a] for row in rows)
    cfg = LATENCY_CFG
    print(
        f"\n== 1. Start latency: in-process threads vs Ray (local cluster, head node of 1 CPU), {reps} pairs ==\n"
        f"   run: {cfg.dataset} {cfg.model}, batch {cfg.batch_size}, {cfg.epochs} epochs, pace {cfg.pace}; "
        f"one at a time, medians"
    )
    head = f"{'':24} {'in-process':>11} {'Ray warm':>11} {'Ray - in-proc':>14} {'Ray cold':>10} {'in-proc cold':>13}"
    print(head)
    for label, a, b, k in (("dispatch (submit)", 0, 2, 0), ("Start -> first point", 1, 3, 1)):
        print(
            f"{label:24} {ms(med(a)):>11} {ms(med(b)):>11} {signed_ms(diff(a, b)):>14} "
            f"{ms(r['cold_ray'][k]):>10} {ms(r['cold_local'][k]):>13}"
        )
    added = diff(1, 3)
    verdict = "met" if added <= TARGET_ADDED_S else "MISSED"
    print(
        f"Ray adds {signed_ms(added)} to Start -> first point (paired median; pairs "
        f"{', '.join(signed_ms(row[3] - row[1]) for row in rows)}): target <= +{TARGET_ADDED_S:g} s, {verdict}"
    )
    print(f"a replica's first connection (ray.init + the coordinator actor): {r['connect_s']:.1f} s")


# ---------------------------------------------------------------------------------------- 2. throughput
KINDS = ("training workers", "coordinator", "Ray system", "this script", "other processes")  # cpu_seconds()


def cpu_seconds() -> dict[int, tuple[str, float]]:
    """pid -> (what it is, CPU seconds so far) for every process of the machine. This script's own cluster is
    its descendants (the nodes' processes, and the raylets' workers); anything else is another's."""
    tick = os.sysconf("SC_CLK_TCK")
    procs = {}  # pid -> (parent, command line, CPU s)
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        procs[int(pid)] = (int(fields[1]), cmd, (int(fields[11]) + int(fields[12])) / tick)
    mine, grew = {os.getpid()}, True
    while grew:
        new = {pid for pid, (parent, _, _) in procs.items() if parent in mine and pid not in mine}
        mine |= new
        grew = bool(new)
    return {pid: (_kind(pid, cmd) if pid in mine else "other processes", t) for pid, (_, cmd, t) in procs.items()}


def _kind(pid: int, cmd: str) -> str:
    if pid == os.getpid():
        return "this script"
    if "Coordinator" in cmd:  # ray::Coordinator, ray::Coordinator.submit...
        return "coordinator"
    if cmd.startswith("ray::") and "Agent" not in cmd:  # ray::IDLE, ray::_train_task
        return "training workers"
    return "Ray system"  # the GCS, the raylets, the agents, the log monitors


def cpu_used(before: dict, after: dict) -> dict[str, float]:
    """CPU seconds by kind of process between two cpu_seconds() (processes that ended meanwhile are missed)."""
    used = collections.Counter()
    for pid, (kind, t) in after.items():
        used[kind] += t - (before[pid][1] if pid in before else 0.0)
    return dict(used)


def class_of(jobs, cfg: TrainConfig, students: int, tag: str) -> dict:
    """Every student submits one run at once; returns what the runs' snapshots say."""
    cpu0, t0 = cpu_seconds(), time.time()
    subs = [jobs.submit(cfg, f"{tag}-student{i:02d}", student=f"{tag}-tab{i:02d}") for i in range(students)]
    submit_s = time.time() - t0

    def idle() -> bool:
        c = jobs.counts()
        return c["running"] == 0 and c["queued"] == 0 and all(j.state in FINISHED for j in subs[-1:])

    if not until(idle, 60 + students * 60, every=0.25):
        raise RuntimeError(f"{tag}: the class did not finish")
    cpu = cpu_used(cpu0, cpu_seconds())
    snaps = [j.snapshot() for j in subs]
    done = [s for s in snaps if s.state == DONE]
    end = max(s.finished_at for s in snaps if s.finished_at)
    return {
        "states": collections.Counter(s.state for s in snaps),
        "done": len(done),
        "wall_s": end - t0,
        "submit_s": submit_s,
        "per_min": len(done) / (end - t0) * 60,
        "run_s": statistics.median(s.finished_at - s.started_at for s in done) if done else float("nan"),
        "wait_s": statistics.median(s.started_at - s.submitted_at for s in done) if done else float("nan"),
        "cpu": cpu,
        "cpu_wall_s": time.time() - t0,
        "busy_s": sum(s.finished_at - s.started_at for s in done),  # run-seconds trained, for per-run costs
    }


def throughput(address: str, nodes: int, cfg: TrainConfig, students: int, slow_epochs: int = 0) -> dict:
    jobs, _ = connect(address, f"class-{nodes}node-{uuid.uuid4().hex[:8]}")
    try:
        if not until(lambda: jobs.call("ping")["cores"] == nodes, 60):
            raise RuntimeError(f"the coordinator sees {jobs.call('ping')['cores']} cores, not {nodes}")
        say(f"{nodes} node(s): warm-up round ({nodes} run(s) at once: a worker on every node)")
        warm = class_of(jobs, cfg, nodes, f"warm{nodes}")
        if warm["done"] != nodes:
            raise RuntimeError(f"warm-up runs failed: {dict(warm['states'])}")
        say(f"{nodes} node(s): {students} students submit at once")
        out = class_of(jobs, cfg, students, f"n{nodes}")
        say(f"{nodes} node(s): {out['done']} done in {out['wall_s']:.1f} s ({out['per_min']:.1f} runs/min)")
        if slow_epochs:  # the Train page's default pace: few events, a core held for a second an epoch
            say(f"{nodes} node(s): {nodes} slow-motion runs of {slow_epochs} epochs at once")
            out["slow"] = class_of(jobs, TrainConfig(epochs=slow_epochs, pace="slow"), nodes, f"slow{nodes}")
            out["slow"]["epochs"] = slow_epochs
        return out
    finally:
        retire(jobs)


def alone_s(cfg: TrainConfig) -> float:
    """One run of cfg alone in this process (after one to warm up), as a reference for the cluster's figures."""
    mgr = JobManager(cap=1, per_student=None)
    try:
        for _ in range(2):
            job = mgr.submit(cfg)
            job.wait(300)
        s = job.snapshot()
        if s.state != DONE:
            raise RuntimeError(f"the reference run ended {s.state}: {s.message}")
        return s.finished_at - s.started_at
    finally:
        mgr.close()


def print_throughput(one: dict, two: dict, cfg: TrainConfig, students: int, alone: float) -> float:
    print(
        f"\n== 2. Throughput: {students} students, one run each, submitted at once ==\n"
        f"   run: {cfg.dataset} {cfg.model} {cfg.optimizer} lr {cfg.lr:g}, batch {cfg.batch_size}, {cfg.epochs} "
        f"epochs, pace {cfg.pace}; {alone:.2f} s alone in-process. Nodes: a head of 1 CPU, then + a node of 1 CPU"
    )
    print(f"{'nodes':>5} {'cores':>5} {'done':>7} {'wall s':>7} {'runs/min':>9} {'run s (median)':>15} {'wait s':>7}")
    for n, r in ((1, one), (2, two)):
        print(
            f"{n:>5} {n:>5} {r['done']:>3}/{students:<3} {r['wall_s']:>7.1f} {r['per_min']:>9.1f} "
            f"{r['run_s']:>15.2f} {r['wait_s']:>7.1f}"
        )
        if r["done"] != students:
            print(f"      states: {dict(r['states'])}")
    cores = os.cpu_count()
    print(f"CPU seconds while each class ran, by process ({cores} cores of this machine x the class's wall time):")
    for n, r in ((1, one), (2, two)):
        used = ", ".join(f"{k} {r['cpu'].get(k, 0.0):.1f}" for k in KINDS)
        print(f"  {n} node(s): {used} (of {cores * r['cpu_wall_s']:.1f})")
    for label, r in (("this run, 2 nodes", two), ("slow motion, 2 nodes", two.get("slow"))):
        if r and r["busy_s"]:
            print(
                f"  the coordinator per run training ({label}): {r['cpu'].get('coordinator', 0.0) / r['busy_s']:.2f} "
                f"cores (it asks for none: it takes them from the node it sits on)"
            )
    ratio = two["per_min"] / one["per_min"]
    verdict = "met" if ratio >= TARGET_RATIO else "MISSED"
    print(f"two nodes / one node: {ratio:.2f}x (target >= {TARGET_RATIO:g}x, {verdict})")
    return ratio


# ---------------------------------------------------------------------------------------- 3. page loads
def ray_start(args: list[str], log: Path) -> subprocess.Popen:
    """`ray start ... --block`: it stays this script's child, so end_group finds the node's processes under it."""
    env = {**os.environ, **ray_env()}
    env.pop("RAY_gcs_rpc_server_reconnect_timeout_s", None)  # set in this process by ClusterJobs, for drivers
    return subprocess.Popen(
        ["ray", "start", "--block", *args],
        env=env,
        stdout=open(log, "wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def end_group(proc: subprocess.Popen, name: str) -> None:
    """End a `ray start` this script started, and every process under it (the node's GCS, raylet, agents, and
    the raylet's workers, which Ray puts in process groups of their own). Not `ray stop --force`: that ends
    every Ray process of the machine, whoever started it."""
    end_tree(proc.pid, name)
    proc.poll()


def _tree(root: int) -> dict[int, str]:
    """root and its live descendants: pid -> start time (so a pid reused meanwhile is never signalled)."""
    procs = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] not in "ZX":
            procs[int(pid)] = (int(fields[1]), fields[19])
    tree = {root: procs[root][1]} if root in procs else {}
    grew = True
    while grew:
        new = {pid: start for pid, (parent, start) in procs.items() if parent in tree and pid not in tree}
        tree.update(new)
        grew = bool(new)
    return tree


def _alive(pid: int, start: str) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    fields = stat[stat.rindex(")") + 2 :].split()
    return fields[0] not in "ZX" and fields[19] == start


def end_tree(root: int, name: str, keep_root: bool = False) -> None:
    """SIGTERM root's process tree (taken before any of it dies, since orphans change parent), then SIGKILL
    whatever of it is left after 10 s."""
    tree = _tree(root)
    if keep_root:
        tree.pop(root, None)
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        for pid, start in tree.items():
            if _alive(pid, start):
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                while os.waitpid(-1, os.WNOHANG)[0] > 0:  # reap this script's own children
                    pass
            except ChildProcessError:
                pass
            if not any(_alive(pid, start) for pid, start in tree.items()):
                return
            time.sleep(0.2)
    left = [pid for pid, start in tree.items() if _alive(pid, start)]
    say(f"{name}: processes {left} are still alive")


def load_once(browser, url: str, timeout_ms: int = 60_000, cluster_shown: bool = False) -> float:
    """A fresh tab opens the Train page: seconds until its title and the Start button are visible."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        page = ctx.new_page()
        page.set_default_timeout(timeout_ms)
        t = time.perf_counter()
        page.goto(url)
        page.get_by_text(TITLE).wait_for()
        page.get_by_role("button", name=START).wait_for()
        took = time.perf_counter() - t
        if cluster_shown:  # the replica reached the cluster and sees both nodes
            page.get_by_text("the class's Ray cluster (2 CPU cores)", exact=False).wait_for()
        return took
    finally:
        ctx.close()


def page_loads(loads: int, tmp: Path) -> dict:
    """Two replicas on a `ray start` cluster, and for reference one server without Ray (threads, as on a
    laptop); loads alternate A, B, A, B... with the reference server after every second one."""
    from playwright.sync_api import sync_playwright

    port = free_port()
    address = f"127.0.0.1:{port}"
    groups, servers = [], []
    try:
        say(f"`ray start --head` at {address}, then a worker node (1 CPU each)")
        head = ["--head", f"--port={port}", "--node-ip-address=127.0.0.1", "--num-cpus=1"]
        head += ["--include-dashboard=false", "--disable-usage-stats"]
        groups.append((ray_start(head, tmp / "head.log"), "head"))
        if not until(lambda: _listening(port), 60, every=0.2):
            raise RuntimeError(f"the head did not listen on {port}: see {tmp / 'head.log'}")
        worker = [f"--address={address}", "--node-ip-address=127.0.0.1", "--num-cpus=1"]
        groups.append((ray_start(worker, tmp / "worker.log"), "worker"))
        urls = []
        for name, env in (
            ("replica-a", {**ray_env(), "RAY_ADDRESS": address, "RUNS_DB": str(tmp / "runs.db")}),
            ("replica-b", {**ray_env(), "RAY_ADDRESS": address, "RUNS_DB": str(tmp / "runs.db")}),
            ("no-ray", {"RUNS_DB": str(tmp / "no-ray.db")}),
        ):
            if "RAY_ADDRESS" not in env:
                os.environ.pop("RAY_ADDRESS", None)  # the reference server trains in its own threads
            web = free_port()
            servers.append(start_server(web, env, tmp / f"{name}.log"))
            urls.append(f"http://127.0.0.1:{web}")
        say(f"replicas at {urls[0]}, {urls[1]}; the server without Ray at {urls[2]}")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
            try:  # each server's first page imports torch; a replica's also connects it to the cluster
                cold = [load_once(browser, url, 120_000, cluster_shown=i < 2) for i, url in enumerate(urls)]
                say(f"first loads {', '.join(f'{c:.2f} s' for c in cold)}; now {loads} loads over the replicas")
                times, reference = [], []
                cpu0, t0 = cpu_seconds(), time.time()
                for i in range(loads):
                    times.append(load_once(browser, urls[i % 2]))
                    if i % 2:
                        reference.append(load_once(browser, urls[2]))
                cpu, wall = cpu_used(cpu0, cpu_seconds()), time.time() - t0
                say("replicas: " + " ".join(f"{t:.2f}" for t in times))
                say("without Ray: " + " ".join(f"{t:.2f}" for t in reference))
            finally:
                browser.close()
        other = cpu.pop("other processes", 0.0)
        return {"cold": cold, "times": times, "reference": reference, "cpu": (sum(cpu.values()), other, wall)}
    finally:
        for server in servers:
            stop_server(server)
        for proc, name in reversed(groups):
            end_group(proc, name)


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def print_pages(r: dict) -> None:
    times, ref = r["times"], r["reference"]
    p95 = pct(times, 95)
    verdict = "met" if p95 < TARGET_P95_S else "MISSED"
    print(
        f"\n== 3. Page load, Train page: 2 replicas on a `ray start` cluster (head + 1 worker, 1 CPU each), idle ==\n"
        f"   a fresh chromium tab until the title and '{START}' are visible; replicas alternating, and a server "
        f"without Ray after every second load"
    )
    print(f"{'server':22} {'loads':>5} {'p50':>7} {'p95':>7} {'max':>7} {'first load':>11}")
    cold = r["cold"]
    print(
        f"{'2 replicas (Ray)':22} {len(times):>5} {statistics.median(times):>6.2f}s {p95:>6.2f}s {max(times):>6.2f}s "
        f"{cold[0]:>5.2f}/{cold[1]:.2f}s"
    )
    if ref:
        print(
            f"{'no Ray (reference)':22} {len(ref):>5} {statistics.median(ref):>6.2f}s {pct(ref, 95):>6.2f}s "
            f"{max(ref):>6.2f}s {cold[2]:>10.2f}s"
        )
    mine, other, wall = r["cpu"]
    print(
        f"CPU seconds meanwhile: this script's servers, cluster and browser {mine:.1f}, other processes {other:.1f} "
        f"(of {os.cpu_count()} cores x {wall:.1f} s = {os.cpu_count() * wall:.1f})"
    )
    print(f"replicas' p95 {p95:.2f} s: target < {TARGET_P95_S:g} s, {verdict}")


# ---------------------------------------------------------------------------------------- 4. on paper
def print_estimate(two: dict, cfg: TrainConfig, lab_cores: int, every_min: float) -> None:
    """Runs per minute a lab serves: its cores at the two-node rate per core, unless the one coordinator (one
    Python process) runs out of its one core first."""
    print(
        f"\n== 4. On paper: a lab of {lab_cores} cores, each student starting a run every {every_min:g} min "
        f"(the two-node figures, scaled) =="
    )
    slow = two.get("slow")
    cases = [(f"this run ({cfg.model}, {cfg.epochs} epochs, full pace)", two["per_min"] / 2, two)]
    if slow and slow["done"]:
        cases.append((f"the Train page's default, slow motion ({slow['epochs']} epochs)", 60 / slow["run_s"], slow))
    for label, per_core, r in cases:
        coordinator = r["cpu"].get("coordinator", 0.0) / r["busy_s"] if r["busy_s"] else 0.0
        by_cores = per_core * lab_cores
        by_coordinator = (60 / r["run_s"]) / coordinator if coordinator else float("inf")
        lab = min(by_cores, by_coordinator)
        bound = "the cores" if by_cores <= by_coordinator else f"the coordinator (~{1 / coordinator:.0f} runs at once)"
        print(
            f"{label}: {per_core:.1f} runs/min per core ({60 / per_core:.1f} core-s each, Ray's costs included); "
            f"{lab_cores} cores ~{by_cores:.0f} runs/min, one coordinator core ~{by_coordinator:.0f} runs/min"
        )
        print(
            f"  -> ~{lab:.0f} runs/min, bound by {bound}: a class of ~{lab * every_min:.0f} students each starting "
            f"a run every {every_min:g} min"
        )


# ---------------------------------------------------------------------------------------- main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a smoke run: 3 pairs, 8 students, 8 epochs, 6 loads")
    ap.add_argument("--reps", type=int, help="latency pairs (default 7)")
    ap.add_argument("--students", type=int, help="students in the throughput class (default 32)")
    ap.add_argument("--epochs", type=int, help="epochs of each student's run (default 30)")
    ap.add_argument("--loads", type=int, help="page loads over the two replicas (default 20)")
    ap.add_argument(
        "--parts", default="latency,scale,pages", help="which to run, of latency,scale,pages (the estimate needs scale)"
    )
    ap.add_argument("--lab-cores", type=int, default=16, help="the cluster of the estimate (default 16)")
    ap.add_argument("--every", type=float, default=2.0, help="minutes between a student's runs (default 2)")
    args = ap.parse_args()
    reps = args.reps or (3 if args.quick else 7)
    students = args.students or (8 if args.quick else 32)
    epochs = args.epochs or (8 if args.quick else 30)
    loads = args.loads or (6 if args.quick else 20)
    run_cfg = TrainConfig(
        dataset="digits", model="cnn", optimizer="adam", lr=0.01, batch_size=32, epochs=epochs, pace="full"
    )
    tmp = Path(tempfile.mkdtemp(prefix="classroom-scale-"))
    sys.stdout.reconfigure(line_buffering=True)  # each table as soon as it is printed, beside the progress
    print(f"classroom_scale on {os.cpu_count()} cores, Ray local clusters on 127.0.0.1 (logs in {tmp})")

    parts = set(args.parts.split(","))
    try:  # each part's table is printed as soon as it is measured: a later part that fails loses nothing
        if parts & {"latency", "scale"}:
            import ray
            from ray.cluster_utils import Cluster

            say("starting a local Ray cluster: a head node of 1 CPU")
            head = {"num_cpus": 1, "include_dashboard": False}
            cluster = Cluster(initialize_head=True, connect=False, head_node_args=head)
            try:
                if "latency" in parts:
                    print_latency(latency(cluster.address, reps), reps)
                if "scale" in parts:
                    say(f"reference: one run of the throughput config alone in-process ({epochs} epochs)")
                    alone = alone_s(run_cfg)
                    one = throughput(cluster.address, 1, run_cfg, students)
                    say("adding a second node of 1 CPU")
                    cluster.add_node(num_cpus=1)
                    cluster.wait_for_nodes()
                    two = throughput(cluster.address, 2, run_cfg, students, slow_epochs=3 if args.quick else 10)
                    print_throughput(one, two, run_cfg, students, alone)
            finally:
                ray.shutdown()
                cluster.shutdown()
        if "pages" in parts:
            print_pages(page_loads(loads, tmp))
        if "scale" in parts:
            print_estimate(two, run_cfg, args.lab_cores, args.every)
    finally:
        end_tree(os.getpid(), "left over", keep_root=True)  # anything this script started and did not end


if __name__ == "__main__":
    main()
