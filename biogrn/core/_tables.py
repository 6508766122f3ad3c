"""CSV tables as users write them: read with every value kept as text, so nothing is guessed."""

from __future__ import annotations

from biogrn.core._errors import DataError

__all__ = ["read_table"]


def read_table(path, required: tuple[str, ...] = (), strip_names: bool = False):
    """A CSV file with a header as a pandas DataFrame of strings (nothing parsed, nothing dropped).

    Raises:
        DataError: the file is unreadable, or a `required` column is missing (all named).
    """
    import pandas as pd

    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError, pd.errors.ParserError) as error:
        raise DataError(f"{path}: not a readable CSV file ({error})") from None
    if strip_names:
        table.columns = [c.strip() for c in table.columns]
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {missing}; columns are {list(table.columns)}")
    return table
