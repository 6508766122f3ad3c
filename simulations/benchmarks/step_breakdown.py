"""Split the regulator's per-step cost: masking and recording versus integration; detect host syncs.

    python simulations/benchmarks/step_breakdown.py [--device cuda]
"""

from __future__ import annotations

import argparse
import statistics
import warnings

import torch
from torch import nn

import biogrn
from regulator_overhead import clock, make_model


def per_step(device, variant: str, steps: int, repeats: int) -> float:
    x = torch.randn(64, 1024, device=device)
    y = torch.randint(0, 10, (64,), device=device)
    model = make_model(device)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    reg = None
    if variant == "regulated":
        reg = biogrn.regulate(model, optimizer=opt)
    elif variant == "regulated, no integration in the window":
        reg = biogrn.regulate(model, optimizer=opt, integrate_every=10**9, step_size=1.0)

    def step():
        opt.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
        if reg is not None:
            reg.step()
    for _ in range(steps):
        step()
    times = []
    for _ in range(repeats):
        start = clock(device)
        for _ in range(steps):
            step()
        times.append((clock(device) - start) / steps)
    if reg is not None and device.type == "cuda":
        torch.cuda.set_sync_debug_mode("warn")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for _ in range(steps):
                step()
            torch.cuda.set_sync_debug_mode(0)
        syncs = [str(w.message).splitlines()[0] for w in caught if "synchroniz" in str(w.message)]
        print(f"{variant}: {len(syncs)} host syncs in {steps} steps")
    return statistics.median(times)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    variants = ["plain", "regulated, no integration in the window", "regulated"]
    results = {v: per_step(device, v, 50, args.repeats) for v in variants}
    base = results["plain"]
    print(f"\n| variant (batch 64, 2.1 M connections, 50-step windows) | median ms/step | added |\n|---|---|---|")
    for v, t in results.items():
        print(f"| {v} | {t * 1e3:.3f} | {(t / base - 1) * 100:+.1f}% |")


if __name__ == "__main__":
    main()
