r"""Structural allow-masks (BioNIC's connectome constraint): which connections may exist at all.

A mask for a weight of shape `(post, pre)` (an `nn.Linear` from `pre` inputs to `post` outputs)
is a boolean tensor of that shape. Pass it to `biogrn.regulate(model, allow={"fc.weight": mask})`:
connections outside it are pruned from the start and rewiring never grows them.

Sources, all returning `(post, pre)` masks:

- `mask_from_edge_list(csv, ...)`: a CSV with one row per connection, columns `pre` and `post`
  (integer indices, or node names with `pre_nodes` / `post_nodes`);
- `mask_from_sparse(npz, ...)`: a `scipy.sparse` adjacency saved with `scipy.sparse.save_npz`,
  rows presynaptic, columns postsynaptic (a connectome's usual orientation);
- `mask_from_graph(graph, pre_nodes, post_nodes)`: a networkx directed graph;
- generated: `random_mask` (exact density), `laminar_mask` (populations in layers and a
  connection-probability table between layers), `distance_mask` (probability
  $p_{\max}\, e^{-d/\lambda}$ of the distance between units).
"""

from __future__ import annotations

import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from biogrn.core import DataError, format_bytes, npy_bytes, read_table, reading, require_memory

__all__ = ["distance_mask", "laminar_mask", "mask_from_edge_list", "mask_from_graph", "mask_from_sparse", "random_mask"]


def _index(values, nodes: Sequence | None, size: int, what: str, where) -> np.ndarray:
    """Integer indices of `values` (names looked up in `nodes`), checked against `size`."""
    if nodes is not None:
        lookup = {str(n): i for i, n in enumerate(nodes)}
        out = np.empty(len(values), dtype=np.int64)
        for i, v in enumerate(values):
            if str(v) not in lookup:
                raise DataError(f"{where(i)}: {what} node {v!r} is unknown")
            out[i] = lookup[str(v)]
        return out
    numbers = np.asarray(values, dtype=object)
    out = np.empty(len(values), dtype=np.int64)
    for i, v in enumerate(numbers):
        try:
            out[i] = int(str(v).strip())
        except ValueError:
            raise DataError(f"{where(i)}: {what} {v!r} is not an integer index (give {what}_nodes for names)") from None
        if out[i] < 0:
            raise DataError(f"{where(i)}: {what} index {out[i]} is negative")
        if out[i] >= size:
            raise DataError(f"{where(i)}: {what} index {out[i]} is out of range for {size} {what} units")
    return out


def mask_from_edge_list(
    path: str | Path,
    n_pre: int,
    n_post: int,
    pre_nodes: Sequence | None = None,
    post_nodes: Sequence | None = None,
    pre_column: str = "pre",
    post_column: str = "post",
) -> Tensor:
    """A `(n_post, n_pre)` mask with True at every listed connection.

    Raises:
        DataError: a column is missing, a node is unknown, an index is negative, out of range or
            not an integer (the message names the file and line).
    """
    path = Path(path)
    table = read_table(path, (pre_column, post_column))
    where = lambda i: f"{path}: line {i + 2}"
    pre = _index(table[pre_column].tolist(), pre_nodes, n_pre, "pre", where)
    post = _index(table[post_column].tolist(), post_nodes, n_post, "post", where)
    mask = torch.zeros(n_post, n_pre, dtype=torch.bool)
    mask[torch.as_tensor(post), torch.as_tensor(pre)] = True
    return mask


def mask_from_sparse(path: str | Path, n_pre: int, n_post: int) -> Tensor:
    """A `(n_post, n_pre)` mask from a `(n_pre, n_post)` scipy.sparse adjacency (`save_npz`).

    Raises:
        DataError: the file is not a sparse matrix, or its shape is not `(n_pre, n_post)`.
    """
    import scipy.sparse

    path = Path(path)
    with reading(path, "scipy.sparse .npz file") as place, zipfile.ZipFile(path) as archive:
        stored = npy_bytes(archive, archive.namelist(), place)
        require_memory(2 * stored, "cpu", f"{path}: a sparse adjacency of {format_bytes(stored)}", DataError)
        adjacency = scipy.sparse.load_npz(path)
    if adjacency.shape != (n_pre, n_post):
        raise DataError(f"{path}: adjacency of shape {adjacency.shape}, expected (pre, post) = ({n_pre}, {n_post})")
    coo = adjacency.tocoo()
    keep = coo.data != 0
    mask = torch.zeros(n_post, n_pre, dtype=torch.bool)
    mask[torch.as_tensor(coo.col[keep].astype(np.int64)), torch.as_tensor(coo.row[keep].astype(np.int64))] = True
    return mask


def mask_from_graph(graph, pre_nodes: Sequence, post_nodes: Sequence) -> Tensor:
    """A `(len(post_nodes), len(pre_nodes))` mask of the graph's edges from pre to post nodes.

    Raises:
        DataError: a listed node is not in the graph.
    """
    missing = [n for n in [*pre_nodes, *post_nodes] if n not in graph]
    if missing:
        raise DataError(f"graph: node {missing[0]!r} is not in the graph")
    pre_index = {n: i for i, n in enumerate(pre_nodes)}
    post_index = {n: i for i, n in enumerate(post_nodes)}
    mask = torch.zeros(len(post_nodes), len(pre_nodes), dtype=torch.bool)
    for a, b in graph.edges():
        if a in pre_index and b in post_index:
            mask[post_index[b], pre_index[a]] = True
        if not graph.is_directed() and b in pre_index and a in post_index:
            mask[post_index[a], pre_index[b]] = True
    return mask


def random_mask(n_pre: int, n_post: int, density: float, generator: torch.Generator | None = None) -> Tensor:
    """Exactly `round(density * n_pre * n_post)` allowed connections, uniformly at random."""
    if not 0 <= density <= 1:
        raise ValueError(f"density: {density} is outside [0, 1]")
    n = n_pre * n_post
    mask = torch.zeros(n, dtype=torch.bool)
    mask[torch.randperm(n, generator=generator)[: round(density * n)]] = True
    return mask.view(n_post, n_pre)


def laminar_mask(
    pre_layers: Mapping[str, int],
    post_layers: Mapping[str, int],
    probability: Mapping[str, Mapping[str, float]],
    generator: torch.Generator | None = None,
) -> Tensor:
    """Populations in cortical layers: each connection from a unit of layer A to one of layer B
    exists with probability `probability[A][B]` (0 where the table has no entry).

    Args:
        pre_layers, post_layers: `{layer: number of units}`, in unit order.
        probability: `{pre layer: {post layer: p}}`.

    Raises:
        ValueError: a probability is outside [0, 1] or names an unknown layer.
    """
    for a, row in probability.items():
        if a not in pre_layers:
            raise ValueError(f"probability: {a!r} is not a presynaptic layer ({list(pre_layers)})")
        for b, p in row.items():
            if b not in post_layers:
                raise ValueError(f"probability[{a!r}]: {b!r} is not a postsynaptic layer ({list(post_layers)})")
            if not 0 <= p <= 1:
                raise ValueError(f"probability[{a!r}][{b!r}]: {p} is outside [0, 1]")
    pre_of = np.repeat(np.arange(len(pre_layers)), list(pre_layers.values()))
    post_of = np.repeat(np.arange(len(post_layers)), list(post_layers.values()))
    table = np.zeros((len(post_layers), len(pre_layers)))
    for i, a in enumerate(pre_layers):
        for j, b in enumerate(post_layers):
            table[j, i] = probability.get(a, {}).get(b, 0.0)
    p = torch.as_tensor(table[np.ix_(post_of, pre_of)], dtype=torch.float32)
    return torch.rand(p.shape, generator=generator) < p


def distance_mask(
    pre_positions: Tensor,
    post_positions: Tensor,
    length: float,
    max_probability: float = 1.0,
    generator: torch.Generator | None = None,
) -> Tensor:
    r"""Each connection exists with probability $p_{\max} e^{-d/\lambda}$, $d$ the Euclidean distance.

    Args:
        pre_positions, post_positions: `(n_pre, dims)` and `(n_post, dims)` unit positions.
        length: $\lambda$, the decay length.
    """
    if length <= 0 or not 0 <= max_probability <= 1:
        raise ValueError(f"length > 0 and max_probability in [0, 1]; got {length}, {max_probability}")
    distance = torch.cdist(post_positions.float(), pre_positions.float())
    return torch.rand(distance.shape, generator=generator) < max_probability * torch.exp(-distance / length)
