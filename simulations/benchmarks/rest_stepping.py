"""Members stopping at their steady state against members integrated to the end: seconds and error.

    python simulations/benchmarks/rest_stepping.py [--members 1000000 100000] [--dtype float32] [--device cpu]
        [--rtol 1e-5] [--atol 1e-6] [--outputs 21]

The toggle switch and a random RACIPE network (`Network.random`, 20 genes, 40 edges), RACIPE
parameter sets (Sobol) and random initial states in 0..100, integrated with a step per member
(`integrate_members`) over t = 0..200 with 21 output times (`--outputs`), at GRiNS's settings by default
(rtol 1e-5, atol 1e-6, float32): to the end, and with `stop_at_rest` (members end once within
their tolerance of a stable steady state found by Newton). A member count of 0 skips that
network. Error: the largest relative error, over all output times and `--sample` random members,
against scipy's DOP853 at rtol 1e-10, relative to max(|y|, 1e-3). Seconds: one timed solve after
a warm-up on 1,000 members (the warm-up also pays `torch.func`'s one-time import, about a
second). Field rows: the batch sizes of every call of the field summed, Newton's Jacobians included.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from racipe_stepping import dop853, relative_error

from biogrn.dynamics import integrate_members
from biogrn.grn import Network, ShiftedHill, sample_parameters, toggle_switch

T_END = 200.0


class CountedRows(torch.nn.Module):
    """A field that adds its batch size to `rows[0]` at each call (its subsets share the count)."""

    def __init__(self, model: ShiftedHill, rows: list[int]):
        super().__init__()
        self.model, self.rows = model, rows

    def forward(self, t, y):
        self.rows[0] += y.shape[0]
        return self.model(t, y)

    def subset(self, index):
        return CountedRows(self.model.subset(index), self.rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, nargs=2, default=[1_000_000, 100_000], help="toggle, random network")
    parser.add_argument("--sample", type=int, default=100, help="random members checked against DOP853")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--outputs", type=int, default=21, help="evenly spaced output times, t = 0 and 200 included")
    parser.add_argument("--rtol", type=float, default=1e-5)
    parser.add_argument("--atol", type=float, default=1e-6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    device, dtype = torch.device(args.device), getattr(torch, args.dtype)
    networks = {"toggle switch": toggle_switch(1).network, "random, 20 genes": Network.random(20, 40, args.seed)}
    times = torch.linspace(0, T_END, args.outputs, dtype=torch.float64)
    print(
        f"t = 0..{T_END:g}, {args.outputs} output times, rtol {args.rtol:g}, atol {args.atol:g}, {args.dtype}; "
        f"device {device}" + (f" ({torch.get_num_threads()} threads)" if device.type == "cpu" else "")
    )
    print(
        "\n| network | members | stop_at_rest | seconds | solves/s | field rows | max rel. error |"
        "\n|---|---|---|---|---|---|---|"
    )
    for (name, network), members in zip(networks.items(), args.members):
        if members == 0:
            continue
        parameters = sample_parameters(network, members, "sobol", seed=args.seed)
        model = ShiftedHill(network, **{key: value.to(dtype) for key, value in parameters.items()}).to(device)
        generator = torch.Generator().manual_seed(args.seed)
        y0 = torch.rand(members, network.n_genes, dtype=torch.float64, generator=generator) * 100
        sample = np.random.default_rng(args.seed).choice(members, size=min(args.sample, members), replace=False)
        truth = dop853(model, y0, times, sample, rtol=1e-10, atol=1e-10)
        warm = torch.arange(min(1000, members))
        for stop_at_rest in (False, True):
            with torch.no_grad():
                warm_model, warm_y0 = model.subset(warm.to(device)), y0[warm].to(device, dtype)
                integrate_members(warm_model, warm_y0, times.to(device, dtype), args.rtol, args.atol, stop_at_rest=True)
                rows = [0]
                started = time.perf_counter()
                solution = integrate_members(
                    CountedRows(model, rows),
                    y0.to(device, dtype),
                    times.to(device, dtype),
                    args.rtol,
                    args.atol,
                    stop_at_rest=stop_at_rest,
                )
                if device.type == "cuda":
                    torch.cuda.synchronize()
                seconds = time.perf_counter() - started
            states = solution.double().cpu().numpy().transpose(1, 0, 2)[sample]  # (member, time, gene)
            print(
                f"| {name} | {members:,} | {stop_at_rest} | {seconds:.2f} | {members / seconds:,.0f} | "
                f"{rows[0]:,} | {relative_error(states, truth):.1e} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
