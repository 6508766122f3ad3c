"""The third audit's cases (issue 37, 2026-12-07): an attacker's and an unlucky user's inputs that
the first two audits, the fuzzers and the reading boundary let through. Each runs the command in
this process (`biogrn.cli.main`) and asserts its exit status, one line naming the input, and that
nothing of the user's changed."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from biogrn.cli import main

TINY = "[model]\nhidden = [8]\n[training]\nepochs = 1\n[regulator]\nstart_epoch = 0\n"


def config(folder: Path, data: str, extra: str = "", name: str = "run.toml") -> Path:
    path = folder / name
    path.write_text(f"[data]\n{data}\n{extra}\n{TINY}")
    return path


def refused(capsys, argv, status: int = 2) -> str:
    """Run `biogrn ARGV`; its exit status must be `status` and stderr one `biogrn: error:` line."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main([str(a) for a in argv]) == status
    said = capsys.readouterr().err
    assert said.startswith("biogrn: error: ") and said.count("\n") == 1, said
    return said


DATA_FILES = {
    "inf.npz": (
        lambda p: np.savez(p, x=np.ones((30, 2)), y=np.r_[np.inf, np.arange(29) % 2]),
        "inf.npz: example 0: label inf is not an integer class id",
    ),
    "none.npz": (lambda p: np.savez(p, x=np.zeros((0, 4)), y=np.zeros(0, int)), "none.npz: x holds no examples"),
    "huge.csv": (lambda p: p.write_text("a,label\n1,99999999999999999999\n2,0\n3,1\n"), "classes numbered up to"),
    "leak.csv": (  # the second label was trained as a feature
        lambda p: p.write_text("a,label,label\n" + "".join(f"0.{i},{i % 3},{i % 3}\n" for i in range(60))),
        "leak.csv: line 1: column 'label' is named twice (columns 2 and 3)",
    ),
    "under.csv": (
        lambda p: p.write_text("a,label\n1,0\n1_000,1\n2,0\n3,1\n"),
        "under.csv: line 3, column 'a': '1_000' is not a number",
    ),
}


@pytest.mark.parametrize("name", sorted(DATA_FILES))
def test_a_data_file_is_refused_naming_it(tmp_path, capsys, name):
    write, message = DATA_FILES[name]
    write(tmp_path / name)
    kind = name.split(".")[1]
    assert message in refused(capsys, ["run", config(tmp_path, f'name = "{kind}"\npath = "{name}"')])


def test_a_link_loop_a_name_too_long_and_a_run_inside_its_data(tmp_path, capsys):
    (tmp_path / "loop.csv").symlink_to("loop.csv")
    said = refused(capsys, ["run", config(tmp_path, 'name = "csv"\npath = "loop.csv"')])
    assert "loop.csv cannot be resolved" in said
    said = refused(capsys, ["run", config(tmp_path, f'name = "csv"\npath = "{"x" * 300}.csv"')])
    assert "cannot be resolved (OSError" in said or "file not found" in said
    from PIL import Image

    for part in ("train", "test"):
        for emotion in ("angry", "happy"):
            folder = tmp_path / "fer" / part / emotion
            folder.mkdir(parents=True)
            for i in range(6):
                Image.fromarray(np.full((48, 48), 20 * i, np.uint8)).save(folder / f"{i}.png")
    run = config(tmp_path, 'name = "fer2013"\npath = "fer"\nval_fraction = 0.25')
    before = sorted(p.relative_to(tmp_path) for p in (tmp_path / "fer").rglob("*"))
    said = refused(capsys, ["run", run, "--out", tmp_path / "fer" / "train" / "sad"])
    assert "lies inside data.path" in said
    assert sorted(p.relative_to(tmp_path) for p in (tmp_path / "fer").rglob("*")) == before


def test_a_loop_in_a_data_folder_is_skipped_like_any_unreadable_image(tmp_path):
    from PIL import Image

    from biogrn.data import FER2013

    for emotion in ("angry", "happy"):
        folder = tmp_path / "train" / emotion
        folder.mkdir(parents=True)
        for i in range(3):
            Image.fromarray(np.full((48, 48), 20 * i, np.uint8)).save(folder / f"{i}.png")
    (tmp_path / "train" / "happy" / "x.png").symlink_to("x.png")
    with pytest.warns(UserWarning, match="skipped 1 image"):
        assert FER2013(tmp_path, "train", on_error="skip", val_fraction=0.0).skipped == 1


def test_affectnet_folder_named_by_a_superscript_digit(tmp_path, capsys):
    (tmp_path / "aff" / "train" / "²").mkdir(parents=True)
    (tmp_path / "aff" / "val" / "0").mkdir(parents=True)
    said = refused(capsys, ["run", config(tmp_path, 'name = "affectnet"\npath = "aff"')])
    assert "²: folder names must be expression ids 0-10" in said


@pytest.mark.parametrize(("rate", "samples", "message"), [(16000, 0, "holds no samples"), (0, 800, "sample rate 0")])
def test_a_wav_without_samples_or_with_rate_0(tmp_path, capsys, rate, samples, message):
    from scipy.io import wavfile

    for actor in (1, 2, 3):
        folder = tmp_path / "rav" / f"Actor_{actor:02d}"
        folder.mkdir(parents=True)
        bad = actor == 1
        wavfile.write(
            folder / f"03-01-01-01-01-01-{actor:02d}.wav",
            rate if bad else 16000,
            np.zeros(samples if bad else 800, np.int16),
        )
    said = refused(capsys, ["run", config(tmp_path, 'name = "ravdess"\npath = "rav"')])
    assert f"03-01-01-01-01-01-01.wav: {message}" in said


def test_boolode_rules_with_an_operator_boolode_lacks_or_too_many_inputs(tmp_path, capsys):
    (tmp_path / "xor.txt").write_text("Gene\tRule\nA\tA xor B\nB\tA\n")
    said = refused(capsys, ["simulate", tmp_path / "xor.txt", "--points", "5", "--members", "4"])
    assert "xor.txt: line 2: 'A xor B' is not a Boolean rule ('xor' where `and`, `or` or `)` belongs)" in said
    (tmp_path / "amp.txt").write_text("Gene\tRule\nA\tA & B\nB\tA\n")
    said = refused(capsys, ["simulate", tmp_path / "amp.txt", "--points", "5", "--members", "4"])
    assert "amp.txt: line 2: 'A & B' is not a Boolean rule" in said

    def parity(names):  # a 3.5 KB rule whose prime implicants number 2**15
        if len(names) == 1:
            return names[0]
        left, right = parity(names[: len(names) // 2]), parity(names[len(names) // 2 :])
        return f"(({left}) and not ({right})) or (not ({left}) and ({right}))"

    (tmp_path / "parity.txt").write_text("Gene\tRule\ny\t" + parity([f"x{i}" for i in range(16)]) + "\n")
    said = refused(capsys, ["simulate", tmp_path / "parity.txt", "--points", "5", "--members", "4"])
    assert "parity.txt: line 2: y has 16 regulators; at most 12" in said


def test_several_invalid_settings_are_one_line_and_a_warning_is_one_line(tmp_path, capsys):
    (tmp_path / "many.toml").write_text("seed = -1\n[training]\nlr = -1\n")
    said = refused(capsys, ["run", tmp_path / "many.toml"])
    assert "many.toml: 2 invalid settings: seed: " in said and "; training.lr: " in said
    (tmp_path / "f.csv").write_text("emotion,pixels,Usage\n0,1 2 3,Training\n")
    run = config(tmp_path, 'name = "fer2013"\npath = "f.csv"\non_error = "skip"')
    done = subprocess.run(
        [sys.executable, "-m", "biogrn", "run", str(run)], capture_output=True, text=True, timeout=120
    )
    lines = done.stderr.splitlines()  # in a process of its own: pytest records warnings, a user sees them
    assert done.returncode == 2 and [line.split(":")[:2] for line in lines] == [
        ["biogrn", " warning"],
        ["biogrn", " error"],
    ], done.stderr
    assert "f.csv: skipped 1 malformed row(s)" in lines[0]


def test_a_byte_that_is_not_utf8_deep_in_a_fer_csv_is_named_with_its_line(tmp_path, capsys):
    pixels = " ".join(["7"] * 2304)
    rows = [f"{i % 7},{pixels},Training" for i in range(30)]
    rows[20] = rows[20].replace("Training", "Tr\xe9ining")
    (tmp_path / "fer.csv").write_bytes(("emotion,pixels,Usage\n" + "\n".join(rows) + "\n").encode("latin-1"))
    offset = (tmp_path / "fer.csv").read_bytes().index(b"\xe9")
    said = refused(capsys, ["run", config(tmp_path, 'name = "fer2013"\npath = "fer.csv"')])
    assert said.endswith(f"fer.csv: line 22: not UTF-8 text (byte {offset}: 0xe9)\n"), said


def test_a_lock_that_is_a_pipe_is_refused_without_being_opened(tmp_path, capsys):
    run = config(tmp_path, 'name = "digits"')
    assert main(["run", str(run), "--out", str(tmp_path / "r")]) == 0
    capsys.readouterr()
    os.mkfifo(tmp_path / "r" / ".lock")
    said = refused(capsys, ["run", "--resume", tmp_path / "r"])
    assert "r/.lock: is not a lock file biogrn wrote" in said


@pytest.fixture
def cells(tmp_path):
    ad = pytest.importorskip("anndata")
    import pandas as pd

    x = np.random.default_rng(0).normal(size=(40, 6)).astype("f4")
    obs = pd.DataFrame({"type": pd.Categorical(["a", "b"] * 20)}, index=[f"c{i}" for i in range(40)])

    def write(name, genes=tuple(f"g{i}" for i in range(6)), n_cells=40, labels=None):
        frame = obs.iloc[:n_cells].copy()
        if labels is not None:
            frame["type"] = labels
        data = ad.AnnData(x[:n_cells], obs=frame, var=pd.DataFrame(index=list(genes)))
        data.write_h5ad(tmp_path / name)
        return tmp_path / name

    return write


def test_select_genes_refuses_before_training_and_replaces_nothing(tmp_path, capsys, cells):
    ok = cells("ok.h5ad")
    command = ["select-genes", ok, "--label-key", "type", "--epochs", "2"]
    said = refused(capsys, [*command, "--n-genes", "6", "--out", tmp_path / "s1.h5ad"])
    assert "n_genes: 6; choose 1 to 5" in said and "ok.h5ad holds 6 genes" in said
    said = refused(
        capsys,
        ["select-genes", cells("zero.h5ad", n_cells=0), *command[2:], "--n-genes", "2", "--out", tmp_path / "s2.h5ad"],
    )
    assert "zero.h5ad: holds no cells" in said
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # anndata warns of the repeated name as it writes and reads it
        duplicated = cells("dup.h5ad", genes=("g0", "g1", "g0", "g3", "g4", "g5"))
        said = refused(
            capsys, ["select-genes", duplicated, *command[2:], "--n-genes", "2", "--out", tmp_path / "s3.h5ad"]
        )
    assert "dup.h5ad: gene 'g0' is named twice (genes 1 and 3 of var_names)" in said
    assert not (tmp_path / "s3.h5ad").exists()
    labels = ["a", "b"] * 20
    labels[3] = None
    said = refused(
        capsys,
        [
            "select-genes",
            cells("nan.h5ad", labels=labels),
            *command[2:],
            "--n-genes",
            "2",
            "--out",
            tmp_path / "s4.h5ad",
        ],
    )
    assert "nan.h5ad: obs['type'] has no value for cell 'c3'" in said
    (tmp_path / "s5.png").write_text("mine")
    said = refused(capsys, [*command, "--n-genes", "2", "--out", tmp_path / "s5.h5ad"])
    assert "s5.png: already exists" in said and (tmp_path / "s5.png").read_text() == "mine"
    (tmp_path / "afile").write_text("a file")
    said = refused(capsys, [*command, "--n-genes", "2", "--out", tmp_path / "afile" / "x.h5ad"], status=1)
    assert "afile: Not a directory (ENOTDIR)" in said


# The fourth audit (62 cases of extreme but typed settings): what it found, refused in one line.
EXTREME_SETTINGS = {
    "booleans for numbers": (
        "[model]\nhidden = [true]\n[training]\nepochs = true\n",
        "model.hidden: [True] holds a boolean; this setting takes numbers",
    ),
    "cnn1d without convolutions": (
        '[data]\nname = "mnist1d"\n[data.mnist1d]\nnum_samples = 200\n[model]\nname = "cnn1d"\nchannels = []\n',
        "model.channels: Tuple should have at least 1 item",
    ),
    "cnn1d longer than its signal": (
        '[data]\nname = "mnist1d"\n[data.mnist1d]\nnum_samples = 200\nfinal_seq_length = 2\n'
        '[model]\nname = "cnn1d"\nchannels = [4, 4, 4]\n',
        "model.channels: 3 stride-2 convolutions leave nothing of 2 samples",
    ),
    "mnist1d past memory": (
        '[data]\nname = "mnist1d"\n[data.mnist1d]\nnum_samples = 10000000\nfinal_seq_length = 100000\n',
        "data.mnist1d: 10000000 signals of 100000 samples: needs about",
    ),
    "mnist1d shear that overflows": (
        '[data]\nname = "mnist1d"\n[data.mnist1d]\nnum_samples = 200\nshear_scale = 1e300\n',
        "data.mnist1d.shear_scale: Input should be less than or equal to 1000",
    ),
}


@pytest.mark.parametrize("case", sorted(EXTREME_SETTINGS))
def test_extreme_settings_are_refused_naming_the_field(tmp_path, capsys, case):
    text, message = EXTREME_SETTINGS[case]
    (tmp_path / "run.toml").write_text(text.replace("[training]\n", "[training]\nbatch_size = 8\n"))
    assert message in refused(capsys, ["run", tmp_path / "run.toml", "--out", tmp_path / "out"])
    assert not (tmp_path / "out").exists()


def test_weights_of_another_kind_of_number_or_layout_and_a_batch_larger_than_the_data(tmp_path, capsys):
    import torch

    run = config(tmp_path, 'name = "digits"', name="dense.toml")
    assert main([str(a) for a in ("run", run, "--out", tmp_path / "dense", "--quiet")]) == 0
    state = torch.load(tmp_path / "dense" / "checkpoint.pt", weights_only=True)["model"]
    for kind, weights, message in [
        (
            "int",
            {k: v.to(torch.int64) for k, v in state.items()},
            "holds torch.int64 values, the model's are torch.float32",
        ),
        ("sparse", {k: v.to_sparse() for k, v in state.items()}, "is a torch.sparse_coo tensor; save dense weights"),
    ]:
        torch.save(weights, tmp_path / f"{kind}.pt")
        (tmp_path / f"{kind}.toml").write_text(
            f'[model]\nhidden = [8]\nweights = "{kind}.pt"\n' + TINY.split("\n", 2)[2]
        )
        assert message in refused(capsys, ["run", tmp_path / f"{kind}.toml"])
    # a batch larger than the training set is a batch of the whole set: no estimate of 91 GiB for it
    (tmp_path / "big.toml").write_text(TINY.replace("epochs = 1", "epochs = 1\nbatch_size = 100000000"))
    assert main([str(a) for a in ("run", tmp_path / "big.toml", "--out", tmp_path / "big", "--quiet")]) == 0


def test_a_figure_that_cannot_be_replaced_is_named_not_its_temporary_file(tmp_path, capsys):
    run = config(tmp_path, 'name = "digits"')
    assert main([str(a) for a in ("run", run, "--out", tmp_path / "r", "--quiet")]) == 0
    capsys.readouterr()
    (tmp_path / "r" / "training.png").unlink()
    (tmp_path / "r" / "training.png" / "x").mkdir(parents=True)
    said = refused(capsys, ["report", tmp_path / "r"], status=1)
    assert f"{tmp_path / 'r' / 'training.png'}: Is a directory (EISDIR)" in said
