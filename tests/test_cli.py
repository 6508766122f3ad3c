import subprocess
import sys

from biogrn.cli import main
from biogrn.models import mlp


def test_demo_prints_the_comparison_and_writes_both_runs(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--epochs", "7", "--quiet", "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["model", "test", "accuracy", "sparsity"]
    dense, regulated = lines[1].split(), lines[2].split()
    assert dense[0] == "dense" and regulated[0] == "regulated"
    assert float(regulated[2].rstrip("%")) > 30.0  # the first prune (after epoch 5) happened
    assert float(dense[1].rstrip("%")) > 80.0
    for run in ("dense", "regulated"):
        assert (out / run / "records.nc").exists() and (out / run / "training.png").exists()
    assert (out / "regulated" / "traces.png").exists()
    assert (out / "summary.txt").read_text().splitlines() == lines[:3]


def test_demo_replaces_a_previous_demo_but_no_other_directory(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--epochs", "1", "--quiet", "--out", str(out)]) == 0
    assert main(["demo", "--epochs", "1", "--quiet", "--out", str(out)]) == 0
    (out / "thesis.tex").write_text("mine")
    capsys.readouterr()
    assert main(["demo", "--epochs", "1", "--quiet", "--out", str(out)]) == 2
    assert "not a biogrn demo" in capsys.readouterr().err
    assert (out / "thesis.tex").read_text() == "mine"


def test_bad_epochs_exit_2():
    result = subprocess.run([sys.executable, "-m", "biogrn", "demo", "--epochs", "0"], capture_output=True, text=True)
    assert result.returncode == 2 and "--epochs" in result.stderr


def test_run_needs_a_config_or_a_run_to_resume():
    result = subprocess.run([sys.executable, "-m", "biogrn", "run"], capture_output=True, text=True)
    assert result.returncode == 2 and "give a CONFIG file, or --resume DIR" in result.stderr


def test_mlp_shape():
    model = mlp([4, 8, 3], activation="tanh", dropout=0.1)
    assert [type(m).__name__ for m in model] == ["Linear", "Tanh", "Dropout", "Linear"]
