"""Atomic file replacement: a reader sees the old file or the new one, never half of one.

The new content is written to a temporary file in the same directory, flushed to disk, and moved
over the target with `os.replace` (atomic on POSIX and Windows within one file system); the
directory entry is then flushed so the rename itself survives a power cut. The file gets the
permissions a plain `open` would give it (0666 less the umask), not the temporary file's private
0600, so a collaborator can read what a run wrote.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from biogrn.core._errors import cause

__all__ = ["atomic_write", "remove_stale_temporaries"]


def _default_mode() -> int:
    """0666 less the process's umask: from /proc where Linux shows it (os.umask can only read it by
    setting it, for a moment, for every thread of the process)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> None:
    """Call `write(tmp)` to produce the file at a temporary path, then move it to `path`.

    If `write` raises (or the process dies) the previous file at `path` is untouched and the
    temporary file is removed (or left with a `.tmp` suffix that no reader opens).

    Raises:
        OSError: the operating system's refusal, naming `path`; a writer that fails otherwise on a
            full device (netCDF says only "HDF error") is reported as ENOSPC, naming `path`.
    """
    path = Path(path)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        try:
            write(tmp)
        except Exception as error:
            if isinstance(error, OSError) or not _device_full(path.parent):
                raise
            raise OSError(errno.ENOSPC, f"No space left on device ({cause(error)})", str(path)) from error
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp, _default_mode())
        try:
            os.replace(tmp, path)
        except OSError as error:  # the target refused (a folder in its place): name it, not the temporary file
            raise OSError(error.errno, error.strerror, str(path)) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if hasattr(os, "O_DIRECTORY"):
        directory = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


FULL_BELOW = 1 << 20
"""A device with less than this free is taken as full when a writer fails without saying why."""


def _device_full(directory: Path) -> bool:
    try:
        return shutil.disk_usage(directory).free < FULL_BELOW
    except OSError:
        return False


_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.[A-Za-z0-9_]{8}\.tmp$")
"""The name `atomic_write` gives its temporary file: `.NAME.XXXXXXXX.tmp` (tempfile.mkstemp's eight characters)."""


def remove_stale_temporaries(directory: str | Path) -> list[Path]:
    """Delete the temporary files a killed `atomic_write` left in `directory` (SIGKILL gives it no
    time to remove its own); call it only while holding the directory's lock. Returns what went.
    """
    removed = []
    for path in Path(directory).glob(".*.tmp"):
        if _TEMPORARY.match(path.name) and path.is_file() and not path.is_symlink():
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed
