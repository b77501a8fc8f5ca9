"""The Ray backend on a real local cluster of two one-CPU nodes: the same Jobs interface as threads here, a
queue shared by replicas, and the faults a class meets (a worker killed, a replica killed, PostgreSQL restarted)."""

import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import uuid

import pytest

from core.config import TrainConfig
from core.events import ACTIVE, DONE, FAILED, RUNNING, STOPPED
from core.i18n import shown
from core.jobs import JobManager, JobsUnavailable, LimitReached
from core.store import RunStore
from tests.conftest import ROOT, require_postgres, require_ray, services_at, unavailable, until

CFG = TrainConfig(dataset="digits", model="softmax", lr=0.3, batch_size=32, epochs=3)
LONG = CFG.with_(epochs=90, pace="slow")  # about a second an epoch: running until stopped


@pytest.fixture(scope="module")
def cluster():
    """A head and a worker node, one CPU each, with token authentication; the test process is not a driver
    until a ClusterJobs connects, as an app replica would."""
    ray = require_ray()
    from ray.cluster_utils import Cluster

    c = Cluster(initialize_head=True, connect=False, head_node_args={"num_cpus": 1, "include_dashboard": False})
    c.add_node(num_cpus=1)
    yield c
    ray.shutdown()
    c.shutdown()


def state_of(store: RunStore, run_id: str) -> str | None:
    """The run's state as the store keeps it; None while the coordinator has not written its row yet."""
    return (store.get(run_id) or {}).get("state")


def replica(cluster, name: str | None = None, **settings):
    """One app replica's Jobs; replicas given the same name share one coordinator (one class)."""
    from core.backends.ray_cluster import ClusterJobs

    base = {"cap": None, "max_runtime_s": 600, "grace_s": 60, "per_student": 3, "store": None, "checkpoints": None}
    return ClusterJobs(cluster.address, {**base, **settings}, name=name or f"class-{uuid.uuid4().hex[:8]}")


def test_a_cluster_run_is_followed_live_matches_one_trained_here_and_is_recorded(cluster, tmp_path):
    store = tmp_path / "runs.db"
    jobs = replica(cluster, store=str(store))
    cfg = CFG.with_(epochs=4, pace="slow")
    job = jobs.submit(cfg, "ada", student="s1")
    assert job.wait_first_batch(60)
    seen, mids = set(), [None]

    def followed_to_the_end() -> bool:
        snap = job.snapshot()
        seen.add(len(snap.steps))
        if snap.state == RUNNING and snap.epochs:
            mids[0] = snap
        return job.state not in ACTIVE

    assert until(followed_to_the_end, 60, 0.25), job.state
    mid, s = mids[0], job.snapshot()
    assert s.state == DONE, s.message
    assert len(seen) >= 4, "the curve should grow while it trains, as the live chart shows it"
    # Results and Inside read a running run's newest weights and test predictions, and a finished run's model
    assert mid is not None and mid.epochs[-1].weights and mid.epochs[-1].test_probs.shape[1] == 10
    assert s.done.weights and s.done.probs.shape == (len(s.done.labels), 10)
    assert jobs.call("ping")["node"] == cluster.head_node.node_id  # the coordinator lives as long as the cluster
    assert re.search(r"pid \d+", s.started.where) and s.started.threads == 1  # one node's one CPU
    here = JobManager().submit(cfg)  # threads_for gives the digits one thread here too: the same arithmetic
    assert here.wait(60)
    assert here.snapshot().losses == s.losses, "same config and seed must give the same curve on both backends"
    assert until(lambda: state_of(RunStore(store), job.id) == "done", 10)
    assert RunStore(store).get(job.id)["test_acc"] == pytest.approx(s.done.test_acc)
    assert len(RunStore(store).epochs(job.id)) == 4
    jobs.close()


def test_replicas_share_one_fair_queue_ownership_and_the_per_student_limit(cluster):
    name = f"class-{uuid.uuid4().hex[:8]}"
    a = replica(cluster, name, cap=1, per_student=2)  # the first replica to connect sets the class's limits
    first = a.submit(LONG, "ada", student="tab-a")
    b = replica(cluster, name)
    assert until(lambda: first.state == RUNNING)
    again = a.submit(LONG, "ada", student="tab-a")  # ada's second run waits
    other = b.submit(LONG, "bo", student="tab-b")  # bo's first, from the other replica, goes before it
    assert b.get(again.id).snapshot().queue_position == 2
    assert a.get(other.id).snapshot().queue_position == 1
    assert b.by_owner_key(first.owner_key).id == first.id and b.by_owner_key("a guess") is None
    with pytest.raises(LimitReached):  # the limit counts ada's runs on every replica
        b.submit(LONG, "ada", student="another-tab")
    assert b.counts()["queued"] == 2 and b.counts()["running"] == 1
    b.get(first.id).stop("Stopped by request.")  # a teacher on replica B stops it
    assert until(lambda: other.state == RUNNING, 30), "the next in the fair order starts"
    for job in (again, other):
        job.stop()
    assert until(lambda: all(j.state == STOPPED for j in (first, again, other)), 30)
    a.close(), b.close()


def test_stop_lands_within_a_batch_or_two_and_the_runtime_cap_holds(cluster):
    jobs, capped_jobs = replica(cluster), replica(cluster, max_runtime_s=3)
    job = jobs.submit(LONG, student="s")
    assert job.wait_first_batch(60)
    time.sleep(1)
    asked = time.time()
    job.stop()
    assert until(lambda: job.state == STOPPED, 10)
    took = time.time() - asked
    s = job.snapshot()
    assert took < 2.0, f"stop took {took:.2f} s"  # a batch here is ~22 ms, the worker asks every 0.1 s
    assert s.message == "Stopped by request."
    capped = capped_jobs.submit(LONG, student="s")
    assert until(lambda: capped.state == STOPPED, 30)
    assert "limit of 3 s" in shown(capped.snapshot().message)
    jobs.close(), capped_jobs.close()


def test_pause_step_and_resume_reach_the_worker_on_the_cluster(cluster):
    jobs = replica(cluster)
    job = jobs.submit(LONG, student="s")
    assert job.wait_first_batch(60)
    job.pause()
    assert until(lambda: job.snapshot().paused, 10)
    time.sleep(1.0)  # the worker hears of it within POLL_S; then nothing moves
    held = job.snapshot().last_batch.step
    time.sleep(1.0)
    assert job.snapshot().last_batch.step == held
    job.step()
    assert until(lambda: job.snapshot().stepped is not None, 10)
    s = job.snapshot()
    assert s.stepped.step == s.last_batch.step == held + 1 and s.stepped.after["W"].shape == (64, 10)
    job.resume()
    assert until(lambda: job.snapshot().last_batch.step > held + 5, 10)
    job.stop()
    assert until(lambda: job.state == STOPPED, 10)
    jobs.close()


def test_a_killed_worker_fails_its_run_alone_with_a_message_that_says_so(cluster):
    from core.backends.ray_cluster import WORKER_DIED

    jobs = replica(cluster)
    victim, bystander = jobs.submit(LONG, student="a"), jobs.submit(LONG, student="b")
    assert until(lambda: all(j.snapshot().started for j in (victim, bystander)), 60)
    pid = int(re.search(r"pid (\d+)", victim.snapshot().started.where).group(1))
    os.kill(pid, signal.SIGKILL)
    assert until(lambda: victim.state == FAILED, 30)
    assert victim.snapshot().message == WORKER_DIED
    assert bystander.state == RUNNING
    bystander.stop()
    after = jobs.submit(CFG, student="c")  # the cluster starts a new worker for the next run
    assert until(lambda: after.state == DONE, 60), after.snapshot().message
    jobs.close()


REPLICA = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {root!r})
    from core.backends.ray_cluster import ClusterJobs
    from core.config import TrainConfig
    jobs = ClusterJobs({address!r}, {settings!r}, name={name!r})
    followed = jobs.submit(TrainConfig.from_dict({followed!r}), "ada", student="tab-1")
    jobs.hold(followed, "tab-1")
    abandoned = jobs.submit(TrainConfig.from_dict({abandoned!r}), "bo", student="tab-2")
    jobs.hold(abandoned, "tab-2")
    print(followed.owner_key, abandoned.owner_key, flush=True)
    time.sleep(600)
    """
)


def test_a_killed_replica_loses_no_run_and_its_abandoned_tabs_runs_stop_after_the_grace(cluster, tmp_path):
    name = f"class-{uuid.uuid4().hex[:8]}"
    store = tmp_path / "runs.db"
    settings = {"cap": None, "max_runtime_s": 600, "grace_s": 2, "per_student": 3, "store": str(store)}
    settings |= {"checkpoints": None, "replica_timeout_s": 3}
    followed_cfg = CFG.with_(epochs=8, pace="slow")
    script = REPLICA.format(
        root=str(ROOT),
        address=cluster.address,
        settings=settings,
        name=name,
        followed=followed_cfg.to_dict(),
        abandoned=LONG.to_dict(),
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=os.environ)
    try:
        followed_key, abandoned_key = proc.stdout.readline().split()
        b = replica(cluster, name)  # the student's reload lands on replica B, with the owner link
        followed, abandoned = b.by_owner_key(followed_key), b.by_owner_key(abandoned_key)
        b.hold(followed, "tab-1-again")
        assert until(lambda: followed.state == RUNNING and abandoned.state == RUNNING, 60)
    finally:
        proc.kill()
        proc.wait(10)
    # read as snapshots, each kept by the handle: once stopped, a closed tab's run is soon forgotten by the coordinator
    # (its reaper, every 5 s), and a state read alone left nothing to show of it (a flake under CI's load)
    assert until(lambda: abandoned.snapshot().state == STOPPED, 30), "a dead replica's tabs are closed tabs"
    assert abandoned.snapshot().message == "Stopped: its browser tab was closed."
    assert until(lambda: followed.state == DONE, 60), followed.snapshot().message
    assert len(followed.snapshot().epochs) == 8
    # the coordinator records the end just after the run reports it
    assert until(lambda: state_of(RunStore(store), followed.id) == "done", 10)
    assert len(RunStore(store).epochs(followed.id)) == 8
    b.close()


def _restart_postgres() -> None:
    clusters = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True).stdout.split()
    version, name = clusters[0], clusters[1]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, name, "restart"],
        check=True,
        capture_output=True,
        timeout=60,
    )


def test_postgres_restarted_during_a_class_loses_no_run_and_running_ones_keep_recording(cluster, tmp_path):
    url = require_postgres()
    if shutil.which("pg_ctlcluster") is None or os.geteuid() != 0:
        why = "restarting PostgreSQL needs pg_ctlcluster as root"
        unavailable(why, "this test")
    jobs = replica(cluster, store=url, checkpoints=str(tmp_path / "checkpoints"))
    finished = jobs.submit(CFG, "ada", student="a")
    assert until(lambda: finished.state == DONE, 60)
    running = jobs.submit(CFG.with_(epochs=10, pace="slow"), "bo", student="b")
    assert until(lambda: len(running.snapshot().epochs) >= 2, 60)
    _restart_postgres()
    assert until(lambda: running.state == DONE, 60), running.snapshot().message
    store = RunStore(url)
    assert until(lambda: state_of(store, running.id) == "done", 10)
    assert store.get(finished.id)["state"] == "done" and len(store.epochs(finished.id)) == 3
    assert store.get(running.id)["state"] == "done" and len(store.epochs(running.id)) == 10
    jobs.close()


def test_a_store_the_coordinator_cannot_write_is_said_on_the_train_page(cluster, tmp_path, monkeypatch):
    """On Ray the class's coordinator records the runs: when its writes fail, the replica's Train page says that
    runs are not being saved, through the same services error as the threads backend's."""
    from streamlit.testing.v1 import AppTest

    folder = tmp_path / "class"
    monkeypatch.setenv("RAY_ADDRESS", cluster.address)
    with services_at(folder / "runs.db") as services:
        assert services.store() is not None  # this replica opened it: its pages read the runs
        shutil.rmtree(folder)
        folder.write_text("a file where the store's folder was (a disk that went away)")
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
        assert not at.exception and not at.warning  # nothing has failed yet
        next(b for b in at.button if "Start" in b.label).click().run()
        job = services.jobs.get(at.session_state["job_id"])
        try:
            said = until(lambda: "not being saved" in (services.store_error() or ""), 60)
            assert said, "the coordinator's failed write never reached this replica"
            at.run()
            assert not at.exception
            warning = at.warning[0].value
            assert "Runs are not being saved" in warning and str(folder) in warning, warning
        finally:
            job.stop()
            assert until(lambda: job.state not in ACTIVE, 30)


def test_a_run_asks_for_a_gpu_when_the_cluster_has_one_and_a_cpu_run_does_not(cluster):
    node = cluster.add_node(num_cpus=1, num_gpus=1)  # Ray's accounting of a GPU: no CUDA needed to ask for it
    jobs = replica(cluster)
    try:
        assert until(lambda: jobs.call("ping")["gpus"] == 1, 30)
        on_gpu, on_cpu = jobs.submit(CFG, student="a"), jobs.submit(CFG.with_(device="cpu"), student="b")
        assert until(lambda: on_gpu.state == DONE and on_cpu.state == DONE, 90)
        assert re.search(r"GPU \d", on_gpu.snapshot().started.where), on_gpu.snapshot().started.where
        assert "GPU" not in on_cpu.snapshot().started.where
    finally:
        jobs.close()
        cluster.remove_node(node)


def test_a_cluster_that_does_not_answer_is_said_so_at_once_and_nothing_hangs():
    require_ray()
    from core.backends.ray_cluster import ClusterJobs
    from tests.e2e.conftest import free_port

    jobs = ClusterJobs(f"127.0.0.1:{free_port()}", {"store": None})  # nobody listens there
    began = time.time()
    with pytest.raises(JobsUnavailable, match="cannot be reached"):
        jobs.submit(CFG)
    assert time.time() - began < 10
    assert jobs.get("job1-x") is None and jobs.jobs() == [] and jobs.counts()["running"] == 0
    assert "ray status" in jobs.error()
    jobs.close()


def test_the_cluster_refuses_a_client_without_its_token(cluster):
    """A student who reaches the cluster's port still cannot use it: token authentication is on."""
    script = f"import ray; ray.init(address={cluster.address!r}, logging_level='ERROR'); print('connected')"
    env = {**os.environ, "RAY_AUTH_TOKEN": "a-guess"}
    try:
        out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=45)
    except subprocess.TimeoutExpired as e:  # it keeps retrying, refused each time: never connected
        out = e
    text = "".join(t.decode() if isinstance(t, bytes) else (t or "") for t in (out.stdout, out.stderr))
    assert "connected" not in text.splitlines() and ("InvalidAuthToken" in text or "Authentication" in text)


def test_a_class_own_dataset_travels_with_its_run_to_a_worker_and_is_recorded(cluster, tmp_path):
    """The coordinator and the workers have neither this server's memory nor its run store: the version a run is
    pinned to goes along with it (784 bytes an example), and the coordinator records the run with its classes."""
    import numpy as np

    from core import class_images as C
    from core import data as D

    where = tmp_path / "runs.db"
    store = RunStore(where)
    source = C.install(store)
    try:
        C.create(store, "bars", ["across", "down"])
        for k in range(2):
            for i in range(6):
                a = np.zeros((28, 28), np.uint8)
                a[
                    (slice(10 + i % 4, 14 + i % 4), slice(4, 24))
                    if k == 0
                    else (slice(4, 24), slice(10 + i % 4, 14 + i % 4))
                ] = 255
                C.add_arrays(store, "bars", k, [a])
        jobs = replica(cluster, store=str(where))
        job = jobs.submit(TrainConfig(dataset="images:bars", model="softmax", lr=0.5, epochs=3), "ada", student="s1")
        assert until(lambda: job.state not in ACTIVE, 90, 0.25), job.state
        s = job.snapshot()
        assert s.state == DONE, s.message
        assert s.config.dataset.startswith("images:bars@") and s.done.probs.shape[1] == 2
        assert until(lambda: (store.get(job.id) or {}).get("confusion") is not None, 30, 0.25)
        run = store.get(job.id)
        assert run["config"]["dataset"] == s.config.dataset and len(run["confusion"]) == 2
        D.unregister(s.config.dataset)  # this server restarted: the version is read back from the store
        assert D.load(s.config.dataset).info.classes == ("across", "down")
    finally:
        D.remove_source(source)
