"""What every data loader returns: train/val/test splits of (features, label) tensors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset, TensorDataset

from biogrn.core import DataError

__all__ = ["GrayscaleImages", "Splits", "flat_splits", "split_arrays", "split_indices"]


class GrayscaleImages(Dataset):
    """A split held as `images` `(n, size, size)` uint8 and `labels` `(n,)`, served one channel
    deep as floats in [0, 1]; subclasses fill both."""

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.images[index].unsqueeze(0).float() / 255.0, self.labels[index]

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """All of the split at once: `(n, 1, size, size)` in [0, 1] and `(n,)`."""
        return self.images.unsqueeze(1).float() / 255.0, self.labels


@dataclass(frozen=True)
class Splits:
    """Train, validation and test sets with the shapes a model needs."""

    train: TensorDataset
    val: TensorDataset
    test: TensorDataset
    n_features: int
    n_classes: int
    source: str
    """Where the examples came from (a data set name or a file path), for the records."""
    image_shape: tuple[int, ...] | None = None
    """`(channels, height, width)` when the flat features are images (augmentation needs it)."""


def split_arrays(
    x: np.ndarray,
    y: np.ndarray,
    val_fraction: float,
    test_fraction: float,
    seed: int,
    source: str,
    image_shape: tuple[int, ...] | None = None,
) -> Splits:
    """Shuffle with `seed` and cut into train / val / test of the given fractions.

    Train is the first `floor((1 - v - t) n)` shuffled examples, val runs to `floor((1 - t) n)`,
    test is the rest.

    Raises:
        DataError: a split would be empty.
    """
    n = len(y)
    parts = split_indices(n, val_fraction, test_fraction, seed, source)
    order = np.concatenate([parts["train"], parts["val"], parts["test"]])
    a, b = len(parts["train"]), len(parts["train"]) + len(parts["val"])
    features = torch.as_tensor(np.ascontiguousarray(x[order]), dtype=torch.float32).reshape(n, -1)
    labels = torch.as_tensor(y[order], dtype=torch.long)
    n_classes = int(labels.max()) + 1
    return Splits(
        TensorDataset(features[:a], labels[:a]),
        TensorDataset(features[a:b], labels[a:b]),
        TensorDataset(features[b:], labels[b:]),
        features.shape[1],
        n_classes,
        source,
        image_shape,
    )


def split_indices(n: int, val_fraction: float, test_fraction: float, seed: int, source: str) -> dict[str, np.ndarray]:
    """Disjoint index sets `train`, `val`, `test` covering `range(n)`: a permutation seeded with
    `seed`, cut after `floor((1 - v - t) n)` and `floor((1 - t) n)`.

    Raises:
        DataError: a split would be empty.
    """
    order = np.random.default_rng(seed).permutation(n)
    a, b = int((1.0 - val_fraction - test_fraction) * n), int((1.0 - test_fraction) * n)
    if a == 0 or b == a or b == n:
        raise DataError(
            f"{source}: {n} examples give an empty split with val_fraction {val_fraction} "
            f"and test_fraction {test_fraction}"
        )
    return {"train": order[:a], "val": order[a:b], "test": order[b:]}


def flat_splits(parts: dict, n_classes: int, source: str) -> Splits:
    """`Splits` of flat features from `{"train": ds, "val": ds, "test": ds}` of image data sets
    that have a `tensors()` method returning `(x, y)`.

    Raises:
        DataError: a split is empty or holds unlabelled examples.
    """
    flat, image_shape = [], None
    for split in ("train", "val", "test"):
        x, y = parts[split].tensors()
        image_shape = tuple(x.shape[1:]) if x.dim() == 4 else None
        if len(y) == 0 or (y < 0).any():
            raise DataError(f"{source}: the {split} split has no labelled examples")
        flat.append(TensorDataset(x.reshape(len(y), -1), y))
    return Splits(
        *flat, n_features=flat[0].tensors[0].shape[1], n_classes=n_classes, source=source, image_shape=image_shape
    )
