"""Runs over several processes: `biogrn run` under torchrun, or launching torchrun itself.

Under torchrun (or `WORLD_SIZE` > 1 in the environment) the command joins the process group and
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

import torch
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
    """Whether torchrun started this process (`TORCHELASTIC_RUN_ID` set, one process or several),
    or the environment names more than one rank (`WORLD_SIZE` > 1, as other launchers set it)."""
    return "TORCHELASTIC_RUN_ID" in os.environ or int(os.environ.get("WORLD_SIZE", "1")) > 1


def process_group_backend() -> str:
    """gloo for CPU tensors and, where torch has NCCL and this machine a GPU, NCCL for CUDA tensors.

    A CUDA build of torch on a machine without a GPU has NCCL but cannot start it ("no GPUs
    found"), so NCCL is asked for only where a GPU is seen.
    """
    return "cpu:gloo,cuda:nccl" if dist.is_nccl_available() and torch.cuda.is_available() else "gloo"


@contextmanager
def process_group_from_environment() -> Iterator[None]:
    """Join the launcher's process group for the block (`launched_by_torchrun`); a torchrun run of
    one process joins a group of one. The backend: `process_group_backend`, chosen per tensor by torch.
    """
    if not launched_by_torchrun() or dist.is_initialized():
        yield
        return
    dist.init_process_group(process_group_backend())
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
