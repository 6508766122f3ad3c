"""Atomic file replacement: a reader sees the old file or the new one, never half of one.

The new content is written to a temporary file in the same directory, flushed to disk, and moved
over the target with `os.replace` (atomic on POSIX and Windows within one file system); the
directory entry is then flushed so the rename itself survives a power cut.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["atomic_write"]


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> None:
    """Call `write(tmp)` to produce the file at a temporary path, then move it to `path`.

    If `write` raises (or the process dies) the previous file at `path` is untouched and the
    temporary file is removed (or left with a `.tmp` suffix that no reader opens).
    """
    path = Path(path)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if hasattr(os, "O_DIRECTORY"):
        directory = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
