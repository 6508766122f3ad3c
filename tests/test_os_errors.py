"""The operating system's refusals (issue 37, class 3): a full disk, a read-only file system, a path
through a file, a forbidden directory each end in one line naming the path and the cause, and
nothing already written is lost. The full and read-only cases run on a small tmpfs mounted here,
where the test process may mount one (root in a container); elsewhere they are skipped."""

import errno
import os
import subprocess
from pathlib import Path

import pytest

from biogrn.cli import main

TINY = "[model]\nhidden = [16]\n[training]\nepochs = {epochs}\n[regulator]\nstart_epoch = 0\n"


def config(tmp_path: Path, epochs: int = 2) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY.format(epochs=epochs))
    return path


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MB tmpfs at tmp_path/disk, unmounted afterwards; skipped where mounting is not allowed."""
    where = tmp_path / "disk"
    where.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(where)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN)")
    yield where
    subprocess.run(["umount", "-l", str(where)], capture_output=True)


def fill(directory: Path, leave: int) -> None:
    """Write a filler file until about `leave` bytes are free."""
    free = os.statvfs(directory).f_bavail * os.statvfs(directory).f_frsize
    (directory / "filler").write_bytes(b"\0" * max(0, free - leave))


def one_line(error: str) -> str:
    lines = error.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in error, error
    return lines[0]


def test_a_path_through_a_file_is_named(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    assert main(["run", str(config(tmp_path)), "--out", str(tmp_path / "file" / "sub"), "--quiet"]) == 1
    line = one_line(capsys.readouterr().err)
    assert str(tmp_path / "file") in line and "(ENOTDIR)" in line and "a part of the path is a file" in line


def test_a_full_disk_ends_in_one_line_and_the_last_epochs_files_survive(tmp_path, small_disk, capsys, monkeypatch):
    import biogrn.runs._trainer

    out = small_disk / "run"
    real, calls = biogrn.runs._trainer.train_epoch, []

    def power_cut_in_epoch_2(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("power cut")
        return real(*args, **kwargs)

    monkeypatch.setattr(biogrn.runs._trainer, "train_epoch", power_cut_in_epoch_2)
    with pytest.raises(RuntimeError, match="power cut"):
        main(["run", str(config(tmp_path, epochs=3)), "--out", str(out), "--quiet"])
    monkeypatch.setattr(biogrn.runs._trainer, "train_epoch", real)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    config_text = (out / "config.json").read_text()
    fill(small_disk, leave=4096)
    capsys.readouterr()
    status = main(["run", "--resume", str(out), "--quiet"])
    line = one_line(capsys.readouterr().err)
    assert status == 1 and "(ENOSPC)" in line and str(out) in line and "the files of the last finished epoch" in line
    assert (out / "config.json").read_text() == config_text
    for name in ("checkpoint.pt", "records.nc"):
        assert (out / name).read_bytes() == before[name]  # not replaced by half a file
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_a_read_only_file_system_ends_in_one_line(tmp_path, small_disk, capsys):
    out = small_disk / "run"
    assert main(["run", str(config(tmp_path, epochs=1)), "--out", str(out), "--quiet"]) == 0
    remounted = subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], capture_output=True)
    if remounted.returncode != 0:
        pytest.skip("cannot remount the tmpfs read-only")
    capsys.readouterr()
    assert main(["report", str(out)]) == 1  # the figures are redrawn into the run directory
    assert "(EROFS)" in one_line(capsys.readouterr().err)
    assert main(["run", "--resume", str(out), "--quiet"]) == 1
    line = one_line(capsys.readouterr().err)
    assert "(EROFS)" in line and str(out) in line
    assert main(["run", str(config(tmp_path)), "--out", str(small_disk / "new"), "--quiet"]) == 1
    assert "(EROFS)" in one_line(capsys.readouterr().err)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes where the permissions forbid it")
def test_a_forbidden_directory_ends_in_one_line(tmp_path, capsys):
    locked_away = tmp_path / "locked"
    locked_away.mkdir()
    locked_away.chmod(0o500)
    try:
        assert main(["run", str(config(tmp_path)), "--out", str(locked_away / "run"), "--quiet"]) == 1
        line = one_line(capsys.readouterr().err)
        assert "(EACCES)" in line and "permission denied" in line
    finally:
        locked_away.chmod(0o700)


def test_the_line_names_the_path_and_the_cause_of_any_os_error():
    from biogrn.cli import os_error_line

    line = os_error_line(OSError(errno.ENOSPC, "No space left on device", "/data/run/records.nc"))
    assert line.startswith("/data/run/records.nc: No space left on device (ENOSPC); the device is full")
    assert os_error_line(OSError("odd")) == "(no path): odd"
