"""CSV tables as users write them: read with every value kept as text, so nothing is guessed."""

from __future__ import annotations

import csv

from biogrn.core._errors import DataError
from biogrn.core._reading import reading

__all__ = ["missing_columns", "quoted", "read_table", "refuse_repeated_names"]

QUOTED_CHARACTERS = 24
"""The most of a file's own text an error message repeats: enough to find the cell, too little to
hand out the first line of a file that a config named by mistake (or malice)."""


def quoted(text) -> str:
    """`repr` of a value from a file, shortened to `QUOTED_CHARACTERS`."""
    shown = repr(str(text))
    return shown if len(shown) <= QUOTED_CHARACTERS else shown[: QUOTED_CHARACTERS - 4] + "...'"


def read_table(path, required: tuple[str, ...] = (), strip_names: bool = False):
    """A CSV file with a header as a pandas DataFrame of strings (nothing parsed, nothing dropped).

    Raises:
        DataError: the file is unreadable, or a `required` column is missing (all named).
    """
    import pandas as pd

    with reading(path, "CSV file"), open(path, newline="", encoding="utf-8-sig") as handle:
        header = next(csv.reader(handle), [])  # pandas renames a repeated name (label, label.1) without a word
    refuse_repeated_names(path, [name.strip() if strip_names else name for name in header])
    with reading(path, "CSV file"):
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    if strip_names:
        table.columns = [c.strip() for c in table.columns]
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise missing_columns(path, missing, list(table.columns))
    return table


def refuse_repeated_names(path, header: list[str]) -> None:
    """A header that names a column twice is ambiguous: which one is the label, which a feature?

    Raises:
        DataError: naming the column and the positions (1 is the first) where it repeats.
    """
    seen: dict[str, int] = {}
    for position, name in enumerate(header, start=1):
        if name in seen:
            raise DataError(
                f"{path}: line 1: column {quoted(name)} is named twice (columns {seen[name]} and {position})"
            )
        if name:  # unnamed columns (a trailing separator) are never looked up by name
            seen[name] = position


def missing_columns(path, missing: list[str], header: list[str]) -> DataError:
    """The refusal of a table that lacks `missing`: at most five of the header's names, each quoted short."""
    names = ", ".join(quoted(c) for c in header[:5])
    more = f" and {len(header) - 5} more" if len(header) > 5 else ""
    return DataError(f"{path}: missing column(s) {missing}; its header holds {names}{more}")
