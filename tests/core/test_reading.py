"""The reading boundary (issue 37, goal 2): every file biogrn reads passes through `core.reading`,
and whatever goes wrong there is one line naming the file."""

from __future__ import annotations

import ast
import errno
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import biogrn
from biogrn.core import CheckpointError, ConfigError, DataError, inside_root, read_text, reading

PACKAGE = Path(biogrn.__file__).parent

OPENERS = {
    "open",
    "os.open",
    "np.load",
    "torch.load",
    "scipy.sparse.load_npz",
    "xr.open_dataset",
    "pd.read_csv",
    "wavfile.read",
    "Image.open",
    "ad.read_h5ad",
    "h5py.File",
    "zipfile.ZipFile",
}
"""Calls that open a file, by their dotted name; `.read_text()` and `.read_bytes()` on anything too."""

OUTSIDE_THE_BOUNDARY = {
    "core/_reading.py": "the boundary itself",
    "core/_atomic.py": "writes files (and reads /proc/self/status, the kernel's)",
    "runs/_directories.py": "creates and locks the run directory's .lock",
}

HELPERS = {"_check_chunks", "npy_bytes"}
"""Functions that open a file and are themselves called only inside a reading block (checked)."""


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return "?"


def _opens(call: ast.Call) -> bool:
    name = _dotted(call.func)
    if isinstance(call.func, ast.Attribute) and call.func.attr in ("read_text", "read_bytes"):
        return True
    return name in OPENERS


def _is_reading(item: ast.withitem) -> bool:
    call = item.context_expr
    return isinstance(call, ast.Call) and _dotted(call.func).split(".")[-1] == "reading"


def _calls_outside_reading(tree: ast.AST, wanted) -> list[tuple[ast.Call, str | None]]:
    """Calls for which `wanted(call)` holds that no enclosing `with reading(...)` covers, each with
    the name of the function it sits in."""
    found = []

    def visit(node: ast.AST, covered: bool, function: str | None) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            function, covered = node.name, False
        if isinstance(node, (ast.With, ast.AsyncWith)):
            items_cover = covered
            for item in node.items:  # `with reading(p), open(p)`: the boundary is entered first
                visit(item.context_expr, items_cover, function)
                items_cover = items_cover or _is_reading(item)
            for statement in node.body:
                visit(statement, items_cover, function)
            return
        if isinstance(node, ast.Call) and wanted(node) and not covered:
            found.append((node, function))
        for child in ast.iter_child_nodes(node):
            visit(child, covered, function)

    visit(tree, False, None)
    return found


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path.relative_to(PACKAGE).as_posix(), ast.parse(path.read_text(encoding="utf-8"))


def test_every_file_biogrn_opens_is_opened_inside_the_reading_boundary():
    outside = []
    for name, tree in _modules():
        if name in OUTSIDE_THE_BOUNDARY:
            continue
        for call, function in _calls_outside_reading(tree, _opens):
            if function not in HELPERS:
                outside.append(f"{name}:{call.lineno} {_dotted(call.func)} in {function}")
    assert not outside, "files opened outside `with reading(...)`:\n" + "\n".join(outside)


def test_the_helpers_that_open_files_are_called_only_inside_the_boundary():
    def calls_helper(call: ast.Call) -> bool:
        return _dotted(call.func).split(".")[-1] in HELPERS

    outside, seen = [], set()
    for name, tree in _modules():
        seen.update(_dotted(c.func).split(".")[-1] for c, _ in _calls_outside_reading(tree, calls_helper))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and calls_helper(node):
                seen.add(_dotted(node.func).split(".")[-1])
        outside += [f"{name}:{c.lineno} {_dotted(c.func)}" for c, _ in _calls_outside_reading(tree, calls_helper)]
    assert not outside, outside
    assert seen == HELPERS  # each helper is in use, so the list stays true


def test_the_structural_check_sees_a_file_opened_outside():
    tree = ast.parse(
        "def ok(p):\n    with reading(p, 'x'), open(p) as f:\n        return f.read()\n"
        "def bad(p):\n    return Path(p).read_text()\n"
        "def half(p):\n    with open(p) as f, reading(p, 'x'):\n        pass\n"
    )
    found = [(call.lineno, function) for call, function in _calls_outside_reading(tree, _opens)]
    assert found == [(5, "bad"), (7, "half")]


def test_what_the_boundary_refuses_before_a_reader_opens_the_file(tmp_path):
    with pytest.raises(DataError, match=r"nothing.csv: no such file$"):
        with reading(tmp_path / "nothing.csv", "CSV file"):
            pass
    with pytest.raises(DataError, match=r": is a folder, not a CSV file$"):
        with reading(tmp_path, "CSV file"):
            pass
    (tmp_path / "empty.nc").touch()
    with pytest.raises(DataError, match=r"empty.nc: empty file \(0 bytes\), not a records file$"):
        with reading(tmp_path / "empty.nc", "records file"):
            pass
    with reading(tmp_path / "empty.nc", "records file", empty=True) as place:
        assert place.path == tmp_path / "empty.nc"
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(ConfigError, match=r"pipe: not a regular file \(a device, pipe or socket\), not an image$"):
        with reading(tmp_path / "pipe", "image", ConfigError):
            pass


LIBRARY_ERRORS = st.sampled_from(
    [ValueError, KeyError, IndexError, AttributeError, RuntimeError, EOFError, UnboundLocalError, TypeError]
)


@given(kind=LIBRARY_ERRORS, message=st.text(max_size=400), at=st.none() | st.sampled_from(["line 3", "member x.npy"]))
def test_any_library_error_becomes_one_line_naming_the_file_and_place(tmp_path_factory, kind, message, at):
    path = tmp_path_factory.mktemp("read") / "data.bin"
    path.write_bytes(b"x")
    with pytest.raises(CheckpointError) as refused:
        with reading(path, "checkpoint", CheckpointError) as place:
            place.at = at
            raise kind(message)
    said = str(refused.value)
    assert "\n" not in said and len(said) < len(str(path)) + 300
    prefix = f"{path}: {at}: " if at else f"{path}: "
    assert said.startswith(prefix + f"not a readable checkpoint ({kind.__name__}")


def test_the_operating_systems_refusal_memory_and_depth_are_named(tmp_path):
    path = tmp_path / "cells.h5ad"
    path.write_bytes(b"x")
    with pytest.raises(DataError, match=r"cells.h5ad: cannot be read \(Input/output error, EIO\)$"):
        with reading(path, "AnnData file"):
            raise OSError(errno.EIO, os.strerror(errno.EIO), str(path))
    with pytest.raises(DataError, match=r"cells.h5ad: not a readable AnnData file \(OSError: \[Errno 22\] Invalid"):
        with reading(path, "AnnData file"):  # a library's seek past a truncated file's end: damage, not the system
            raise OSError(errno.EINVAL, "Invalid argument")
    with pytest.raises(DataError, match=r"cells.h5ad: reading this AnnData file needs more memory than is free$"):
        with reading(path, "AnnData file"):
            raise MemoryError
    with pytest.raises(DataError, match=r"cells.h5ad: nested too deep to read as an AnnData file$"):
        with reading(path, "AnnData file"):
            raise RecursionError("maximum recursion depth exceeded")


def test_a_readers_own_refusal_and_an_interrupt_pass_unchanged(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("a\n")
    with pytest.raises(DataError, match=r"^a.csv: line 2: its own words$"):
        with reading(path, "CSV file"):
            raise DataError("a.csv: line 2: its own words")
    with pytest.raises(KeyboardInterrupt):
        with reading(path, "CSV file"):
            raise KeyboardInterrupt


def test_read_text_names_the_line_of_a_byte_that_is_not_utf8(tmp_path):
    path = tmp_path / "net.topo"
    path.write_bytes("Source Target Type\nA B 1\nC\xe9 D 2\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"net.topo: line 3: not UTF-8 text \(byte 26: 0xe9\)$"):
        read_text(path, "network file")
    path.write_bytes(b"\xef\xbb\xbfSource Target Type\n")
    assert read_text(path, "network file") == "Source Target Type\n"  # the byte-order mark dropped


def test_a_path_from_a_file_stays_under_its_root_unless_allowed(tmp_path):
    root = tmp_path / "release"
    (root / "images").mkdir(parents=True)
    (root / "images" / "a.png").write_bytes(b"x")
    (tmp_path / "secret.txt").write_text("hash")
    (root / "images" / "link.png").symlink_to(tmp_path / "secret.txt")
    assert inside_root(root, "images/a.png", "the image") == (root / "images" / "a.png").resolve()
    for escaping in ("../secret.txt", str(tmp_path / "secret.txt"), "images/link.png"):
        with pytest.raises(DataError, match=r"resolves to .*secret.txt, outside .*release; set data.outside_root"):
            inside_root(root, escaping, "the image")
        assert inside_root(root, escaping, "the image", outside_root=True) == (tmp_path / "secret.txt").resolve()


def test_an_input_output_error_while_reading_data_ends_the_command_with_exit_2(tmp_path, monkeypatch, capsys):
    from biogrn.cli import main

    (tmp_path / "cells.csv").write_text("a,b,label\n1,2,0\n3,4,1\n")
    (tmp_path / "run.toml").write_text('[data]\nname = "csv"\npath = "cells.csv"\n')
    real = Path.read_bytes

    def failing(path):
        if path.name == "cells.csv":  # a disk that fails under the reader
            raise OSError(errno.EIO, os.strerror(errno.EIO), str(path))
        return real(path)

    monkeypatch.setattr(Path, "read_bytes", failing)
    assert main(["run", str(tmp_path / "run.toml"), "--out", str(tmp_path / "out")]) == 2
    said = capsys.readouterr().err
    assert said.count("\n") == 1 and said.endswith("cells.csv: cannot be read (Input/output error, EIO)\n"), said
    assert not (tmp_path / "out").exists()
