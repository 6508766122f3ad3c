"""How well a trained model does: per group (the seed paper's cultural adaptation), and forecast errors.

For predictions $\\hat y$, labels $y$ and a group per example: accuracy and macro-F1 per group,
the worst group's accuracy and the largest accuracy gap between groups, and the confusion matrix
per group, as one `xarray.Dataset` with a `group` dimension. For forecasts: MAE and RMSE, and the
seasonal naive forecast $\\hat y_t = y_{t - \\text{period}}$ that any model should beat.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import xarray as xr
from torch import nn
from torch.utils.data import DataLoader

__all__ = ["forecast_errors", "group_metrics", "predict", "seasonal_naive"]


def group_metrics(labels, predictions, groups, n_classes: int, class_names: Sequence[str] | None = None) -> xr.Dataset:
    """Per-group accuracy, macro-F1 and confusion matrix; worst group and largest gap as variables.

    Macro-F1 averages the F1 of every class present in the group's labels or predictions
    (scikit-learn's `f1_score(average="macro")` over those classes; a class with no true and no
    predicted example does not count).

    Raises:
        ValueError: the three arrays differ in length, or a label or prediction is outside
            0..n_classes-1.
    """
    from sklearn.metrics import confusion_matrix, f1_score

    labels, predictions = np.asarray(labels, dtype=np.int64), np.asarray(predictions, dtype=np.int64)
    groups = np.asarray(groups)
    if not len(labels) == len(predictions) == len(groups):
        raise ValueError(
            f"labels, predictions, groups: lengths {len(labels)}, {len(predictions)}, {len(groups)} differ"
        )
    for name, values in (("labels", labels), ("predictions", predictions)):
        bad = (values < 0) | (values >= n_classes)
        if bad.any():
            raise ValueError(f"{name}: {values[bad][0]} is outside 0..{n_classes - 1}")
    names = sorted(set(groups.tolist()), key=str)
    classes = list(class_names) if class_names is not None else list(range(n_classes))
    accuracy, f1, count = [], [], []
    confusion = np.zeros((len(names), n_classes, n_classes), dtype=np.int64)
    for i, group in enumerate(names):
        chosen = groups == group
        y, p = labels[chosen], predictions[chosen]
        accuracy.append(float((y == p).mean()))
        present = np.union1d(y, p)
        f1.append(float(f1_score(y, p, labels=present, average="macro", zero_division=0)))
        count.append(int(chosen.sum()))
        confusion[i] = confusion_matrix(y, p, labels=np.arange(n_classes))
    accuracy_array = np.asarray(accuracy)
    return xr.Dataset(
        {
            "accuracy": ("group", accuracy_array),
            "macro_f1": ("group", np.asarray(f1)),
            "count": ("group", np.asarray(count)),
            "confusion": (("group", "true", "predicted"), confusion),
            "worst_group_accuracy": ((), accuracy_array.min()),
            "largest_gap": ((), accuracy_array.max() - accuracy_array.min()),
            "overall_accuracy": ((), float((labels == predictions).mean())),
        },
        coords={"group": [str(g) for g in names], "true": classes, "predicted": classes},
    )


@torch.no_grad()
def predict(model: nn.Module, loader: DataLoader, device: torch.device | str = "cpu") -> tuple[np.ndarray, np.ndarray]:
    """Labels and arg-max predictions of `model` over `loader` (in eval mode, then back)."""
    was_training = model.training
    model.eval()
    labels, predictions = [], []
    for x, y in loader:
        predictions.append(model(x.to(device)).argmax(1).cpu())
        labels.append(y)
    model.train(was_training)
    return torch.cat(labels).numpy(), torch.cat(predictions).numpy()


def seasonal_naive(series: np.ndarray, period: int, start: int) -> np.ndarray:
    """Forecasts of `series[start:]`, each the value one period earlier."""
    if start < period:
        raise ValueError(f"start: {start} must be at least the period {period}")
    return series[start - period : len(series) - period]


def forecast_errors(truth, prediction) -> dict[str, float]:
    """MAE and RMSE of a forecast."""
    error = np.asarray(prediction, dtype=np.float64) - np.asarray(truth, dtype=np.float64)
    return {"mae": float(np.abs(error).mean()), "rmse": float(np.sqrt((error**2).mean()))}
