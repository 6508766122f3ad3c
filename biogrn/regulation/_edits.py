"""What a prune/rewire decision does to the stored weights and to the optimizer's state.

Pruned weights become exact zeros; regrown ones start at zero or at small random values; the
optimizer's per-entry state (Adam moments, momentum) is reset wherever a connection changed, so
a regrown connection does not inherit the moments of the one that was cut.

Edits go by index: after the first prune an update changes a few hundred genes of millions, so
the editor touches those entries only instead of passing over every tensor it edits.
"""

from __future__ import annotations

import torch
from torch import Tensor

from biogrn.core import sparse_nonzero
from biogrn.regulation._attachment import Attachment
from biogrn.regulation._tensors import RegulatedTensor

__all__ = ["GeneEdit", "WeightEditor", "reset_optimizer_entries"]


def reset_optimizer_entries(optimizer: torch.optim.Optimizer | None, param: Tensor, where: Tensor) -> None:
    """Zero the optimizer's per-entry state of `param` (Adam moments, momentum buffers...) at `where`.

    Every state tensor with the parameter's shape is per-entry state; scalars such as Adam's step
    count are shared by the whole tensor and left alone.
    """
    for value in _entry_state(optimizer, param):
        value.masked_fill_(where, 0)


def _entry_state(optimizer: torch.optim.Optimizer | None, param: Tensor) -> list[Tensor]:
    state = optimizer.state.get(param) if optimizer is not None else None
    if not state:
        return []
    return [v for v in state.values() if torch.is_tensor(v) and v.shape == param.shape]


def _fill_genes(tensor: RegulatedTensor, x: Tensor, genes: Tensor, value: float) -> None:
    """Set the entries of weight-shaped `x` that belong to `genes` (indices within the tensor) to `value`."""
    if tensor.gene_axis is not None:
        x.index_fill_(tensor.gene_axis, genes, value)
    elif x.is_contiguous():
        x.view(-1).index_fill_(0, genes, value)
    else:  # channels-last and other layouts: the flat gene index is the row-major index
        x[torch.unravel_index(genes, x.shape)] = value


def _put_genes(tensor: RegulatedTensor, x: Tensor, genes: Tensor, values: Tensor) -> None:
    """Write `values` (one per gene, or one fan-in row per unit gene, one fan-out column per input
    gene) into weight-shaped `x` at `genes`."""
    axis = tensor.gene_axis
    if axis is not None:
        shape = list(x.shape)
        shape[axis] = -1  # the genes' own extent; the others as the weight's
        x.index_copy_(axis, genes, values.view(shape))
    else:
        x[torch.unravel_index(genes, x.shape)] = values


class GeneEdit:
    """The genes one decision changes, by index.

    Args:
        changed: sorted flat indices of the genes pruned or regrown.
        grown: for each of them, whether it was regrown (else pruned).
        slices: each tensor's slice of the gene axis.

    One host read: where each tensor's genes start in `changed`, and how many of them grew.
    """

    def __init__(self, changed: Tensor, grown: Tensor, slices: list[slice]):
        self.changed, self.grown = changed, grown
        starts = torch.tensor([s.start for s in slices] + [slices[-1].stop], device=changed.device)
        bounds = torch.searchsorted(changed, starts)
        grown_before = torch.cat([grown.new_zeros(1, dtype=torch.long), grown.cumsum(0)])[bounds]
        bounds, grown_before = torch.stack([bounds, grown_before]).tolist()
        self.ranges = list(zip(bounds[:-1], bounds[1:]))
        self.n_regrown = [b - a for a, b in zip(grown_before[:-1], grown_before[1:])]
        self.n_pruned = [hi - lo - g for (lo, hi), g in zip(self.ranges, self.n_regrown)]

    @classmethod
    def from_masks(cls, prune: Tensor, grow: Tensor, slices: list[slice]) -> GeneEdit:
        """From boolean masks over genes (disjoint: a decision prunes active genes, grows inactive ones)."""
        changed = sparse_nonzero(prune | grow)
        return cls(changed, grow[changed], slices)

    def of_tensor(self, index: int, start: int) -> tuple[Tensor, Tensor]:
        """Tensor `index`'s changed genes (indices within the tensor) and which of them grew."""
        lo, hi = self.ranges[index]
        return self.changed[lo:hi] - start, self.grown[lo:hi]


class WeightEditor:
    """Applies decisions to the stored weights of an attachment.

    Args:
        attachment: the gated tensors.
        slices: each tensor's slice of the gene axis.
        mask: the flat gene mask (after the decision, when `apply` runs).
        regrow_init: `zero` or `normal` (resolved, not `auto`).
        regrow_scale: regrown weights are $N(0, (s\\,\\mathrm{std}_{\\text{kept}})^2)$ with `normal`.
        generator: the stream regrown values are drawn from.
    """

    def __init__(
        self,
        attachment: Attachment,
        slices: list[slice],
        mask: Tensor,
        regrow_init: str,
        regrow_scale: float,
        generator: torch.Generator,
    ):
        self.attachment, self.slices, self.mask = attachment, slices, mask
        self.regrow_init, self.regrow_scale, self.generator = regrow_init, float(regrow_scale), generator
        self.optimizer: torch.optim.Optimizer | None = None

    @torch.no_grad()
    def apply(self, edit: GeneEdit) -> None:
        """Zero pruned weights, initialise regrown ones and reset their optimizer moments."""
        for index, (tensor, sl) in enumerate(zip(self.attachment.tensors, self.slices)):
            genes, grown = edit.of_tensor(index, sl.start)
            if not genes.numel():
                continue
            weight = tensor.original
            _fill_genes(tensor, weight, genes, 0.0)
            if self.regrow_init == "normal" and edit.n_regrown[index]:
                self._draw_regrown(tensor, sl, weight, genes[grown])
            moments = self.attachment.records[index].moments
            if moments is not None:  # the drive's interval survives the reset of these moments
                moments.rebase(genes, axis=tensor.gene_axis)
            for value in _entry_state(self.optimizer, weight):
                _fill_genes(tensor, value, genes, 0.0)
            # unit genes: the bias and the batch norm of a unit are per-gene vectors
            bias = self.attachment.stored_bias(index)
            if bias is not None:
                bias.index_fill_(0, genes, 0.0)
                self._reset_vector_state(bias, genes)
            norm = self.attachment.stored_norm(index)
            if norm is not None:  # a pruned unit's norm outputs zero; a regrown one starts as a fresh norm
                scale, shift = norm
                scale.index_put_((genes,), grown.to(scale.dtype))
                shift.index_fill_(0, genes, 0.0)
                module = self.attachment.norms[index]
                if module.running_mean is not None and edit.n_regrown[index]:
                    module.running_mean.index_fill_(0, genes[grown], 0.0)
                    module.running_var.index_fill_(0, genes[grown], 1.0)
                for value in norm:
                    self._reset_vector_state(value, genes)

    def _reset_vector_state(self, vector: Tensor, genes: Tensor) -> None:
        """Zero the optimizer's per-entry state of a per-gene vector (a unit's bias, scale or shift) at `genes`."""
        for state in _entry_state(self.optimizer, vector):
            state.index_fill_(0, genes, 0.0)

    def _draw_regrown(self, tensor: RegulatedTensor, sl: slice, weight: Tensor, grown: Tensor) -> None:
        r"""Regrown weights $\sim N(0, (s\,\mathrm{std}_{\text{kept}})^2)$, kept = active and not just regrown."""
        keep = self.mask[sl].view(tensor.gene_view_shape) > 0
        keep.view(-1)[grown] = False
        kept = weight[keep.expand_as(weight)]
        scale = self.regrow_scale * (kept.std() if kept.numel() > 1 else weight.std())
        per_gene = tensor.connections_per_gene
        noise = torch.randn(
            grown.numel() * per_gene, generator=self.generator, device=weight.device, dtype=weight.dtype
        )
        _put_genes(tensor, weight, grown, noise.mul_(scale))
