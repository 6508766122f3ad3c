"""Output directories: a command writes only into a directory it may own, and one process at a time.

- An output directory must be new, or empty; one that holds anything is refused before anything is
  written, so no command ever deletes or overwrites a file it did not create in that invocation.
  A run directory is the one exception a user asks for by name: `--resume DIR` continues the run
  there, replacing its checkpoint and records (atomically, never partially).
- A default output name (`biogrn-demo`, `simulation`, `runs/<config>`) that is taken becomes the
  first free `NAME-2`, `NAME-3`, ...; a name given with `--out` is used as given or refused.
- While a process trains in a run directory it holds an operating-system lock on `DIR/.lock`
  (`flock` on POSIX; filelock's `msvcrt` lock elsewhere), released when the process ends however
  it ends; a second `run` or `--resume` on the directory is refused, naming the holder's PID,
  instead of interleaving writes. The file holds the holder's PID and is removed when the run
  ends. One left by a killed process holds no lock (the kernel drops it with the process): the
  next run takes it over and says whose it was.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

try:
    import fcntl
except ImportError:  # not POSIX: filelock's lock, whose file stays
    fcntl = None

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
    """Hold `directory`'s lock for the block; the lock file holds this process's PID and is
    removed at the end.

    Raises:
        FileExistsError: another process holds it (its PID in the message), or `.lock` is not a
            regular file (a symlink or a directory is never followed or replaced).
    """
    if fcntl is None:
        yield from _filelock_held(directory)
        return
    path = directory / LOCK_FILE
    while True:
        try:  # a pipe or a device is never opened: opening one may block, or act
            if path.is_symlink() or (path.exists() and not stat.S_ISREG(path.lstat().st_mode)):
                raise OSError(errno.EINVAL, "not a regular file")
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK, 0o666)
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                os.close(fd)
                raise OSError(errno.EINVAL, "not a regular file")
        except OSError as error:
            if error.errno not in (errno.ELOOP, errno.EISDIR, errno.EINVAL):  # a read-only or forbidden directory
                raise
            raise FileExistsError(
                f"{path}: is not a lock file biogrn wrote ({error.strerror}); remove it if no run uses it"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _pid_in(fd)
            os.close(fd)
            raise FileExistsError(
                f"{directory}: another biogrn process{f' (PID {holder})' if holder else ''} is training there "
                f"(it holds {LOCK_FILE}); wait for it to end, or choose another directory"
            ) from None
        # the holder before us removes the file as it lets go: lock the file the path names, not a removed one
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path, follow_symlinks=False))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    left_by = _pid_in(fd)
    if left_by and left_by != os.getpid():
        print(
            f"biogrn: {path} was left by process {left_by}, which ended without removing it; taken over",
            file=sys.stderr,
        )
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    try:
        yield
    finally:
        # removed while still held: a process that opened it meanwhile finds it gone and tries again
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _pid_in(fd: int) -> int | None:
    """The PID a lock file holds, or None (empty, or not a PID)."""
    text = os.pread(fd, 32, 0).decode("ascii", errors="replace").strip()
    return int(text) if text.isdigit() else None


def _filelock_held(directory: Path) -> Iterator[None]:
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
