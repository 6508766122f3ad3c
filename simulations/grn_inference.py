"""Network inference side by side: biogrn's regulated gene ODE against GENIE3 and GRNBoost2 (arboreto).

    python simulations/grn_inference.py --seeds 0 1 2

Known networks: small synthetic ones (a random signed network per seed: 8 genes, 12 edges), the
repressilator's topology, and the topologies of published Boolean models that ship inside
pyboolnet: Krumsiek et al. 2011's myeloid differentiation (BEELINE's curated HSC network, 11
genes) and Faure et al. 2006's mammalian cell cycle (10 genes). Their signed edges drive a
RACIPE model (the Boolean rules themselves are not simulated). Data: RACIPE parameter sets
(Sobol), 64 members from random initial states, t = 0..5 at 26 points (`biogrn.grn.simulate`). Every method
scores every ordered pair of genes; AUROC and AUPRC against the known edges (self-loops left out),
with the AUPRC of a random ranking (the edge density) alongside.

GENIE3 and GRNBoost2 run through `arboreto.core.infer_partial_network`, one target gene at a time,
with arboreto's own regressors and settings: arboreto 0.1.6's dask front end (`arboreto.algo`)
fails with current dask ("Must supply at least one delayed object", aertslab/arboreto#42), so
its per-target core is called directly, which is what the front end distributes.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
import xarray as xr

from biogrn.grn import Network, ShiftedHill, infer_network, repressilator, sample_parameters, score_edges, simulate

METHODS = ("biogrn", "GENIE3", "GRNBoost2")


def simulated(truth: np.ndarray, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    network = Network.from_matrix(truth)
    model = ShiftedHill(network, **sample_parameters(network, 64, "sobol", seed=seed))
    y0 = torch.rand(64, len(truth), dtype=torch.float64, generator=torch.Generator().manual_seed(seed)) * 100
    times = torch.linspace(0, 5, 26, dtype=torch.float64)
    states = simulate(model, y0, times)["state"].values  # (time, gene, member)
    return torch.as_tensor(states).permute(2, 0, 1), times


def arboreto_scores(trajectories: torch.Tensor, method: str, seed: int) -> torch.Tensor:
    """`[target, source]` importances from arboreto's per-target regressions (samples: every time point)."""
    from arboreto.core import RF_KWARGS, SGBM_KWARGS, infer_partial_network, to_tf_matrix

    genes = trajectories.shape[-1]
    names = [f"g{i}" for i in range(genes)]
    matrix = trajectories.reshape(-1, genes).numpy()
    tf_matrix, tf_names = to_tf_matrix(matrix, names, names)
    regressor, kwargs = ("RF", RF_KWARGS) if method == "GENIE3" else ("GBM", SGBM_KWARGS)
    weights = torch.zeros(genes, genes)
    for target in range(genes):
        links = infer_partial_network(
            regressor, kwargs, tf_matrix, tf_names, names[target], matrix[:, target], seed=seed
        )
        sources = torch.as_tensor(links["TF"].map(names.index).to_numpy(copy=True))
        weights[target, sources] = torch.as_tensor(links["importance"].to_numpy(copy=True), dtype=weights.dtype)
    return weights


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--genes", type=int, default=8)
    parser.add_argument("--edges", type=int, default=12)
    parser.add_argument(
        "--published",
        nargs="*",
        default=["krumsiek_myeloid", "faure_cellcycle"],
        help="Boolean models from pyboolnet's repository (none: leave them out)",
    )
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--out", default="runs/grn_inference")
    args = parser.parse_args(argv)

    # the toggle switch is left out: its two genes repress each other, so every possible edge exists
    # and there is nothing to rank
    cases = {f"random-{args.genes}": None, "repressilator": repressilator(1).network.matrix()}
    cases.update({name: Network.published(name).matrix() for name in args.published})
    rows = []
    for case, fixed in cases.items():
        for seed in args.seeds:
            truth = fixed if fixed is not None else Network.random(args.genes, args.edges, seed).matrix()
            trajectories, times = simulated(truth, seed)
            for method in args.methods:
                started = time.perf_counter()
                if method == "biogrn":
                    density = (truth != 0).sum() / (len(truth) * (len(truth) - 1))
                    weights = infer_network(
                        trajectories,
                        times,
                        epochs=300,
                        seed=seed,
                        target_sparsity=float(min(0.9, max(0.3, 1 - 2 * density))),
                    ).weights
                else:
                    weights = arboreto_scores(trajectories.float(), method, seed)
                scores = score_edges(weights, truth)
                rows.append(
                    (
                        case,
                        method,
                        seed,
                        scores["auroc"],
                        scores["auprc"],
                        scores["chance_auprc"],
                        time.perf_counter() - started,
                    )
                )
    cases_list, seeds, methods = list(cases), args.seeds, list(args.methods)
    shape = (len(cases_list), len(methods), len(seeds))
    table = {name: np.zeros(shape) for name in ("auroc", "auprc", "chance_auprc", "seconds")}
    for case, method, seed, auroc, auprc, chance, seconds in rows:
        index = (cases_list.index(case), methods.index(method), seeds.index(seed))
        for name, value in zip(table, (auroc, auprc, chance, seconds)):
            table[name][index] = value
    result = xr.Dataset(
        {k: (("network", "method", "seed"), v) for k, v in table.items()},
        coords={"network": cases_list, "method": methods, "seed": seeds},
    )
    Path(args.out).mkdir(parents=True, exist_ok=True)
    result.to_netcdf(Path(args.out) / "grn_inference.nc", engine="netcdf4")
    print("| network | method | AUROC | AUPRC | chance AUPRC | seconds |\n|---|---|---|---|---|---|")
    for case in cases_list:
        for method in methods:
            cell = result.sel({"network": case, "method": method})  # dict: `method` is a keyword of sel
            print(
                f"| {case} | {method} | {float(cell['auroc'].mean()):.3f} | {float(cell['auprc'].mean()):.3f} | "
                f"{float(cell['chance_auprc'].mean()):.3f} | {float(cell['seconds'].median()):.1f} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
