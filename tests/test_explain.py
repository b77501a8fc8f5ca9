"""Why a model predicts what it does: the evidence maps add up to the logits, the saliency is the true gradient."""

import numpy as np
import pytest
import torch

from core import explain as E
from core import models as M
from core.preprocess import prepare_drawing


@pytest.mark.parametrize("size", [8, 28])
def test_evidence_maps_plus_bias_are_the_logits(size):
    torch.manual_seed(0)
    model = M.SoftmaxRegression(size * size)
    torch.nn.init.normal_(model.b)  # a non-zero bias, so leaving it out would show
    x = torch.rand(1, 1, size, size)
    maps, b = E.evidence(model, x)
    assert maps.shape == (10, size, size) and b.shape == (10,)
    with torch.no_grad():
        logits = model(x)[0]
    torch.testing.assert_close(maps.sum(dim=(1, 2)) + b, logits, rtol=1e-5, atol=1e-5)
    # pixel (row 2, col 3) of class 7's map is that pixel times its weight for class 7
    assert float(maps[7, 2, 3]) == pytest.approx(float(x[0, 0, 2, 3] * model.W.detach()[2 * size + 3, 7]))
    assert (maps[:, x[0, 0] == 0] == 0).all()  # a blank pixel votes for nothing


def test_saliency_of_softmax_regression_is_its_template():
    """A linear model's score changes with each pixel by that pixel's weight: the gradient is W's column."""
    torch.manual_seed(0)
    model = M.SoftmaxRegression(64)
    sal = E.saliency(model, torch.rand(1, 1, 8, 8), 4)
    torch.testing.assert_close(sal, model.W[:, 4].detach().reshape(8, 8))


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_saliency_is_the_gradient_finite_differences_find(name):
    torch.manual_seed(0)
    model = M.build(name, 28).double().eval()
    x = torch.rand(1, 1, 28, 28, dtype=torch.float64)
    sal = E.saliency(model, x, 3)
    assert sal.shape == (28, 28) and sal.abs().max() > 0
    assert x.grad is None  # the caller's image is left alone
    eps = 1e-6
    for r, c in [(14, 14), (5, 20), (27, 0)]:
        bumped = x.clone()
        bumped[0, 0, r, c] += eps
        with torch.no_grad():
            slope = (model(bumped)[0, 3] - model(x)[0, 3]) / eps
        assert float(sal[r, c]) == pytest.approx(float(slope), rel=1e-3, abs=1e-7)


def test_saliency_of_a_trained_model_lies_on_the_ink():
    """After a few steps on a drawn bar, the bar's class score depends on the inked pixels, not the blank ones."""
    torch.manual_seed(0)
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., 3] = 255
    rgba[40:240, 130:150, :3] = 255  # a '1'
    bar = prepare_drawing(rgba, 28).tensor()
    blank = torch.zeros_like(bar)
    model = M.build("mlp", 28, hidden=32).eval()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(50):  # class 1 for the bar, class 0 for a blank image
        loss = torch.nn.functional.cross_entropy(model(torch.cat([bar, blank])), torch.tensor([1, 0]))
        opt.zero_grad()
        loss.backward()
        opt.step()
    sal = E.saliency(model, bar, 1).abs()
    inked = bar[0, 0] > 0.5
    assert sal[inked].mean() > 2 * sal[~inked].mean()
