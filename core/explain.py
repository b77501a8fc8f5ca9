"""Why a model predicts what it does, for one image: softmax regression's evidence maps, a network's saliency.

Plain torch, a few lines each, so the Inside page can show their real source beside the pictures they draw.
"""

from __future__ import annotations

import torch
from torch import nn

from core.models import SoftmaxRegression


def evidence(model: SoftmaxRegression, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each class's evidence map x ⊙ W_c, (classes, h, w), and the biases: map c summed plus b_c is score c."""
    side = x.shape[-1]
    pixels = x.reshape(-1)  # one image, (1, 1, 28, 28) -> (784,)
    maps = pixels[:, None] * model.W  # (784, 1) * (784, 10) -> (784, 10): pixel i's vote for class c
    return maps.T.reshape(-1, side, side).detach(), model.b.detach()  # (10, 28, 28), (10,)


def saliency(model: nn.Module, x: torch.Tensor, target: int) -> torch.Tensor:
    """d score_target / d pixel for one image, (h, w): how much brightening each pixel raises the class's score."""
    x = x.detach().clone().requires_grad_(True)  # (1, 1, 28, 28), a leaf autograd tracks
    score = model(x)[0, target]  # the class's logit, before softmax
    (grad,) = torch.autograd.grad(score, x)  # backpropagate to the pixels, not to the weights
    return grad[0, 0]  # (28, 28)
