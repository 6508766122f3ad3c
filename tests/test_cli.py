import subprocess
import sys

from biogrn.cli import digits_splits, main
from biogrn.train import mlp


def test_digits_splits_are_disjoint_and_scaled():
    train, val, test = digits_splits(0)
    assert len(train) + len(val) + len(test) == 1797
    x = train.tensors[0]
    assert x.min() >= 0 and x.max() <= 1 and x.shape[1] == 64


def test_demo_runs_and_prints_the_comparison(capsys):
    assert main(["demo", "--epochs", "7", "--quiet"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["model", "test", "accuracy", "sparsity"]
    dense, regulated = out[1].split(), out[2].split()
    assert dense[0] == "dense" and regulated[0] == "regulated"
    assert float(regulated[2].rstrip("%")) > 30.0  # the first prune (after epoch 5) happened
    assert float(dense[1].rstrip("%")) > 80.0


def test_bad_epochs_exit_2():
    result = subprocess.run([sys.executable, "-m", "biogrn.cli", "demo", "--epochs", "0"], capture_output=True, text=True)
    assert result.returncode == 2 and "--epochs" in result.stderr


def test_mlp_shape():
    model = mlp([4, 8, 3])
    assert [type(m).__name__ for m in model] == ["Linear", "ReLU", "Linear"]
