"""Edge tables as the peers write them: a header line naming the columns, then one edge per line.

BEELINE reads `refNetwork.csv` by column name (`Gene1`, `Gene2`, `Type`), and BoolODE's
`generateInputFiles` writes them in the order `Gene2,Gene1,Type`; BoolODE's own `randNet.txt` is
tab-separated with CRLF line ends; RACIPE's `.topo` files are tab-separated and GRiNS's single
spaces. So the columns are found by name in any order; the separator is the header's (a comma, else
a tab, else white space); a byte-order mark, CRLF or CR line ends, blank lines and white space
around fields are read; quoted fields follow the csv module. Every error names the file and line.
"""

from __future__ import annotations

import csv
from pathlib import Path

from biogrn.core import DataError, read_text

__all__ = ["read_edge_table", "text_of"]


def text_of(path: Path) -> str:
    """The network file as UTF-8 text, read inside biogrn's reading boundary (`core.read_text`):
    a byte-order mark dropped, a read or decode error naming the file and line."""
    return read_text(path, "network file")


def _splitter(header: str):
    if "," in header:
        return lambda line: next(csv.reader([line], delimiter=","), [])
    if "\t" in header:
        return lambda line: next(csv.reader([line], delimiter="\t"), [])
    return str.split


def read_edge_table(path: str | Path, columns: tuple[str, ...]) -> tuple[list[int], dict[str, list[str]]]:
    """The line numbers and the named `columns` of an edge table (module docstring).

    Raises:
        DataError: an unreadable or non-UTF-8 file, a header without one of `columns`, or a line
            with too few or too many fields (file and line named).
    """
    path = Path(path)
    lines = text_of(path).splitlines()
    if not lines or not lines[0].strip():
        raise DataError(f"{path}: line 1: expected a header naming the columns {', '.join(columns)}")
    split = _splitter(lines[0])
    names = [name.strip() for name in split(lines[0])]
    while names and not names[-1]:
        names.pop()  # a trailing separator (BoolODE's dyn-converging.txt ends its header with a tab)
    missing = [c for c in columns if c not in names]
    if missing:
        raise DataError(f"{path}: line 1: no column {missing[0]!r} (the header names {', '.join(names) or 'nothing'})")
    where = {c: names.index(c) for c in columns}
    numbers, values = [], {c: [] for c in columns}
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = [field.strip() for field in split(line)]
        while len(fields) > len(names) and not fields[-1]:
            fields.pop()
        if len(fields) != len(names):
            raise DataError(
                f"{path}: line {number}: {len(fields)} field(s) where the header names "
                f"{len(names)} ({', '.join(names)})"
            )
        numbers.append(number)
        for column, index in where.items():
            values[column].append(fields[index])
    return numbers, values
