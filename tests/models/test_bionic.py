"""The BioNIC-style reference model and its ablation script."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch
import xarray as xr

import biogrn
from biogrn.biology import DaleSign
from biogrn.models import bionic


@pytest.mark.parametrize("shape", [(1, 8, 8), (1, 48, 48)])
def test_bionic_shapes_masks_and_signs(shape):
    model = bionic(shape, 7, hidden=(32, 16), connectome_density=0.3, dale=True, inhibitory_fraction=0.25, seed=1)
    x = torch.rand(5, int(np.prod(shape)))
    assert model(x).shape == (5, 7)
    ((name, mask),) = model.allow.items()
    layer = model.get_submodule(name.removesuffix(".weight"))
    assert (layer.weight[~mask] == 0).all() and 0.1 < mask.float().mean() < 0.7
    dales = [
        p
        for m in model.modules()
        if hasattr(m, "parametrizations")
        for p in m.parametrizations.weight
        if isinstance(p, DaleSign)
    ]
    assert len(dales) == 2  # the layers fed by cortical units
    for dale in dales:
        assert int((~dale.excitatory).sum()) == round(0.25 * len(dale.signs))


def test_bionic_runs_under_biogrn_run_with_the_hebbian_drive(tmp_path):
    config = {
        "model": {"name": "bionic", "hidden": [32, 16]},
        "training": {"epochs": 3},
        "regulator": {"drive": "hebbian", "start_epoch": 1},
    }
    records = biogrn.run(config, tmp_path / "run", quiet=True, figures=False)
    assert records.attrs["complete"] == 1 and float(records["total_sparsity"][-1]) > 0
    np.savez(tmp_path / "d.npz", x=np.random.rand(40, 3), y=np.arange(40) % 2)
    bad = {"model": {"name": "bionic"}, "data": {"name": "npz", "path": str(tmp_path / "d.npz")}}
    with pytest.raises(biogrn.ConfigError, match="'bionic' needs image data"):
        biogrn.run(bad, tmp_path / "bad", quiet=True)


def test_ablation_script_switches_each_feature_off(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location(
        "ablation", Path(__file__).parents[2] / "simulations" / "bionic_ablation.py"
    )
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.main(["--out", str(tmp_path), "--seeds", "0", "--epochs", "2"]) == 0
    result = xr.load_dataset(tmp_path / "bionic_ablation.nc")
    assert list(result["variant"].values) == list(script.ABLATIONS)
    assert float(result["sparsity"].sel(variant="no-gene-regulation", seed=0)) == 0.0
    assert "| no-dale |" in capsys.readouterr().out
