"""biogrn's RACIPE sampler against GRiNS's, parameter by parameter and in the steady-state census.

    grinsenv/bin/python simulations/benchmarks/grins_reference.py --topo TS.topo --out grins_TS.npz \\
        --sample-out sample_TS.npz                      # GRiNS's side, in its own environment
    python simulations/benchmarks/racipe_fidelity.py --network TS --sample sample_TS.npz --sets 10000 --starts 16

The sample holds `--sample-sets` (10^4) of GRiNS's sampled parameter sets (`gen_param_df`, Sobol).
biogrn draws as many with `sample_parameters` (Sobol, seed 0). Per kind of parameter, every column
(gene or edge) is compared by a two-sample Kolmogorov-Smirnov test (scipy.stats.ks_2samp), the
p-values adjusted by Benjamini-Hochberg over the columns; the Hill coefficients by a chi-square
test of the pooled counts of 1..6 (scipy.stats.chi2_contingency). The census
(`steady_state_census`, t = 0..200, rtol 1e-6, `--starts` of RACIPE's initial conditions per set)
runs on biogrn's sets, on GRiNS's sets, and on biogrn's sets with the Hill coefficients redrawn as
GRiNS 0.1.2 draws them (ceil of a uniform on [1, 6]: 2..6); shares of sets with 1, 2, 3+ states,
with their standard errors and a two-proportion z against GRiNS's sets.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from scipy import stats

from biogrn.grn import (
    Network,
    ShiftedHill,
    racipe_initial_states,
    repeat_members,
    sample_parameters,
    steady_state_census,
)
from biogrn.runs import adjust

PARAMETERS = ("production", "degradation", "threshold", "hill", "fold")


def load(sample_path: str, fixture_path: str, name: str, sets: int):
    fixture, sample = np.load(fixture_path), np.load(sample_path)
    read = lambda key: fixture[f"{name}/{key}"]
    genes = [str(g) for g in read("genes")]
    edges = [(genes[a], genes[b], int(s)) for a, b, s in zip(read("sources"), read("targets"), read("signs"))]
    network = Network.from_edges(genes, edges)
    theirs = {k: torch.as_tensor(sample[f"{name}/sample_{k}"][:sets]) for k in PARAMETERS}
    return network, theirs


def compare_distributions(network: Network, ours: dict, theirs: dict) -> None:
    activating = np.asarray(network.signs) > 0
    kinds = {
        "production": ("production", slice(None)),
        "degradation": ("degradation", slice(None)),
        "threshold": ("threshold", slice(None)),
        "activation fold": ("fold", activating),
        "repression fold": ("fold", ~activating),
    }
    print("| parameter | columns | median KS D | columns different (BH 5%) | smallest adjusted p |")
    print("|---|---|---|---|---|")
    for label, (key, columns) in kinds.items():
        a, b = ours[key].numpy()[:, columns], theirs[key].numpy()[:, columns]
        if a.shape[1] == 0:
            continue
        tests = [stats.ks_2samp(a[:, c], b[:, c]) for c in range(a.shape[1])]
        adjusted = adjust([t.pvalue for t in tests])
        statistic = np.median([t.statistic for t in tests])
        print(
            f"| {label} | {a.shape[1]} | {statistic:.4f} | {int((np.asarray(adjusted) < 0.05).sum())} | "
            f"{min(adjusted):.2g} |"
        )
    counts = np.stack([np.bincount(p["hill"].numpy().astype(int).ravel(), minlength=7)[1:] for p in (ours, theirs)])
    chi = stats.chi2_contingency(counts)
    shares = counts / counts.sum(axis=1, keepdims=True)
    print(
        f"| Hill 1..6 | pooled | biogrn {np.round(shares[0], 3).tolist()}, GRiNS {np.round(shares[1], 3).tolist()} | "
        f"chi-square {chi.statistic:.0f} | p {chi.pvalue:.2g} |"
    )


def census(network: Network, parameters: dict, starts: int, seed: int) -> np.ndarray:
    model = ShiftedHill(network, **repeat_members(parameters, starts))
    y0 = racipe_initial_states(model, torch.Generator().manual_seed(seed))
    result = steady_state_census(model, y0, starts, t_end=200.0, rtol=1e-6, atol=1e-8)
    return result["n_states"].values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--network", required=True, help="the name in the fixture (TS, EMT22N)")
    parser.add_argument("--fixture", help="grins_reference.py's --out (default tests/grn/fixtures/grins_<network>.npz)")
    parser.add_argument("--sample", required=True, help="grins_reference.py's --sample-out")
    parser.add_argument("--sets", type=int, default=10_000)
    parser.add_argument("--starts", type=int, default=16)
    parser.add_argument("--census-sets", type=int, help="sets in the census (default --sets)")
    args = parser.parse_args()
    fixture = args.fixture or f"tests/grn/fixtures/grins_{args.network}.npz"
    network, theirs = load(args.sample, fixture, args.network, args.sets)
    ours = sample_parameters(network, args.sets, "sobol", seed=0)
    print(f"{args.network}: {network.n_genes} genes, {network.n_edges} edges; {args.sets} sets of each sampler\n")
    compare_distributions(network, ours, theirs)
    u = torch.rand(ours["hill"].shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    grins_hill = dict(ours, hill=torch.clamp(torch.ceil(1 + 5 * u), min=2, max=6))
    count = args.census_sets or args.sets
    head = lambda parameters: {k: v[:count] for k, v in parameters.items()}
    print(f"\nCensus: {count} sets x {args.starts} RACIPE starts, biogrn's census for every row\n")
    print("| sets | 1 state | 2 states | 3+ states | bistable z against GRiNS's sets | seconds |")
    print("|---|---|---|---|---|---|")
    rows = {}
    for label, parameters in (
        ("GRiNS's sampler", theirs),
        ("biogrn's sampler (RACIPE's)", ours),
        ("biogrn's sampler, GRiNS 0.1.2's Hill draws", grins_hill),
    ):
        started = time.perf_counter()
        states = census(network, head(parameters), args.starts, seed=0)
        seconds = time.perf_counter() - started
        shares = [(states == 1).mean(), (states == 2).mean(), (states >= 3).mean()]
        rows[label] = shares
        reference = rows["GRiNS's sampler"][1]
        pooled = (shares[1] + reference) / 2
        z = (shares[1] - reference) / np.sqrt(2 * pooled * (1 - pooled) / count) if label in rows else 0.0
        error = lambda share: np.sqrt(share * (1 - share) / count)
        cells = " | ".join(f"{s:.4f} ± {error(s):.4f}" for s in shares)
        print(f"| {label} | {cells} | {z:+.1f} | {seconds:.0f} |", flush=True)


if __name__ == "__main__":
    main()
