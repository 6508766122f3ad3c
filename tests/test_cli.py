import subprocess
import sys

import pytest

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


def test_demo_never_deletes_or_overwrites_and_its_default_name_moves_on(tmp_path, capsys, monkeypatch):
    out = tmp_path / "demo"
    (out / "dense").mkdir(parents=True)  # looks like a previous demo's run, holds a user's notes
    (out / "dense" / "config.json").write_text("{}")
    (out / "dense" / "notes.md").write_text("mine")
    assert main(["demo", "--epochs", "1", "--quiet", "--out", str(out)]) == 2
    assert "already exists and is not empty (dense)" in capsys.readouterr().err
    assert (out / "dense" / "notes.md").read_text() == "mine" and (out / "dense" / "config.json").read_text() == "{}"
    (tmp_path / "a-file").write_text("mine")
    assert main(["demo", "--epochs", "1", "--quiet", "--out", str(tmp_path / "a-file")]) == 2
    assert "is a file" in capsys.readouterr().err and (tmp_path / "a-file").read_text() == "mine"
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--epochs", "1", "--quiet"]) == 0
    first = (tmp_path / "biogrn-demo" / "summary.txt").read_text()
    assert main(["demo", "--epochs", "1", "--quiet"]) == 0  # the default name is taken: the next free one
    assert (tmp_path / "biogrn-demo-2" / "summary.txt").is_file()
    assert (tmp_path / "biogrn-demo" / "summary.txt").read_text() == first
    assert main(["demo", "--epochs", "1", "--quiet", "--out", "biogrn-demo"]) == 2  # named: refused, not replaced


def test_bad_epochs_exit_2():
    result = subprocess.run([sys.executable, "-m", "biogrn", "demo", "--epochs", "0"], capture_output=True, text=True)
    assert result.returncode == 2 and "--epochs" in result.stderr


def test_run_needs_a_config_or_a_run_to_resume():
    result = subprocess.run([sys.executable, "-m", "biogrn", "run"], capture_output=True, text=True)
    assert result.returncode == 2 and "give a CONFIG file, or --resume DIR" in result.stderr


def test_mlp_shape():
    model = mlp([4, 8, 3], activation="tanh", dropout=0.1)
    assert [type(m).__name__ for m in model] == ["Linear", "Tanh", "Dropout", "Linear"]


def test_help_shows_each_options_default(capsys):
    """A new user sees what an option does when left out (issue 36): 0 shown, a switch's False not."""
    from biogrn.cli import main

    with pytest.raises(SystemExit):
        main(["simulate", "--help"])
    text = capsys.readouterr().out
    assert "(default: 100)" in text and "(default: 0)" in text and "(default: member)" in text
    assert "(default: False)" not in text and "(default: None)" not in text


def test_the_parser_loads_no_heavy_library():
    """`biogrn --help` took 3-4 s loading torch (issue 36): the parser is the standard library's,
    and the library loads once a command runs."""
    import subprocess
    import sys

    probe = "import sys, biogrn, biogrn.cli; print(sorted({'torch', 'xarray', 'pandas', 'numpy'} & set(sys.modules)))"
    shown = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == "[]"
    help_text = subprocess.run([sys.executable, "-m", "biogrn", "--help"], capture_output=True, text=True)
    assert help_text.returncode == 0 and "demo" in help_text.stdout


def test_a_clone_that_shadows_the_package_says_so(tmp_path):
    """A clone named biogrn in the working directory made `import biogrn` an empty namespace with
    no message (issue 36): it is now the clone's package, and says so."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).parents[1]
    (tmp_path / "biogrn").symlink_to(root, target_is_directory=True)
    probe = "import biogrn, biogrn.cli; print(biogrn.regulate.__name__, biogrn.cli.__file__)"
    result = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["regulate", str(tmp_path / "biogrn" / "biogrn" / "cli.py")]
    assert "the working directory holds a clone of biogrn's repository" in result.stderr
