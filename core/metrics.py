"""Accuracy, confusion matrix and per-class report, from labels and predictions (scikit-learn)."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import classification_report, confusion_matrix

from core.i18n import tr


def accuracy(labels, predictions) -> float:
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    return float((labels == predictions).mean()) if len(labels) else float("nan")


def confusion(labels, predictions, num_classes: int, normalize: bool = False) -> np.ndarray:
    """(classes x classes) matrix, rows = true class, columns = predicted; rows sum to 1 when normalized."""
    cm = confusion_matrix(labels, predictions, labels=list(range(num_classes)))
    if normalize:
        rows = cm.sum(axis=1, keepdims=True)
        return np.divide(cm, rows, out=np.zeros_like(cm, dtype=float), where=rows > 0)
    return cm


def per_class(labels, predictions, classes) -> list[dict]:
    """Precision, recall, F1 and support per class (sklearn's classification_report), as table rows."""
    report = classification_report(
        labels,
        predictions,
        labels=list(range(len(classes))),
        target_names=list(classes),
        output_dict=True,
        zero_division=0,
    )
    return [
        {
            "class": name,
            "precision": report[name]["precision"],
            "recall": report[name]["recall"],
            "f1": report[name]["f1-score"],
            "support": int(report[name]["support"]),
        }
        for name in classes
    ]


def cell_indices(labels, predictions, true_class: int, predicted_class: int) -> np.ndarray:
    """Indices of the test images of true_class predicted as predicted_class (one confusion-matrix cell)."""
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    return np.flatnonzero((labels == true_class) & (predictions == predicted_class))


# How a finished run's loss went, as ratios to the first batch's loss (before any update). Measured by
# bench/loss_verdicts.py over learning rates from far too low to far too high (bench/RESULTS.md, "Loss verdicts").
SPIKE = 5.0  # a batch loss this many times the first: the steps overshoot...
SPIKE_MATTERS = 0.25  # ...and it cost something if the run ended above this share of the first loss
STUCK = 0.9  # ended above this share: it barely learned (too low a rate, or a network that collapsed)
JUMPED = 1.5  # a stuck run whose loss once rose this far above the first: it collapsed, the rate is too high
STILL_FALLING = 0.02  # the last epoch's train loss fell by more than this share: more epochs would still help


def diagnose(batch_losses, epoch_losses, lr: float) -> tuple[str, str] | None:
    """("too_high", "too_low" or "still_falling", a sentence for the student) about a finished run's loss."""
    if not len(batch_losses):
        return None
    first, worst = float(batch_losses[0]), float(max(batch_losses))
    end = float(epoch_losses[-1]) if len(epoch_losses) else float(batch_losses[-1])
    lower = lr / 10
    if end > first:
        return "too_high", tr(
            "The loss ended above where it started ({end:.3g} against {first:.3g}): the learning rate ({lr:g}) "
            "is too high, so each step overshoots the minimum. Try {lower:g}.",
            end=end,
            first=first,
            lr=lr,
            lower=lower,
        )
    if worst > SPIKE * first and end > SPIKE_MATTERS * first:
        return "too_high", tr(
            "The batch loss jumped to {worst:.3g}, {times:.0f} times where it started: the learning rate "
            "({lr:g}) is too high, so steps overshoot and undo what was learned. Try {lower:g}.",
            worst=worst,
            times=worst / first,
            lr=lr,
            lower=lower,
        )
    if end > STUCK * first:
        if worst > JUMPED * first:
            return "too_high", tr(
                "The loss jumped, then stayed near where it started ({end:.3g}): one step too far broke the "
                "model and it stopped learning. The learning rate ({lr:g}) is too high. Try {lower:g}.",
                end=end,
                lr=lr,
                lower=lower,
            )
        return "too_low", tr(
            "The loss has barely fallen (from {first:.3g} to {end:.3g}): the learning rate ({lr:g}) is probably "
            "too low. Try {higher:g}, or many more epochs.",
            first=first,
            end=end,
            lr=lr,
            higher=lr * 10,
        )
    if len(epoch_losses) >= 2 and (epoch_losses[-2] - epoch_losses[-1]) / epoch_losses[-2] > STILL_FALLING:
        drop = (epoch_losses[-2] - epoch_losses[-1]) / epoch_losses[-2]
        return "still_falling", tr(
            "The loss was still falling in the last epoch ({drop:.0%} lower than the one before): it has more to "
            "learn. Train for more epochs.",
            drop=drop,
        )
    return None
