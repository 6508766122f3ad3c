"""Every file in examples/ runs as a user would start it: each run file validates as written and
trains, shortened to two epochs (pruning from the first); the network simulates."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
import xarray as xr

from biogrn.cli import main
from biogrn.runs import load_run_config, parse_run_config, run

EXAMPLES = Path(__file__).parents[1] / "examples"
RUN_FILES = sorted(EXAMPLES.glob("*.toml"))


def test_there_are_examples_and_the_readme_names_each():
    readme = (EXAMPLES / "README.md").read_text()
    assert len(RUN_FILES) >= 4 and all(f"`{path.name}`" in readme for path in RUN_FILES)


@pytest.mark.parametrize("path", RUN_FILES, ids=lambda path: path.name)
def test_each_run_file_validates_as_written_and_trains(tmp_path, path):
    load_run_config(path)  # as written: every field valid
    settings = tomllib.loads(path.read_text())
    settings["training"]["epochs"] = 2
    regulator = settings.setdefault("regulator", {})
    regulator["start_epoch"] = 0
    if "end_epoch" in regulator:
        regulator["end_epoch"] = 2
    if "probe_signals" in settings.get("data", {}).get("mnist1d", {}):
        settings["data"]["mnist1d"]["probe_signals"] = 400
        settings["records"]["probe_every"] = 2
        settings["records"]["probe_genes"] = 50
    records = run(parse_run_config(settings), tmp_path / path.stem, quiet=True, figures=False)
    assert int(records.attrs["complete"]) == 1 and float(records["total_sparsity"][-1]) > 0


def test_the_network_simulates(tmp_path, capsys):
    out = tmp_path / "sim"
    arguments = ["simulate", str(EXAMPLES / "emt-core.topo"), "--members", "8", "--points", "6"]
    assert main([*arguments, "--t-end", "10", "--out", str(out)]) == 0
    assert "model RACIPE" in capsys.readouterr().out
    assert xr.load_dataset(out / "simulation.nc").sizes["gene"] == 5
