"""Marker-gene selection: the informative genes are found where they are known, and the result is
written where scanpy reads it (issue 38)."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

ad = pytest.importorskip("anndata")

from biogrn.genomics import select_genes  # noqa: E402

FAST = {"epochs": 30, "start_epoch": 2, "end_epoch": 20, "lr": 3e-3}


def known_markers(seed, n_cells=400, n_genes=30, informative=(3, 11, 17), shift=4.0):
    """Eight cell types, one per on/off pattern of three marker genes (each `shift` standard
    deviations up when on): every marker is needed to tell the types apart, and the three suffice."""
    rng = np.random.default_rng(seed)
    kinds = rng.integers(0, 2 ** len(informative), n_cells)
    x = rng.normal(size=(n_cells, n_genes)).astype(np.float32)
    for bit, gene in enumerate(informative):
        x[(kinds >> bit) & 1 == 1, gene] += shift
    obs = pd.DataFrame({"cell_type": pd.Categorical([f"type{k}" for k in kinds])})
    obs.index = obs.index.astype(str)
    return ad.AnnData(x, obs=obs, var=pd.DataFrame(index=[f"gene{i}" for i in range(n_genes)]))


@settings(max_examples=4, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from(["taylor", "fisher", "magnitude"]))
def test_a_clear_signal_is_recovered_exactly(seed, drive):
    data = known_markers(seed)
    chosen = select_genes(data, "cell_type", 3, seed=seed, drive=drive, **FAST)
    assert set(chosen) == {"gene3", "gene11", "gene17"}


def test_the_result_is_written_where_scanpy_reads_it():
    data = known_markers(0)
    chosen = select_genes(data, "cell_type", 5, seed=1, **FAST)
    assert data.var["biogrn_selected"].sum() == 5
    assert list(data.var_names[data.var["biogrn_selected"]]) == sorted(chosen, key=lambda g: int(g[4:]))
    expression = data.var["biogrn_expression"]
    assert (expression[~data.var["biogrn_selected"]] == 0).all() and (expression[chosen] > 0).all()
    assert list(expression[chosen]) == sorted(expression[chosen], reverse=True)  # most expressed first
    settings_written = data.uns["biogrn"]
    assert settings_written["n_genes"] == 5 and settings_written["label_key"] == "cell_type"
    assert list(settings_written["selected"]) == chosen
    assert select_genes(known_markers(0), "cell_type", 5, seed=1, **FAST) == chosen  # the seed decides


def test_bad_requests_are_refused():
    data = known_markers(0)
    with pytest.raises(ValueError, match="n_genes: 30; choose 1 to 29"):
        select_genes(data, "cell_type", 30)
    from biogrn.core import DataError

    with pytest.raises(DataError, match="obs has no column 'kind'"):
        select_genes(data, "kind", 3)


def test_on_scanpys_pbmc_cells_the_selection_finds_known_markers_and_dotplots():
    sc = pytest.importorskip("scanpy")
    import matplotlib

    matplotlib.use("Agg")
    data = sc.datasets.pbmc68k_reduced()  # ships inside scanpy's wheel: 700 cells x 765 genes
    chosen = select_genes(data, "bulk_labels", 20, seed=0)
    assert len(chosen) == 20 and len(set(chosen)) == 20
    # canonical PBMC markers (Seurat's PBMC 3k tutorial) present in this file
    canonical = {"IL7R", "CCR7", "LYZ", "MS4A1", "CD8A", "FCGR3A", "GNLY", "NKG7", "FCER1A", "CST3"}
    assert len(canonical & set(chosen)) >= 2
    sc.pl.dotplot(data, data.var_names[data.var["biogrn_selected"]], groupby="bulk_labels", show=False)


def test_the_command_writes_a_new_h5ad_and_a_dot_plot_and_refuses_bad_input(tmp_path, capsys):
    from biogrn.cli import main

    path = tmp_path / "cells.h5ad"
    known_markers(0).write_h5ad(path)
    out = tmp_path / "chosen.h5ad"
    arguments = ["select-genes", str(path), "--label-key", "cell_type", "--n-genes", "3", "--epochs", "30"]
    assert main([*arguments, "--out", str(out)]) == 0
    assert "3 genes, most expressed first:" in capsys.readouterr().out
    written = ad.read_h5ad(out)
    assert set(written.var_names[written.var["biogrn_selected"]]) == {"gene3", "gene11", "gene17"}
    assert (tmp_path / "chosen.png").stat().st_size > 0
    assert ad.read_h5ad(path).var.columns.empty  # the input file is not changed
    assert main([*arguments, "--out", str(out)]) == 2  # never replaced
    assert "already exists" in capsys.readouterr().err
    bad = ["select-genes", str(path), "--label-key", "kind", "--n-genes", "3", "--out", str(tmp_path / "x.h5ad")]
    assert main(bad) == 2
    error = capsys.readouterr().err
    assert "obs has no column 'kind'" in error and "Traceback" not in error and len(error.strip().splitlines()) == 1


def test_the_marker_study_scores_every_selector_on_the_same_held_out_cells(tmp_path, capsys):
    pytest.importorskip("scanpy")
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[1] / "simulations" / "marker_genes.py"
    spec = importlib.util.spec_from_file_location("marker_genes", path)
    study = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(study)
    arguments = ["--seeds", "0", "1", "--ks", "20", "--selectors", "biogrn", "wilcoxon", "l1-logistic", "random"]
    assert study.main([*arguments, "--out", str(tmp_path)]) == 0
    table = capsys.readouterr().out
    assert "**Primary (k = 20, biogrn against wilcoxon" in table and "| 20 | random |" in table
    import json

    point = json.loads((tmp_path / "points" / "wilcoxon-k20-seed1.json").read_text())
    assert len(point["genes"]) == len(set(point["genes"])) == 20 and 0.5 < point["accuracy"] <= 1.0
    assert study.main([*arguments, "--out", str(tmp_path)]) == 0
    assert "0 selections in" in capsys.readouterr().out  # read back from its files


def test_a_shorter_training_fits_the_default_window_inside_it():
    """epochs=10 with the default window (5 to 40) would end the schedule after the run: the window
    shrinks to epochs 5 to 9, so exactly n_genes are kept, with no warning."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        chosen = select_genes(known_markers(0), "cell_type", 3, seed=0, epochs=10, lr=3e-3)
    assert len(chosen) == 3
