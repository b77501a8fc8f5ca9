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
import torch.nn.functional as F
from torch import nn

from core import plots
from core.explain import EVIDENCE, SALIENCY, Explanation
from core.i18n import N_, bare, tr
from core.optim import Piece, sgd

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
    dO = softmax(O)  # (B, q)
    dO[torch.arange(len(y)), y] -= 1.0
    dO /= len(y)
    # dW = X.T @ dO, (d, B) @ (B, q) -> (d, q); computed as (dO.T @ X).T: the same numbers laid out
    # like W (see SoftmaxRegression), which BLAS multiplies faster (bench/RESULTS.md).
    return (dO.T @ X).T, dO.sum(dim=0)


@torch.no_grad()
def softmax_regression_step(model, X: torch.Tensor, y: torch.Tensor, lr: float, weight_decay: float = 0.0):
    """One minibatch of softmax regression as the seeds teach it, the gradient written out (no autograd)."""
    X = X.reshape(len(X), -1)  # (B, 1, h, w) -> (B, d), d = h·w pixels
    O = X @ model.W + model.b  # (B, d) @ (d, q) + (q,) -> (B, q) logits
    dW, db = softmax_regression_grads(X, O, y)
    if weight_decay:  # the loss gains (λ/2)·‖W‖², whose gradient is λ·W: every step also pulls W towards 0
        dW = dW + weight_decay * model.W
    sgd([model.W, model.b], (dW, db), lr)
    return cross_entropy(O, y).mean(), O


class SoftmaxRegression(nn.Module):
    """O = X W + b with W (d inputs x q classes) ~ normal(0, 0.01) and b = 0, as in the seeds.

    d is the image's pixel count (784 for 28x28 MNIST, 64 for the 8x8 digits), q the number of classes (10).
    W's numbers sit in memory class by class (the transpose of a contiguous (q, d) block, as nn.Linear stores
    its weight): same maths, faster BLAS (bench/RESULTS.md).
    """

    STAGE_KINDS = {"linear": "X @ W + b"}  # the Shapes table's name for a stage that is no child module

    def __init__(self, num_inputs: int, num_classes: int = 10):
        super().__init__()
        self.W = nn.Parameter(torch.normal(0.0, 0.01, size=(num_classes, num_inputs)).T)
        self.b = nn.Parameter(torch.zeros(num_classes))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        X = X.reshape(-1, self.W.shape[0])  # (B, 1, h, w) -> (B, d)
        return X @ self.W + self.b  # (B, d) @ (d, q) + (q,) -> (B, q) logits

    def stages(self, X: torch.Tensor) -> list[tuple[str, torch.Tensor]]:
        """The named steps of forward(), for the Inside page (it has no child modules to walk)."""
        flat = X.reshape(-1, self.W.shape[0])
        return [("flatten", flat), ("linear", flat @ self.W + self.b)]


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


@dataclass(frozen=True, kw_only=True)
class WeightView:
    """One picture of a model's learned weights on the Inside page (and, if it animates, its Play)."""

    keys: tuple[str, ...]  # one widget key per figure; the first also names its Play
    title: str = ""  # an N_ heading above it
    text: str = ""  # an N_ line saying how to read it
    figures: Callable[[nn.Module, int, list[str]], list]  # (model, image side, class names) -> plotly figures
    width: str = "stretch"  # "content": drawn at the figures' own size (small tiles stay crisp)
    # the view over the run's kept points, (label, weights) oldest first -> one animated figure; None: none
    animate: Callable[[list[tuple[str, dict]], int, list[str]], object] | None = None
    animate_title: str = ""  # an N_ label for the Play expander


@dataclass(frozen=True, kw_only=True)
class ModelSpec:
    """Everything the product knows of a model: how to build and train it, and what the pages show of it."""

    name: str  # the id in configs, the CLI, URLs and the run store
    label: str  # what a student reads
    build: Callable[[int, int, int, float], nn.Module]  # (image side, classes, hidden units, dropout) -> a model
    code: tuple[Piece, ...]  # the Code view's model and loss: the class, its maths, the loss it trains on
    loss: Callable = F.cross_entropy  # (logits, labels) -> per-example losses
    # one step with the gradient written out, (model, X, y, lr, weight decay) -> (mean loss, logits), used for
    # optimizer "sgd"; None: autograd. scratch_code: its pieces for the Code view, the gradient's maths beside them
    scratch_step: Callable | None = None
    scratch_code: tuple[Piece, ...] = ()
    weight_views: tuple[WeightView, ...] = ()  # the Inside page's pictures of its weights
    feature_maps: tuple[str, ...] = ()  # stages (by name prefix) whose outputs are images worth showing
    explain: Explanation = SALIENCY  # Why this prediction: how it is worked out and drawn
    # parameters Step sends before and after it (small ones only); the first, (inputs, classes), is drawn as templates
    step_view: tuple[str, ...] = ()
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


# ------------------------------------------------------------------------- what the pages draw of each


def _templates(model: SoftmaxRegression, side: int, names: list[str]) -> list:
    return [
        plots.weight_templates(model.W.detach().numpy(), side, names),
        plots.bias_bars(model.b.detach().numpy(), names),
    ]


def _template_frames(kept: list[tuple[str, dict]], side: int, names: list[str]):
    return plots.template_animation([(label, w["W"].numpy()) for label, w in kept], side, names)


def _hidden_units(model: MLP, side: int, names: list[str]) -> list:
    W = model.fc1.weight.detach().numpy()[:10].T  # the first 10 hidden units, (inputs, 10)
    return [plots.weight_templates(W, side, [tr("unit {i}", i=i) for i in range(len(W.T))])]


def _filters(model: CNN, side: int, names: list[str]) -> list:
    w1 = model.conv1.weight.detach().numpy()[:, 0]  # (6, 5, 5): one input channel
    w2 = model.conv2.weight.detach().numpy().reshape(-1, 5, 5)  # (12 * 6, 5, 5)
    return [
        plots.tile_grid(
            w1, 6, [tr("filter {i}", i=i) for i in range(6)], title=tr("conv1: six 5×5 filters"), tile_px=120
        ),
        plots.tile_grid(w2, 6, title=tr("conv2: 12 filters (rows) × 6 input channels (columns)"), tile_px=56),
    ]


SOFTMAX_LOSS = (
    Piece(log_softmax, (r"\mathrm{softmax}(\mathbf{O})_{ij} = \frac{\exp(O_{ij})}{\sum_k \exp(O_{ik})}",)),
    Piece(cross_entropy, (r"\ell(\mathbf{y}, \hat{\mathbf{y}}) = -\log \hat{y}_{y}",)),
)
AUTOGRAD_LOSS = (
    Piece(log_softmax, SOFTMAX_LOSS[0].equations),
    Piece(
        cross_entropy,
        SOFTMAX_LOSS[1].equations,
        N_(
            "The loss. Models trained with autograd use torch's `F.cross_entropy`, which computes the same "
            "numbers as this scratch version (tests/test_models.py checks it)."
        ),
    ),
)

REGISTRY: dict[str, ModelSpec] = {
    "softmax": ModelSpec(
        name="softmax",
        label=N_("Softmax regression (from scratch)"),
        build=lambda size, classes, hidden, dropout: SoftmaxRegression(size * size, classes),
        code=(Piece(SoftmaxRegression, (r"\mathbf{O} = \mathbf{X}\mathbf{W} + \mathbf{b}",)), *SOFTMAX_LOSS),
        loss=cross_entropy,
        scratch_step=softmax_regression_step,
        scratch_code=(
            Piece(softmax),
            Piece(
                softmax_regression_grads,
                (
                    r"\frac{\partial \ell}{\partial \mathbf{O}} = \mathrm{softmax}(\mathbf{O}) - \mathrm{onehot}(y)",
                    r"\frac{\partial \ell}{\partial \mathbf{W}} = "
                    r"\mathbf{X}^\top \frac{\partial \ell}{\partial \mathbf{O}}",
                ),
            ),
            Piece(softmax_regression_step),
        ),
        weight_views=(
            WeightView(
                keys=("in_templates", "in_bias"),
                title=N_("The 10 columns of W, seen as images: learned templates"),
                text=N_(
                    "Each class's score is the image times its template: **blue** pixels add to it, "
                    "**red** pixels subtract. Hover for the exact weight."
                ),
                figures=_templates,
                animate=_template_frames,
                animate_title=N_("▶ Play: watch the templates form, from the first steps to now"),
            ),
        ),
        explain=EVIDENCE,
        step_view=("W", "b"),
        hidden_layers=False,
    ),
    "mlp": ModelSpec(
        name="mlp",
        label=N_("MLP (one hidden layer)"),
        build=lambda size, classes, hidden, dropout: MLP(size * size, hidden, classes, dropout),
        code=(
            Piece(
                MLP,
                (
                    r"\mathbf{H} = \mathrm{ReLU}(\mathbf{X}\mathbf{W}_1 + \mathbf{b}_1)",
                    r"\mathbf{O} = \mathbf{H}\mathbf{W}_2 + \mathbf{b}_2",
                ),
            ),
            *AUTOGRAD_LOSS,
        ),
        weight_views=(
            WeightView(
                keys=("in_templates",), title=N_("The first 10 hidden units' input weights"), figures=_hidden_units
            ),
        ),
        threads=2,
    ),
    "cnn": ModelSpec(
        name="cnn",
        label=N_("CNN (the seed LeNet)"),
        build=lambda size, classes, hidden, dropout: CNN(size, classes, dropout),
        code=(
            Piece(
                CNN,
                (r"\text{conv} \to \mathrm{ReLU} \to \text{max-pool},\ \text{twice; then three linear layers}",),
            ),
            *AUTOGRAD_LOSS,
        ),
        weight_views=(WeightView(keys=("in_conv1", "in_conv2"), figures=_filters, width="content"),),
        feature_maps=("conv", "relu", "pool"),
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
    if hasattr(model, "stages"):  # a model with no child modules names its own steps
        out += model.stages(X)
    else:
        for name, layer in model.named_children():
            X = layer(X)
            out.append((name, X))
    return out + [("softmax", softmax(out[-1][1]))]


def feature_maps(spec: ModelSpec, trace: list[tuple[str, torch.Tensor]]) -> list[tuple[str, torch.Tensor]]:
    """The stages of a trace (see stages) whose outputs the spec shows as images: (name, (channels, h, w))."""
    prefixes = spec.feature_maps
    return [(name, out[0]) for name, out in trace[1:] if prefixes and out.dim() == 4 and name.startswith(prefixes)]


def count_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _formula(layer: nn.Module | None, before: torch.Tensor, after: torch.Tensor) -> str:
    """A stage's arithmetic, worked: a conv or pool's output side O = (n - f + 2p)/s + 1, a flatten's width, a
    linear layer's weights (inputs × outputs + one bias per output)."""
    if isinstance(layer, (nn.Conv2d, nn.MaxPool2d)):
        n = before.shape[-1]
        f, p, s = (
            (layer.kernel_size[0], layer.padding[0], layer.stride[0])
            if isinstance(layer, nn.Conv2d)
            else (
                layer.kernel_size,
                layer.padding,
                layer.stride,
            )
        )
        return f"({n} - {f} + 2*{p})/{s} + 1 = {(n - f + 2 * p) // s + 1}"
    if isinstance(layer, nn.Linear):
        i, o = layer.in_features, layer.out_features
        return f"{i}*{o} + {o} = {i * o + o:,}"
    if before.dim() > after.dim() == 2:  # a flatten, the model's own or a layer
        return "*".join(str(d) for d in before.shape[1:]) + f" = {after.shape[1]}"
    return ""


def layer_table(model: nn.Module, size: int) -> list[dict]:
    """One row per stage: name, kind, output shape for a [1, 1, size, size] input, parameters, formula."""
    rows = []
    with torch.no_grad():
        trace = stages(model, torch.zeros(1, 1, size, size))
    children = dict(model.named_children())
    prev = trace[0][1]
    for name, out in trace:
        layer = children.get(name)
        if name in getattr(model, "STAGE_KINDS", {}):  # a step of the model's own forward(): all its weights
            kind, params = model.STAGE_KINDS[name], count_params(model)
            formula = f"{prev.shape[1]}*{out.shape[1]} + {out.shape[1]} = {params:,}"  # X @ W + b's weights
        else:
            kind = type(layer).__name__ if layer is not None else name
            params = count_params(layer) if layer is not None else 0
            formula = _formula(layer, prev, out)
        rows.append(
            {"layer": name, "kind": kind, "output shape": list(out.shape), "parameters": params, "formula": formula}
        )
        prev = out
    return rows
