"""Reductions over the contiguous segments (one per layer) of a flat gene axis.

Every per-layer quantity of biogrn lives in one flat tensor in which each layer owns a slice;
these are the reductions that the regulator, the policies and the records share.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["mask_bits", "segment_counts", "segment_nonzero", "segment_sums"]

_SAME_SIZE_INTEGER = {
    torch.float64: torch.int64,
    torch.float32: torch.int32,
    torch.float16: torch.int16,
    torch.bfloat16: torch.int16,
}


def mask_bits(mask: Tensor) -> Tensor:
    """A mask of +0.0 and 1.0 viewed as same-size integers (a boolean one as it is).

    Its nonzero entries are then exactly its set ones, and counting integers is what is fast:
    `count_nonzero` over 1 M float32 takes 2.3 ms on these CPUs, over their int32 view 0.13 ms.
    Only for masks: a -0.0 would count as set.
    """
    return mask.view(_SAME_SIZE_INTEGER[mask.dtype]) if mask.is_floating_point() else mask


def segment_sums(x: Tensor, slices: list[slice]) -> Tensor:
    """$\\sum_{c \\in s} x_c$ for each slice $s$, on `x`'s device, shape `(len(slices),)`.

    A boolean `x` is counted (int64) without converting it: a bool sum casts every entry first.
    """
    if x.dtype == torch.bool:
        return segment_nonzero(x, slices)
    return torch.stack([x[s].sum() for s in slices])


def segment_nonzero(x: Tensor, slices: list[slice]) -> Tensor:
    """Nonzero entries of each slice (int64), counted in place: no converted copy of `x`."""
    return torch.stack([torch.count_nonzero(x[s]) for s in slices])


def segment_counts(*masks: Tensor, slices: list[slice]) -> list[list[int]] | list[int]:
    """How many entries of each boolean mask are set in each slice, read to the host at once.

    With one mask, a list with one count per slice; with several, one such list per mask.
    One host synchronisation however many masks.
    """
    counts = torch.stack([segment_sums(mask, slices) for mask in masks]).tolist()
    return counts[0] if len(masks) == 1 else counts
