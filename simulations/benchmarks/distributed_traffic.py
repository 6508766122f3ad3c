"""What the regulator adds to the traffic of DistributedDataParallel, measured on two ranks.

    cd simulations/benchmarks && python distributed_traffic.py [--backend gloo] [--width 1024] [--ranks 2]

Two processes (`--ranks`) train an MLP (width-width-width-10, 2.1 M connections at width 1024) under DDP for
one integration interval (`integrate_every` steps) in each regulated setting, and print per
setting: the bytes the regulator all-reduces per integration (`Regulator.bytes_reduced`), DDP's
gradient bytes per step (every parameter, every step), their ratio per step, and the median wall
time of one regulator reduction against one DDP step on this machine. Not in the table: gated
RigL and the listing policy also average their last gradient once per update (per epoch by
default), the weights' size again. On CUDA machines run it with `--backend nccl` (one GPU per rank;
`--ranks 1` on a single GPU: the bytes are what every rank would send, the time is the backend's
single-rank all-reduce of them, a device-side copy with no link in it).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.nn.parallel import DistributedDataParallel

import biogrn

SETTINGS = {
    "stored zeros (gate mask, default)": {},
    "gate hill": {"gate": "hill"},
    "Hebbian drive": {"drive": "hebbian"},
}


def worker(rank: int, world: int, init: str, backend: str, width: int, interval: int, queue) -> None:
    dist.init_process_group(backend, init_method=f"file://{init}", rank=rank, world_size=world)
    device = torch.device("cuda", rank) if backend == "nccl" else torch.device("cpu")
    torch.set_num_threads(max(1, (os.cpu_count() or 2) // world))
    for label, overrides in SETTINGS.items():
        torch.manual_seed(0)
        model = nn.Sequential(
            nn.Linear(width, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(), nn.Linear(width, 10)
        ).to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        reg = biogrn.regulate(model, optimizer=optimizer, integrate_every=interval, **overrides)
        ddp = DistributedDataParallel(model, device_ids=[device] if device.type == "cuda" else None)
        x, y = torch.randn(64, width, device=device), torch.randint(0, 10, (64,), device=device)
        step_times, reduce_times = [], []
        for _ in range(3):
            for step in range(interval):
                started = time.perf_counter()
                optimizer.zero_grad()
                nn.functional.cross_entropy(ddp(x), y).backward()
                optimizer.step()
                if step < interval - 1:
                    reg.step()
                    if device.type == "cuda":
                        torch.cuda.synchronize()
                    step_times.append(time.perf_counter() - started)
            # the integration's reduction alone; on one rank RankSync sends nothing, so there it is sent
            # here directly, to time the backend's own single-rank path
            records = reg._rank_local_records()
            per_integration = sum(t.numel() * t.element_size() for t in records)
            started = time.perf_counter()
            if world > 1:
                reg.sync.mean_(records)
            else:
                for handle in [dist.all_reduce(t, async_op=True) for t in records]:
                    handle.wait()
            if device.type == "cuda":
                torch.cuda.synchronize()
            reduce_times.append(time.perf_counter() - started)
            before = reg.bytes_reduced
            reg.step()  # the integration itself (its reduction again, as in training)
            if world > 1 and reg.bytes_reduced - before != per_integration:
                sent = reg.bytes_reduced - before
                raise AssertionError(f"{label}: the regulator sent {sent} bytes, not {per_integration}")
        ddp_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
        if rank == 0:
            queue.put(
                (label, per_integration, ddp_bytes, statistics.median(reduce_times), statistics.median(step_times))
            )
        reg.remove()
        del ddp  # DDP's reducer holds the process group: release it before the group is destroyed
    dist.barrier()
    dist.destroy_process_group()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="gloo", choices=["gloo", "nccl"])
    parser.add_argument("--width", type=int, default=1024)
    parser.add_argument("--integrate-every", type=int, default=50)
    parser.add_argument("--ranks", type=int, default=2, help="processes; NCCL needs one GPU each")
    args = parser.parse_args()
    world = args.ranks
    if args.backend == "nccl" and world > torch.cuda.device_count():
        gpus = torch.cuda.device_count()
        raise SystemExit(f"--ranks {world}: NCCL needs one GPU per rank and this machine has {gpus}")
    context = mp.get_context("spawn")
    queue = context.SimpleQueue()
    with tempfile.TemporaryDirectory() as folder:
        mp.spawn(
            worker,
            (world, os.path.join(folder, "init"), args.backend, args.width, args.integrate_every, queue),
            nprocs=world,
        )
    print(f"{world} ranks, {args.backend}, MLP width {args.width}, integrate_every {args.integrate_every}")
    print(
        "| setting | regulator bytes per integration | DDP gradient bytes per step | regulator / DDP per step "
        "| one regulator reduction | one DDP step |"
    )
    print("|---|---|---|---|---|---|")
    while not queue.empty():
        label, reduced, ddp_bytes, reduce_time, step_time = queue.get()
        ratio = reduced / args.integrate_every / ddp_bytes
        print(
            f"| {label} | {reduced / 2**20:.1f} MiB | {ddp_bytes / 2**20:.1f} MiB | {ratio * 100:.2f}% "
            f"| {reduce_time * 1e3:.1f} ms | {step_time * 1e3:.1f} ms |"
        )


if __name__ == "__main__":
    main()
