r"""The gene state of a model: one flat buffer of $(m, p)$ for every gene.

All genes of a model live in one flat state `y` of shape `(2, n_genes)`: row 0 is mRNA $m$,
row 1 is protein $p$. Each regulated layer owns a contiguous slice, so per-layer tensors are
views and one `torchdiffeq.odeint` call advances every gene of the model.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["GeneState"]


class GeneState:
    """One flat buffer of $(m, p)$ for every gene, with a contiguous slice per regulated layer.

    Args:
        sizes: number of genes of each layer, in order.
        pools_per_layer: number of pools (units sharing a protein pool) of each layer; the genes of
            a layer are split into that many equal consecutive pools.
        device, dtype: where the state lives.
    """

    def __init__(self, sizes: list[int], pools_per_layer: list[int], device=None, dtype=torch.float32):
        if len(sizes) != len(pools_per_layer):
            raise ValueError("sizes and pools_per_layer must have one entry per layer")
        self.sizes = list(sizes)
        offsets = [0]
        for n in sizes:
            offsets.append(offsets[-1] + n)
        self.offsets = offsets
        self.slices = [slice(a, b) for a, b in zip(offsets[:-1], offsets[1:])]
        self.n_genes = offsets[-1]
        self.y = torch.zeros(2, self.n_genes, device=device, dtype=dtype)
        index, counts, first = [], [], 0
        for layer, (n, pools) in enumerate(zip(sizes, pools_per_layer)):
            if pools < 1 or n % pools:
                raise ValueError(f"layer {layer}: {n} genes cannot form {pools} equal pools")
            per_pool = n // pools
            index.append(torch.arange(first, first + pools, device=device).repeat_interleave(per_pool))
            counts.append(torch.full((pools,), per_pool, device=device, dtype=dtype))
            first += pools
        self.pool_index = torch.cat(index)
        self.pool_count = torch.cat(counts)

    @property
    def m(self) -> Tensor:
        return self.y[0]

    @property
    def p(self) -> Tensor:
        return self.y[1]

    def layer(self, i: int) -> tuple[Tensor, Tensor]:
        """Views of layer `i`'s mRNA and protein."""
        return self.y[0, self.slices[i]], self.y[1, self.slices[i]]

    def pooled_mean(self, x: Tensor) -> Tensor:
        """Mean of `x` over each gene's pool, gathered back to genes (shape `(n_genes,)`)."""
        sums = torch.zeros_like(self.pool_count).index_add_(0, self.pool_index, x)
        return (sums / self.pool_count)[self.pool_index]
