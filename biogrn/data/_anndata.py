"""Cells as training data: an AnnData (`.h5ad`) with a cell-type label per cell.

Features are the expression of each gene (`X`, or a named layer; dense or sparse), labels an
`.obs` column (categories, strings or integers), mapped to class ids in sorted order of the
label's values (or the categories' order for a categorical column). Splits are stratified by
label and seeded (`split_arrays`), so every cell type keeps its share in each split.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from biogrn.core import DataError, check_hdf5, format_bytes, reading, require_memory
from biogrn.data._splits import Splits, split_arrays

__all__ = ["anndata", "expression_levels", "import_anndata", "labelled_matrix", "opened"]


def anndata(
    data,
    label_key: str,
    layer: str | None = None,
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
    seed: int = 0,
) -> Splits:
    """An AnnData object or `.h5ad` path as train / val / test `Splits` of cells.

    `Splits.feature_names` are the genes (`var_names`), `Splits.class_names` the label's values
    in class-id order.

    Raises:
        DataError: naming the file (or "AnnData") and the field: no such file, not an `.h5ad`, no
            `.obs[label_key]` (the columns it has are listed), no such layer, no matrix, a
            non-finite level (cell and gene named), a missing label (cell named), or a label
            held by fewer than two cells (it cannot be in both training and evaluation).
        ImportError: anndata is not installed (`pip install 'biogrn[genomics]'`).
    """
    adata, where = opened(data)
    x, y, names = labelled_matrix(adata, label_key, layer, where)
    source = f"{where} ({adata.n_obs} cells x {adata.n_vars} genes, {label_key})"
    splits = split_arrays(x, y, val_fraction, test_fraction, seed, source)
    return replace(splits, feature_names=tuple(map(str, adata.var_names)), class_names=tuple(map(str, names)))


def labelled_matrix(adata, label_key: str, layer: str | None, where: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """`(x, y, class_names)` of an AnnData: float32 levels (cells x genes), class ids, label values.

    Raises:
        DataError: naming `where` and the field (see `anndata`).
    """
    if label_key not in adata.obs.columns:
        columns = ", ".join(map(str, adata.obs.columns[:20])) or "none"
        raise DataError(f"{where}: obs has no column {label_key!r} (label_key); its columns: {columns}")
    if adata.n_obs == 0:
        raise DataError(f"{where}: holds no cells")
    genes = adata.var_names
    if genes.has_duplicates:
        name = genes[genes.duplicated()][0]
        first, second = np.flatnonzero(genes == name)[:2] + 1
        raise DataError(f"{where}: gene {name!r} is named twice (genes {first} and {second} of var_names)")
    x = expression_levels(adata, layer, where).astype(np.float32, copy=False)
    cells = adata.obs_names
    labels = adata.obs[label_key]
    missing = np.flatnonzero(labels.isna().to_numpy())
    if len(missing):
        raise DataError(f"{where}: obs[{label_key!r}] has no value for cell {cells[missing[0]]!r}")
    names = list(labels.cat.categories) if hasattr(labels, "cat") else sorted(set(labels.tolist()))
    present = set(labels.tolist())
    names = [name for name in names if name in present]  # unused categories would be classes no cell has
    index = {name: i for i, name in enumerate(names)}
    y = np.asarray([index[v] for v in labels.tolist()], dtype=np.int64)
    counts = np.bincount(y, minlength=len(names))
    if (counts < 2).any():
        lonely = names[int(np.flatnonzero(counts < 2)[0])]
        raise DataError(
            f"{where}: obs[{label_key!r}] = {lonely!r} labels a single cell; a stratified split needs at least "
            "two of every label (drop it, or merge it into another)"
        )
    if len(names) < 2:
        raise DataError(
            f"{where}: obs[{label_key!r}] holds a single class ({names[0]!r}); there is nothing to tell apart"
        )
    return x, y, names


def expression_levels(adata, layer: str | None, where: str) -> np.ndarray:
    """`X` (or the named layer) of an AnnData as a dense array, every level finite.

    Raises:
        DataError: no such layer, no X (a valid file may hold none), or a non-finite level (cell
            and gene named).
    """
    from scipy import sparse

    if layer is not None and layer not in adata.layers:
        raise DataError(f"{where}: no layer {layer!r}; its layers are {sorted(adata.layers) or 'none'}")
    matrix = adata.X if layer is None else adata.layers[layer]
    if matrix is None:
        layers = ", ".join(sorted(adata.layers)) or "none"
        raise DataError(f"{where}: no X matrix (the file holds none); name one of its layers ({layers}) with layer=")
    values = matrix.toarray() if sparse.issparse(matrix) else np.asarray(matrix)
    bad = np.argwhere(~np.isfinite(values))
    if len(bad):
        cell, gene = bad[0]
        raise DataError(
            f"{where}: {layer or 'X'}: cell {str(adata.obs_names[cell])!r}, gene {str(adata.var_names[gene])!r} "
            f"is {values[cell, gene]} (not finite)"
        )
    return values


def import_anndata():
    """The `anndata` module, or an ImportError naming the extra that installs it."""
    try:
        import anndata
    except ImportError as error:
        raise ImportError(f".h5ad files need anndata: pip install 'biogrn[genomics]' ({error})") from None
    return anndata


def opened(data) -> tuple[object, str]:
    """The AnnData (given, or read from a `.h5ad` path), and how messages name it.

    Raises:
        DataError: no such file, or a file anndata cannot read.
    """
    ad = import_anndata()
    if isinstance(data, ad.AnnData):
        return data, "AnnData"
    path = Path(data)
    declared = check_hdf5(path, "AnnData .h5ad file")  # no links, and what its datasets declare
    # the levels are copied to float32 and again into torch tensors: three times what the file declares
    require_memory(3 * declared, "cpu", f"{path}: datasets of {format_bytes(declared)}", DataError)
    with reading(path, "AnnData .h5ad file"):  # h5py and anndata raise many kinds for a file not theirs
        return ad.read_h5ad(path), str(path)
