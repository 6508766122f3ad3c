"""FER-2013 in the forms people have it (48x48 grayscale faces, 7 emotions).

- `fer2013.csv`: columns `emotion, pixels, Usage`; `pixels` holds 2304 space-separated integers
  0-255, row-major; Usage is Training / PublicTest / PrivateTest.
- `icml_face_data.csv`: the same, but its header names start with a space (`emotion, Usage, pixels`).
- Kaggle's `train.csv` (`emotion, pixels`) and `test.csv` (`pixels` only: no labels).
- Image folders `train/` and `test/` with one folder per emotion name (`angry/`, ...), mapped to
  the CSV's label ids, not to alphabetical order.

Splits: train = Training, val = PublicTest, test = PrivateTest. The folder form has no
validation set: `val` is a seeded `val_fraction` of `train/` (and `train` the rest). A CSV
without `Usage` (Kaggle's train.csv) has no splits at all: train, val and test are a seeded
partition of its rows by `val_fraction` and `test_fraction`, never the same rows twice. `split =
"all"` reads every row of a CSV (Kaggle's unlabelled test.csv, for predictions).

A malformed row (wrong pixel count, a non-integer, a value outside 0-255, an unknown label or
Usage), an unreadable image or an image of the wrong size raises `DataError` naming the file and
the line; with `on_error="skip"` such rows are left out, counted in `skipped`, and reported in
a warning. Never silently.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from biogrn.core import DataError, inside_root, read_table
from biogrn.data._groups import assign_groups
from biogrn.data._images import open_image
from biogrn.data._problems import Problems
from biogrn.data._splits import GrayscaleImages, Splits, flat_splits, split_indices, stratified_cut

__all__ = ["EMOTIONS", "FER2013", "fer2013_splits", "read_fer_csv", "read_fer_folders"]

EMOTIONS = ("Angry", "Disgust", "Fear", "Happy", "Sad", "Surprise", "Neutral")
"""FER-2013's label ids 0-6."""
USAGE = {"train": "Training", "val": "PublicTest", "test": "PrivateTest"}
SIDE = 48
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".pgm"}


def read_fer_csv(
    path: str | Path, on_error: str = "raise"
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Images `(n, 48, 48)` uint8, labels `(n,)` (-1 where the file has none), Usage `(n,)` ('' if
    absent), the data-row number of each (1 is the first row after the header) and the number of
    rows skipped.

    Raises:
        DataError: a malformed row (file and line named), or a header without `pixels`.
    """
    import pandas as pd

    path = Path(path)
    bad = Problems(on_error, path)
    table = read_table(path, ("pixels",), strip_names=True)  # icml_face_data.csv: " Usage", " pixels"
    good = np.ones(len(table), dtype=bool)
    tokens = table["pixels"].str.split()
    counts = tokens.str.len().to_numpy()
    for row in np.flatnonzero(counts != SIDE * SIDE):
        bad.report(f"{path}: line {row + 2}: {counts[row]} pixel values, expected {SIDE * SIDE}")
        good[row] = False
    pixels = np.zeros((len(table), SIDE * SIDE), dtype=np.uint8)
    if good.any():
        flat = pd.to_numeric(pd.Series(np.concatenate(tokens[good].to_numpy())), errors="coerce").to_numpy()
        rows = np.flatnonzero(good)
        values = flat.reshape(len(rows), SIDE * SIDE)
        invalid = ~np.isfinite(values) | (values < 0) | (values > 255) | (values != np.round(values))
        for i in np.flatnonzero(invalid.any(axis=1)):
            column = int(np.flatnonzero(invalid[i])[0])
            token = tokens.iloc[rows[i]][column]
            bad.report(f"{path}: line {rows[i] + 2}: pixel {column} is {token!r}, not an integer 0-255")
            good[rows[i]] = False
        ok = ~invalid.any(axis=1)
        pixels[rows[ok]] = values[ok].astype(np.uint8)
    labels = np.full(len(table), -1, dtype=np.int64)
    if "emotion" in table.columns:
        emotion = pd.to_numeric(table["emotion"], errors="coerce").to_numpy()
        unknown = ~np.isin(emotion, np.arange(len(EMOTIONS)))
        for row in np.flatnonzero(unknown & good):
            bad.report(
                f"{path}: line {row + 2}: emotion {table['emotion'].iloc[row]!r} is not a label "
                f"0-6 ({', '.join(EMOTIONS)})"
            )
            good[row] = False
        labels[~unknown] = emotion[~unknown].astype(np.int64)
    usage = np.full(len(table), "", dtype=object)
    if "Usage" in table.columns:
        usage = table["Usage"].str.strip().to_numpy()
        for row in np.flatnonzero(~np.isin(usage, list(USAGE.values())) & good):
            bad.report(
                f"{path}: line {row + 2}: Usage {table['Usage'].iloc[row]!r} is not one of {', '.join(USAGE.values())}"
            )
            good[row] = False
    bad.warn("malformed row(s)")
    return (
        pixels[good].reshape(-1, SIDE, SIDE),
        labels[good],
        usage[good],
        np.flatnonzero(good) + 1,
        int((~good).sum()),
    )


def read_fer_folders(
    root: str | Path, part: str, on_error: str = "raise", outside_root: bool = False
) -> tuple[np.ndarray, np.ndarray, list[str], int]:
    """Images, labels and paths (relative to `root`) of `root/part/<emotion>/*` (part: `train` or
    `test`), and the number skipped. An image that is a link out of `root` is refused unless
    `outside_root`.

    Raises:
        DataError: a missing folder, a folder that names no emotion, an unreadable image, one that
            is not 48x48, or one whose link leaves `root`.
    """
    folder = Path(root) / part
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder (expected {part}/ with one folder per emotion)")
    ids = {name.lower(): i for i, name in enumerate(EMOTIONS)}
    bad = Problems(on_error, folder)
    images, labels, names = [], [], []
    for emotion_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        if emotion_dir.name.lower() not in ids:
            raise DataError(
                f"{emotion_dir}: {emotion_dir.name!r} is not an emotion; expected one of "
                f"{', '.join(n.lower() for n in EMOTIONS)}"
            )
        for file in sorted(p for p in emotion_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
            try:
                inside_root(root, file, "the image", outside_root)  # a link in the folder may lead out
                with open_image(file) as image:
                    array = np.asarray(image.convert("L"), dtype=np.uint8)
            except DataError as error:
                bad.report(str(error))
                continue
            if array.shape != (SIDE, SIDE):
                bad.report(f"{file}: {array.shape[1]}x{array.shape[0]} pixels, expected 48x48")
                continue
            images.append(array)
            labels.append(ids[emotion_dir.name.lower()])
            names.append(file.relative_to(root).as_posix())
    bad.warn("image(s)")
    if not images:
        raise DataError(f"{folder}: no images found")
    return np.stack(images), np.asarray(labels, dtype=np.int64), names, len(bad)


class FER2013(GrayscaleImages):
    """One split of FER-2013: `x` is `(1, 48, 48)` float in [0, 1], `y` the label id (-1: unlabeled).

    Args:
        path: a CSV file (any form above) or the folder holding `train/` and `test/`.
        split: `train`, `val` or `test`; for CSV files also `all`.
        on_error: `raise` (default) or `skip` malformed rows, counted in `skipped`.
        val_fraction, seed: the validation carve-out of the folder form, and with
            `test_fraction` the partition of a CSV without `Usage`.
        groups: `{key: group}` (e.g. from `read_groups`), keyed by data-row number (CSV forms;
            1 is the first row after the header) or by path relative to `path` (folders,
            `train/angry/0.png`); every example must have one. Sets `self.groups`.
        outside_root: let an image of the folder form be a link to a file outside `path`.
    """

    def __init__(
        self,
        path: str | Path,
        split: str = "train",
        on_error: str = "raise",
        val_fraction: float = 0.1,
        seed: int = 0,
        groups: dict[str, str] | None = None,
        test_fraction: float = 0.1,
        outside_root: bool = False,
    ):
        if split not in (*USAGE, "all"):
            raise ValueError(f"split: {split!r} is unknown; choose 'train', 'val', 'test' or 'all'")
        path = Path(path)
        if path.is_dir() and split == "all":
            raise ValueError("split: 'all' reads a CSV file; the folder form has train/ and test/")
        if path.is_dir():
            images, labels, names, self.skipped = read_fer_folders(
                path, "test" if split == "test" else "train", on_error, outside_root
            )
            keys = np.asarray(names, dtype=object)
            if split != "test":
                rest, val = stratified_cut(
                    np.arange(len(labels)), labels, int(round(val_fraction * len(labels))), seed, str(path), "val"
                )
                chosen = np.sort(val if split == "val" else rest)
                images, labels, keys = images[chosen], labels[chosen], keys[chosen]
        elif path.is_file():
            images, labels, usage, rows, self.skipped = read_fer_csv(path, on_error)
            keys = rows.astype(str).astype(object)
            if split != "all":
                if (usage != "").any():
                    chosen = usage == USAGE[split]
                else:  # Kaggle's train.csv: one file, no splits; never train and test on the same rows
                    chosen = np.sort(
                        split_indices(len(labels), val_fraction, test_fraction, seed, str(path), labels)[split]
                    )
                images, labels, keys = images[chosen], labels[chosen], keys[chosen]
        else:
            raise DataError(f"{path}: no such file or folder")
        self.images = torch.from_numpy(images)
        self.labels = torch.from_numpy(labels)
        self.keys = [str(k) for k in keys]
        self.groups = assign_groups(self.keys, groups, str(path)) if groups is not None else None


def fer2013_splits(
    path: str | Path,
    val_fraction: float = 0.1,
    seed: int = 0,
    on_error: str = "raise",
    test_fraction: float = 0.1,
    outside_root: bool = False,
) -> Splits:
    """Train / val / test of FER-2013 as flat features (2304 per image) for `biogrn run`.

    Raises:
        DataError: the file is malformed, or a split has no labelled examples (Kaggle's test.csv).
    """
    parts = {
        split: FER2013(path, split, on_error, val_fraction, seed, None, test_fraction, outside_root)
        for split in ("train", "val", "test")
    }
    return flat_splits(parts, len(EMOTIONS), f"FER-2013 {path}")
