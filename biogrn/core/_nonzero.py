"""Indices of the few set entries of a long boolean: what a prune/rewire update changes.

`torch.nonzero` on a CPU reads a boolean one byte at a time, about 1 ms per million entries on
the machines of docs/benchmarks.md whether one entry or all are set. An update changes a few
hundred genes of millions, so the mask is read as int64 words of eight entries instead, and only
the words that hold a set entry are looked at again.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["sparse_nonzero"]


def sparse_nonzero(mask: Tensor) -> Tensor:
    """`mask.nonzero().squeeze(1)` for a flat boolean `mask`, in increasing order; faster where few are set on a CPU.

    On other devices (whose `nonzero` is already parallel), or for a view that does not start on a
    word, it is `nonzero` itself.
    """
    if mask.dim() != 1 or mask.dtype != torch.bool:
        raise ValueError(f"mask: expected a flat boolean tensor, got {mask.dtype} of shape {tuple(mask.shape)}")
    n = mask.numel()
    full = n - n % 8
    if mask.device.type != "cpu" or full == 0 or mask.storage_offset() % 8 or not mask.is_contiguous():
        return mask.nonzero().squeeze(1)
    words = mask[:full].view(torch.int64).nonzero().squeeze(1)
    spots = (words.unsqueeze(1) * 8 + torch.arange(8, device=mask.device)).flatten()
    found = spots[mask[spots]]
    if full < n:
        found = torch.cat([found, full + mask[full:].nonzero().squeeze(1)])
    return found
