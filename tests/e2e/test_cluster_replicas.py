"""A class bigger than one server, in a real browser: a Ray cluster of two nodes started as README says, runs in
PostgreSQL, two app replicas. The teacher's exercise sent from A reaches a student on B, each handed their own
value of its experiment; a run started on replica A is followed live on replica B, A is killed and the run
finishes, seen from B; then the cluster goes away and B says so while finished runs stay browsable."""

import os
import re
import signal
import subprocess
import time

import pytest

from tests.conftest import POSTGRES_URL, ray_env, require_postgres, require_ray
from tests.e2e.conftest import free_port, send_exercise, start_server, stop_server, type_into

JS_POINTS = """() => { const el = document.querySelector('.js-plotly-plot');
  return el && el._fullData && el._fullData.length ? el._fullData[0].x.length : 0; }"""


def ray_cmd(*args: str, env: dict) -> None:
    subprocess.run(["ray", *args], check=True, env=env, capture_output=True, timeout=120)


@pytest.fixture
def ray_cluster(tmp_path):
    """`ray start --head` and a `ray start --address` worker, one CPU each, token authentication on."""
    require_ray()
    env = {**os.environ, **ray_env()}
    port = free_port()
    head = ["start", "--head", f"--port={port}", "--node-ip-address=127.0.0.1", "--num-cpus=1"]
    ray_cmd(*head, "--include-dashboard=false", "--disable-usage-stats", env=env)
    ray_cmd("start", f"--address=127.0.0.1:{port}", "--node-ip-address=127.0.0.1", "--num-cpus=1", env=env)
    yield f"127.0.0.1:{port}", env
    subprocess.run(["ray", "stop", "--force"], env=env, capture_output=True, timeout=120)


def test_a_run_started_on_one_replica_is_followed_on_another_and_outlives_the_first(browser, ray_cluster, tmp_path):
    require_postgres()
    address, env = ray_cluster
    app = {"RAY_ADDRESS": address, "RUNS_DB": POSTGRES_URL, "RUNS_CHECKPOINTS": str(tmp_path / "runs")}
    pa, pb = free_port(), free_port()
    a = start_server(pa, {**env, **app}, tmp_path / "a.log")
    b = start_server(pb, {**env, **app}, tmp_path / "b.log")
    try:
        teacher = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
        teacher.set_default_timeout(60_000)
        teacher.goto(f"http://127.0.0.1:{pa}/teacher")  # a replica behind nginx, no passcode: the lab's own
        send_exercise(teacher, "Across replicas", "Learning rate", "0.1, 1")
        tab = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
        tab.set_default_timeout(60_000)
        tab.goto(f"http://127.0.0.1:{pa}")
        tab.get_by_text("Train a classifier, watch it learn").wait_for()
        tab.get_by_text("Slow motion", exact=True).click()  # about a second an epoch: it outlasts replica A
        type_into(tab, "Epochs", 14)
        type_into(tab, "Your nickname (shown on the class board)", "ada")
        bo = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()  # a student on replica B
        bo.set_default_timeout(60_000)
        bo.goto(f"http://127.0.0.1:{pb}")
        bo.get_by_text("Your teacher's exercise: Across replicas").wait_for()  # sent from A, read from PostgreSQL
        type_into(bo, "Your nickname (shown on the class board)", "bo")
        handed = {
            re.search(r"your value is (\S+) ", p.get_by_text("Class experiment on learning rate").inner_text()).group(1)
            for p in (tab, bo)
        }
        assert handed == {"0.1", "1"}  # handed out once across the replicas: one each
        tab.get_by_text("the class's Ray cluster (2 CPU cores)", exact=False).wait_for()
        tab.get_by_role("button", name="▶ Start training").click()
        tab.get_by_text("Running:").wait_for()
        tab.wait_for_function("() => location.search.includes('owner=')")
        query = tab.evaluate("() => location.search")

        # the student's reload lands on replica B: the owner link finds the run there, live
        other = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
        other.set_default_timeout(60_000)
        other.goto(f"http://127.0.0.1:{pb}/{query}")
        other.get_by_text("Running:").wait_for()
        other.wait_for_function(f"() => ({JS_POINTS})() > 0")  # a new cluster's first worker takes a while to start
        points = [other.evaluate(JS_POINTS)]
        for _ in range(3):
            other.wait_for_timeout(1200)
            points.append(other.evaluate(JS_POINTS))
        assert points[-1] > points[0] > 0, points  # B's chart grows while it trains

        os.kill(a.pid, signal.SIGKILL)  # replica A dies; the run trains on, on the cluster
        a.wait(10)
        other.get_by_text("Done:").wait_for(timeout=90_000)
        assert other.get_by_text("Test accuracy").first.is_visible()

        other.goto(f"http://127.0.0.1:{pb}/board")  # B's class board has it, from the shared store
        other.get_by_role("heading", name="Class board").wait_for()
        other.get_by_text("1 runs, 0 training now").wait_for()
        other.locator("[data-testid=stDataFrame]").first.wait_for()

        # the cluster goes away mid-class: B says so on the Train page, and the finished run stays browsable
        subprocess.run(["ray", "stop", "--force"], env=env, capture_output=True, timeout=120)
        other.goto(f"http://127.0.0.1:{pb}/{query}")
        other.get_by_text(re.compile("The training cluster at .* cannot be reached")).wait_for(timeout=60_000)
        assert b.poll() is None, "the replica outlives its cluster"
        other.get_by_role("link", name="Results").click()
        other.get_by_text("Test accuracy").first.wait_for()
        other.locator(".js-plotly-plot").first.wait_for()
    finally:
        stop_server(a)
        stop_server(b)


def test_a_cluster_unreachable_at_start_is_said_on_the_train_page(browser, tmp_path):
    require_ray()
    app = {"RAY_ADDRESS": f"127.0.0.1:{free_port()}", "RUNS_DB": str(tmp_path / "runs.db")}
    port = free_port()
    server = start_server(port, app, tmp_path / "app.log")
    try:
        tab = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
        tab.set_default_timeout(60_000)
        began = time.time()
        tab.goto(f"http://127.0.0.1:{port}")
        tab.get_by_text(re.compile("The training cluster at .* cannot be reached")).wait_for()
        assert time.time() - began < 30
        tab.get_by_role("button", name="▶ Start training").wait_for()
        tab.get_by_role("button", name="▶ Start training").click()  # nothing starts, nothing breaks
        tab.wait_for_timeout(1500)
        assert tab.get_by_text("Running:").count() == 0
        assert tab.locator("[data-testid=stException]").count() == 0
    finally:
        stop_server(server)
