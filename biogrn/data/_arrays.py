"""A user's own examples as arrays: a NumPy archive or a CSV table.

- `.npz` with arrays `x` (examples first; any trailing shape is flattened) and `y` (integer
  class ids 0..C-1), as written by `numpy.savez(path, x=x, y=y)`.
- `.csv` with a header; one column holds the integer class id, every other column is a numeric
  feature.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from biogrn.core import (
    DataError,
    cause,
    format_bytes,
    missing_columns,
    npy_bytes,
    quoted,
    read_text,
    reading,
    refuse_repeated_names,
    require_memory,
)
from biogrn.data._splits import Splits, split_arrays

__all__ = ["read_csv", "read_npz"]


def _shown(value) -> str:
    """A label as its file wrote it: `-2`, not the `-2.0` it was parsed into."""
    value = value.item() if hasattr(value, "item") else value
    return str(int(value)) if isinstance(value, float) and value.is_integer() else repr(value)


def _check_labels(y: np.ndarray, where) -> np.ndarray:
    """Integer class ids >= 0; `where(i)` names the place of example i in the file."""
    if y.dtype.kind == "f":
        infinite = np.flatnonzero(~np.isfinite(y))
        if infinite.size:
            raise DataError(f"{where(infinite[0])}: label {_shown(y[infinite[0]])} is not an integer class id")
        fractional = np.flatnonzero(y != np.round(y))
        if fractional.size:
            raise DataError(f"{where(fractional[0])}: label {_shown(y[fractional[0]])} is not an integer class id")
    elif y.dtype.kind not in "iu":
        raise DataError(f"{where(None)}: labels have dtype {y.dtype}, expected integer class ids")
    negative = np.flatnonzero(y < 0)
    if negative.size:
        raise DataError(f"{where(negative[0])}: label {_shown(y[negative[0]])} is negative")
    distinct = np.unique(y)
    if len(distinct) and int(distinct[-1]) + 1 > 100 * len(distinct):
        # class ids index the output layer: {0, 1, 10^6} would silently build a layer of 10^6 + 1 outputs
        shown = ", ".join(str(int(v)) for v in distinct[:5]) + (", ..." if len(distinct) > 5 else "")
        raise DataError(
            f"{where(None)}: labels {{{shown}}} are {len(distinct)} classes numbered up to {int(distinct[-1])}; "
            f"class ids index the output layer (it would have {int(distinct[-1]) + 1} outputs): number them 0..C-1"
        )
    return y.astype(np.int64)


def _member(archive, name: str) -> str:
    """The zip member holding array `name`: `name.npy` as numpy.savez writes it, or `name` itself."""
    return f"{name}.npy" if f"{name}.npy" in archive.namelist() else name


def read_npz(path: Path, val_fraction: float, test_fraction: float, seed: int) -> Splits:
    """Examples from arrays `x` and `y` of a `.npz` file.

    Raises:
        DataError: the file is unreadable, lacks `x` or `y`, decompresses to more than memory
            holds (read from the array headers before anything is decompressed), their lengths
            differ, a feature is not finite, or a label is not a non-negative integer.
    """
    with reading(path, ".npz archive") as place, np.load(path, allow_pickle=False) as archive:
        missing = {"x", "y"} - set(archive.files)
        if missing:
            raise DataError(f"{path}: missing array(s) {sorted(missing)}; found {sorted(archive.files)}")
        members = [_member(archive.zip, name) for name in ("x", "y")]
        stored = npy_bytes(archive.zip, members, place)
        # x is copied to float32 and again into torch tensors: three times what the archive holds
        require_memory(3 * stored, "cpu", f"{path}: arrays x and y of {format_bytes(stored)}", DataError)
        place.at = f"member {members[0]}"
        x = archive["x"]
        place.at = f"member {members[1]}"
        y = archive["y"]
    if x.ndim == 0:
        raise DataError(f"{path}: x is a single number; it holds one example per row")
    if len(x) == 0:
        raise DataError(f"{path}: x holds no examples")
    if y.ndim != 1 or len(x) != len(y):
        raise DataError(f"{path}: y must be 1-D with one label per example of x; got x {x.shape}, y {y.shape}")
    if x.dtype.kind not in "biuf":
        raise DataError(f"{path}: x has dtype {x.dtype}, expected numbers")
    flat = x.reshape(len(x), -1)
    if flat.shape[1] == 0:
        raise DataError(f"{path}: x of shape {x.shape} has no features")
    bad = np.argwhere(~np.isfinite(flat))
    if bad.size:
        example, feature = bad[0]
        raise DataError(f"{path}: example {example} of x, feature {feature}: {flat[example, feature]} is not finite")
    if flat.dtype.kind == "f" and np.abs(flat).max(initial=0) > np.finfo(np.float32).max:
        example, feature = np.unravel_index(np.abs(flat).argmax(), flat.shape)
        raise DataError(
            f"{path}: example {example} of x, feature {feature}: {flat[example, feature]} overflows "
            "float32, the precision features are trained in"
        )
    y = _check_labels(y, lambda i: f"{path}: example {i}" if i is not None else str(path))
    return split_arrays(x.astype(np.float32), y, val_fraction, test_fraction, seed, str(path))


def read_csv(path: Path, label_column: str, val_fraction: float, test_fraction: float, seed: int) -> Splits:
    """Examples from a CSV table with a header; `label_column` holds the class id.

    Raises:
        DataError: the label column is missing or alone, or a cell is empty, not a number or not
            finite (`inf`, `1e400`); the message names the file, the line (1 is the header) and
            the column.
    """
    import pandas as pd

    header, cells, lines = _csv_cells(path)
    if label_column not in header:
        raise missing_columns(path, [label_column], header)
    if len(cells) == 0:
        raise DataError(f"{path}: no rows")
    if len(header) < 2:
        raise DataError(f"{path}: no feature columns; a CSV holds {label_column!r} and at least one feature")
    # one vectorised parse of every cell (pandas' reader, column by column, took minutes for 10^6 columns)
    values = pd.to_numeric(pd.Series(cells.ravel()), errors="coerce").to_numpy(np.float64).reshape(cells.shape)
    bad = ~np.isfinite(values)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        text = cells[row, col]
        try:  # pandas before 3 reads "1e400" as NaN, pandas 3 as inf: ask Python what the text is
            what = "is not a number" if math.isfinite(float(text)) else "is not finite"  # "1_000": Python only
        except ValueError:
            what = "is not a number"
        raise DataError(f"{path}: line {lines[row]}, column {quoted(header[col])}: {quoted(text)} {what}")
    too_large = np.abs(values) > np.finfo(np.float32).max
    if too_large.any():
        row, col = np.argwhere(too_large)[0]
        raise DataError(
            f"{path}: line {lines[row]}, column {quoted(header[col])}: {quoted(cells[row, col])} overflows "
            "float32, the precision features are trained in"
        )
    label = header.index(label_column)
    # every cell is a finite number by now; an integer past 2**53 is refused as a class id far beyond the count
    y = _check_labels(values[:, label], lambda i: f"{path}: line {lines[i]}" if i is not None else str(path))
    features = np.delete(values, label, axis=1).astype(np.float32)
    return split_arrays(features, y, val_fraction, test_fraction, seed, str(path))


def _csv_cells(path: Path) -> tuple[list[str], np.ndarray, list[int]]:
    """The header, the cells (text, rows x columns) and each row's line in the file; blank lines
    are skipped.

    Raises:
        DataError: an unreadable or non-UTF-8 file, no header, or a row whose field count is not
            the header's (its line named).
    """
    import csv
    import io

    rows, lines = [], []
    text = read_text(path, "CSV file")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise DataError(f"{path}: empty file; a CSV starts with a header line")
        header = [name.strip() for name in header]
        refuse_repeated_names(path, header)
        for row in reader:
            if not row or row == [""]:
                continue  # a blank line
            if len(row) != len(header):
                raise DataError(f"{path}: line {reader.line_num}: {len(row)} fields, the header has {len(header)}")
            rows.append(row)
            lines.append(reader.line_num)
    except csv.Error as error:
        raise DataError(f"{path}: line {reader.line_num}: not a readable CSV file ({cause(error)})") from None
    cells = np.array(rows, dtype=object).reshape(len(rows), len(header))
    return header, cells, lines
