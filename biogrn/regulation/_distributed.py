"""The regulator under `torch.distributed`: every rank holds the same gene state, masks and streams.

Under DistributedDataParallel each rank sees its own data. What the regulator reads from that data
is made common once per interval, never per step:

- gradient records filled in the backward pass by a `GeneGate` (which runs before DDP averages
  the gradients), and the Hebbian co-activity and activity: averaged across ranks at each
  integration, before the drive is formed;
- the last dense gradient of gated tensors (RigL, the listing): averaged at each update;
- the validation metric given to `epoch_end`: averaged at each epoch end (the plateau rule).

A record filled from a weight's own `.grad` (the stored-zeros path, the default) is read after
DDP's all-reduce: it is the global gradient, bitwise the same on every rank, and is not sent again.
Random streams need nothing: every rank seeds the regulator's generator from the same `seed` and
draws the same sequence, so decisions made from equal inputs are equal.

FSDP2 shards each parameter into a DTensor; a gene per connection would have to be sharded with
it, and the pruning decisions (per-layer top-k, thresholds over a layer's scores) need the whole
layer. `regulate` refuses such parameters (`refuse_sharded`).
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import Tensor

__all__ = ["RankSync", "refuse_sharded"]


class RankSync:
    """Means across the ranks of a process group, or nothing when there is one rank.

    Args:
        group: the process group; None: the default group once `init_process_group` has run.
    """

    def __init__(self, group=None):
        self.group = group

    @property
    def world_size(self) -> int:
        if not (dist.is_available() and dist.is_initialized()):
            return 1
        return dist.get_world_size(self.group)

    def sum_(self, tensors: list[Tensor]) -> int:
        """Replace each tensor by its sum over the ranks, in place; returns the bytes sent per rank.

        One asynchronous all-reduce per tensor, all in flight together.
        """
        if self.world_size == 1 or not tensors:
            return 0
        handles = [dist.all_reduce(t, op=dist.ReduceOp.SUM, group=self.group, async_op=True) for t in tensors]
        for handle in handles:
            handle.wait()
        return sum(t.numel() * t.element_size() for t in tensors)

    def mean_(self, tensors: list[Tensor]) -> int:
        """Replace each tensor by its mean over the ranks, in place; returns the bytes sent per rank.

        Any backend: gloo has no average, so the sum is divided by the world size (for equal
        inputs on two ranks the result is exact).
        """
        sent = self.sum_(tensors)
        if sent:
            torch._foreach_div_(tensors, self.world_size)
        return sent

    @property
    def rank(self) -> int:
        return dist.get_rank(self.group) if self.world_size > 1 else 0

    def from_first(self, value):
        """Rank 0's `value` on every rank (any picklable object); `value` itself on one rank."""
        if self.world_size == 1:
            return value
        box = [value]
        dist.broadcast_object_list(box, src=dist.get_global_rank(self.group, 0) if self.group else 0, group=self.group)
        return box[0]

    def gather(self, value) -> list:
        """Every rank's `value`, in rank order (any picklable object)."""
        if self.world_size == 1:
            return [value]
        values = [None] * self.world_size
        dist.all_gather_object(values, value, group=self.group)
        return values

    def mean(self, value: float, device: torch.device) -> float:
        """The mean of a number over the ranks (one all-reduce of one element)."""
        if self.world_size == 1:
            return value
        tensor = torch.tensor([value], dtype=torch.float64, device=device)
        self.mean_([tensor])
        return float(tensor)


def refuse_sharded(name: str, tensor: Tensor) -> None:
    """Raise for a parameter sharded across ranks (FSDP2's DTensor).

    Raises:
        ValueError: naming the tensor and what to do instead.
    """
    if type(tensor).__name__ == "DTensor" or type(getattr(tensor, "data", None)).__name__ == "DTensor":
        raise ValueError(
            f"layers: {name} is sharded across ranks (FSDP2's fully_shard); gene regulation needs whole "
            "layers on every rank: use DistributedDataParallel, or leave the sharded layers out of `layers` "
            "(docs/distributed.md)"
        )
