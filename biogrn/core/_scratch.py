"""Buffers kept between the periodic computations over every gene (a prune/rewire update).

An update over millions of genes needs a dozen temporaries of megabytes each. Allocated fresh,
each one costs a CPU its page faults again at every update (the allocator hands large blocks back
to the operating system on free): on the 2-core machines of docs/benchmarks.md that was about
half of the update's time. On a GPU the caching allocator already reuses freed memory, so
`Scratch` holds nothing there and memory stays free between updates.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["Scratch"]


class Scratch:
    """Named flat buffers, each grown to the largest size asked of it and reused after.

    `scratch(name, n, dtype, device)` returns the first `n` entries of the buffer `name`; what it
    held before is garbage. A name is one temporary: two live at the same time need two names.
    """

    def __init__(self, hold: bool = True):
        self.hold = hold
        self._buffers: dict[str, Tensor] = {}

    def __call__(self, name: str, n: int, dtype: torch.dtype, device: torch.device) -> Tensor:
        if not self.hold or torch.device(device).type != "cpu":
            return torch.empty(n, dtype=dtype, device=device)
        buffer = self._buffers.get(name)
        if buffer is None or buffer.numel() < n or buffer.dtype != dtype or buffer.device != torch.device(device):
            buffer = self._buffers[name] = torch.empty(n, dtype=dtype, device=device)
        return buffer[:n]

    @property
    def nbytes(self) -> int:
        """Bytes held."""
        return sum(b.numel() * b.element_size() for b in self._buffers.values())
