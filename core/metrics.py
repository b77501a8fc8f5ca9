"""Accuracy, confusion matrix and per-class report, from labels and predictions (scikit-learn)."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import classification_report, confusion_matrix


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
