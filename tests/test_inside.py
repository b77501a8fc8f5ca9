"""Inside the model: the pictures are the real tensors, the table matches the forward pass, uploads are safe."""

import base64
import io
import json
import re

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from core import data as D
from core import models as M
from core import plots
from tests.conftest import app, plotly_array, start_job, until


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
    at = app()
    at.selectbox(key="w_model").select(model).run()
    if model == "cnn":
        at.radio(key="w_optimizer").set_value("adam").run()
        at.select_slider(key="w_lr").set_value(0.01).run()
    at.number_input(key="w_epochs").set_value(2).run()
    job = start_job(at)
    assert job.state == "done"
    return at.switch_page("pages/inside.py").run(), job


def test_inside_page_without_a_run_says_to_train_first():
    at = app()
    at.switch_page("pages/inside.py").run()
    assert not at.exception
    assert "Train a model first" in at.info[0].value
    # the Predict tab says so where the canvas would be, and links to where a model comes from
    assert "load a checkpoint on **Results**" in at.info[1].value and "draw a digit" in at.info[1].value
    assert not at.get("bidi_component") and "in_source" not in at.session_state  # no canvas, no image picker
    assert {link.proto.page for link in at.get("page_link")} >= {"", "results"}  # "": Train, the default page
    # shapes and the real source still shown: the model, softmax, the loss, the gradient, the step, the update,
    # and the evidence maps' function
    assert len(at.dataframe) == 1 and len(at.code) == 8
    assert "def cross_entropy" in " ".join(c.value for c in at.code)
    assert "def evidence" in at.code[-1].value


def test_inside_page_shows_the_softmax_templates_and_shapes():
    at, job = _trained_app("softmax")
    assert not at.exception
    keys = {c.key for c in at.get("plotly_chart")}
    assert {"in_templates", "in_bias", "in_probs"} <= keys
    layers = next(d.value for d in at.dataframe if "layer" in d.value.columns)  # the Shapes tab's table
    params = [r for r in layers.to_dict("records") if r["layer"] == "linear"][0]["parameters"]
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
    pictures = [m.value for m in at.markdown if 'class="pictures"' in m.value]
    assert len(pictures) == 1 and pictures[0].count("<img ") == 1  # the test image itself, beside its probabilities
    assert 'alt="Test image #0' in pictures[0]  # its caption is its text alternative
    probs = next(c for c in at.get("plotly_chart") if c.key == "in_probs")
    xaxis = json.loads(probs.proto.spec)["layout"]["xaxis"]
    assert xaxis["type"] == "category" and xaxis["dtick"] == 1  # "0".."9" all labelled, not every other one


def test_code_view_shows_what_trained_the_run_in_view():
    """A CNN trained with Adam: its module, the autograd step and Adam's rule, not softmax regression's SGD."""
    at, _ = _trained_app("cnn")
    code = " ".join(c.value for c in at.code)
    assert "class CNN" in code and "def autograd_step" in code and "torch.optim.Adam" in code
    assert "def softmax_regression_grads" not in code and "def softmax_regression_step" not in code
    maths = " ".join(m.value for m in at.latex)
    assert r"\beta_1" in maths and "backpropagation" in maths
    assert any("CNN (the seed LeNet)" in m.value and "Adam" in m.value for m in at.markdown)


def test_results_and_inside_show_a_run_inside_its_first_epoch():
    """From the first seconds: the newest weights, and predictions of a test sample, before any epoch ends."""
    at = app()
    at.radio(key="w_pace").set_value("slow").run()  # the first epoch lasts at least a second
    at.number_input(key="w_batch").set_value(1).run()
    job = start_job(at, wait=None)
    assert until(lambda: job.snapshot().peek is not None, 30, 0.01)
    job.stop()  # held inside epoch 1, so the pages cannot wait for an epoch's end
    assert job.wait(10) and not job.snapshot().epochs
    at.switch_page("pages/results.py").run()
    assert not at.exception
    assert any("into epoch 1, on the first 297 test images" in c.value for c in at.caption)
    assert {"res_grid", "res_cm"} <= {c.key for c in at.get("plotly_chart")}
    at.switch_page("pages/inside.py").run()
    assert not at.exception and "in_templates" in {c.key for c in at.get("plotly_chart")}
    assert any("of epoch 1" in c.value for c in at.caption)


def canvas_state(strokes: np.ndarray) -> dict:
    """What the drawing canvas sends after a stroke: its picture as a PNG data URL (black canvas, white ink)."""
    rgba = np.zeros((*strokes.shape, 4), np.uint8)
    rgba[..., :3] = strokes[..., None]
    rgba[..., 3] = 255
    buf = io.BytesIO()
    Image.fromarray(rgba).save(buf, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    return {"drawing": {"raw": {"objects": [{"type": "path"}]}, "data": url}, "backgroundFit": None}


def a_drawn_one() -> np.ndarray:
    ink = np.zeros((280, 280), np.uint8)
    ink[40:240, 130:150] = 255
    return ink


def tile(fig_json: dict, i: int, side: int) -> np.ndarray:
    """Map i of a one-row plots.tile_grid figure, as the browser receives it."""
    z = plotly_array(fig_json["data"][0]["z"]).astype(float)
    gap = max(1, round(side / 6))
    return z[:, i * (side + gap) : i * (side + gap) + side]


def test_drawing_is_prepared_and_explained_by_softmax_evidence():
    """Draw: a message before any ink; after a stroke the MNIST-style steps, the prediction, and each class's
    evidence map x ⊙ W_c whose sum plus the bias is the score the model computes; Clear empties the canvas."""
    from core.preprocess import prepare_drawing
    from core.train import restore

    at, job = _trained_app("softmax")
    at.radio(key="in_source").set_value("Draw").run()
    assert not at.exception
    assert [c.key for c in at.get("bidi_component")] == ["in_canvas_0"]  # the canvas
    assert any("Draw a digit (mouse, finger or pen)" in i.value for i in at.info)
    at.session_state["in_canvas_0"] = canvas_state(a_drawn_one())
    at.run()
    assert not at.exception
    row = next(m.value for m in at.markdown if 'class="pictures"' in m.value)  # one row of pictures
    steps = re.findall(r'alt="([^"]*)"', row)
    assert steps == ["cropped to the ink", "scaled to fit 8×8", "centred by mass, 8×8"]
    s = job.snapshot()
    model = restore(s.config.to_dict(), s.done.weights)
    x = prepare_drawing(
        np.asarray(
            Image.open(
                io.BytesIO(base64.b64decode(at.session_state["in_canvas_0"]["drawing"]["data"].split(",", 1)[1]))
            )
        ),
        8,
    ).tensor()
    with torch.no_grad():
        logits = model(x)[0]
    best = int(logits.argmax())
    assert any(f"The model says: **{best}**" in m.value for m in at.markdown)
    table = next(d.value for d in at.dataframe if "sum of the map" in d.value.iloc[:, 0].tolist())
    sums, bias, score = (table.iloc[i, 1:].to_numpy(float) for i in range(3))
    np.testing.assert_allclose(sums + bias, score, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(score, logits.numpy(), rtol=1e-4, atol=1e-5)  # the model's own logits
    evidence = json.loads(next(c for c in at.get("plotly_chart") if c.key == "in_evidence").proto.spec)
    W = model.W.detach().numpy()
    np.testing.assert_allclose(tile(evidence, 3, 8), x.numpy().reshape(8, 8) * W[:, 3].reshape(8, 8), atol=1e-6)
    assert any("x ⊙ W" in m.value and "bias" in m.value for m in at.markdown)

    at.button(key="in_canvas_clear").click().run()
    assert not at.exception
    assert any("Draw a digit (mouse, finger or pen)" in i.value for i in at.info)
    assert not any("The model says" in m.value for m in at.markdown)


def test_cnn_saliency_for_the_predicted_and_the_picked_class():
    """A CNN: the gradient of the predicted class's score and of a class the student picks, pixel by pixel, and
    its source in the Code view."""
    from core import explain as E
    from core.train import restore

    at, job = _trained_app("cnn")
    assert not at.exception and "in_saliency" in {c.key for c in at.get("plotly_chart")}
    s = job.snapshot()
    model = restore(s.config.to_dict(), s.done.weights)
    x = torch.from_numpy(np.asarray(D.load("digits").test_x[0:1], np.float32) / 255).unsqueeze(1)
    with torch.no_grad():
        best = int(model(x)[0].argmax())
    picked = (best + 5) % 10
    at.selectbox(key="in_why_class").select(str(picked)).run()
    assert not at.exception
    fig = json.loads(next(c for c in at.get("plotly_chart") if c.key == "in_saliency").proto.spec)
    np.testing.assert_allclose(tile(fig, 0, 8), E.saliency(model, x, best).numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(tile(fig, 1, 8), E.saliency(model, x, picked).numpy(), rtol=1e-4, atol=1e-6)
    labels = [a["text"] for a in fig["layout"]["annotations"]]
    assert labels == [f"{best} (predicted)", f"{picked} (picked)"]
    assert "def saliency" in at.code[-1].value and "torch.autograd.grad" in at.code[-1].value
