"""The architecture DESIGN.md promises, checked: core/ never imports streamlit, pages/ holds only pages,
no private module of a library is imported outside the one Streamlit adapter, and adding a model is a change
to core/models.py's registry alone: every page and the CLI pick it up."""

import ast
import json
import subprocess
import sys

import pytest
from torch import nn

from core import models as M
from tests.conftest import PAGES, ROOT, app, start_job
from ui.services import store

SOURCES = [p for folder in ("core", "ui", "pages") for p in (ROOT / folder).rglob("*.py")] + [ROOT / "app.py"]


def imported_modules(path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_core_never_imports_streamlit():
    for path in (ROOT / "core").rglob("*.py"):
        assert not {m for m in imported_modules(path) if m.split(".")[0] == "streamlit"}, path.name
    # nor through anything it imports
    code = (
        "import importlib, pkgutil, sys, core\n"
        "for m in pkgutil.walk_packages(core.__path__, 'core.'):\n"
        "    try: importlib.import_module(m.name)\n"
        "    except ModuleNotFoundError as e: assert e.name == 'ray', e  # the cluster's extra, not a laptop's\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'streamlit'))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.replace("'", '"')) == []


def test_only_the_ray_backend_imports_ray():
    """Pages, the live feed and the rest of core read jobs through core.jobs.Jobs, whichever backend runs them."""
    users = {
        p.relative_to(ROOT).as_posix() for p in SOURCES if any(m.split(".")[0] == "ray" for m in imported_modules(p))
    }
    assert users == {"core/backends/ray_cluster.py"}


def test_pages_holds_only_the_pages_app_py_routes_to():
    routed = set(PAGES)
    assert {f"pages/{p.name}" for p in (ROOT / "pages").iterdir() if p.suffix == ".py"} == routed
    assert not [p for p in (ROOT / "pages").iterdir() if p.name != "__pycache__" and p.suffix != ".py"]


def test_no_private_modules_are_imported_outside_the_adapter():
    for path in SOURCES:
        private = {
            m
            for m in imported_modules(path) - {"__future__"}
            if any(part.startswith("_") for part in m.split(".")) or m.startswith("streamlit.runtime")
        }
        allowed = {"streamlit.runtime.pages_manager"} if path.name == "compat.py" else set()
        assert private <= allowed, (path.name, private)


def tiny(size: int, classes: int, hidden: int, dropout: float) -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(size * size, classes))


TINY = M.ModelSpec(name="tiny", label="Tiny test model (one linear layer)", build=tiny)


@pytest.fixture
def tiny_registered(monkeypatch):
    monkeypatch.setitem(M.REGISTRY, "tiny", TINY)
    return TINY


def test_a_registered_model_appears_on_every_page_and_in_the_cli(tiny_registered, capsys):
    at = app()
    assert TINY.label in at.selectbox(key="w_model").options
    at.selectbox(key="w_model").select("tiny").run()
    at.number_input(key="w_epochs").set_value(2).run()
    job = start_job(at)
    assert job.state == "done", job.snapshot().message
    assert job.snapshot().done.test_acc > 0.5 and store().get(job.id)["config"]["model"] == "tiny"

    at.switch_page("pages/inside.py").run()
    assert not at.exception
    assert any(TINY.label in c.value for c in at.caption)  # the weights tab names the model
    assert any(TINY.label in s.value for s in at.subheader)  # the shapes tab lists its layers
    assert "in_probs" in {c.key for c in at.get("plotly_chart")}  # and it predicts a test image

    at.switch_page("pages/race.py").run()
    at.selectbox(key="race_field").select("model").run()
    assert not at.exception and TINY.label in at.selectbox(key="race_b_model").options

    at.switch_page("pages/compare.py").run()
    assert not at.exception and TINY.label in at.selectbox[1].options
    at.selectbox[1].select("tiny").run()
    assert job.id in at.multiselect(key="cmp_runs").value

    from core import train as T

    capsys.readouterr()
    assert T.main(["--model", "tiny", "--dataset", "digits", "--epochs", "1"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["config"]["model"] == "tiny"
