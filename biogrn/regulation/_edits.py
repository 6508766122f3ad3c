"""What a prune/rewire decision does to the stored weights and to the optimizer's state.

Pruned weights become exact zeros; regrown ones start at zero or at small random values; the
optimizer's per-entry state (Adam moments, momentum) is reset wherever a connection changed, so
a regrown connection does not inherit the moments of the one that was cut.
"""

from __future__ import annotations

import torch
from torch import Tensor

from biogrn.regulation._attachment import Attachment

__all__ = ["WeightEditor", "reset_optimizer_entries"]


def reset_optimizer_entries(optimizer: torch.optim.Optimizer | None, param: Tensor, where: Tensor) -> None:
    """Zero the optimizer's per-entry state of `param` (Adam moments, momentum buffers...) at `where`.

    Every state tensor with the parameter's shape is per-entry state; scalars such as Adam's step
    count are shared by the whole tensor and left alone.
    """
    if optimizer is None:
        return
    state = optimizer.state.get(param)
    if not state:
        return
    for value in state.values():
        if torch.is_tensor(value) and value.shape == param.shape:
            value.masked_fill_(where, 0)


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
    def apply(self, prune: Tensor, grow: Tensor) -> None:
        """Zero pruned weights, initialise regrown ones and reset their optimizer moments."""
        for index, (tensor, sl) in enumerate(zip(self.attachment.tensors, self.slices)):
            shape = tensor.gene_view_shape
            pruned, grown = prune[sl].view(shape), grow[sl].view(shape)
            weight = tensor.original
            weight.masked_fill_(pruned, 0)
            if self.regrow_init == "zero":
                weight.masked_fill_(grown, 0)
            else:
                keep = (self.mask[sl].view(shape) > 0) & ~grown
                kept = weight[keep.expand_as(weight)]
                scale = self.regrow_scale * (kept.std() if kept.numel() > 1 else weight.std())
                noise = (
                    torch.randn(weight.shape, generator=self.generator, device=weight.device, dtype=weight.dtype)
                    * scale
                )
                weight.copy_(torch.where(grown, noise, weight))
            reset_optimizer_entries(self.optimizer, weight, pruned | grown)
            bias = self.attachment.stored_bias(index)
            if bias is not None:
                changed = prune[sl] | grow[sl]
                bias.masked_fill_(changed, 0)
                reset_optimizer_entries(self.optimizer, bias, changed)
            norm = self.attachment.stored_norm(index)
            if norm is not None:  # a pruned unit's norm outputs zero; a regrown one starts as a fresh norm
                scale, shift = norm
                scale.masked_fill_(prune[sl], 0).masked_fill_(grow[sl], 1)
                shift.masked_fill_(prune[sl] | grow[sl], 0)
                module = self.attachment.norms[index]
                if module.running_mean is not None:
                    module.running_mean.masked_fill_(grow[sl], 0)
                    module.running_var.masked_fill_(grow[sl], 1)
                for value in norm:
                    reset_optimizer_entries(self.optimizer, value, prune[sl] | grow[sl])
