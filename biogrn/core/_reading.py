"""The one boundary every file biogrn reads passes through: `reading(path, what)`.

A reader judges what a file means (labels, columns, shapes, declared sizes) and says so in its own
`DataError`, naming the file and the line or member. Everything else that can go wrong while a file
is read is the same for every format, and is said here once:

- before the reader opens it, the path must name a regular file (a folder, device or pipe is
  refused: `/dev/zero` never ends) that is not empty;
- the operating system's refusal while reading (EACCES, EIO, EISDIR, ...) is
  `PATH: cannot be read (strerror, ENAME)`;
- any other exception of the decoding library, a `MemoryError` or a `RecursionError` is
  `PATH[: line N | member M]: not a readable WHAT (Type: its first line)`. A library's message is
  cut to its first line, so a message never spans lines or repeats a file's text;
- the reader's own refusals (`DataError`, `CheckpointError`, `ConfigError`) pass unchanged.

All of these are bad input, so the CLI ends them with exit status 2. Sizes a header declares are
each reader's to check before it allocates (`require_memory`, or a bound from the file's size):
only the reader knows its header.

Paths that a file names (an index row, an HDF5 link) or that a folder holds (a symlink) stay under
their root (`inside_root`, `check_hdf5`) unless the user says otherwise.
"""

from __future__ import annotations

import errno
import stat
from pathlib import Path

from biogrn.core._errors import CheckpointError, ConfigError, DataError, cause

__all__ = ["Reading", "check_hdf5", "inside_root", "npy_bytes", "read_text", "reading"]

_OWN_REFUSALS = (ConfigError, DataError, CheckpointError)
_SYSTEM_REFUSALS = {
    getattr(errno, name)
    for name in (
        "EACCES",
        "EPERM",
        "EIO",
        "ENOENT",
        "EISDIR",
        "ENOTDIR",
        "ELOOP",
        "ENAMETOOLONG",
        "EMFILE",
        "ENFILE",
        "ENXIO",
        "ENODEV",
        "ESTALE",
        "ETIMEDOUT",
        "EAGAIN",
        "EBUSY",
        "ENOMEM",
        "EREMOTEIO",
        "ENOLINK",
    )
    if hasattr(errno, name)
}
"""The operating system refusing or failing to read; other errnos from a library (EINVAL from a seek past
a truncated archive's end) describe the file's damage, and are said as a damaged file."""


class Reading:
    """The context of one file's reading (see the module docstring); `at` names the place the
    reader has reached (`"line 12"`, `"member x.npy"`) for a library error raised there."""

    def __init__(self, path: str | Path, what: str, error: type[ValueError] = DataError, empty: bool = False):
        self.path, self.what, self.error, self.empty = Path(path), what, error, empty
        self.at: str | None = None

    def __enter__(self) -> Reading:
        try:
            status = self.path.stat()
        except FileNotFoundError:
            raise self.error(f"{self.path}: no such file") from None
        except OSError as error:
            raise self.error(_os_refusal(self.path, error)) from None
        if stat.S_ISDIR(status.st_mode):
            raise self.error(f"{self.path}: is a folder, not {_a(self.what)}")
        if not stat.S_ISREG(status.st_mode):
            raise self.error(f"{self.path}: not a regular file (a device, pipe or socket), not {_a(self.what)}")
        if status.st_size == 0 and not self.empty:
            raise self.error(f"{self.path}: empty file (0 bytes), not {_a(self.what)}")
        return self

    def __exit__(self, kind, error, traceback) -> bool:
        if error is None or isinstance(error, _OWN_REFUSALS) or not isinstance(error, Exception):
            return False  # done, already said, or KeyboardInterrupt / SystemExit: not the file's fault
        raise self.refusal(error) from None

    def refusal(self, error: Exception) -> ValueError:
        """The one-line refusal of `error`, raised while reading this file."""
        if isinstance(error, OSError) and error.errno in _SYSTEM_REFUSALS:
            return self.error(_os_refusal(self.path, error))
        where = f"{self.path}: {self.at}" if self.at else str(self.path)
        if isinstance(error, UnicodeDecodeError):  # a reader decoding in chunks knows neither line nor byte
            found = _first_byte_not_utf8(self.path)
            if found is not None:
                offset, line, byte = found
                return self.error(f"{self.path}: line {line}: not UTF-8 text (byte {offset}: {byte:#04x})")
            return self.error(f"{where}: not UTF-8 text")
        if isinstance(error, MemoryError):
            return self.error(f"{where}: reading this {self.what} needs more memory than is free")
        if isinstance(error, RecursionError):
            return self.error(f"{where}: nested too deep to read as {_a(self.what)}")
        return self.error(f"{where}: not a readable {self.what} ({cause(error)})")


def reading(path: str | Path, what: str, error: type[ValueError] = DataError, empty: bool = False) -> Reading:
    """`with reading(path, "records file"): ...` reads inside the boundary (module docstring).

    `what` names the format in messages; `error` is the refusal's class (`CheckpointError` for a
    checkpoint, `ConfigError` for a config); `empty=True` lets a 0-byte file through to the reader.
    """
    return Reading(path, what, error, empty)


def _a(what: str) -> str:
    return f"{'an' if what[:1].lower() in 'aeiou' else 'a'} {what}"


def _os_refusal(path: Path, error: OSError) -> str:
    name = errno.errorcode.get(error.errno, "") if error.errno is not None else ""
    reason = error.strerror or str(error)
    return f"{path}: cannot be read ({reason}{', ' + name if name else ''})"


def _first_byte_not_utf8(path: Path, chunk: int = 1 << 20) -> tuple[int, int, int] | None:
    """`(offset, line, byte)` of the first byte of `path` that is not UTF-8, read in chunks."""
    import codecs

    decoder, offset, lines = codecs.getincrementaldecoder("utf-8")(), 0, 1
    try:
        with open(path, "rb") as handle:
            while block := handle.read(chunk):
                try:
                    decoder.decode(block)
                except UnicodeDecodeError as problem:
                    pending = len(decoder.getstate()[0])  # bytes held back from the previous block
                    start = problem.start - pending
                    bad = offset + start
                    lines += block[: max(start, 0)].count(b"\n")
                    return bad, lines, problem.object[problem.start]
                offset += len(block)
                lines += block.count(b"\n")
    except OSError:
        return None
    return None


def read_text(path: str | Path, what: str, error: type[ValueError] = DataError) -> str:
    """The file as UTF-8 text (a byte-order mark dropped), read inside the boundary; a byte that is
    not UTF-8 is named with its line, which a decoder reading in chunks cannot know."""
    with reading(path, what, error, empty=True):
        data = Path(path).read_bytes()
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as problem:
            line = data[: problem.start].count(b"\n") + 1
            byte = data[problem.start]
            raise error(f"{path}: line {line}: not UTF-8 text (byte {problem.start}: {byte:#04x})") from None


def npy_bytes(archive, members, place: Reading) -> int:
    """What the arrays in `members` of a zip archive (an `.npz`) decompress to, from their `.npy`
    headers alone: a few hundred compressed bytes can declare gigabytes. `place` (the archive's
    reading) names each member while its header is read."""
    import numpy as np

    total = 0
    for member in members:
        place.at = f"member {member}"
        with archive.open(member) as handle:
            version = np.lib.format.read_magic(handle)
            header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, _, dtype = header(handle)
        total += int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
    place.at = None
    return total


def inside_root(root: str | Path, path: str | Path, what: str, outside_root: bool = False) -> Path:
    """`path` (absolute, or relative to `root`) resolved, all its links followed, if it stays under
    `root`; an index row or a symlink in a data folder may not reach other files unless the user
    sets `outside_root`.

    Raises:
        DataError: `path` resolves outside `root` (both named).
    """
    root = Path(root)
    try:  # Python 3.11 raises RuntimeError for a link loop
        target, home = (root / path).resolve(), root.resolve()
    except (OSError, RuntimeError) as error:
        raise DataError(f"{root / path}: {what} cannot be resolved ({cause(error)})") from None
    if outside_root or target.is_relative_to(home):
        return target
    raise DataError(
        f"{root / path}: {what} resolves to {target}, outside {root}; set data.outside_root = true "
        "(outside_root=True) to read it"
    )


def check_hdf5(path: str | Path, what: str) -> int:
    """The bytes the datasets of an HDF5 file declare, read from their headers alone, once no external
    or soft link is found anywhere in it: netCDF and h5py follow links, so a crafted file would read
    any HDF5 file its reader may open (biogrn's files and AnnData's hold none); and a chunked,
    compressed dataset of a few bytes can declare terabytes, all of which a reader would allocate.
    A file that is not HDF5 gives 0: its own reader says what it is.

    Raises:
        DataError: naming the link and where it points, or damaged HDF5 metadata.
    """
    import h5py

    declared = 0
    with reading(path, what) as place:
        try:
            handle = h5py.File(path, "r")
        except (OSError, ValueError):
            return 0  # not HDF5 at all
        with handle:
            pending = [handle]
            while pending:  # the groups' own links, without following any
                group = pending.pop()
                place.at = f"group {group.name}"
                for name in group:
                    link = group.get(name, getlink=True)
                    if isinstance(link, (h5py.ExternalLink, h5py.SoftLink)):
                        target = f"{link.filename}:{link.path}" if isinstance(link, h5py.ExternalLink) else link.path
                        shown = target if len(target) <= 120 else target[:117] + "..."
                        raise DataError(
                            f"{path}: {group.name.rstrip('/')}/{name} is a link to {shown!r}; {_a(what)} holds no links"
                        )
                    kind = group.get(name, getclass=True)
                    if kind is h5py.Group:
                        pending.append(group[name])
                    elif kind is h5py.Dataset:
                        dataset = group[name]
                        declared += int(dataset.size or 0) * dataset.dtype.itemsize
    return declared
