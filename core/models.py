"""Softmax regression from scratch (as the seed tutorials teach it), the seed CNN, an MLP, their registry
and their shapes.

The scratch functions are small and named so the "Inside the model" page can show their real source.
Adding a model: its class here and one ModelSpec in REGISTRY; pages, the CLI and the tests read the registry.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from core.i18n import N_, bare, tr

# ------------------------------------------------------------------------- softmax from scratch


def log_softmax(O: torch.Tensor) -> torch.Tensor:
    """log softmax(O) row-wise, stable for any logits: subtract the row max before exp."""
    O = O - O.max(dim=1, keepdim=True).values  # largest logit becomes 0, so exp never overflows
    return O - torch.log(torch.exp(O).sum(dim=1, keepdim=True))


def softmax(O: torch.Tensor) -> torch.Tensor:
    """softmax(O)_ij = exp(O_ij) / sum_k exp(O_ik), computed stably."""
    return torch.exp(log_softmax(O))


def cross_entropy(O: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-example loss -log p(true class): pick the true class's log probability from each row."""
    # log(softmax(O)) would give log(0) = -inf for logits near -1e4; log_softmax never does.
    return -log_softmax(O)[torch.arange(len(y)), y]


def softmax_regression_grads(X: torch.Tensor, O: torch.Tensor, y: torch.Tensor):
    """Gradients of the mean cross-entropy for O = X @ W + b, by hand: dL/dO = (softmax(O) - onehot(y)) / B."""
    dO = softmax(O)  # (B, 10)
    dO[torch.arange(len(y)), y] -= 1.0
    dO /= len(y)
    # dW = X.T @ dO, (784, B) @ (B, 10) -> (784, 10); computed as (dO.T @ X).T: the same numbers laid out
    # like W (see SoftmaxRegression), which BLAS multiplies faster (bench/RESULTS.md).
    return (dO.T @ X).T, dO.sum(dim=0)


@torch.no_grad()
def sgd(params, grads, lr: float) -> None:
    """One minibatch SGD step, in place: param <- param - lr * grad."""
    for param, grad in zip(params, grads):
        param.sub_(lr * grad)


class SoftmaxRegression(nn.Module):
    """O = X W + b with W (inputs x classes) ~ normal(0, 0.01) and b = 0, as in the seeds.

    W is a (784, 10) matrix whose numbers sit in memory class by class (the transpose of a contiguous
    (10, 784) block, as nn.Linear stores its weight): same maths, faster BLAS (bench/RESULTS.md).
    """

    def __init__(self, num_inputs: int, num_classes: int = 10):
        super().__init__()
        self.W = nn.Parameter(torch.normal(0.0, 0.01, size=(num_classes, num_inputs)).T)
        self.b = nn.Parameter(torch.zeros(num_classes))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        X = X.reshape(-1, self.W.shape[0])  # (B, 1, 28, 28) -> (B, 784)
        return X @ self.W + self.b  # (B, 784) @ (784, 10) + (10,) -> (B, 10) logits


# --------------------------------------------------------------------------------- CNN and MLP


def cnn_padding(size: int) -> int:
    """Conv padding for the seed CNN at a given image size.

    The seed's two unpadded 5x5 convs need 28x28 input (28->24->12->8->4). An 8x8 digit would shrink to
    nothing, so small images get 'same' padding 2: 8->8->4->4->2, the same layers with a 48-wide flatten.
    """
    return 0 if size >= 28 else 2


# fmt: off
# (the Inside page shows these classes' source: one layer a line, as the seed tutorials write them)
class CNN(nn.Sequential):
    """The seed LeNet-like CNN: conv 6@5x5, pool, conv 12@5x5, pool, fc 120, fc 60, fc 10 (dropout after fc1
    and fc2 when asked for)."""

    def __init__(self, size: int = 28, num_classes: int = 10, dropout: float = 0.0):
        p = cnn_padding(size)
        side = ((size + 2 * p - 4) // 2 + 2 * p - 4) // 2  # after conv5, pool2, conv5, pool2
        super().__init__(OrderedDict([
            ("conv1", nn.Conv2d(1, 6, 5, padding=p)), ("relu1", nn.ReLU()), ("pool1", nn.MaxPool2d(2)),
            ("conv2", nn.Conv2d(6, 12, 5, padding=p)), ("relu2", nn.ReLU()), ("pool2", nn.MaxPool2d(2)),
            ("flatten", nn.Flatten()),                   # (B, 12, side, side) -> (B, 12 * side * side)
            ("fc1", nn.Linear(12 * side * side, 120)), ("relu3", nn.ReLU()), *_dropout("drop3", dropout),
            ("fc2", nn.Linear(120, 60)), ("relu4", nn.ReLU()), *_dropout("drop4", dropout),
            ("out", nn.Linear(60, num_classes)),         # (B, 10) logits
        ]))


class MLP(nn.Sequential):
    """One hidden layer: flatten, linear, ReLU, (dropout,) linear."""

    def __init__(self, num_inputs: int, hidden: int = 256, num_classes: int = 10, dropout: float = 0.0):
        super().__init__(OrderedDict([
            ("flatten", nn.Flatten()),                   # (B, 1, 28, 28) -> (B, 784)
            ("fc1", nn.Linear(num_inputs, hidden)), ("relu1", nn.ReLU()), *_dropout("drop1", dropout),
            ("out", nn.Linear(hidden, num_classes)),     # (B, 10) logits
        ]))
# fmt: on


def _dropout(name: str, p: float) -> list[tuple[str, nn.Module]]:
    """A dropout layer when p > 0 (it zeroes a share p of its inputs while training, none in eval()); none at 0,
    so the Inside page's layers stay the seed's. No parameters: checkpoints load either way."""
    return [(name, nn.Dropout(p))] if p > 0 else []


# ------------------------------------------------------------------------------------ registry

# What the Inside page can draw of a model's weights and activations (pages/inside.py has one view per name).
INSIDE_VIEWS = ("templates", "hidden_units", "filters", "feature_maps")


@dataclass(frozen=True, kw_only=True)
class ModelSpec:
    name: str  # the id in configs, the CLI, URLs and the run store
    label: str  # what a student reads
    build: Callable[[int, int, int, float], nn.Module]  # (image side, classes, hidden units, dropout) -> a model
    inside: tuple[str, ...] = ()  # which INSIDE_VIEWS apply
    scratch: bool = False  # has the hand-written gradient and SGD step (no autograd) for optimizer "sgd"
    channels_last: bool = False  # conv nets: oneDNN's convolutions are faster on NHWC (bench/RESULTS.md)
    threads: int = 1  # the most CPU threads worth giving it on 28x28 images (small matrices gain nothing)
    hidden_layers: bool = True  # has hidden units, so dropout applies

    @property
    def display_label(self) -> str:
        """The label in the current language (`label` stays English: a widget's option, a URL's value)."""
        return tr(self.label)

    @property
    def short(self) -> str:
        """The label without its parenthesis, in the current language: 'Softmax regression' for headings."""
        return bare(self.display_label)


REGISTRY: dict[str, ModelSpec] = {
    "softmax": ModelSpec(
        name="softmax",
        label=N_("Softmax regression (from scratch)"),
        build=lambda size, classes, hidden, dropout: SoftmaxRegression(size * size, classes),
        inside=("templates",),
        scratch=True,
        hidden_layers=False,
    ),
    "mlp": ModelSpec(
        name="mlp",
        label=N_("MLP (one hidden layer)"),
        build=lambda size, classes, hidden, dropout: MLP(size * size, hidden, classes, dropout),
        inside=("hidden_units",),
        threads=2,
    ),
    "cnn": ModelSpec(
        name="cnn",
        label=N_("CNN (the seed LeNet)"),
        build=lambda size, classes, hidden, dropout: CNN(size, classes, dropout),
        inside=("filters", "feature_maps"),
        channels_last=True,
        threads=2,
    ),
}


def spec(name: str) -> ModelSpec:
    """The registry entry for a model name, or a ValueError naming the known ones."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(
            tr("Unknown model {name!r}; choose one of {names}.", name=name, names=", ".join(REGISTRY))
        ) from None


def build(model: str, size: int, num_classes: int = 10, hidden: int = 256, dropout: float = 0.0) -> nn.Module:
    """A fresh model for images of size x size (initialised from torch's global RNG)."""
    return spec(model).build(size, num_classes, hidden, dropout)


# ------------------------------------------------------------------------------ looking inside


def stages(model: nn.Module, X: torch.Tensor) -> list[tuple[str, torch.Tensor]]:
    """Run X through the model and return every intermediate output, named, input first."""
    out = [("input", X)]
    if isinstance(model, SoftmaxRegression):
        flat = X.reshape(-1, model.W.shape[0])
        logits = flat @ model.W + model.b
        return out + [("flatten", flat), ("linear", logits), ("softmax", softmax(logits))]
    for name, layer in model.named_children():
        X = layer(X)
        out.append((name, X))
    return out + [("softmax", softmax(X))]


def count_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _formula(layer: nn.Module, n: int) -> str:
    """The output-size formula O = (n - f + 2p)/s + 1 worked for one conv or pool layer."""
    if isinstance(layer, nn.Conv2d):
        f, p, s = layer.kernel_size[0], layer.padding[0], layer.stride[0]
    elif isinstance(layer, nn.MaxPool2d):
        f, s = layer.kernel_size, layer.stride
        p = layer.padding
    else:
        return ""
    o = (n - f + 2 * p) // s + 1
    return f"({n} - {f} + 2*{p})/{s} + 1 = {o}"


def layer_table(model: nn.Module, size: int) -> list[dict]:
    """One row per stage: name, kind, output shape for a [1, 1, size, size] input, parameters, formula."""
    rows = []
    with torch.no_grad():
        trace = stages(model, torch.zeros(1, 1, size, size))
    children = dict(model.named_children())
    prev = trace[0][1]
    for name, out in trace:
        layer = children.get(name)
        if isinstance(model, SoftmaxRegression) and name == "linear":
            kind, params = "X @ W + b", count_params(model)
        else:
            kind = type(layer).__name__ if layer is not None else name
            params = count_params(layer) if layer is not None else 0
        formula = _formula(layer, prev.shape[-1]) if layer is not None and prev.dim() == 4 else ""
        rows.append(
            {"layer": name, "kind": kind, "output shape": list(out.shape), "parameters": params, "formula": formula}
        )
        prev = out
    return rows
