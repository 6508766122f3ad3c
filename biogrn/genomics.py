r"""Marker-gene selection by gene regulation: the network's kept input genes are the cells' kept genes.

`select_genes(adata, label_key, n_genes)` trains an MLP to tell the cells' classes (`obs[label_key]`,
cell types) from their expression, with one regulated gene per input feature (`genes="input"`:
pruning a gene removes the feature's whole column of the first layer). The `target` policy prunes
on a cubic schedule until exactly `n_genes` inputs are left; Eq. 1 runs on each gene with the drive
named (`taylor` by default: $u = \overline{(w \cdot g)^2}$ summed over the feature's column, the
loss change of removing it to second order), and Eq. 2 ranks them. The result is written where
scanpy looks:

- `adata.var["biogrn_selected"]`: True for the kept genes;
- `adata.var["biogrn_expression"]`: each gene's final protein level $p$ (0 where pruned);
- `adata.uns["biogrn"]`: the settings, and the selected genes in the order of their expression,

so `sc.pl.dotplot(adata, adata.var_names[adata.var.biogrn_selected], groupby=label_key)` draws
them. The features are standardised on the cells given (each gene to mean 0 and standard deviation
1) unless `standardize=False`; give log-normalised or scaled levels, not raw counts.
"""

from __future__ import annotations

import json

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from biogrn._version import __version__
from biogrn.core import ConfigError, stream_seed
from biogrn.data._anndata import labelled_matrix
from biogrn.models import mlp
from biogrn.regulation import regulate

__all__ = ["SELECTION_DEFAULTS", "cell_matrix", "select_genes"]

SELECTION_DEFAULTS = {
    "hidden": (64,),
    "epochs": 60,
    "start_epoch": 5,
    "end_epoch": 40,
    "batch_size": 64,
    "lr": 1e-3,
    "policy": "target",
    "drive": "taylor",
}
"""The training `select_genes` runs unless told otherwise: Adam, a cubic schedule from epoch 5 to
40, then 20 epochs at `n_genes` inputs. With fewer `epochs` and no window given, the window
shrinks to fit (start at most `epochs - 1`, end after the start and before the last epoch)."""


def cell_matrix(
    adata, label_key: str, layer: str | None = None, source: str = "AnnData"
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """`(x, y, class_names)`: the expression (cells x genes, float32) and each cell's class id;
    `source` names the data in messages (its file).

    Raises:
        DataError: as `biogrn.data.anndata` (missing key or layer, no cells, a gene named twice, a
            non-finite level, a missing label, a label held by a single cell).
    """
    return labelled_matrix(adata, label_key, layer, source)


def select_genes(
    adata,
    label_key: str,
    n_genes: int,
    seed: int = 0,
    layer: str | None = None,
    standardize: bool = True,
    device: str | torch.device = "cpu",
    source: str = "AnnData",
    **settings,
) -> list[str]:
    """Choose `n_genes` genes that tell the cells' classes apart; write the result into `adata`.

    Args:
        adata: an `anndata.AnnData` of cells x genes (written in place: `var`, `uns`).
        label_key: the `.obs` column of each cell's class.
        n_genes: genes to keep, 1 to the number of genes less one.
        seed: initial weights, batch order and the regulator's draws.
        layer: the layer whose levels are the features; None: `X`.
        standardize: scale each gene to mean 0, standard deviation 1 on these cells first.
        source: how messages name the data (its file).
        **settings: any of `SELECTION_DEFAULTS` (`hidden`, `epochs`, `start_epoch`, `end_epoch`,
            `batch_size`, `lr`, `policy`, `drive`) and any other `RegulatorConfig` field.

    Returns:
        The selected genes' names, most expressed first.

    Raises:
        DataError: bad cells or labels (see `cell_matrix`).
        ConfigError: `n_genes` out of range (a `ValueError`).
        ValueError: an unknown setting.
    """
    x, y, classes = cell_matrix(adata, label_key, layer, source)
    n_features = x.shape[1]
    if not 1 <= n_genes < n_features:
        raise ConfigError(
            f"n_genes: {n_genes}; choose 1 to {n_features - 1} ({source} holds {n_features} genes, "
            "and one at least is left out)"
        )
    options = {**SELECTION_DEFAULTS, **settings}
    epochs = options["epochs"]
    if "start_epoch" not in settings and "end_epoch" not in settings:
        # the default window, kept inside a shorter training: a prune needs an epoch after the start
        options["start_epoch"] = min(SELECTION_DEFAULTS["start_epoch"], epochs - 1)
        options["end_epoch"] = max(min(SELECTION_DEFAULTS["end_epoch"], epochs - 1), options["start_epoch"] + 1)
    training = {key: options.pop(key) for key in ("hidden", "epochs", "batch_size", "lr")}
    if standardize:
        spread = x.std(axis=0)
        x = (x - x.mean(axis=0)) / np.where(spread > 0, spread, 1.0)
    device = torch.device(device)
    torch.manual_seed(seed)
    model = mlp([n_features, *training["hidden"], len(classes)]).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=training["lr"])
    regulator = regulate(
        model,
        optimizer=optimizer,
        genes="input",
        target_sparsity=1.0 - n_genes / n_features,
        epochs=training["epochs"],
        seed=seed,
        **options,
    )
    cells = TensorDataset(torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y))
    shuffle = torch.Generator().manual_seed(stream_seed(seed, "shuffle"))
    loader = DataLoader(cells, batch_size=training["batch_size"], shuffle=True, generator=shuffle)
    for _ in range(training["epochs"]):
        model.train()
        for xb, yb in loader:
            optimizer.zero_grad(set_to_none=True)
            nn.functional.cross_entropy(model(xb.to(device)), yb.to(device)).backward()
            optimizer.step()
            regulator.step()
        regulator.epoch_end()
    name = regulator.tensors[0].name
    kept = regulator.masks()[name].any(dim=0).cpu().numpy()
    expression = regulator.expression()[name].double().cpu().numpy()
    expression = np.where(kept, expression, 0.0)
    if int(kept.sum()) != n_genes:  # the schedule holds exactly round(s N) pruned at its end
        raise RuntimeError(f"select_genes: {int(kept.sum())} genes kept, {n_genes} asked for")
    genes = np.asarray(adata.var_names, dtype=str)
    order = np.flatnonzero(kept)[np.argsort(-expression[kept], kind="stable")]
    selected = [str(g) for g in genes[order]]
    adata.var["biogrn_selected"] = kept
    adata.var["biogrn_expression"] = expression
    adata.uns["biogrn"] = {
        "label_key": label_key,
        "n_genes": int(n_genes),
        "seed": int(seed),
        "layer": layer or "X",
        "standardize": bool(standardize),
        "settings": json.dumps({**training, **options, "hidden": list(training["hidden"])}, sort_keys=True),
        "selected": np.asarray(selected, dtype=str),
        "version": __version__,
    }
    return selected
