"""The layout README describes (its "Layout" section), checked: core/ never imports streamlit, pages/ holds only pages,
no private module of a library is imported outside the one Streamlit adapter, and adding a model is a change
to core/models.py's registry alone: every page and the CLI pick it up."""

import ast
import json
import subprocess
import sys
from collections import OrderedDict

import pytest
from torch import nn

from core import models as M
from core.config import TrainConfig
from core.events import Stepped
from core.optim import Piece
from core.train import Control, train
from tests.conftest import PAGES, ROOT, app, start_job
from ui.services import current

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


def test_the_services_are_one_object_every_page_gets_the_same_way():
    """ui/services.py keeps no state of its own but the one Services object (set as the server starts, never by
    a training thread); pages and ui get it through current() alone, and only ui/server.py builds it."""
    tree = ast.parse((ROOT / "ui" / "services.py").read_text())
    names = set()
    for node in tree.body:
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        )
        names |= {t.id for t in targets if isinstance(t, ast.Name) and not t.id.isupper()}
    assert names == {"_lock", "_current"}
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "ui.services":
                assert [a.name for a in node.names] == ["current"], path.relative_to(ROOT)
    builders = {p.relative_to(ROOT).as_posix() for p in SOURCES if "Services(" in p.read_text()}
    assert builders == {"ui/server.py", "ui/services.py"}


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


def test_no_page_relies_on_streamlits_magic():
    """.streamlit/config.toml turns Streamlit's "magic" off (it rewrote each page's syntax tree whenever Streamlit
    compiled it): no page, nor app.py, writes a value by leaving it alone on a line, which magic showed with
    st.write. A docstring is not such a value."""
    shown = (ast.Call, ast.Await, ast.Yield, ast.YieldFrom)  # what magic leaves alone
    bare = []
    for rel in ["app.py", *PAGES]:
        for node in ast.walk(ast.parse((ROOT / rel).read_text())):
            docstring = ast.get_docstring(node, clean=False) if isinstance(node, DOCUMENTED) else None
            for field in ("body", "orelse", "finalbody"):
                statements = getattr(node, field, None)
                for i, stmt in enumerate(statements if isinstance(statements, list) else ()):
                    if isinstance(stmt, ast.Expr) and not isinstance(stmt.value, shown):
                        if not (docstring is not None and field == "body" and i == 0):
                            bare.append(f"{rel}:{stmt.lineno}")
    assert not bare, bare


DOCUMENTED = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def test_every_fragment_sets_the_language():
    """A fragment's rerun does not run app.py: one made with st.fragment, not ui.i18n.fragment, renders English."""
    bare = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr == "fragment" and getattr(node.value, "id", "") == "st":
                bare.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            if isinstance(node, ast.ImportFrom) and node.module == "streamlit":
                bare += [f"{path.relative_to(ROOT)}:{node.lineno}" for a in node.names if a.name == "fragment"]
    assert len(bare) == 1 and bare[0].startswith("ui/i18n.py:"), bare  # the one wrapper every page uses


# fmt: off
class TinyNet(nn.Sequential):
    """A throwaway model: flatten, 12 hidden units, a linear read-out."""

    def __init__(self, size: int, classes: int):
        super().__init__(OrderedDict([
            ("flatten", nn.Flatten()), ("hidden", nn.Linear(size * size, 12)), ("act", nn.Tanh()),
            ("readout", nn.Linear(12, classes)),
        ]))
# fmt: on


# Its class and this one entry are all there is to it: no page, CLI flag or catalogue has heard of it.
TINY = M.ModelSpec(
    name="tiny",
    label="Tiny test model (one hidden layer)",
    build=lambda size, classes, hidden, dropout: TinyNet(size, classes),
    code=(Piece(TinyNet, (r"\mathbf{O} = \tanh(\mathbf{X}\mathbf{A})\mathbf{B}",)),),
)


@pytest.fixture
def tiny_registered(monkeypatch):
    monkeypatch.setitem(M.REGISTRY, "tiny", TINY)
    return TINY


def test_step_lays_open_a_registered_model(tiny_registered):
    """Paused, one Step: the gradient of each of its own parameters, under the rule that ran."""
    control = Control()
    control.pause()
    control.step()
    stepped = next(e for e in train(TrainConfig(model="tiny", epochs=1), control=control) if isinstance(e, Stepped))
    assert set(stepped.grad_norms) == {"hidden.weight", "hidden.bias", "readout.weight", "readout.bias"}
    assert all(v > 0 for v in stepped.grad_norms.values()) and stepped.rule == "sgd" and not stepped.before


def test_a_registered_model_appears_on_every_page_and_in_the_cli(tiny_registered, capsys):
    at = app()
    assert TINY.label in at.selectbox(key="w_model").options
    at.selectbox(key="w_model").select("tiny").run()
    at.number_input(key="w_epochs").set_value(2).run()
    job = start_job(at)
    assert job.state == "done", job.snapshot().message
    assert job.snapshot().done.test_acc > 0.5 and current().store().get(job.id)["config"]["model"] == "tiny"

    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
    at.switch_page("pages/inside.py").run()
    assert any(TINY.label in c.value for c in at.caption)  # the weights tab names the model
    assert any("no picture of its weights yet" in i.value for i in at.info)  # it offers no weight view
    assert any(TINY.label in s.value for s in at.header)  # the shapes tab lists its layers
    assert list(at.dataframe[0].value.iloc[:, 0]) == ["input", "flatten", "hidden", "act", "readout", "softmax"]
    assert "in_probs" in {c.key for c in at.get("plotly_chart")}  # and it predicts a test image
    assert "in_saliency" in {c.key for c in at.get("plotly_chart")}  # explained by the default, saliency
    code = " ".join(c.value for c in at.code)  # the Code view: its class, autograd's step, the saliency's code
    assert "class TinyNet" in code and "def autograd_step" in code and "def saliency" in code
    assert any("tanh" in m.value for m in at.latex)
    at.switch_page("pages/results.py").run()
    assert any("Tiny test model" in c.value for c in at.caption) and "res_cm" in {c.key for c in at.get("plotly_chart")}

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
