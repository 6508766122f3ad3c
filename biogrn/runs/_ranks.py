"""Runs over several processes: `biogrn run` under torchrun, or launching torchrun itself.

Under torchrun (`WORLD_SIZE` > 1 in the environment) the command joins the process group and
every rank builds the same run: the same data splits, model, regulator and random streams.
Training batches come from a `DistributedSampler` (each rank a share of the global batch);
validation and test splits are cut into disjoint `RankShard`s whose sums are added across ranks;
rank 0 alone claims and locks the directory and writes config, checkpoints, records and figures.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import torch.distributed as dist
from torch.utils.data import Dataset, Sampler

from biogrn.regulation import RankSync

__all__ = ["RankShard", "launch_torchrun", "launched_by_torchrun", "process_group_from_environment"]


class RankShard(Sampler[int]):
    """Rank r's examples r, r + W, r + 2W, ... of a split: disjoint, together the whole split, unpadded
    (DistributedSampler pads with repeats, which would count examples twice in a metric)."""

    def __init__(self, dataset: Dataset, ranks: RankSync):
        self.n, self.rank, self.world = len(dataset), ranks.rank, ranks.world_size

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.rank, self.n, self.world))

    def __len__(self) -> int:
        return len(range(self.rank, self.n, self.world))


def launched_by_torchrun() -> bool:
    """Whether this process is one of several that torchrun started (`WORLD_SIZE` > 1)."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


@contextmanager
def process_group_from_environment() -> Iterator[None]:
    """Join torchrun's process group for the block when the environment names more than one rank.

    The backend is gloo for CPU tensors and, where torch has it, NCCL for CUDA tensors, chosen per
    tensor by torch.
    """
    if not launched_by_torchrun() or dist.is_initialized():
        yield
        return
    dist.init_process_group("cpu:gloo,cuda:nccl" if dist.is_nccl_available() else "gloo")
    try:
        yield
    finally:
        dist.destroy_process_group()


def launch_torchrun(nproc: int, arguments: list[str]) -> int:
    """Run `biogrn ARGUMENTS` as `nproc` processes on this machine through torchrun; its exit status."""
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc-per-node={nproc}",
        "-m",
        "biogrn",
        *arguments,
    ]
    return subprocess.run(command, check=False).returncode
