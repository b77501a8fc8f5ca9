"""The update rules a step can run, each with its own maths: SGD by hand (a model's written-out gradient),
SGD on autograd's gradients, and Adam. The Step panel and the Code view show the rule that actually ran.

A rule is chosen by `rule_for(optimizer, model spec)`; the function that applies it is built by core.train.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from core.i18n import N_

# ----------------------------------------------------------------------------------- the updates


@torch.no_grad()
def sgd(params, grads, lr: float) -> None:
    """One minibatch SGD step, in place: param <- param - lr * grad."""
    for param, grad in zip(params, grads):
        param.sub_(lr * grad)


def decayed(params: list[torch.Tensor], weight_decay: float) -> list[torch.Tensor]:
    """Each parameter's gradient plus weight decay λ·w on the weights (matrices and filters, not biases)."""
    return [p.grad + weight_decay * p if weight_decay and p.dim() > 1 else p.grad for p in params]


# ------------------------------------------------------------------------------------- the rules


@dataclass(frozen=True)
class Piece:
    """A piece of code the Code view shows, read from the object itself: the maths above it, a note below."""

    code: object = None  # a function or a class of this project; None: the maths alone (a library's own code)
    equations: tuple[str, ...] = ()  # LaTeX
    note: str = ""  # an N_ message, shown through tr()


@dataclass(frozen=True, kw_only=True)
class UpdateRule:
    name: str  # the id an event carries ("sgd-scratch", "sgd", "adam")
    label: str  # an N_ message: what a student reads
    update: str  # LaTeX of the whole update of a weight W, as the Step panel titles it
    change: str  # what one step adds to W, in plain text for a chart's title: the Step panel's middle picture
    pieces: tuple[Piece, ...] = ()  # the code that applies it, after the gradient is known


SGD_EQUATION = r"\mathbf{w} \leftarrow \mathbf{w} - \eta \, \nabla_{\mathbf{w}} \ell"
ADAM_EQUATIONS = (  # torch.optim.Adam's update, as its documentation writes it (g = gradient, t = step)
    r"\mathbf{m} \leftarrow \beta_1 \mathbf{m} + (1 - \beta_1)\,\mathbf{g}, \quad "
    r"\mathbf{v} \leftarrow \beta_2 \mathbf{v} + (1 - \beta_2)\,\mathbf{g}^2",
    r"\mathbf{w} \leftarrow \mathbf{w} - \eta \, \frac{\hat{\mathbf{m}}}{\sqrt{\hat{\mathbf{v}}} + \epsilon}, \quad "
    r"\hat{\mathbf{m}} = \frac{\mathbf{m}}{1 - \beta_1^t},\ \hat{\mathbf{v}} = \frac{\mathbf{v}}{1 - \beta_2^t}",
)
ADAM_NOTE = N_(
    "Adam runs as torch's `torch.optim.Adam` with the update rule above (β₁ = 0.9, β₂ = 0.999, ε = 1e-8): each "
    "weight gets its own step size, from the running mean m and the running mean square v of its gradients."
)

RULES: dict[str, UpdateRule] = {
    "sgd-scratch": UpdateRule(
        name="sgd-scratch",
        label=N_("SGD, gradient written out by hand"),
        update=r"\mathbf{W} \leftarrow \mathbf{W} - \eta\,\mathrm{d}\mathbf{W}",
        change="− η·dW",
        pieces=(Piece(sgd, (SGD_EQUATION,)),),
    ),
    "sgd": UpdateRule(
        name="sgd",
        label=N_("SGD on autograd's gradients"),
        update=r"\mathbf{W} \leftarrow \mathbf{W} - \eta\,\mathrm{d}\mathbf{W}",
        change="− η·dW",
        pieces=(Piece(decayed), Piece(sgd, (SGD_EQUATION,))),
    ),
    "adam": UpdateRule(
        name="adam",
        label=N_("Adam (torch.optim.Adam)"),
        update=r"\mathbf{W} \leftarrow \mathbf{W} - \eta\,\hat{\mathbf{m}} / (\sqrt{\hat{\mathbf{v}}} + \epsilon)",
        change="− η·m̂ / (√v̂ + ε)",
        pieces=(Piece(None, ADAM_EQUATIONS, ADAM_NOTE),),
    ),
}


def rule_for(optimizer: str, has_scratch_step: bool) -> UpdateRule:
    """The rule a run uses: SGD by hand where the model writes its gradient out, else the optimizer's own."""
    return RULES["sgd-scratch" if optimizer == "sgd" and has_scratch_step else optimizer]
