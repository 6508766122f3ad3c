"""Reductions over the contiguous segments (one per layer) of a flat gene axis.

Every per-layer quantity of biogrn lives in one flat tensor in which each layer owns a slice;
these are the reductions that the regulator, the policies and the records share.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["segment_counts", "segment_nonzero", "segment_sums"]


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
