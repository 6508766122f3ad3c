"""Toggle-switch solves per second: biogrn's batched integration against a scipy solve_ivp loop.

    python simulations/benchmarks/toggle_solves.py [--members 100000 1000000] [--device cuda]

Every member is one parameter set (RACIPE ranges, Sobol) and one random initial condition,
integrated over t = 0..50 with 6 output times. biogrn: one torchdiffeq call for all members
(dopri5, rtol 1e-6, atol 1e-8, float64; and fixed-step rk4 with 0.1 steps, float32), and
`dynamics.integrate_members` (Dormand-Prince with each member's own steps, the same tolerances). scipy:
solve_ivp (RK45, the same tolerances) member by member on a sample with a numpy right-hand side,
scaled to solves per second. Each biogrn row: a warm-up solve, then the median of `--repeats`.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torchdiffeq
from regulator_overhead import median_time
from scipy.integrate import solve_ivp

from biogrn.dynamics import integrate_members
from biogrn.grn import ShiftedHill, sample_parameters, toggle_switch


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--scipy-sample", type=int, default=200)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=3, help="timed solves after a warm-up; the median is shown")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    network = toggle_switch(1).network
    times = torch.linspace(0, 50, 6, dtype=torch.float64)

    params = sample_parameters(network, args.scipy_sample, "sobol", seed=0)
    y0 = torch.rand(args.scipy_sample, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 100
    sources, targets = np.asarray(network.sources), np.asarray(network.targets)
    numpy_params = {k: v.numpy() for k, v in params.items()}

    def toggle_rhs(t, y, g, k, threshold, hill, fold):
        # the shifted-Hill field in plain numpy (what a scipy user writes), product over the two edges
        r = (y[sources] / threshold) ** hill
        factor = 1 / (1 + r) + fold * r / (1 + r)
        product = np.ones(2)
        np.multiply.at(product, targets, factor)
        return g * product - k * y

    start = time.perf_counter()
    for i in range(args.scipy_sample):
        member = [numpy_params[name][i] for name in ("production", "degradation", "threshold", "hill", "fold")]
        solve_ivp(toggle_rhs, (0, 50), y0[i].numpy(), t_eval=times.numpy(), rtol=1e-6, atol=1e-8, args=tuple(member))
    scipy_rate = args.scipy_sample / (time.perf_counter() - start)

    threads = torch.get_num_threads()
    print(f"toggle switch, t = 0..50; device {device}" + (f" ({threads} threads)" if device.type == "cpu" else ""))
    print("\n| solver | members | seconds | solves/s | x scipy loop |\n|---|---|---|---|---|")
    print(
        f"| scipy solve_ivp RK45 loop (sample of {args.scipy_sample}) | {args.scipy_sample} | "
        f"{args.scipy_sample / scipy_rate:.2f} | {scipy_rate:,.0f} | 1.0 |"
    )
    for members in args.members:
        params = {k: v.to(device) for k, v in sample_parameters(network, members, "sobol", seed=0).items()}
        y0 = torch.rand(members, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)).to(device) * 100
        for label, dtype, method, options in (
            ("biogrn dopri5 float64", torch.float64, "dopri5", {}),
            ("biogrn dopri5 float64, a step per member", torch.float64, "member", {}),
            ("biogrn rk4 h=0.1 float32", torch.float32, "rk4", {"step_size": 0.1}),
        ):
            model = ShiftedHill(network, **{k: v.to(dtype) for k, v in params.items()}).to(device)

            def solve():
                with torch.no_grad():
                    if method == "member":
                        return integrate_members(model, y0.to(dtype), times.to(device, dtype), rtol=1e-6, atol=1e-8)
                    return torchdiffeq.odeint(
                        model,
                        y0.to(dtype),
                        times.to(device, dtype),
                        method=method,
                        rtol=1e-6,
                        atol=1e-8,
                        options=options,
                    )

            # one warm-up solve loads the kernels and fills the allocator
            seconds = median_time(solve, device, args.repeats, warmup=1)
            print(
                f"| {label} | {members:,} | {seconds:.2f} | {members / seconds:,.0f} | "
                f"{members / seconds / scipy_rate:,.0f} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
