"""One step for the batch against a step per member, on a random RACIPE network: seconds and error.

    python simulations/benchmarks/racipe_stepping.py [--members 100000] [--outputs 6 101] [--device cpu]

A random network (`Network.random`, 20 genes and 40 edges by default), RACIPE parameter sets
(Sobol) and random initial states in 0..100, integrated over t = 0..50 with dopri5 at rtol 1e-6,
atol 1e-8 in float64: `simulate(stepping="batch")` (one torchdiffeq call, one step size and one
root-mean-square error test for the whole batch) and `stepping="member"` (`integrate_members`),
for each number of evenly spaced output times. Error: the largest relative error over all output
times against scipy's DOP853 at rtol 1e-11, on `--sample` random members and on the `--worst`
members where the two steppings differ most (a random sample rarely holds the members the batch's
mean error test leaves behind). Seconds: one timed solve after a warm-up on 1,000 members.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from scipy.integrate import solve_ivp

from biogrn.grn import Network, ShiftedHill, sample_parameters, simulate

T_END, RTOL, ATOL = 50.0, 1e-6, 1e-8


def dop853(
    model: ShiftedHill,
    y0: torch.Tensor,
    times: torch.Tensor,
    members: np.ndarray,
    rtol: float = 1e-11,
    atol: float = 1e-12,
) -> np.ndarray:
    """`(len(members), len(times), genes)`: the members' states through scipy's DOP853, float64."""
    t_eval = times.double().cpu().numpy()
    rows = []
    for i in members:
        one = model.subset(torch.tensor([int(i)], device=y0.device)).double().cpu()

        def field(t, y):
            with torch.no_grad():
                return one(t, torch.as_tensor(y)[None]).numpy()[0]

        start = y0[i].double().cpu().numpy()
        solution = solve_ivp(
            field, (t_eval[0], t_eval[-1]), start, method="DOP853", t_eval=t_eval, rtol=rtol, atol=atol
        )
        rows.append(solution.y.T)
    return np.stack(rows)


def relative_error(states: np.ndarray, truth: np.ndarray) -> float:
    return float((np.abs(states - truth) / np.maximum(np.abs(truth), 1e-3)).max())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--genes", type=int, default=20)
    parser.add_argument("--edges", type=int, default=40)
    parser.add_argument("--outputs", type=int, nargs="+", default=[6, 101], help="output times, t = 0 included")
    parser.add_argument("--sample", type=int, default=100, help="random members checked against DOP853")
    parser.add_argument("--worst", type=int, default=8, help="members of largest disagreement checked")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    network = Network.random(args.genes, args.edges, args.seed)
    model = ShiftedHill(network, **sample_parameters(network, args.members, "sobol", seed=args.seed)).to(device)
    generator = torch.Generator().manual_seed(args.seed)
    y0 = (torch.rand(args.members, args.genes, dtype=torch.float64, generator=generator) * 100).to(device)
    sample = np.random.default_rng(args.seed).choice(args.members, size=min(args.sample, args.members), replace=False)
    warm = torch.arange(min(1000, args.members), device=device)

    print(
        f"random RACIPE network, {args.genes} genes, {args.edges} edges (seed {args.seed}); {args.members:,} members, "
        f"t = 0..{T_END:g}, dopri5 rtol {RTOL:g} atol {ATOL:g}, float64; device {device}"
        + (f" ({torch.get_num_threads()} threads)" if device.type == "cpu" else "")
    )
    print(
        "\n| output times | stepping | seconds | solves/s | max rel. error, random sample | "
        "max rel. error, most disagreeing |\n|---|---|---|---|---|---|"
    )
    for outputs in args.outputs:
        times = torch.linspace(0, T_END, outputs, dtype=torch.float64, device=device)
        states, seconds = {}, {}
        for stepping in ("batch", "member"):
            simulate(model.subset(warm), y0[warm], times, rtol=RTOL, atol=ATOL, stepping=stepping)
            started = time.perf_counter()
            result = simulate(model, y0, times, rtol=RTOL, atol=ATOL, stepping=stepping)
            seconds[stepping] = time.perf_counter() - started
            states[stepping] = result["state"].values.transpose(2, 0, 1)  # (member, time, gene)
        gap = np.abs(states["batch"] - states["member"]) / np.maximum(np.abs(states["member"]), 1e-3)
        worst = np.argsort(gap.reshape(args.members, -1).max(axis=1))[-args.worst :]
        truth_sample, truth_worst = dop853(model, y0, times, sample), dop853(model, y0, times, worst)
        for stepping in ("batch", "member"):
            print(
                f"| {outputs} | {stepping} | {seconds[stepping]:.2f} | {args.members / seconds[stepping]:,.0f} | "
                f"{relative_error(states[stepping][sample], truth_sample):.1e} | "
                f"{relative_error(states[stepping][worst], truth_worst):.1e} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
