"""Where the regulated training step spends its time: torch.profiler tables, plain and regulated.

cd simulations/benchmarks && python profile_step.py [--device cuda] [--batch 64]
"""

from __future__ import annotations

import argparse

import torch
from regulator_overhead import make_model, train_step
from torch.profiler import ProfilerActivity, profile

import biogrn


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=100)
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    x = torch.randn(args.batch, 1024, device=device)
    y = torch.randint(0, 10, (args.batch,), device=device)
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    sort = "self_cuda_time_total" if device.type == "cuda" else "self_cpu_time_total"
    for regulated in (False, True):
        model = make_model(device)
        opt = torch.optim.Adam(model.parameters(), 1e-3)
        reg = biogrn.regulate(model, optimizer=opt) if regulated else None

        def step():
            train_step(model, opt, reg, x, y)

        for _ in range(60):
            step()
        with profile(activities=activities) as prof:
            for _ in range(args.steps):
                step()
            if device.type == "cuda":
                torch.cuda.synchronize()
        print(f"\n## {'regulated' if regulated else 'plain'}, {args.steps} steps, batch {args.batch}")
        print(prof.key_averages().table(sort_by=sort, row_limit=15, max_name_column_width=40))


if __name__ == "__main__":
    main()
