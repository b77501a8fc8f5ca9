import pytest
import torch
import torch.nn.functional as F
from torch.testing import assert_close

from core import models as M
from core.optim import sgd

EXTREMES = [
    torch.randn(16, 10, generator=torch.Generator().manual_seed(0)) * 3,
    torch.tensor([[1e4, -1e4, 0.0] + [0.0] * 7, [-1e4] * 9 + [1e4], [1e4] * 10, [-1e4] * 10]),
]


@pytest.mark.parametrize("O", EXTREMES)
def test_softmax_and_log_softmax_match_torch(O):
    assert_close(M.softmax(O), F.softmax(O, dim=1))
    assert_close(M.log_softmax(O), F.log_softmax(O, dim=1))
    assert torch.isfinite(M.log_softmax(O)).all()
    assert_close(M.softmax(O).sum(dim=1), torch.ones(len(O)))


@pytest.mark.parametrize("O", EXTREMES)
def test_cross_entropy_matches_torch_even_at_1e4(O):
    y = torch.arange(len(O)) % 10
    ours = M.cross_entropy(O, y)
    assert_close(ours, F.cross_entropy(O, y, reduction="none"))
    assert torch.isfinite(ours).all()


def test_cross_entropy_is_minus_log_prob_of_true_class():
    O = torch.tensor([[2.0, 1.0, 0.1]])
    p = torch.exp(O) / torch.exp(O).sum()
    assert_close(M.cross_entropy(O, torch.tensor([0])), -torch.log(p[:, 0]))


@pytest.mark.parametrize("scale", [1.0, 1e4])
def test_hand_gradients_match_autograd(scale):
    g = torch.Generator().manual_seed(1)
    X = torch.rand(32, 64, generator=g) * scale
    y = torch.randint(0, 10, (32,), generator=g)
    W = torch.normal(0, 0.01, (64, 10), generator=g, requires_grad=True)
    b = torch.zeros(10, requires_grad=True)
    O = X @ W + b
    F.cross_entropy(O, y).backward()
    dW, db = M.softmax_regression_grads(X, O.detach().clone(), y)
    assert_close(dW, W.grad, rtol=1e-4, atol=1e-4 * scale)
    assert_close(db, b.grad)


def test_sgd_step_is_param_minus_lr_grad():
    p = torch.tensor([1.0, 2.0])
    sgd([p], [torch.tensor([0.5, -1.0])], lr=0.1)
    assert_close(p, torch.tensor([0.95, 2.1]))


def test_softmax_regression_init_as_the_seeds():
    torch.manual_seed(0)
    m = M.SoftmaxRegression(784, 10)
    assert m.W.shape == (784, 10) and torch.count_nonzero(m.b) == 0
    assert 0.009 < float(m.W.detach().std()) < 0.011 and abs(float(m.W.detach().mean())) < 1e-3
    assert M.count_params(m) == 7850
    assert m(torch.rand(5, 1, 28, 28)).shape == (5, 10)


def test_cnn_walks_the_seed_shapes_on_28x28():
    rows = M.layer_table(M.CNN(28), 28)
    shapes = {r["layer"]: r["output shape"] for r in rows}
    assert shapes["input"] == [1, 1, 28, 28]
    assert shapes["conv1"] == [1, 6, 24, 24] and shapes["pool1"] == [1, 6, 12, 12]
    assert shapes["conv2"] == [1, 12, 8, 8] and shapes["pool2"] == [1, 12, 4, 4]
    assert shapes["flatten"] == [1, 192] and shapes["out"] == [1, 10]
    formulas = {r["layer"]: r["formula"] for r in rows}
    assert formulas["conv1"] == "(28 - 5 + 2*0)/1 + 1 = 24"
    assert formulas["pool2"] == "(8 - 2 + 2*0)/2 + 1 = 4"
    # parameters: conv1 6*25+6, conv2 12*150+12, fc 192*120+120, 120*60+60, 60*10+10
    assert sum(r["parameters"] for r in rows) == M.count_params(M.CNN(28)) == 156 + 1812 + 23160 + 7260 + 610


def test_cnn_adapts_to_8x8_digits():
    m = M.CNN(8)
    shapes = {r["layer"]: r["output shape"] for r in M.layer_table(m, 8)}
    assert shapes["conv1"] == [1, 6, 8, 8] and shapes["pool2"] == [1, 12, 2, 2] and shapes["flatten"] == [1, 48]
    assert m(torch.rand(3, 1, 8, 8)).shape == (3, 10)


@pytest.mark.parametrize("name,size", [(n, s) for n in ("softmax", "mlp", "cnn") for s in (8, 28)])
def test_layer_table_matches_a_real_forward_pass(name, size):
    model = M.build(name, size)
    rows = M.layer_table(model, size)
    out = model(torch.rand(2, 1, size, size))
    assert rows[-2]["output shape"][1:] == list(out.shape[1:])  # last layer before softmax
    assert rows[-1]["layer"] == "softmax"
    assert sum(r["parameters"] for r in rows) == M.count_params(model)


def test_softmax_table_shows_7850():
    rows = M.layer_table(M.SoftmaxRegression(784), 28)
    assert [r["parameters"] for r in rows if r["layer"] == "linear"] == [7850]
    assert M.count_params(M.SoftmaxRegression(64)) == 650


def test_stages_are_named_and_consistent():
    m = M.CNN(28)
    st = dict(M.stages(m, torch.rand(1, 1, 28, 28)))
    assert st["pool2"].shape == (1, 12, 4, 4)
    assert_close(st["softmax"].sum(), torch.tensor(1.0))


def test_softmax_weights_are_stored_class_by_class_and_stay_so_through_training_and_loading():
    """W is (784, 10) but laid out like nn.Linear's (10, 784) weight, the layout BLAS multiplies fast."""
    m = M.SoftmaxRegression(784, 10)
    assert m.W.stride() == (1, 784)
    X, y = torch.rand(32, 784), torch.randint(0, 10, (32,))
    dW, db = M.softmax_regression_grads(X, X @ m.W + m.b, y)
    assert dW.stride() == m.W.stride()
    sgd([m.W, m.b], [dW, db], lr=0.1)
    assert m.W.stride() == (1, 784)
    fresh = M.SoftmaxRegression(784, 10)
    fresh.load_state_dict({"W": torch.randn(784, 10), "b": torch.zeros(10)})  # e.g. an older checkpoint
    assert fresh.W.stride() == (1, 784)
