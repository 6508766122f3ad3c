"""`biogrn run --nproc 2` (torchrun, gloo, CPU): one set of files written by rank 0, a kill and a
resume that end with the records of a run never stopped, and ranks given different runs refused."""

import os
import signal
import socket
import subprocess
import sys
import time

import torch
import torch.distributed as dist
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


def test_nccl_is_asked_for_only_where_a_gpu_is_seen(monkeypatch):
    """A CUDA build of torch on a machine without a GPU has NCCL but cannot start it."""
    from biogrn.runs import process_group_backend

    monkeypatch.setattr(dist, "is_nccl_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert process_group_backend() == "gloo"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert process_group_backend() == "cpu:gloo,cuda:nccl"
    monkeypatch.setattr(dist, "is_nccl_available", lambda: False)
    assert process_group_backend() == "gloo"


def test_a_one_process_torchrun_run_joins_a_group_of_one_and_says_so(tmp_path):
    config = tmp_path / "run.toml"
    config.write_text(CONFIG.format(epochs=2))
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "1"]
    launched = subprocess.run(
        [*command, "-m", "biogrn", "run", str(config), "--out", str(tmp_path / "one"), "--quiet"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert launched.returncode == 0, launched.stderr[-3000:]
    records = read_records(tmp_path / "one")
    assert records.attrs["ranks"] == 1 and records.attrs["complete"] == 1
    assert records.attrs["process_group_backend"] == ("cpu:gloo,cuda:nccl" if torch.cuda.is_available() else "gloo")
    plain = subprocess.run(biogrn("run", str(config), "--out", str(tmp_path / "plain"), "--quiet"), timeout=300)
    assert plain.returncode == 0
    alone = read_records(tmp_path / "plain")
    assert alone.attrs["ranks"] == 1 and alone.attrs["process_group_backend"] == "none"
    xr.testing.assert_identical(
        without_timing(alone).drop_attrs(), without_timing(records).drop_attrs()
    )  # a group of one changes nothing of the training
