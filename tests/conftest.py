"""Shared fixtures. Real-data tests read $DATA_DIR; in CI (CI=true) a missing dataset fails instead of skipping."""

import os
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# Runs made by the tests go to a throwaway database, never to the developer's runs/: one per process, so each
# pytest-xdist worker (which inherits the controller's environment) gets its own.
if os.environ.get("RUNS_DB") in (None, os.environ.get("TESTS_THROWAWAY_RUNS_DB")):
    os.environ["RUNS_DB"] = str(Path(tempfile.mkdtemp(prefix="runs-")) / "runs.db")
    os.environ["TESTS_THROWAWAY_RUNS_DB"] = os.environ["RUNS_DB"]
if os.environ.get("PYTEST_VERSION"):  # under pytest, not in a bench that imports this file
    # Two workers share two cores, so a two-thread run is often a core short: OpenMP's threads then sleep instead
    # of spinning while they wait for their partner (the arithmetic, and so every figure, stays the same).
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from core import data as D  # noqa: E402


def _routed_pages() -> list[str]:
    """The pages app.py routes to, in its order: the one list every test of "each page" reads."""
    import ast

    tree = ast.parse((ROOT / "app.py").read_text())
    return [
        n.args[0].value for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "Page"
    ]


PAGES = _routed_pages()


def _through_app_py() -> None:
    """AppTest, like the server (ui.compat.leave_pages_folder_mode), routes every page through app.py's
    st.navigation: AppTest re-detects the pages/ folder on each run and would run a page's file alone, without
    app.py's language and settings set-up."""
    from streamlit.runtime.pages_manager import PagesManager

    from ui import compat

    init = PagesManager.__init__

    def routed(self, *args, **kwargs):
        init(self, *args, **kwargs)
        compat.leave_pages_folder_mode()

    PagesManager.__init__ = routed


_through_app_py()


def _real_dir(name: str) -> Path | None:
    root = os.environ.get("DATA_DIR")
    if not root:
        return None
    return Path(root) if D.find_files(name, Path(root)) else None


def unavailable(why: str, tests: str):
    """Skip a test whose machine lacks something; under CI, which must have it, fail instead."""
    if os.environ.get("CI"):
        pytest.fail(f"{why} (CI must run {tests})")
    pytest.skip(why)


def until(predicate, timeout: float = 60, every: float = 0.1) -> bool:
    """Poll `predicate` until it holds or `timeout` seconds pass; whether it held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return bool(predicate())


def app(*, run: bool = True, **query: str):
    """The dashboard in AppTest, routed through app.py like the server, with `query` as its URL's parameters;
    run once unless `run=False` (to run it inside a language, say)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params.update(query)
    return at.run() if run else at


def start_job(at, wait: str | None = "end", timeout: float = 60, label: str = "Start", follow: bool = False):
    """Click the page's Start button (the first whose label holds `label`) and return the job it started, once it
    has ended (wait="end"), once its first batch is recorded ("first batch"), or at once (None). With `follow`,
    the page reruns every 0.2 s while it waits, as its fragment would in a browser (AppTest never fires
    run_every), and once more when the wait is over. Past `timeout` seconds the test fails: it never hangs."""
    from ui.services import current

    next(b for b in at.button if label in b.label).click().run()
    assert not at.exception, at.exception
    job = current().jobs.get(at.session_state["job_id"])
    if wait is None:
        return job
    reached = job.wait_first_batch if wait == "first batch" else job.wait
    if follow:

        def rerun_and_check() -> bool:
            at.run()
            return reached(0)

        assert until(rerun_and_check, timeout, 0.2), f"job still {job.state} after {timeout} s"
        at.run()
    else:
        assert reached(timeout), f"job still {job.state} after {timeout} s"
    return job


def require_real(name: str) -> Path:
    """The DATA_DIR holding `name`, or skip (fail under CI, where the data must be there)."""
    found = _real_dir(name)
    if found is None:
        unavailable(f"real {name} files not found under DATA_DIR={os.environ.get('DATA_DIR')!r}", "real-data tests")
    return found


@pytest.fixture
def real_fashion():
    return D.load("fashion-mnist", require_real("fashion-mnist"), allow_download=False)


@pytest.fixture
def real_mnist():
    return D.load("mnist", require_real("mnist"), allow_download=False)


def live_views(at) -> dict[str, dict]:
    """The live views (ui.live_view.live_view) an AppTest rendered: element key -> the data the browser
    receives, with each figure parsed (name -> plotly figure)."""
    import json

    out = {}
    for el in at.get("bidi_component"):
        if el.proto.component_name == "live_view":
            data = json.loads(el.proto.json)
            data["figures"] = dict(zip(data["names"], (json.loads(f) for f in data["figures"])))
            out[el.proto.id.rsplit("-", 1)[-1]] = data
    return out


def live_charts(at) -> dict[str, dict]:
    """Every figure in the live views an AppTest rendered: name -> plotly figure, exactly as the browser
    receives it."""
    return {name: fig for view in live_views(at).values() for name, fig in view["figures"].items()}


def plotly_array(z):
    """A plotly JSON array: plain nested lists, or plotly's typed {dtype, bdata, shape}."""
    import base64

    import numpy as np

    if isinstance(z, dict):
        a = np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"])
        return a.reshape([int(n) for n in str(z["shape"]).split(",")]) if "shape" in z else a
    return np.asarray(z)


POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/test")


def require_postgres() -> str:
    """The test PostgreSQL server's URL, its tables dropped; skip without one (fail under CI, which has one)."""
    try:
        import psycopg

        with psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(
                "DROP TABLE IF EXISTS rewind_points, snapshots, epochs, runs, meta, class_state, handed_out, "
                "own_examples, own_datasets, own_versions CASCADE"
            )
    except Exception as e:  # noqa: BLE001 - missing driver or server: same answer
        unavailable(f"no PostgreSQL at {POSTGRES_URL.split('@')[-1]} ({type(e).__name__}: {e})", "the PostgreSQL tests")
    return POSTGRES_URL


@contextmanager
def services_at(where, jobs=None):
    """Services of their own (ui.services.Services: a run store at `where`, jobs of their own unless given),
    installed as this process's, as a server's start would: the pages get them from ui.services.current().
    The earlier ones are put back after."""
    from ui import services

    made = services.Services(where, jobs)
    previous = services.install(made)
    try:
        yield made
    finally:
        made.close()
        services.install(previous)


@pytest.fixture
def own_services(tmp_path, monkeypatch):
    """A server's services for this test alone: its run store in tmp_path (RUNS_DB too), its own jobs."""
    monkeypatch.setenv("RUNS_DB", str(tmp_path / "runs.db"))
    with services_at(tmp_path / "runs.db") as made:
        yield made


@pytest.fixture(params=["sqlite", "postgres"])
def store_where(request, tmp_path, monkeypatch):
    """Where a run store lives, once per backend: a SQLite file, then a PostgreSQL database (tables fresh)."""
    monkeypatch.setenv("RUNS_CHECKPOINTS", str(tmp_path))
    return str(tmp_path / "runs.db") if request.param == "sqlite" else require_postgres()


def require_ray():
    """The ray module; skip without it (fail under CI, which installs requirements-cluster.txt)."""
    try:
        import ray
    except ImportError as e:
        unavailable(f"Ray is not installed ({e}): pip install -r requirements-cluster.txt", "the cluster tests")
    return ray


def ray_env() -> dict[str, str]:
    """The environment of a test's Ray processes: token authentication on, with a throwaway token, as a class's
    cluster should run (README, "A class bigger than one server")."""
    import secrets

    os.environ.setdefault("RAY_AUTH_MODE", "token")
    os.environ.setdefault("RAY_AUTH_TOKEN", secrets.token_hex(32))
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    return {k: os.environ[k] for k in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_USAGE_STATS_ENABLED")}


ray_env()  # before anything imports ray, which reads the mode once


# Tests that share one outside service: the PostgreSQL test database (tables dropped, the server restarted) and
# Ray (test_cluster_replicas ends with `ray stop --force`, which stops every Ray process on the machine).
SHARED_SERVICES = {"test_postgres.py", "test_cluster.py", "test_cluster_replicas.py"}


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist (pytest.ini: --dist loadgroup), the tests of one outside service run in one worker, one
    after another; the others spread over the workers."""
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if item.path.name in SHARED_SERVICES or params.get("store_where") == "postgres":
            item.add_marker(pytest.mark.xdist_group("services"))
