"""Why a model predicts what it does, for one image: softmax regression's evidence maps, a network's saliency.

Plain torch, a few lines each, so the Inside page can show their real source beside the pictures they draw.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from core.i18n import N_
from core.optim import Piece


def evidence(model: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A linear model's (O = X W + b) evidence maps x ⊙ W_c, (classes, h, w), and its biases: map c summed plus
    b_c is score c."""
    side = x.shape[-1]
    pixels = x.reshape(-1)  # one image, (1, 1, h, w) -> (d,)
    maps = pixels[:, None] * model.W  # (d, 1) * (d, q) -> (d, q): pixel i's vote for class c
    return maps.T.reshape(-1, side, side).detach(), model.b.detach()  # (q, h, w), (q,)


def saliency(model: nn.Module, x: torch.Tensor, target: int) -> torch.Tensor:
    """d score_target / d pixel for one image, (h, w): how much brightening each pixel raises the class's score."""
    x = x.detach().clone().requires_grad_(True)  # (1, 1, h, w), a leaf autograd tracks
    score = model(x)[0, target]  # the class's logit, before softmax
    (grad,) = torch.autograd.grad(score, x)  # backpropagate to the pixels, not to the weights
    return grad[0, 0]  # (h, w)


@dataclass(frozen=True)
class Explanation:
    """How a model's prediction is explained: the picture the Predict tab draws (by name), the code behind it."""

    name: str  # "evidence" (a linear model's maps and scores) or "saliency" (any differentiable model)
    piece: Piece  # its code and maths, for the Code view
    text: str  # an N_ line for the Code view


EVIDENCE = Explanation(
    "evidence",
    Piece(
        evidence, (r"O_c = \textstyle\sum_i x_i W_{ic} + b_c = \mathrm{sum}(\mathbf{x} \odot \mathbf{W}_{:,c}) + b_c",)
    ),
    N_("The evidence maps under **Predict an image**: each pixel times its weight, per class."),
)
SALIENCY = Explanation(
    "saliency",
    Piece(saliency, (r"\mathbf{S}_c = \frac{\partial O_c}{\partial \mathbf{x}}",)),
    N_("The saliency maps under **Predict an image**: autograd takes the class's score back to the pixels."),
)
