"""Every subcommand on bad input, in a separate process: exit 2, one line on stderr, no traceback.

The inputs are the ones an audit found ending in tracebacks, out-of-memory kills or silent
success, written here in the formats users have. Each subcommand's list runs in one process of its
own through `biogrn.cli.main` (a process start costs seconds); the first case of each also runs
as `python -m biogrn`, so that the real exit status and stream are checked too.
"""

import io
import json
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import torch

from biogrn.runs import CONFIG_FILE, Trainer, parse_run_config, save_checkpoint

TINY = {"model": {"hidden": [8]}, "training": {"epochs": 2}, "regulator": {"start_epoch": 1}}


def write_run_directory(root: Path, name: str, edit) -> Path:
    """A run directory holding the tiny run's config.json and a checkpoint changed by `edit`."""
    directory = root / name
    directory.mkdir()
    config = parse_run_config(TINY)
    (directory / CONFIG_FILE).write_text(config.to_json())
    state = Trainer(config, directory).state_dict()
    edit(state)
    if state is not None:
        save_checkpoint(directory / "checkpoint.pt", state)
    return directory


def npz_with_labels(path: Path, labels) -> Path:
    np.savez(path, x=np.zeros((len(labels), 3), np.float32), y=np.asarray(labels))
    return path


def truncated_npz(path: Path) -> Path:
    np.savez(path, x=np.random.default_rng(0).normal(size=(50, 3)), y=np.arange(50) % 3)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def npz_members(path: Path, x, x_name: str = "x.npy") -> Path:
    """An archive whose x member is named `x_name` (numpy.savez writes `x.npy`; other tools may not)."""
    labels, features = io.BytesIO(), io.BytesIO()
    np.save(labels, np.arange(len(x) if np.ndim(x) else 20) % 3)
    np.save(features, x)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(x_name, features.getvalue())
        archive.writestr("y.npy", labels.getvalue())
    return path


def npz_bomb(path: Path) -> Path:
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (10**6, 10**6)})
    labels = io.BytesIO()
    np.save(labels, np.zeros(4, dtype=np.int64))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("x.npy", header.getvalue() + bytes(100))
        archive.writestr("y.npy", labels.getvalue())
    return path


def alias_bomb() -> str:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    lines += [f"{n}: &{n} [" + ",".join([f"*{p}"] * 9) + "]" for p, n in zip("abcdefgh", "bcdefghi")]
    return "\n".join(lines + ["seed: [" + ",".join(["*i"] * 9) + "]"]) + "\n"


def cases(root: Path) -> dict[str, tuple[list[str], str]]:
    """name: (arguments, a phrase the one line must hold)."""

    def config(name: str, text: str) -> str:
        (root / name).write_text(text)
        return str(root / name)

    def data(name: str, path: Path) -> str:
        return config(
            f"{name}.toml",
            f"[data]\nname = '{path.suffix[1:]}'\npath = '{path.name}'\n"
            "[model]\nhidden = [8]\n[training]\nepochs = 1\n[regulator]\nstart_epoch = 0\n",
        )

    (root / "binary.toml").write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff")
    (root / "folder.toml").mkdir()
    (root / "only-label.csv").write_text("label\n0\n1\n")
    (root / "infinite.csv").write_text("a,label\n1,0\n1e400,1\n")
    (root / "no-edges.csv").write_text("source,target,sign\n")
    (root / "a-file").write_text("mine")
    (root / "occupied").mkdir()
    (root / "occupied" / "notes.md").write_text("mine")
    corrupt_records = root / "corrupt-records"
    corrupt_records.mkdir()
    (corrupt_records / "records.nc").write_bytes(b"CDF\x01" + bytes(64))
    corrupt_config = root / "corrupt-config"
    corrupt_config.mkdir()
    (corrupt_config / CONFIG_FILE).write_text('{"seed": 0, "model": ')
    missing = write_run_directory(root, "missing-keys", lambda s: [s.pop("optimizer"), s.pop("rng")])
    shapes = write_run_directory(root, "wrong-shapes", lambda s: s["model"].update({"0.weight": torch.zeros(3, 3)}))
    epoch = write_run_directory(root, "impossible-epoch", lambda s: s.update(epoch=99, step=99 * 20))
    return {
        "run: binary config": (["run", str(root / "binary.toml")], "line 1: not UTF-8 text"),
        "run: config is a folder": (["run", str(root / "folder.toml")], "is a directory"),
        "run: negative seed": (["run", config("neg.toml", "seed = -1\n")], "seed: Input should be greater"),
        "run: huge seed": (["run", config("huge.toml", "seed = 9223372036854775808\n")], "seed:"),
        "run: infinite lr": (
            ["run", config("lr.toml", "[training]\nlr = inf\n")],
            "training.lr: Input should be a finite number",
        ),
        "run: nan tau_sigmas": (["run", config("tau.yaml", "regulator: {tau_sigmas: .nan}\n")], "regulator.tau_sigmas"),
        "run: hidden 10**9": (
            ["run", config("wide.toml", "[model]\nhidden = [1000000000]\n")],
            "model.hidden = [1000000000]: 7.5e+10 parameters",
        ),
        "run: device out of range": (["run", config("dev.toml", "device = 'cuda:7'\n")], "device: 'cuda:7'"),
        "run: npz label 10**9": (
            ["run", data("label", npz_with_labels(root / "label.npz", [0, 1, 10**9] * 6))],
            "labels {0, 1, 1000000000} are 3 classes numbered up to 1000000000",
        ),
        "run: npz labels 0, 1, 10**6": (
            ["run", data("label6", npz_with_labels(root / "label6.npz", [0, 1, 10**6] * 6))],
            "(it would have 1000001 outputs): number them 0..C-1",
        ),
        "run: truncated npz": (["run", data("cut", truncated_npz(root / "cut.npz"))], "cut.npz: not a readable .npz"),
        "run: npz 0-d x": (
            ["run", data("scalar", npz_members(root / "scalar.npz", np.float64(3.0)))],
            "x is a single number",
        ),
        "run: npz x without features": (
            ["run", data("empty", npz_members(root / "empty.npz", np.zeros((200, 0))))],
            "x of shape (200, 0) has no features",
        ),
        "run: npz bomb": (["run", data("bomb", npz_bomb(root / "bomb.npz"))], "arrays x and y of 7.3 TiB"),
        "run: csv of labels only": (["run", data("labels", root / "only-label.csv")], "no feature columns"),
        "run: csv 1e400": (["run", data("inf", root / "infinite.csv")], "line 3, column 'a': '1e400' is not finite"),
        "run: alias bomb": (["run", config("bomb.yaml", alias_bomb())], "expands to more than 100000 values"),
        "run: occupied --out": (
            [
                "run",
                config("ok.toml", "[training]\nepochs = 1\n[regulator]\nstart_epoch = 0\n"),
                "--out",
                str(root / "occupied"),
            ],
            "already exists and is not empty (notes.md)",
        ),
        "resume: corrupt config.json": (["run", "--resume", str(corrupt_config)], "not a readable config.json"),
        "resume: checkpoint lacks keys": (["run", "--resume", str(missing)], "lacks optimizer, rng"),
        "resume: checkpoint of other shapes": (["run", "--resume", str(shapes)], "does not fit this run"),
        "resume: impossible epoch": (["run", "--resume", str(epoch)], "epoch 99 at step 1980 is not a state"),
        "resume: nothing there": (["run", "--resume", str(root / "nowhere")], "no run to resume"),
        "resume: nothing there, two ranks": (
            ["run", "--resume", str(root / "nowhere"), "--nproc", "2"],
            "no run to resume",
        ),
        "run: occupied --out, two ranks": (
            [
                "run",
                config("ok2.toml", "[training]\nepochs = 1\n[regulator]\nstart_epoch = 0\n"),
                "--out",
                str(root / "occupied"),
                "--nproc",
                "2",
            ],
            "already exists and is not empty (notes.md)",
        ),
        "report: corrupt records": (["report", str(corrupt_records)], "records.nc: not"),
        "report: no records": (["report", str(root / "occupied")], "no records file"),
        "simulate: no edges": (["simulate", str(root / "no-edges.csv")], "no edges"),
        "simulate: nan t-end": (["simulate", "toggle", "--t-end", "nan"], "--t-end: must be finite and > 0"),
        "simulate: infinite t-end": (["simulate", "toggle", "--t-end", "inf"], "--t-end"),
        "simulate: negative iptg": (["simulate", "toggle", "--iptg", "-1"], "--iptg: must be finite and >= 0"),
        "simulate: nan hill": (["simulate", "repressilator", "--hill", "nan"], "--hill: must be finite and > 0"),
        "simulate: rest without member steps": (
            ["simulate", "toggle", "--stepping", "batch", "--stop-at-rest"],
            "--stop-at-rest: needs",
        ),
        "simulate: negative hill": (["simulate", "repressilator", "--hill", "-2"], "--hill"),
        "simulate: members beyond memory": (["simulate", "toggle", "--members", str(10**13)], "needs about"),
        "simulate: occupied --out": (["simulate", "toggle", "--out", str(root / "occupied")], "not empty"),
        "demo: --out is a file": (["demo", "--out", str(root / "a-file")], "is a file"),
        "demo: occupied --out": (["demo", "--out", str(root / "occupied")], "not empty"),
        "demo: negative seed": (["demo", "--seed", "-1"], "--seed"),
        "demo: zero epochs": (["demo", "--epochs", "0"], "--epochs"),
        "demo: epochs not a number": (["demo", "--epochs", "many"], "invalid int value"),
    }


DRIVER = """
import contextlib, io, json, sys, traceback
from biogrn.cli import main
results = []
for argv in json.loads(sys.argv[1]):
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            code = main(argv)
        except SystemExit as stop:
            code = stop.code
        except BaseException:
            code = None
            err.write(traceback.format_exc())
    results.append({"returncode": code, "stderr": err.getvalue(), "stdout": out.getvalue()})
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad")
    table = cases(root)
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    commands = sorted({arguments[0] for arguments, _ in table.values()})
    lists = {c: [name for name, (arguments, _) in table.items() if arguments[0] == c] for c in commands}

    def in_one_process(command):
        argvs = [table[name][0] for name in lists[command]]
        done = subprocess.run(
            [sys.executable, "-c", DRIVER, json.dumps(argvs)], capture_output=True, text=True, cwd=root, timeout=600
        )
        assert done.returncode == 0, done.stderr
        return dict(zip(lists[command], json.loads(done.stdout.splitlines()[-1])))

    def alone(name):
        done = subprocess.run(
            [sys.executable, "-m", "biogrn", *table[name][0]], capture_output=True, text=True, cwd=root, timeout=300
        )
        return {"returncode": done.returncode, "stderr": done.stderr, "stdout": done.stdout}

    with ThreadPoolExecutor(4) as pool:
        grouped = list(pool.map(in_one_process, commands))
        firsts = [lists[c][0] for c in commands]
        separate = dict(zip([f"{name} (python -m biogrn)" for name in firsts], pool.map(alone, firsts)))
    results = {name: result for group in grouped for name, result in group.items()} | separate
    table = table | {f"{name} (python -m biogrn)": table[name] for name in firsts}
    after = {p: p.read_bytes() for p in root.rglob("*") if p.is_file() and p.name != ".lock"}
    return table, results, before, after


def test_each_bad_input_exits_2_with_one_line_naming_it(outcomes):
    table, results, _, _ = outcomes
    failures = []
    for name, (_, phrase) in table.items():
        result = results[name]
        lines = result["stderr"].strip().splitlines()
        if result["returncode"] != 2 or len(lines) != 1 or phrase not in lines[0] or not lines[0].startswith("biogrn"):
            failures.append(f"{name}: exit {result['returncode']}, stderr {result['stderr'][-600:]!r}")
    assert not failures, "\n".join(failures)
    assert len(table) >= 30


def test_no_bad_input_changed_or_removed_a_file(outcomes):
    _, _, before, after = outcomes
    assert {p: before[p] for p in before} == {p: after.get(p) for p in before}


def test_no_bad_input_left_a_result_behind(outcomes):
    _, _, before, after = outcomes
    created = sorted(str(p) for p in set(after) - set(before))
    assert not created, created


def test_no_bad_input_reports_an_accuracy(outcomes):
    table, results, _, _ = outcomes
    assert not [name for name in table if "accuracy" in results[name]["stdout"]]
