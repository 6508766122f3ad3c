"""Study grids, the dynamics sweep and the sparsity study, end to end on tiny grids."""

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from biogrn.core import ConfigError
from biogrn.runs import grid, point_name, sweep, sweep_point, with_overrides

SIMULATIONS = Path(__file__).parents[2] / "simulations"


def load_script(name):
    spec = importlib.util.spec_from_file_location(name, SIMULATIONS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_grid_and_overrides():
    points = grid({"regulator.alpha": [0, 1], "seed": [3, 4, 5]})
    assert len(points) == 6 and points[1] == {"regulator.alpha": 0, "seed": 4}
    base = {"training": {"epochs": 2}}
    merged = with_overrides(base, {"regulator.alpha": 1, "training.lr": 0.1})
    assert merged == {"training": {"epochs": 2, "lr": 0.1}, "regulator": {"alpha": 1}}
    assert base == {"training": {"epochs": 2}}  # the base is not changed
    assert point_name({"regulator.alpha": 1, "seed": 3}) == "alpha=1,seed=3"
    with pytest.raises(ValueError, match="training.epochs.x: 'epochs' is not a section"):
        with_overrides(base, {"training.epochs.x": 1})


def test_a_bad_point_is_refused_before_anything_runs(tmp_path):
    with pytest.raises(ConfigError, match=r"gamma_m=-1: regulator.gamma_m: Input should be greater than 0"):
        sweep(
            {"training": {"epochs": 1}, "regulator": {"start_epoch": 0}},
            grid({"regulator.gamma_m": [0.01, -1]}),
            tmp_path / "s",
        )
    assert not (tmp_path / "s").exists()


def test_dynamics_sweep_runs_a_2x2_grid_and_reads_finished_points_back(tmp_path):
    sweep = load_script("dynamics_sweep")
    base = {"model": {"hidden": [16]}, "training": {"epochs": 3}, "regulator": {"start_epoch": 1}}
    axes = {"gamma_m": [0.005, 0.02], "alpha": [0.0, 0.5]}
    dataset = sweep.sweep(base, axes, [0], tmp_path)
    assert dict(dataset.sizes) == {"gamma_m": 2, "alpha": 2, "seed": 1}
    assert set(sweep.METRICS) <= set(dataset.data_vars)
    assert np.isfinite(dataset["test_accuracy"]).all() and (dataset["sparsity"] > 0).all()
    records = xr.load_dataset(tmp_path / "runs" / "gamma_m=0.02,alpha=0.5,seed=0" / "records.nc")
    assert math.isclose(
        float(dataset["test_accuracy"].sel(gamma_m=0.02, alpha=0.5, seed=0)), float(records["test_accuracy"])
    )
    written = {p: p.stat().st_mtime_ns for p in (tmp_path / "runs").rglob("records.nc")}
    again = sweep.sweep(base, axes, [0], tmp_path)  # every point is finished: read back, not retrained
    xr.testing.assert_identical(again.drop_vars("train_seconds"), dataset.drop_vars("train_seconds"))
    assert written == {p: p.stat().st_mtime_ns for p in (tmp_path / "runs").rglob("records.nc")}
    sweep.plot(dataset, tmp_path / "sweep.png")
    assert (tmp_path / "sweep.png").stat().st_size > 0


def test_sparsity_study_writes_its_table_records_and_plot(tmp_path, capsys):
    study = load_script("sparsity_study")
    assert (
        study.main(
            [
                "--out",
                str(tmp_path),
                "--sparsities",
                "0.5",
                "--seeds",
                "0",
                "1",
                "--epochs",
                "3",
                "--methods",
                "dense",
                "hysteresis",
                "gene-movement",
                "magnitude",
                "movement",
                "rigl",
            ]
        )
        == 0
    )
    result = xr.load_dataset(tmp_path / "sparsity_study.nc")
    assert list(result["method"].values) == ["dense", "hysteresis", "gene-movement", "magnitude", "movement", "rigl"]
    movement = result.sel({"method": "movement", "target": "0.5"})
    assert np.allclose(movement["sparsity"], 0.5, atol=0.01)
    rigl = result.sel({"method": "rigl", "target": "0.5"})
    assert np.allclose(rigl["sparsity"], 0.5, atol=0.01)  # sparse from the start, count kept
    assert (result.sel({"method": "dense", "target": "natural"})["sparsity"] == 0).all()
    table = (tmp_path / "sparsity_study.md").read_text().splitlines()
    assert table[0].startswith("| method |") and len([r for r in table if r.startswith("| rigl")]) == 1
    paired = [r for r in table if r.startswith("| 0.5 | hysteresis |")]  # the gene policy against each baseline
    assert [r.split("|")[3].strip() for r in paired] == ["magnitude", "movement", "rigl"]
    assert (tmp_path / "sparsity_study.png").exists()


@pytest.mark.slow
def test_the_sweep_runs_on_a_local_ray_cluster(tmp_path):
    pytest.importorskip("ray")
    sweep = load_script("dynamics_sweep")
    base = {"model": {"hidden": [16]}, "training": {"epochs": 2}, "regulator": {"start_epoch": 1}}
    dataset = sweep.sweep(base, {"gamma_m": [0.005, 0.02], "alpha": [0.0, 0.5]}, [0], tmp_path, ray_address="local")
    local = sweep.sweep(base, {"gamma_m": [0.005, 0.02], "alpha": [0.0, 0.5]}, [0], tmp_path / "local")
    xr.testing.assert_identical(dataset.drop_vars("train_seconds"), local.drop_vars("train_seconds"))


def test_cultural_adaptation_compares_the_arms_per_group(tmp_path, capsys):
    script = load_script("cultural_adaptation")
    assert (
        script.main(["--out", str(tmp_path), "--seeds", "0", "--epochs", "2", "--adapt-epochs", "2", "--shots", "3"])
        == 0
    )
    result = xr.load_dataset(tmp_path / "cultural_adaptation.nc")
    assert list(result["arm"].values) == ["before", "static", "rewiring"]
    assert list(result["group"].values) == ["majority", "minority (simulated)"]
    assert "GroupShift" in result.attrs["simulation"]
    worst = result["worst_group_accuracy"].sel(seed=0)
    assert np.allclose(worst, result["accuracy"].sel(seed=0).min("group"))
    assert not np.allclose(result["accuracy"].sel(arm="before"), result["accuracy"].sel(arm="static"))
    assert "SIMULATION" in capsys.readouterr().out


def test_cultural_adaptation_with_real_group_labels(tmp_path, capsys):
    rng = np.random.default_rng(0)
    rows, groups = ["emotion,pixels,Usage"], ["row,group"]
    usages = ["Training"] * 4 + ["PublicTest", "PrivateTest"]
    for i in range(7 * 12):
        pixels = rng.integers(0, 256, 2304)
        rows.append(f"{i % 7}," + " ".join(map(str, pixels)) + f",{usages[(i // 7) % 6]}")
        groups.append(f"{i + 1},{'east' if i % 2 else 'west'}")
    (tmp_path / "fer2013.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "groups.csv").write_text("\n".join(groups) + "\n")
    script = load_script("cultural_adaptation")
    assert (
        script.main(
            [
                "--out",
                str(tmp_path / "out"),
                "--seeds",
                "0",
                "--epochs",
                "1",
                "--adapt-epochs",
                "1",
                "--shots",
                "2",
                "--fer",
                str(tmp_path / "fer2013.csv"),
                "--groups",
                str(tmp_path / "groups.csv"),
                "--majority",
                "west",
                "--minority",
                "east",
            ]
        )
        == 0
    )
    result = xr.load_dataset(tmp_path / "out" / "cultural_adaptation.nc")
    assert sorted(result["group"].values) == ["east", "west"] and result.attrs["simulation"].startswith("no")
    assert "REAL GROUPS" in capsys.readouterr().out


@pytest.mark.slow
def test_expression_knows_tabulates_each_score_per_probe(tmp_path, capsys):
    script = load_script("expression_knows")
    arguments = ["--out", str(tmp_path), "--seeds", "0", "1", "--epochs", "4", "--presets", "mnist1d-mlp"]
    assert script.main([*arguments, "--probe-signals", "400"]) == 0
    result = xr.load_dataset(tmp_path / "expression_knows.nc")
    assert result["probe_spearman"].dims == ("preset", "seed", "probe", "score")
    assert np.isfinite(result["probe_auroc"]).all() and np.isfinite(result["probe_reliability"]).all()
    table = (tmp_path / "expression_knows.md").read_text()
    assert "| mnist1d-mlp | 4 |" in table and "expression - magnitude" in table


def test_the_dynamics_sweep_runs_a_preset_on_mnist1d(tmp_path, capsys):
    script = load_script("dynamics_sweep")
    arguments = [
        "--preset",
        "mnist1d-mlp",
        "--num-samples",
        "200",
        "--epochs",
        "2",
        "--grid",
        "alpha=0,0.5",
        "--out",
        str(tmp_path),
    ]
    assert script.main(arguments) == 0
    config = json.loads((tmp_path / "runs" / "alpha=0,seed=0" / "config.json").read_text())
    assert config["data"]["name"] == "mnist1d" and config["data"]["mnist1d"]["num_samples"] == 200
    assert config["model"]["residual"] and config["regulator"]["start_epoch"] == 1
    assert xr.load_dataset(tmp_path / "dynamics_sweep.nc")["test_accuracy"].sizes == {"alpha": 2, "seed": 1}


def test_the_dynamics_sweep_pairs_each_value_with_the_first_over_the_seeds():
    script = load_script("dynamics_sweep")
    accuracy = np.array([[[0.50, 0.52, 0.51], [0.60, 0.61, 0.63]], [[0.50, 0.50, 0.50], [0.50, 0.51, 0.49]]])
    dataset = xr.Dataset(
        {"test_accuracy": (("gamma_m", "alpha", "seed"), accuracy)},
        coords={"gamma_m": [0.005, 0.02], "alpha": [0.0, 0.5], "seed": [0, 1, 2]},
    )
    table = script.paired_effects(dataset).splitlines()
    rows = [r for r in table if r.startswith("| alpha") or r.startswith("| gamma_m")]
    assert len(rows) == 4  # alpha at two gamma_m, gamma_m at two alpha
    first = next(r for r in rows if r.startswith("| alpha: 0.5 vs 0.0 | gamma_m=0.005"))
    assert "+10.33" in first  # (10 + 9 + 12) / 3 points
    assert script.paired_effects(dataset.isel(seed=[0])) == ""


def test_a_finished_point_of_another_configuration_is_refused_not_read_back(tmp_path):
    base = {"model": {"hidden": [8]}, "training": {"epochs": 1}, "pruning": "none"}
    sweep_point(base, {"seed": 0}, tmp_path, "point")
    assert sweep_point(base, {"seed": 0}, tmp_path, "point")["test_accuracy"] >= 0  # the same: read back
    changed = {**base, "training": {"epochs": 1, "lr": 0.01}}
    with pytest.raises(ConfigError, match="finished under another configuration"):
        sweep_point(changed, {"seed": 0}, tmp_path, "point")


def test_the_mnist1d_baselines_set_each_model_beside_the_published_figure(tmp_path, capsys):
    script = load_script("mnist1d_baselines")
    arguments = ["--out", str(tmp_path), "--seeds", "0", "--models", "logistic", "mlp_wide", "--steps", "40"]
    assert script.main([*arguments, "--num-samples", "500"]) == 0
    study = xr.load_dataset(tmp_path / "mnist1d_baselines.nc")
    assert study["test_accuracy"].sizes == {"model": 2, "seed": 1}
    # The best of the evaluations at steps 0 and 40 includes the last one.
    assert (study["reference_best"] >= study["reference_accuracy"]).all()
    table = (tmp_path / "mnist1d_baselines.md").read_text()
    assert "| logistic | 32 |" in table and "| mlp_wide | 68 |" in table
    assert "chosen on the test set" in table


def test_the_fine_tuning_study_pretrains_once_per_seed_then_prunes_from_those_weights(tmp_path, monkeypatch, capsys):
    study = load_script("finetune_study")
    monkeypatch.setitem(study.PRETRAIN["data"]["mnist1d"], "num_samples", 1000)
    monkeypatch.setitem(study.PRETRAIN, "training", {**study.PRETRAIN["training"], "epochs": 1})
    monkeypatch.setitem(study.FINETUNE, "training", {**study.FINETUNE["training"], "epochs": 3})
    monkeypatch.setattr(study, "SCHEDULE", (1, 2))
    arguments = ["--seeds", "0", "1", "--sparsities", "0.95", "--methods", "dense", "gene-movement", "magnitude"]
    assert study.main([*arguments, "--out", str(tmp_path)]) == 0
    table = capsys.readouterr().out
    assert "**0.95 (primary)** | gene-movement | magnitude" in table and "Zero-shot" in table
    result = xr.load_dataset(tmp_path / "finetune_study.nc")
    assert result["sparsity"].sel({"method": "magnitude", "target": "0.95"}).values.tolist() == [0.95, 0.95]
    records = xr.load_dataset(tmp_path / "runs" / "magnitude-s0.95-seed1" / "records.nc")
    pretrained = tmp_path / "pretrain" / "pretrain-seed1" / "checkpoint.pt"
    import hashlib

    assert records.attrs["weights_sha256"] == hashlib.sha256(pretrained.read_bytes()).hexdigest()
    assert study.main([*arguments, "--out", str(tmp_path)]) == 0  # read back, not trained again
    assert xr.load_dataset(tmp_path / "finetune_study.nc")["test_accuracy"].equals(result["test_accuracy"])


def test_task_switches_measure_each_phase_and_resume_from_their_files(tmp_path, capsys):
    study = load_script("task_switches")
    arguments = ["--seeds", "0", "1", "--methods", "gene", "gene-x4", "magnitude", "--phase-epochs", "1"]
    assert study.main([*arguments, "--out", str(tmp_path)]) == 0
    result = xr.load_dataset(tmp_path / "task_switches.nc")
    assert set(result["method"].values) == {"gene", "gene-x4", "magnitude"}
    assert np.isfinite(result["final_accuracy"]).all() and (result["recovery_steps"] > 0).all()
    point = xr.load_dataset(tmp_path / "points" / "gene-x4-seed0.nc")
    assert point.attrs["gamma_m"] == 4 * 0.02 and point.sizes["phase"] == 4
    assert float(point["sparsity"]) == pytest.approx(0.9, abs=0.01)
    capsys.readouterr()
    assert study.main([*arguments, "--out", str(tmp_path)]) == 0
    assert "0 runs in" in capsys.readouterr().out


def test_a_run_finished_before_a_field_existed_still_reads_back(tmp_path):
    """Adding a field with a default (model.weights, data.label_key) made every earlier finished
    point 'another configuration': configs are compared through the parser, defaults filled."""
    base = {"model": {"hidden": [8]}, "training": {"epochs": 2}, "regulator": {"start_epoch": 1}}
    first = sweep_point(base, {}, tmp_path, "p")
    records = xr.load_dataset(tmp_path / "p" / "records.nc")
    older = json.loads(records.attrs["config"])
    del older["model"]["weights"], older["data"]["label_key"], older["data"]["layer"]
    records.attrs["config"] = json.dumps(older)
    records.to_netcdf(tmp_path / "records.nc")
    (tmp_path / "records.nc").replace(tmp_path / "p" / "records.nc")
    assert sweep_point(base, {}, tmp_path, "p")["test_accuracy"] == first["test_accuracy"]
