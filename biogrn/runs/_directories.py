"""Output directories: a command writes only into a directory it may own, and one process at a time.

- An output directory must be new, or empty; one that holds anything is refused before anything is
  written, so no command ever deletes or overwrites a file it did not create in that invocation.
  A run directory is the one exception a user asks for by name: `--resume DIR` continues the run
  there, replacing its checkpoint and records (atomically, never partially).
- A default output name (`biogrn-demo`, `simulation`, `runs/<config>`) that is taken becomes the
  first free `NAME-2`, `NAME-3`, ...; a name given with `--out` is used as given or refused.
- While a process trains in a run directory it holds an operating-system lock on `DIR/.lock`
  (filelock: `flock` on POSIX, `msvcrt` on Windows), released when the process ends however it
  ends; a second `run` or `--resume` on the directory is refused instead of interleaving writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

__all__ = ["LOCK_FILE", "claim_directory", "free_name", "locked"]

LOCK_FILE = ".lock"
"""The lock of a run directory; the only entry a fresh run directory may already hold."""


def free_name(base: Path) -> Path:
    """`base` if it does not exist or is an empty directory, else the first free `base-2`, `base-3`, ..."""
    candidate, number = base, 1
    while candidate.exists() and not (candidate.is_dir() and not any(candidate.iterdir())):
        number += 1
        candidate = base.with_name(f"{base.name}-{number}")
    return candidate


def claim_directory(directory: Path, what: str = "--out") -> None:
    """Make `directory` if it is new; refuse it if it is a file or holds anything but a lock file.

    Raises:
        FileExistsError: naming the directory and what is in the way.
    """
    if directory.exists() and not directory.is_dir():
        raise FileExistsError(f"{directory}: is a file; {what} names a directory to create")
    if directory.is_dir():
        entries = sorted(p.name for p in directory.iterdir() if p.name != LOCK_FILE)
        if entries:
            shown = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
            raise FileExistsError(
                f"{directory}: already exists and is not empty ({shown}); nothing there is "
                f"replaced: choose another {what}"
            )
    directory.mkdir(parents=True, exist_ok=True)


@contextmanager
def locked(directory: Path) -> Iterator[None]:
    """Hold `directory`'s lock for the block.

    Raises:
        FileExistsError: another process holds it.
    """
    lock = FileLock(directory / LOCK_FILE)
    try:
        lock.acquire(blocking=False)
    except Timeout:
        raise FileExistsError(
            f"{directory}: another biogrn process is training there (it holds {LOCK_FILE}); "
            "wait for it to end, or choose another directory"
        ) from None
    try:
        yield
    finally:
        lock.release()
