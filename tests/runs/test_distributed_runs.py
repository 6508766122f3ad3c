"""`biogrn run --nproc 2` (torchrun, gloo, CPU): one set of files written by rank 0, a kill and a
resume that end with the records of a run never stopped, and ranks given different runs refused."""

import os
import signal
import socket
import subprocess
import sys
import time

import xarray as xr

from biogrn.runs import load_checkpoint, read_records

CONFIG = """
seed = 3
[model]
hidden = [16]
[training]
epochs = {epochs}
batch_size = 32
[regulator]
start_epoch = 1
integrate_every = 10
[records]
trace_connections = 8
"""


def biogrn(*arguments):
    return [sys.executable, "-m", "biogrn", *arguments]


def without_timing(records):
    return records.drop_vars("epoch_seconds")


def test_a_killed_two_rank_run_resumes_to_the_records_of_one_never_stopped(tmp_path):
    config = tmp_path / "run.toml"
    config.write_text(CONFIG.format(epochs=6))
    whole = subprocess.run(
        biogrn("run", str(config), "--out", str(tmp_path / "whole"), "--quiet", "--nproc", "2"),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert whole.returncode == 0, whole.stderr[-3000:]
    assert whole.stdout.count("test accuracy") == 1  # rank 0 alone reports
    records = read_records(tmp_path / "whole")
    assert records.attrs["complete"] == 1 and records.sizes["epoch"] == 6

    killed = tmp_path / "killed"
    process = subprocess.Popen(
        biogrn("run", str(config), "--out", str(killed), "--quiet", "--nproc", "2"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None:
        if (killed / "checkpoint.pt").exists() and load_checkpoint(killed / "checkpoint.pt")["epoch"] >= 2:
            break
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGKILL)  # torchrun and both ranks at once
    process.wait()
    stopped_at = load_checkpoint(killed / "checkpoint.pt")["epoch"]
    assert 2 <= stopped_at < 6 and read_records(killed).attrs["complete"] == 0

    resumed = subprocess.run(
        biogrn("run", "--resume", str(killed), "--quiet", "--nproc", "2"), capture_output=True, text=True, timeout=600
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    xr.testing.assert_identical(without_timing(records), without_timing(read_records(killed)))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_ranks_given_different_runs_are_refused_on_every_rank(tmp_path):
    port = free_port()
    processes = []
    for rank, epochs in enumerate((2, 3)):
        config = tmp_path / f"rank{rank}.toml"
        config.write_text(CONFIG.format(epochs=epochs))
        environment = {
            **os.environ,
            "RANK": str(rank),
            "LOCAL_RANK": str(rank),
            "WORLD_SIZE": "2",
            "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": str(port),
        }
        processes.append(
            subprocess.Popen(
                biogrn("run", str(config), "--out", str(tmp_path / "out"), "--quiet"),
                env=environment,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    for process in processes:
        _, err = process.communicate(timeout=300)
        assert process.returncode == 2, err[-2000:]
        assert "were given different runs; differing: regulator.epochs, training.epochs" in err
        assert "Traceback" not in err
    assert not (tmp_path / "out").exists()
