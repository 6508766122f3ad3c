"""A user's own examples as arrays: a NumPy archive or a CSV table.

- `.npz` with arrays `x` (examples first; any trailing shape is flattened) and `y` (integer
  class ids 0..C-1), as written by `numpy.savez(path, x=x, y=y)`.
- `.csv` with a header; one column holds the integer class id, every other column is a numeric
  feature.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from biogrn.core import DataError, read_table
from biogrn.data._splits import Splits, split_arrays

__all__ = ["read_csv", "read_npz"]


def _check_labels(y: np.ndarray, where) -> np.ndarray:
    """Integer class ids >= 0; `where(i)` names the place of example i in the file."""
    if y.dtype.kind == "f":
        fractional = np.flatnonzero(y != np.round(y))
        if fractional.size:
            raise DataError(f"{where(fractional[0])}: label {y[fractional[0]].item()!r} is not an integer class id")
    elif y.dtype.kind not in "iu":
        raise DataError(f"{where(None)}: labels have dtype {y.dtype}, expected integer class ids")
    negative = np.flatnonzero(y < 0)
    if negative.size:
        raise DataError(f"{where(negative[0])}: label {y[negative[0]].item()!r} is negative")
    return y.astype(np.int64)


def read_npz(path: Path, val_fraction: float, test_fraction: float, seed: int) -> Splits:
    """Examples from arrays `x` and `y` of a `.npz` file.

    Raises:
        DataError: the file is unreadable, lacks `x` or `y`, their lengths differ, a feature is
            not finite, or a label is not a non-negative integer.
    """
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = {"x", "y"} - set(archive.files)
            if missing:
                raise DataError(f"{path}: missing array(s) {sorted(missing)}; found {sorted(archive.files)}")
            x, y = archive["x"], archive["y"]
    except (OSError, ValueError) as error:
        if isinstance(error, DataError):
            raise
        raise DataError(f"{path}: not a readable .npz archive ({error})") from None
    if y.ndim != 1 or len(x) != len(y):
        raise DataError(f"{path}: y must be 1-D with one label per example of x; got x {x.shape}, y {y.shape}")
    if x.dtype.kind not in "biuf":
        raise DataError(f"{path}: x has dtype {x.dtype}, expected numbers")
    bad = np.flatnonzero(~np.isfinite(x.reshape(len(x), -1)).all(axis=1))
    if bad.size:
        raise DataError(f"{path}: example {bad[0]} of x has a non-finite value")
    y = _check_labels(y, lambda i: f"{path}: example {i}" if i is not None else str(path))
    return split_arrays(x.astype(np.float32), y, val_fraction, test_fraction, seed, str(path))


def read_csv(path: Path, label_column: str, val_fraction: float, test_fraction: float, seed: int) -> Splits:
    """Examples from a CSV table with a header; `label_column` holds the class id.

    Raises:
        DataError: the label column is missing, or a cell is empty or not a number; the message
            names the file, the line (1 is the header) and the column.
    """
    import pandas as pd

    table = read_table(path, (label_column,))
    if len(table) == 0:
        raise DataError(f"{path}: no rows")
    numbers = table.apply(pd.to_numeric, errors="coerce")
    bad = numbers.isna().to_numpy()
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise DataError(
            f"{path}: line {row + 2}, column {table.columns[col]!r}: {table.iat[row, col]!r} is not a number"
        )
    y = _check_labels(
        numbers.pop(label_column).to_numpy(), lambda i: f"{path}: line {i + 2}" if i is not None else str(path)
    )
    return split_arrays(numbers.to_numpy(np.float32), y, val_fraction, test_fraction, seed, str(path))
