"""Where a batched toggle-switch solve spends its time on the GPU.

    python simulations/benchmarks/profile_toggle_gpu.py [--members 100000 1000000]

For each size (float32, RACIPE parameters, t = 0..200, dopri5 at rtol 1e-5, atol 1e-6): the number
of field evaluations, one evaluation's time, and the whole solve with the plain field, with the
field under `torch.compile`, under `torch.compile(mode="reduce-overhead")` (CUDA graphs), and with
a trivial linear field (what the solver's own steps cost). Medians of three after warm-ups. Last,
the host and device time totals from `torch.profiler`: a host total far above the device total
means kernel launches, not the GPU, set the pace.
"""

from __future__ import annotations

import argparse
import time

import torch
import torchdiffeq
from regulator_overhead import median_time

from biogrn.grn import ShiftedHill, sample_parameters, toggle_switch


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args(argv)
    device = torch.device("cuda")
    network = toggle_switch(1).network
    times = torch.tensor([0.0, 200.0], device=device)

    def solve(field, y0) -> None:
        torchdiffeq.odeint(field, y0, times, rtol=1e-5, atol=1e-6)

    print(
        "| members | field evaluations | one evaluation (us) | plain | torch.compile | reduce-overhead | "
        "linear field | host total | device total |\n|---|---|---|---|---|---|---|---|---|"
    )
    for members in args.members:
        params = {k: v.to(device, torch.float32) for k, v in sample_parameters(network, members, "sobol", 0).items()}
        y0 = (torch.rand(members, 2, generator=torch.Generator().manual_seed(0)) * 100).to(device)
        model = ShiftedHill(network, **params).to(device)
        evaluations = 0

        def counted(t, y):
            nonlocal evaluations
            evaluations += 1
            return model(t, y)

        compiled = torch.compile(model, dynamic=False)
        graphed = torch.compile(model, mode="reduce-overhead", dynamic=False)

        def replayed(t, y):
            # a CUDA graph reuses its output buffer: the solver keeps stages, so each one is copied out
            torch.compiler.cudagraph_mark_step_begin()
            return graphed(t, y).clone()

        with torch.no_grad():
            for _ in range(3):
                model(times[0], y0)
            torch.cuda.synchronize()
            start = time.perf_counter()
            for _ in range(200):
                model(times[0], y0)
            torch.cuda.synchronize()
            one = (time.perf_counter() - start) / 200
            solve(counted, y0)
            medians = []
            for field in (model, compiled, replayed, lambda t, y: -y):
                medians.append(median_time(lambda: solve(field, y0), device, 3, warmup=2))
            activities = [torch.profiler.ProfilerActivity.CPU, torch.profiler.ProfilerActivity.CUDA]
            with torch.profiler.profile(activities=activities) as profile:
                solve(model, y0)
        events = profile.key_averages()
        host = events.self_cpu_time_total / 1e6
        # kernels only: an operator's row repeats its kernels' device time
        device_total = (
            sum(e.self_device_time_total for e in events if e.device_type == torch.autograd.DeviceType.CUDA) / 1e6
        )
        print(
            f"| {members:,} | {evaluations} | {one * 1e6:.0f} | "
            + " | ".join(f"{s:.3f} s" for s in medians)
            + f" | {host:.3f} s | {device_total:.3f} s |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
