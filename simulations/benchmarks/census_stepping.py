"""RACIPE's steady-state census two ways: members stopping at rest then Newton, against one odeint call.

    python simulations/benchmarks/census_stepping.py [--sets 1000] [--initial 32] [--genes 5 20]

For each network size: a random network (`Network.random`, twice as many edges as genes),
`--sets` RACIPE parameter sets (Sobol) with `--initial` log-uniform initial conditions each, to
t = 200 at the census's tolerances (rtol 1e-8, atol 1e-10). `steady_state_census` with
`stepping="member"` (each member's own steps, stopped at rest, polished by Newton's method) and
with `stepping="batch"` (one torchdiffeq call to t = 200). Printed: seconds of each after a
warm-up on 10 sets, and how far the two censuses agree (sets with the same number of states,
the largest log-space distance between their distinct states, and the bistable fractions).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from biogrn.grn import Network, ShiftedHill, log_uniform_states, repeat_members, sample_parameters, steady_state_census

T_END = 200.0


def census(genes: int, sets: int, initial: int, seed: int, stepping: str):
    network = Network.random(genes, 2 * genes, seed)
    model = ShiftedHill(network, **repeat_members(sample_parameters(network, sets, "sobol", seed), initial))
    y0 = log_uniform_states(sets * initial, genes, 1e-2, 100.0, torch.Generator().manual_seed(seed))
    started = time.perf_counter()
    result = steady_state_census(model, y0, initial, t_end=T_END, stepping=stepping)
    return result, time.perf_counter() - started


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", type=int, default=1000)
    parser.add_argument("--initial", type=int, default=32)
    parser.add_argument("--genes", type=int, nargs="+", default=[5, 20])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print(
        f"census of {args.sets:,} parameter sets x {args.initial} initial conditions, t = 0..{T_END:g}, "
        f"rtol 1e-8, atol 1e-10, float64; cpu ({torch.get_num_threads()} threads)"
    )
    print(
        "\n| genes | member s | batch s | batch / member | same number of states | largest state distance | "
        "bistable, member / batch | unsettled, member / batch |\n|---|---|---|---|---|---|---|---|"
    )
    for genes in args.genes:
        found, seconds = {}, {}
        for stepping in ("member", "batch"):
            census(genes, 10, args.initial, args.seed, stepping)
            found[stepping], seconds[stepping] = census(genes, args.sets, args.initial, args.seed, stepping)
        member, batch = found["member"], found["batch"]
        same = member["n_states"].values == batch["n_states"].values
        both = member["distinct"].values & batch["distinct"].values  # the same member found distinct by both
        distance = np.abs(np.log1p(member["state"].values) - np.log1p(batch["state"].values)).max(axis=-1)[both]
        print(
            f"| {genes} | {seconds['member']:.1f} | {seconds['batch']:.1f} | "
            f"{seconds['batch'] / seconds['member']:.2f} | "
            f"{same.mean():.2%} | {distance.max() if distance.size else float('nan'):.1e} | "
            f"{member.attrs['bistable']:.3f} / {batch.attrs['bistable']:.3f} | "
            f"{int(member['unsettled'].sum())} / {int(batch['unsettled'].sum())} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
