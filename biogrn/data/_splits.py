"""What every data loader returns: train/val/test splits of (features, label) tensors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset, TensorDataset

from biogrn.core import DataError

__all__ = ["GrayscaleImages", "Splits", "flat_splits", "split_arrays", "split_indices", "stratified_cut"]


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
    probe: TensorDataset | None = None
    """Held-out examples for the expression probe's removal cost (`biogrn.runs._probe`), disjoint
    from every split; None where the data set makes none (the probe then takes validation examples)."""
    feature_names: tuple[str, ...] | None = None
    """The name of each feature (an AnnData's genes), where the data name them."""
    class_names: tuple[str, ...] | None = None
    """The name of each class id (an AnnData's cell types), where the data name them."""


def split_arrays(
    x: np.ndarray,
    y: np.ndarray,
    val_fraction: float,
    test_fraction: float,
    seed: int,
    source: str,
    image_shape: tuple[int, ...] | None = None,
) -> Splits:
    """Cut classification data into train / val / test of the given fractions, stratified by `y`.

    Train holds `floor((1 - v - t) n)` examples, val `floor((1 - t) n)` minus that, test the rest;
    each class is split in those proportions (`split_indices` with labels).

    Raises:
        DataError: a split would be empty, or would hold fewer examples than there are classes.
    """
    n = len(y)
    parts = split_indices(n, val_fraction, test_fraction, seed, source, labels=y)
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


def split_indices(
    n: int, val_fraction: float, test_fraction: float, seed: int, source: str, labels: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Disjoint index sets `train`, `val`, `test` covering `range(n)`, of sizes `floor((1 - v - t) n)`,
    `floor((1 - t) n) - floor((1 - v - t) n)` and the rest.

    Without `labels`, a permutation seeded with `seed` is cut at those sizes. With `labels`
    (classification), the cut is stratified: scikit-learn's `train_test_split(stratify=...)`
    takes the test set from all examples, then the validation set from the rest, each drawn from
    a Mersenne Twister seeded with `seed`, so each class keeps its share in every split (to within
    one example).

    Raises:
        DataError: a split would be empty, or (with labels) would hold fewer examples than there
            are classes, or a class has a single example.
    """
    a, b = int((1.0 - val_fraction - test_fraction) * n), int((1.0 - test_fraction) * n)
    if a == 0 or b == a or b == n:
        raise DataError(
            f"{source}: {n} examples give an empty split with val_fraction {val_fraction} "
            f"and test_fraction {test_fraction}"
        )
    if labels is None:
        order = np.random.default_rng(seed).permutation(n)
        return {"train": order[:a], "val": order[a:b], "test": order[b:]}
    labels = np.asarray(labels)
    if labels.shape != (n,):
        raise ValueError(f"labels: expected {n} labels, got shape {labels.shape}")
    rest, test = stratified_cut(np.arange(n), labels, n - b, seed, source, "test")
    train, val = stratified_cut(rest, labels[rest], b - a, seed, source, "val")
    return {"train": train, "val": val, "test": test}


def stratified_cut(
    indices: np.ndarray, labels: np.ndarray, size: int, seed: int, source: str, part: str
) -> tuple[np.ndarray, np.ndarray]:
    """`indices` cut into (the rest, `size` of them) with every class in both in its share, seeded.

    Raises:
        DataError: either side would hold fewer examples than there are classes, or a class has a
            single example (it cannot be on both sides).
    """
    from sklearn.model_selection import train_test_split

    if size == 0:
        return indices, indices[:0]
    classes, counts = np.unique(labels, return_counts=True)
    if counts.min() < 2:
        raise DataError(
            f"{source}: class {classes[counts.argmin()].item()!r} has a single example; a stratified split needs "
            "at least two of every class"
        )
    smaller = min(size, len(indices) - size)
    if smaller < len(classes):
        raise DataError(
            f"{source}: the {part} split would hold {size} of {len(indices)} examples, fewer than the "
            f"{len(classes)} classes on one side; a stratified split needs one of each (change the fractions)"
        )
    # scikit-learn takes 32-bit seeds; MT19937 takes the run's whole seed range through a SeedSequence
    stream = np.random.RandomState(np.random.MT19937(seed))
    rest, cut = train_test_split(indices, test_size=size, random_state=stream, stratify=labels)
    return rest, cut


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
