"""Inside the model: the pictures are the real tensors, the table matches the forward pass, uploads are safe."""

import io
import json
import time

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest

from core import models as M
from core import plots
from tests.conftest import ROOT, plotly_array
from ui.services import manager as default_manager


def test_templates_are_the_real_W():
    torch.manual_seed(0)
    model = M.SoftmaxRegression(64)
    W = model.W.detach().numpy()
    fig = plots.weight_templates(W, 8, [str(i) for i in range(10)])
    z = np.asarray(fig.data[3].z)  # the template of class 3
    assert z.shape == (8, 8)
    assert z[2, 5] == pytest.approx(float(model.W.detach()[2 * 8 + 5, 3]))  # pixel (row 2, col 5) -> input 21
    assert fig.data[0].zmin == -fig.data[0].zmax == pytest.approx(-float(np.abs(W).max()))


def test_filter_grid_holds_the_real_conv1_weights():
    model = M.CNN(28)
    w1 = model.conv1.weight.detach().numpy()[:, 0]
    fig = plots.tile_grid(w1, 6)
    z = np.asarray(fig.data[0].z, dtype=float)
    assert z.shape == (5, 6 * 6 - 1)
    np.testing.assert_allclose(z[:, 6 * 2 : 6 * 2 + 5], w1[2])  # filter 2, after two 5-wide tiles + gaps
    assert np.isnan(z[:, 5]).all()  # the gap column


@pytest.mark.parametrize("size", [8, 28])
def test_feature_map_shapes_match_the_table(size):
    model = M.CNN(size)
    table = {r["layer"]: r["output shape"] for r in M.layer_table(model, size)}
    for name, out in M.stages(model, torch.rand(1, 1, size, size)):
        assert list(out.shape) == table[name], name


def _trained_app(model="softmax", **extra):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.selectbox(key="w_model").select(model).run()
    if model == "cnn":
        at.radio(key="w_optimizer").set_value("adam").run()
        at.select_slider(key="w_lr").set_value(0.01).run()
    at.number_input(key="w_epochs").set_value(2).run()
    next(b for b in at.button if "Start" in b.label).click().run()
    job = default_manager().get(at.session_state["job_id"])
    assert job.wait(60) and job.state == "done"
    return at.switch_page("pages/inside.py").run(), job


def test_inside_page_without_a_run_says_to_train_first():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("pages/inside.py").run()
    assert not at.exception
    assert "Train a model first" in at.info[0].value
    # shapes and the real source still shown: the model, softmax, the loss, the gradient, the step, the update
    assert len(at.dataframe) == 1 and len(at.code) == 7
    assert "def cross_entropy" in " ".join(c.value for c in at.code)


def test_inside_page_shows_the_softmax_templates_and_shapes():
    at, job = _trained_app("softmax")
    assert not at.exception
    keys = {c.key for c in at.get("plotly_chart")}
    assert {"in_templates", "in_bias", "in_probs"} <= keys
    params = [r for r in at.dataframe[0].value.to_dict("records") if r["layer"] == "linear"][0]["parameters"]
    assert params == 650  # 8x8 digits: 64 * 10 + 10
    chart = next(c for c in at.get("plotly_chart") if c.key == "in_templates")
    z = plotly_array(json.loads(chart.proto.spec)["data"][4]["z"])  # what the browser receives
    W = job.snapshot().done.weights["W"]  # (64, 10)
    assert z[3, 6] == pytest.approx(float(W[3 * 8 + 6, 4]), abs=1e-6)


def test_inside_page_shows_cnn_filters_and_feature_maps():
    at, _ = _trained_app("cnn")
    assert not at.exception
    keys = {c.key for c in at.get("plotly_chart")}
    assert {"in_conv1", "in_conv2", "in_fm_conv1", "in_fm_pool2", "in_probs"} <= keys


def _png(draw=True):
    img = Image.new("L", (120, 120), 255)
    if draw:
        ImageDraw.Draw(img).line([(60, 15), (60, 105)], fill=0, width=12)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def test_upload_flow_in_the_page(monkeypatch):
    """The page's upload branch, fed through prepare(): steps shown for a drawing, messages for bad files."""
    from core.preprocess import ImageError, prepare

    ok = prepare(_png(), 8)
    assert [s for s, _ in ok.steps][-1] == "scaled to 0–1" and ok.array.shape == (8, 8)
    for bad, needle in ((b"", "empty"), (b"GIF89a garbage", "not an image"), (_png(draw=False), "blank")):
        with pytest.raises(ImageError, match=needle):
            prepare(bad, 8)


def test_predict_tab_shows_the_test_image_and_labels_every_class():
    at, _ = _trained_app("softmax")
    assert not at.exception
    images = at.get("image")
    assert len(images) == 1  # the test image itself, beside its probabilities
    assert "Test image #0" in images[0].proto.imgs[0].caption
    probs = next(c for c in at.get("plotly_chart") if c.key == "in_probs")
    xaxis = json.loads(probs.proto.spec)["layout"]["xaxis"]
    assert xaxis["type"] == "category" and xaxis["dtick"] == 1  # "0".."9" all labelled, not every other one


def test_code_view_shows_what_trained_the_run_in_view():
    """A CNN trained with Adam: its module, the autograd step and Adam's rule, not softmax regression's SGD."""
    at, _ = _trained_app("cnn")
    code = " ".join(c.value for c in at.code)
    assert "class CNN" in code and "def autograd_step" in code and "torch.optim.Adam" in code
    assert "def softmax_regression_grads" not in code and "def scratch_step" not in code
    maths = " ".join(m.value for m in at.latex)
    assert r"\beta_1" in maths and "backpropagation" in maths
    assert any("CNN (the seed LeNet)" in m.value and "Adam" in m.value for m in at.markdown)


def test_results_and_inside_show_a_run_inside_its_first_epoch():
    """From the first seconds: the newest weights, and predictions of a test sample, before any epoch ends."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.radio(key="w_pace").set_value("slow").run()  # the first epoch lasts at least a second
    at.number_input(key="w_batch").set_value(1).run()
    next(b for b in at.button if "Start" in b.label).click().run()
    job = default_manager().get(at.session_state["job_id"])
    while job.snapshot().peek is None:
        time.sleep(0.01)
    job.stop()  # held inside epoch 1, so the pages cannot wait for an epoch's end
    assert job.wait(10) and not job.snapshot().epochs
    at.switch_page("pages/results.py").run()
    assert not at.exception
    assert any("into epoch 1, on the first 297 test images" in c.value for c in at.caption)
    assert {"res_grid", "res_cm"} <= {c.key for c in at.get("plotly_chart")}
    at.switch_page("pages/inside.py").run()
    assert not at.exception and "in_templates" in {c.key for c in at.get("plotly_chart")}
    assert any("of epoch 1" in c.value for c in at.caption)
