"""AnnData as training data: cells x genes with a cell type per cell, in the files users have."""

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from biogrn.core import DataError
from biogrn.data import anndata as from_anndata

ad = pytest.importorskip("anndata")


def cells(n=120, genes=8, seed=0, sparse_x=False, categorical=True):
    rng = np.random.default_rng(seed)
    kinds = np.array(["B", "NK", "T"])[rng.integers(0, 3, n)]
    x = rng.normal(size=(n, genes)).astype(np.float32)
    x[:, 0] += 3.0 * (kinds == "B")
    obs = pd.DataFrame(
        {"cell_type": pd.Categorical(kinds) if categorical else kinds}, index=[f"c{i}" for i in range(n)]
    )
    var = pd.DataFrame(index=[f"g{i}" for i in range(genes)])
    return ad.AnnData(sparse.csr_matrix(x) if sparse_x else x, obs=obs, var=var)


@pytest.mark.parametrize("sparse_x", [False, True])
def test_an_anndata_or_its_file_becomes_stratified_splits_with_names(tmp_path, sparse_x):
    data = cells(sparse_x=sparse_x)
    splits = from_anndata(data, "cell_type", seed=1)
    assert splits.n_features == 8 and splits.n_classes == 3
    assert splits.feature_names == tuple(f"g{i}" for i in range(8)) and splits.class_names == ("B", "NK", "T")
    assert len(splits.train) + len(splits.val) + len(splits.test) == 120
    x, y = splits.train.tensors
    dense = data.X.toarray() if sparse_x else data.X
    row = np.flatnonzero((dense == x[0].numpy()).all(axis=1))[0]  # each cell keeps its own features and label
    assert splits.class_names[int(y[0])] == data.obs["cell_type"].iloc[row]
    path = tmp_path / "cells.h5ad"
    data.write_h5ad(path)
    again = from_anndata(path, "cell_type", seed=1)
    assert (again.train.tensors[0] == splits.train.tensors[0]).all()


def test_a_layer_is_read_instead_of_x():
    data = cells()
    data.layers["counts"] = np.abs(data.X) * 10
    splits = from_anndata(data, "cell_type", layer="counts")
    assert float(splits.train.tensors[0].min()) >= 0


def _no_such_key(data):
    pass


def _nan_level(data):
    data.X[3, 2] = np.nan
    data.obs["kind"] = data.obs["cell_type"].to_numpy()


def _label(values):
    def edit(data):
        data.obs["kind"] = values(data.n_obs)

    return edit


@pytest.mark.parametrize(
    "edit, message",
    [
        (_no_such_key, "obs has no column 'kind' (label_key); its columns: cell_type"),
        (_nan_level, "cell 'c3', gene 'g2' is nan (not finite)"),
        (_label(lambda n: ["T"] + ["B"] * (n - 1)), "'T' labels a single cell"),
        (_label(lambda n: ["B"] * n), "holds a single class ('B')"),
        (_label(lambda n: [None] + ["B", "T"] * ((n - 1) // 2) + ["B"]), "no value for cell 'c0'"),
    ],
)
def test_bad_cells_are_refused_in_one_line_naming_the_field(edit, message):
    data = cells()
    edit(data)
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        from_anndata(data, "kind")


def test_a_file_that_is_not_anndata_and_a_missing_layer_are_named(tmp_path):
    path = tmp_path / "cells.h5ad"
    path.write_text("not hdf5")
    with pytest.raises(DataError, match="cells.h5ad: not a readable AnnData .h5ad file"):
        from_anndata(path, "cell_type")
    with pytest.raises(DataError, match="no layer 'counts'; its layers are none"):
        from_anndata(cells(), "cell_type", layer="counts")


def test_a_run_trains_on_an_h5ad(tmp_path):
    from biogrn.runs import run

    path = tmp_path / "cells.h5ad"
    cells(n=300).write_h5ad(path)
    config = {
        "data": {"name": "anndata", "path": str(path), "label_key": "cell_type"},
        "model": {"hidden": [16]},
        "training": {"epochs": 3},
        "regulator": {"genes": "input", "policy": "target", "start_epoch": 0, "target_sparsity": 0.5},
    }
    records = run(config, tmp_path / "run", quiet=True, figures=False)
    assert (
        float(records["total_sparsity"][-1]) == 0.5
        and "cells.h5ad (300 cells x 8 genes" in records.attrs["data_source"]
    )


def test_the_run_config_asks_for_label_key_with_anndata_only():
    from biogrn.core import ConfigError
    from biogrn.runs import parse_run_config

    with pytest.raises(ConfigError, match="label_key: data set 'anndata' needs"):
        parse_run_config({"data": {"name": "anndata", "path": __file__}, "pruning": "none"})
    with pytest.raises(ConfigError, match="only data set 'anndata' reads them"):
        parse_run_config({"data": {"label_key": "x"}, "pruning": "none"})


def test_an_h5ad_holding_a_link_to_another_file_is_refused_before_it_is_followed(tmp_path):
    """h5py follows an HDF5 external link, so a crafted .h5ad could read any HDF5 file (issue 37)."""
    import h5py

    path = tmp_path / "cells.h5ad"
    cells().write_h5ad(path)
    with h5py.File(tmp_path / "other.h5", "w") as other:
        other["X"] = np.ones((120, 8), dtype=np.float32)
    with h5py.File(path, "a") as crafted:
        del crafted["X"]
        crafted["X"] = h5py.ExternalLink(str(tmp_path / "other.h5"), "/X")
    with pytest.raises(DataError, match=r"cells.h5ad: /X is a link to .*other.h5:/X'?; an AnnData .h5ad file holds"):
        from_anndata(path, "cell_type")


def test_an_h5ad_whose_compressed_x_declares_terabytes_is_refused_before_it_is_read(tmp_path):
    """A chunked, compressed dataset never written is a few KB on disk and 4 TB once read."""
    import h5py

    path = tmp_path / "cells.h5ad"
    cells().write_h5ad(path)
    with h5py.File(path, "a") as crafted:
        attributes = dict(crafted["X"].attrs)
        del crafted["X"]
        huge = crafted.create_dataset("X", shape=(10**6, 10**6), dtype="f4", chunks=(1, 1024), compression="gzip")
        huge.attrs.update(attributes)
    assert path.stat().st_size < 100_000
    with pytest.raises(DataError, match=r"cells.h5ad: datasets of 3\.6 TiB: needs about .*; .* are available on cpu"):
        from_anndata(path, "cell_type")
