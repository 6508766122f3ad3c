"""`biogrn run` / `biogrn report` end to end, crash and resume, and refusals of bad input."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import xarray as xr

import biogrn.runs._trainer
from biogrn.cli import main
from biogrn.runs import VARIABLES, load_checkpoint, load_run_config, read_records

TINY = """
seed = 1
pruning = "{pruning}"
[model]
hidden = [16]
[training]
epochs = {epochs}
batch_size = {batch}
[regulator]
start_epoch = 1
integrate_every = 10
[records]
trace_connections = 16
trace_every = 5
"""


def tiny_config(tmp_path, epochs=4, batch=64, pruning="gene", name="tiny.toml"):
    path = tmp_path / name
    path.write_text(TINY.format(epochs=epochs, batch=batch, pruning=pruning))
    return path


def without_timing(records):
    return records.drop_vars("epoch_seconds")


def test_run_writes_records_with_the_schema_and_figures(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", str(tiny_config(tmp_path)), "--out", str(out), "--quiet"]) == 0
    assert "test accuracy" in capsys.readouterr().out
    records = xr.open_dataset(out / "records.nc")  # nothing but xarray and the default engine
    with records:
        for name, (dims, _, _) in VARIABLES.items():
            assert records[name].dims == dims
        assert records.sizes["epoch"] == 4 and records.attrs["complete"] == 1
        assert records.sizes["update"] == 3  # after epochs 2, 3, 4
        assert records.sizes["connection"] == 16 and records.sizes["trace_step"] == 4 * 20 // 5
        assert 0 < float(records["total_sparsity"][-1]) < 1
        assert np.isfinite(float(records["test_accuracy"]))
        for key in ("config", "seed", "torch_version", "torchdiffeq_version", "biogrn_version", "device"):
            assert key in records.attrs
        n_regulated = len(json.loads(records.attrs["config"])["model"]["hidden"]) + 1
        assert records.attrs["drive_sources"] == ",".join(["optimizer"] * n_regulated)  # Adam, gate mask
    for figure in ("training.png", "expression.png", "threshold.png", "traces.png"):
        assert (out / figure).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    assert state["epoch"] == 4 and {"model", "optimizer", "regulator", "rng", "records"} <= set(state)

    (out / "training.png").unlink()
    assert main(["report", str(out)]) == 0
    report = capsys.readouterr().out.splitlines()
    assert report[1].split()[:3] == ["epoch", "train", "loss"] and len(report) >= 6
    assert (out / "training.png").exists()


def test_dense_run_records_no_pruning(tmp_path):
    records = biogrn.runs.run(load_run_config(tiny_config(tmp_path, pruning="none")), tmp_path / "dense", quiet=True)
    assert (records["sparsity"] == 0).all() and records["tau"].isnull().all() and records.sizes["update"] == 0
    assert records.attrs["drive_sources"] == ""
    assert not (tmp_path / "dense" / "expression.png").exists()


def test_same_seed_same_records(tmp_path):
    config = load_run_config(tiny_config(tmp_path, epochs=3))
    a = biogrn.runs.run(config, tmp_path / "a", quiet=True)
    b = biogrn.runs.run(config, tmp_path / "b", quiet=True)
    xr.testing.assert_identical(without_timing(a), without_timing(b))


def test_a_crash_leaves_the_finished_epochs_and_resume_completes_identically(tmp_path, crash_in_epoch):
    config = load_run_config(tiny_config(tmp_path))
    whole = biogrn.runs.run(config, tmp_path / "whole", quiet=True)
    undo = crash_in_epoch(3)
    with pytest.raises(RuntimeError, match="power cut"):
        biogrn.runs.run(config, tmp_path / "crashed", quiet=True)
    partial = read_records(tmp_path / "crashed")
    assert partial.attrs["complete"] == 0 and partial.sizes["epoch"] == 2
    assert np.isnan(float(partial["test_accuracy"]))
    assert main(["report", str(tmp_path / "crashed"), "--no-figures"]) == 0
    undo()
    resumed = biogrn.runs.resume(tmp_path / "crashed", quiet=True)
    xr.testing.assert_identical(without_timing(whole), without_timing(resumed))


def test_sigkill_then_resume_gives_the_same_records(tmp_path):
    config = tiny_config(tmp_path, epochs=10, batch=16)
    assert main(["run", str(config), "--out", str(tmp_path / "whole"), "--quiet"]) == 0
    killed = tmp_path / "killed"
    log = tmp_path / "killed.log"
    with open(log, "wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "biogrn", "run", str(config), "--out", str(killed), "--quiet"],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            if (killed / "checkpoint.pt").exists() and load_checkpoint(killed / "checkpoint.pt")["epoch"] >= 2:
                break
            time.sleep(0.002)
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL, log.read_text()
    stopped_at = load_checkpoint(killed / "checkpoint.pt")["epoch"]
    assert 2 <= stopped_at < 10
    assert read_records(killed).attrs["complete"] == 0

    resumed = subprocess.run(
        [sys.executable, "-m", "biogrn", "run", "--resume", str(killed), "--quiet"], capture_output=True, text=True
    )
    assert resumed.returncode == 0, resumed.stderr
    xr.testing.assert_identical(without_timing(read_records(tmp_path / "whole")), without_timing(read_records(killed)))


BAD = {
    "wrong type": ("[training]\nepochs = 'many'\n", "training.epochs"),
    "unknown key": ("[regulator]\ngama_m = 0.1\n", "regulator.gama_m: Extra inputs are not permitted"),
    "negative rate": (
        "[regulator]\ndrive_rate = -1.0\n",
        "regulator.drive_rate: Input should be greater than or equal to 0",
    ),
    "missing data file": ("[data]\nname = 'csv'\npath = 'nowhere.csv'\n", "nowhere.csv"),
    "malformed data file": ("[data]\nname = 'csv'\npath = 'bad.csv'\n", "bad.csv: line 3, column 'label'"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_config_exits_2_naming_the_field_and_writes_nothing(tmp_path, capsys, case):
    text, expected = BAD[case]
    (tmp_path / "bad.csv").write_text("a,label\n1,0\n2,sad\n")
    path = tmp_path / "run.toml"
    path.write_text(text)
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 2
    error = capsys.readouterr().err
    assert expected in error and error.startswith("biogrn: error:")
    assert not out.exists()


def test_bad_config_in_a_subprocess_prints_no_traceback(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("training:\n  lr: -1\n")
    result = subprocess.run(
        [sys.executable, "-m", "biogrn", "run", str(path), "--out", str(tmp_path / "o")], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "training.lr: Input should be greater than 0 (got -1)" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "o").exists()


def test_an_occupied_directory_is_never_overwritten(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert main(["run", str(tiny_config(tmp_path)), "--out", str(out), "--quiet"]) == 2
    assert "already exists and is not empty" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_resume_refuses_another_config_and_missing_runs(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", str(tiny_config(tmp_path, epochs=2)), "--out", str(out), "--quiet"]) == 0
    other = tiny_config(tmp_path, epochs=3, name="other.toml")
    assert main(["run", str(other), "--resume", str(out), "--quiet"]) == 2
    assert "differing fields: regulator.epochs, training.epochs" in capsys.readouterr().err
    assert main(["run", "--resume", str(tmp_path / "nothing"), "--quiet"]) == 2
    assert "no run to resume" in capsys.readouterr().err


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_run_resumes_identically(tmp_path, crash_in_epoch):
    config = load_run_config(tiny_config(tmp_path)).model_copy(update={"device": "cuda"})
    whole = biogrn.runs.run(config, tmp_path / "whole", quiet=True)
    assert whole.attrs["device"].startswith("cuda")
    undo = crash_in_epoch(2)
    with pytest.raises(RuntimeError):
        biogrn.runs.run(config, tmp_path / "crashed", quiet=True)
    undo()
    resumed = biogrn.runs.resume(tmp_path / "crashed", quiet=True)
    xr.testing.assert_identical(without_timing(whole), without_timing(resumed))


def test_augmented_runs_resume_identically_and_differ_from_plain_ones(tmp_path, crash_in_epoch):
    config = load_run_config(tiny_config(tmp_path, epochs=3))
    augmented = config.model_copy(update={"data": config.data.model_copy(update={"augment": True})})
    plain = biogrn.runs.run(config, tmp_path / "plain", quiet=True, figures=False)
    whole = biogrn.runs.run(augmented, tmp_path / "whole", quiet=True, figures=False)
    assert not np.allclose(plain["train_loss"], whole["train_loss"])
    undo = crash_in_epoch(2)
    with pytest.raises(RuntimeError):
        biogrn.runs.run(augmented, tmp_path / "crashed", quiet=True, figures=False)
    undo()
    resumed = biogrn.runs.resume(tmp_path / "crashed", quiet=True, figures=False)
    xr.testing.assert_identical(without_timing(whole), without_timing(resumed))


def test_augmentation_needs_images(tmp_path, capsys):
    np.savez(tmp_path / "d.npz", x=np.random.rand(40, 3), y=np.arange(40) % 2)
    path = tmp_path / "run.toml"
    path.write_text("[data]\nname = 'npz'\npath = 'd.npz'\naugment = true\n")
    assert main(["run", str(path), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert "data.augment:" in capsys.readouterr().err and not (tmp_path / "o").exists()


def test_a_diverging_run_stops_with_exit_2_and_keeps_the_last_finite_epoch(tmp_path, monkeypatch, capsys):
    real = biogrn.runs._trainer.train_epoch
    calls = {"n": 0}

    def diverging(model, *args, **kwargs):
        calls["n"] += 1
        result = real(model, *args, **kwargs)
        if calls["n"] == 3:
            with torch.no_grad():
                model[0].weight.mul_(float("inf"))  # as an exploding update leaves it
        return result

    monkeypatch.setattr(biogrn.runs._trainer, "train_epoch", diverging)
    out = tmp_path / "run"
    assert main(["run", str(tiny_config(tmp_path)), "--out", str(out), "--quiet"]) == 2
    error = capsys.readouterr().err
    assert "epoch 3: the validation loss became non-finite" in error and "hold epoch 2" in error
    assert load_checkpoint(out / "checkpoint.pt")["epoch"] == 2
    records = read_records(out)
    assert records.sizes["epoch"] == 2 and records.attrs["complete"] == 0
    assert records.attrs["stopped"] == "epoch 3: the validation loss became non-finite"
    assert main(["report", str(out), "--no-figures"]) == 0
    assert "stopped at epoch 3" in capsys.readouterr().out


def test_a_learning_rate_that_explodes_is_reported_not_scored(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text(
        "[model]\nhidden = [16]\n[training]\nepochs = 2\noptimizer = 'sgd'\nlr = 1e30\n[regulator]\nstart_epoch = 1\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "biogrn", "run", str(path), "--out", str(tmp_path / "o"), "--quiet"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert (
        "epoch 1: the training loss became non-finite" in result.stderr and "nothing is checkpointed" in result.stderr
    )
    assert "test accuracy" not in result.stdout


def test_a_second_process_is_locked_out_of_a_running_directory(tmp_path, capsys):
    config = tiny_config(tmp_path, epochs=200, batch=8)
    out = tmp_path / "busy"
    process = subprocess.Popen(
        [sys.executable, "-m", "biogrn", "run", str(config), "--out", str(out), "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (out / "checkpoint.pt").exists():
            time.sleep(0.01)
        assert process.poll() is None, "the first run ended before it could be interrupted"
        assert main(["run", "--resume", str(out), "--quiet"]) == 2
        assert f"another biogrn process (PID {process.pid}) is training there" in capsys.readouterr().err
        assert main(["run", str(config), "--out", str(out), "--quiet"]) == 2
        assert "already exists and is not empty" in capsys.readouterr().err
    finally:
        process.kill()
        process.wait()
    checkpoint = load_checkpoint(out / "checkpoint.pt")
    assert checkpoint["epoch"] >= 1  # the first process's files are its own, untouched by the refused ones


def test_ctrl_c_names_the_directory_a_run_without_out_chose(tmp_path):
    """`biogrn run study.toml` picks runs/study (or runs/study-2, ...): Ctrl-C names that one."""
    import signal

    config = tiny_config(tmp_path, epochs=200, batch=8)
    (tmp_path / "runs" / config.stem).mkdir(parents=True)
    (tmp_path / "runs" / config.stem / "taken").write_text("")  # so the run takes runs/<stem>-2
    process = subprocess.Popen(
        [sys.executable, "-m", "biogrn", "run", str(config), "--quiet"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    chosen = tmp_path / "runs" / f"{config.stem}-2"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (chosen / "checkpoint.pt").exists():
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130
    assert f"continue with: biogrn run --resume {Path('runs') / chosen.name}" in err and "None" not in err


def test_a_checkpoint_for_another_policy_is_refused_by_name():
    from torch import nn

    import biogrn

    model = nn.Sequential(nn.Linear(4, 3))
    state = biogrn.regulate(model, policy="paper").state_dict()
    other = biogrn.regulate(nn.Sequential(nn.Linear(4, 3)), policy="magnitude")
    with pytest.raises(ValueError, match="taken from a Regulator with policy 'paper', this one has policy 'magnitude'"):
        other.load_state_dict(state)


def test_resume_refuses_data_that_changed_after_the_kill(tmp_path, crash_in_epoch, capsys):
    """A CSV whose labels were permuted after the kill resumed with exit 0, its records mixing two
    data sets (issue 37): the checkpoint keeps a SHA-256 of the splits, and resume compares it."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(120, 4)), rng.integers(0, 3, 120)
    data = tmp_path / "data.csv"

    def write(labels):
        rows = [",".join(f"{v:.6f}" for v in row) + f",{label}" for row, label in zip(x, labels)]
        data.write_text("a,b,c,d,label\n" + "\n".join(rows) + "\n")

    write(y)
    config = tmp_path / "csv.toml"
    config.write_text(
        f"[data]\nname = 'csv'\npath = '{data}'\n[model]\nhidden = [8]\n[training]\nepochs = 3\n"
        "[regulator]\npolicy = 'target'\nstart_epoch = 1\n"
    )
    out = tmp_path / "run"
    undo = crash_in_epoch(2)
    with pytest.raises(RuntimeError, match="power cut"):
        main(["run", str(config), "--out", str(out), "--quiet"])
    undo()
    written = read_records(out).attrs["data_sha256"]
    write(rng.permutation(y))
    capsys.readouterr()
    assert main(["run", "--resume", str(out), "--quiet"]) == 2
    assert "the run started on other data than" in capsys.readouterr().err
    write(y)  # the same data again: it resumes
    assert main(["run", "--resume", str(out), "--quiet"]) == 0
    assert read_records(out).attrs["data_sha256"] == written


def test_a_truncated_checkpoint_is_named_not_a_traceback(tmp_path):
    from biogrn.core import CheckpointError

    full = tmp_path / "whole.pt"
    torch.save({"version": 1, "weights": torch.randn(1000)}, full)
    data = full.read_bytes()
    for fraction in (0.1, 0.5, 0.9):
        cut = tmp_path / "checkpoint.pt"
        cut.write_bytes(data[: int(fraction * len(data))])
        with pytest.raises(CheckpointError, match="checkpoint.pt: not a readable checkpoint"):
            load_checkpoint(cut)


def test_a_run_starts_from_the_weights_it_is_given(tmp_path):
    """`model.weights`: a dense run's checkpoint (or a bare state_dict) becomes the next run's
    starting point, exactly, and its SHA-256 goes into the records."""
    from biogrn.runs import Trainer, load_run_config

    dense = tiny_config(tmp_path, epochs=2, pruning="none")
    assert main(["run", str(dense), "--out", str(tmp_path / "pre"), "--quiet"]) == 0
    trained = load_checkpoint(tmp_path / "pre" / "checkpoint.pt")["model"]
    bare = tmp_path / "weights.pt"
    torch.save(trained, bare)
    for source in (tmp_path / "pre" / "checkpoint.pt", bare):
        config = tmp_path / f"from-{source.stem}.toml"
        config.write_text(
            tiny_config(tmp_path).read_text().replace("hidden = [16]", f"hidden = [16]\nweights = '{source}'")
        )
        trainer = Trainer(load_run_config(config), tmp_path / f"unused-{source.stem}")
        for name, tensor in trainer.model.state_dict().items():
            assert torch.equal(tensor, trained[name]), name
    out = tmp_path / "fine"
    assert main(["run", str(config), "--out", str(out), "--quiet"]) == 0
    import hashlib

    assert read_records(out).attrs["weights_sha256"] == hashlib.sha256(bare.read_bytes()).hexdigest()


def test_weights_that_do_not_fit_are_refused_naming_the_field_and_the_entry(tmp_path, capsys):
    cases = {
        "shape": {
            "0.weight": torch.zeros(16, 3),
            "0.bias": torch.zeros(16),
            "2.weight": torch.zeros(10, 16),
            "2.bias": torch.zeros(10),
        },
        "missing": {"0.weight": torch.zeros(16, 64)},
        "nan": None,
        "garbage": b"not a torch file",
    }
    for case, payload in cases.items():
        path = tmp_path / f"{case}.pt"
        if isinstance(payload, bytes):
            path.write_bytes(payload)
        elif payload is None:
            torch.save(
                {
                    "0.weight": torch.full((16, 64), float("nan")),
                    "0.bias": torch.zeros(16),
                    "2.weight": torch.zeros(10, 16),
                    "2.bias": torch.zeros(10),
                },
                path,
            )
        else:
            torch.save(payload, path)
        config = tmp_path / f"{case}.toml"
        config.write_text(
            tiny_config(tmp_path).read_text().replace("hidden = [16]", f"hidden = [16]\nweights = '{path}'")
        )
        capsys.readouterr()
        assert main(["run", str(config), "--out", str(tmp_path / case), "--quiet"]) == 2
        error = capsys.readouterr().err
        assert f"model.weights: {path}" in error and "Traceback" not in error, error
        assert {
            "shape": "0.weight has shape (16, 3)",
            "missing": "lacks 0.bias",
            "nan": "non-finite",
            "garbage": "not a readable weights file",
        }[case] in error
        assert not (tmp_path / case).exists()


def test_resume_refuses_initial_weights_that_changed(tmp_path, crash_in_epoch, capsys):
    dense = tiny_config(tmp_path, epochs=1, pruning="none")
    assert main(["run", str(dense), "--out", str(tmp_path / "pre"), "--quiet"]) == 0
    weights = tmp_path / "weights.pt"
    state = load_checkpoint(tmp_path / "pre" / "checkpoint.pt")["model"]
    torch.save(state, weights)
    config = tmp_path / "fine.toml"
    config.write_text(
        tiny_config(tmp_path).read_text().replace("hidden = [16]", f"hidden = [16]\nweights = '{weights}'")
    )
    out = tmp_path / "fine"
    undo = crash_in_epoch(2)
    with pytest.raises(RuntimeError, match="power cut"):
        main(["run", str(config), "--out", str(out), "--quiet"])
    undo()
    torch.save({name: tensor + 1 for name, tensor in state.items()}, weights)
    capsys.readouterr()
    assert main(["run", "--resume", str(out), "--quiet"]) == 2
    assert "other initial weights" in capsys.readouterr().err
    torch.save(state, weights)
    assert main(["run", "--resume", str(out), "--quiet"]) == 0


def test_the_lock_goes_with_the_run_and_a_dead_processs_lock_is_taken_over_naming_it(tmp_path, capsys, crash_in_epoch):
    """`.lock` files stayed after every run (issue 36): the lock file holds the holder's PID and is
    removed at the end; one left by a killed process is taken over, and the message names it."""
    config = tiny_config(tmp_path, epochs=2)
    out = tmp_path / "run"
    assert main(["run", str(config), "--out", str(out), "--quiet"]) == 0
    assert not (out / ".lock").exists()
    undo = crash_in_epoch(2)
    with pytest.raises(RuntimeError, match="power cut"):
        main(["run", str(config), "--out", str(tmp_path / "killed"), "--quiet"])
    undo()
    assert not (tmp_path / "killed" / ".lock").exists()  # an exception lets go of it too
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (tmp_path / "killed" / ".lock").write_text(dead.stdout)  # as SIGKILL leaves it: the file, no lock
    capsys.readouterr()
    assert main(["run", "--resume", str(tmp_path / "killed"), "--quiet"]) == 0
    assert f"was left by process {dead.stdout.strip()}, which ended without removing it" in capsys.readouterr().err
    assert not (tmp_path / "killed" / ".lock").exists()


@pytest.mark.parametrize("kind", ["symlink", "directory"])
def test_a_lock_that_is_not_a_file_is_refused_in_one_line(tmp_path, capsys, kind, crash_in_epoch):
    config = tiny_config(tmp_path, epochs=2)
    out = tmp_path / "run"
    undo = crash_in_epoch(2)
    with pytest.raises(RuntimeError, match="power cut"):
        main(["run", str(config), "--out", str(out), "--quiet"])
    undo()
    target = tmp_path / "elsewhere"
    target.write_text("not yours\n")
    if kind == "symlink":
        (out / ".lock").symlink_to(target)
    else:
        (out / ".lock").mkdir()
    capsys.readouterr()
    assert main(["run", "--resume", str(out), "--quiet"]) == 2
    error = capsys.readouterr().err
    assert "is not a lock file biogrn wrote" in error and "Traceback" not in error
    assert target.read_text() == "not yours\n"


def test_a_resume_clears_what_a_killed_write_left_and_says_when_threads_differ(tmp_path, crash_in_epoch, capsys):
    """`.tmp` files stayed after SIGKILL; records resumed at another thread count differed by 1e-7
    without a word (issue 37)."""
    config = tiny_config(tmp_path, epochs=3)
    out = tmp_path / "run"
    undo = crash_in_epoch(2)
    with pytest.raises(RuntimeError, match="power cut"):
        main(["run", str(config), "--out", str(out), "--quiet"])
    undo()
    left = out / ".records.nc.k3j9x2ab.tmp"  # what atomic_write leaves when killed mid-write
    left.write_bytes(b"half a file")
    unrelated = out / ".notes.tmp"
    unrelated.write_text("not ours")
    threads = torch.get_num_threads()
    torch.set_num_threads(threads + 1)
    try:
        with pytest.warns(RuntimeWarning, match=f"the run started with {threads}: .* OMP_NUM_THREADS={threads}"):
            assert main(["run", "--resume", str(out), "--quiet"]) == 0
    finally:
        torch.set_num_threads(threads)
    assert not left.exists() and unrelated.read_text() == "not ours"


def test_a_checkpoint_declaring_a_vast_expanded_tensor_is_refused_at_load(tmp_path):
    """A checkpoint holding a tensor expanded to 4e12 elements was accepted and failed later, when
    the records were written (issue 37): every tensor must fit what the file could hold."""
    from biogrn.core import CheckpointError

    path = tmp_path / "checkpoint.pt"
    torch.save({"version": 1, "records": {"trace": [torch.zeros(1).expand(4 * 10**12)]}}, path)
    with pytest.raises(CheckpointError, match=r"records.trace.0 declares shape \(4000000000000,\)"):
        load_checkpoint(path)
