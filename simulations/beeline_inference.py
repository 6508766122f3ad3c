"""Inference on BEELINE's networks as BEELINE reports it: AUPRC ratio over random, median over seeds.

    pip install 'biogrn[inference]'        # arboreto and pyboolnet
    python simulations/beeline_inference.py --seeds 0 1 2 3 4

BEELINE's six synthetic networks (linear, cycle, linear long, bifurcating, bifurcating-converging,
trifurcating) and its curated HSC network (`biogrn.grn.BEELINE_MODELS`) are simulated in BoolODE's
form (`biogrn.grn.BoolODE`, BoolODE's default parameters and interaction strengths) with BoolODE's
noise (`simulate_langevin(noise="boolode", volume=1)`, step 0.01) from BoolODE's start. As BoolODE
does, a simulation in which every mRNA falls below a tenth of its largest level (0.2) at some
sampled time is dropped: more are simulated and the first `--simulations` that live are kept.
Each seed draws new noise.

Data: every kept simulation's mRNA at `--points` times after the start, evenly spaced to the
network's end time (BoolODE's `simulation_time`): 40 x 50 = 2,000 cells by default, one of
BEELINE's data-set sizes (GENIE3 takes minutes per data set at 5,000). All three methods get the
same cells: GENIE3 and GRNBoost2 (arboreto's per-target regressions, as in
simulations/grn_inference.py) see every cell as a sample; biogrn (`infer_network`, forward
differences on log(1 + m), the `target` policy pruning half the share of pairs that are not
edges, (1 - density) / 2: it is told the density, as the earlier study was; bagged over
`--resamples` bootstrap samples of the simulations, 10 by default) also uses which
cells follow which in time. That is time-course data, not BEELINE's snapshot cells, where each
cell is a different simulation and only a pseudotime orders them.

Scores: BEELINE's own (`biogrn.grn.beeline_scores`, BLEval v1.1.0): AUPRC as
`auc(recall, precision)` over every ordered pair of distinct genes of the network, divided by the
edge density (what a random ranking scores): BEELINE's "AUPRC ratio"; its early precision ratio;
AUROC. The average precision (what this study reported as AUPRC before 2026-12-06) is recorded
beside them, and every method's `|W|` matrix is kept (`edge_scores`), so the table can be
re-scored from the records.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
import xarray as xr

sys.path.insert(0, str(Path(__file__).parent))
from grn_inference import arboreto_scores

from biogrn.grn import BEELINE_MODELS, infer_network, score_edges, simulate_langevin
from biogrn.runs import adjust, paired_comparison

METHODS = ("biogrn", "GENIE3", "GRNBoost2")
SCORES = ("auprc", "auroc", "early_precision_ratio", "average_precision", "chance_auprc")
DEAD_LEVEL = 0.2  # BoolODE drops a simulation whose mRNAs are all below 0.1 x_max = 0.1 * 20 / 10


def beeline_data(name: str, simulations: int, points: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """`(simulations, points, genes)` mRNA after the start, their times, and the signed
    `[source, target]` matrix of the network (self-loops included)."""
    model = BEELINE_MODELS[name]
    generator = torch.Generator().manual_seed(seed)
    times = torch.linspace(0, model.t_end, points + 1, dtype=torch.float64)
    kept, tried = [], 0
    while sum(len(k) for k in kept) < simulations:
        batch = 2 * simulations
        form = model.form(batch)
        result = simulate_langevin(
            form, model.initial_state(form), times, dt=0.01, volume=1.0, generator=generator, noise="boolode"
        )
        genes = form.network.n_genes
        mrna = torch.as_tensor(result["state"].values[1:, :genes]).permute(2, 0, 1)  # (member, time, gene)
        alive = (mrna.amax(dim=2) >= DEAD_LEVEL).all(dim=1)
        kept.append(mrna[alive])
        tried += batch
        if tried > 20 * simulations:
            raise RuntimeError(f"{name}: fewer than {simulations} of {tried} simulations stay alive")
    return torch.cat(kept)[:simulations], times[1:], form.network.matrix()


def infer(method: str, trajectories, times, truth: np.ndarray, seed: int, epochs: int, resamples: int):
    if method != "biogrn":
        return arboreto_scores(trajectories.float(), method, seed)
    off_diagonal = ~np.eye(len(truth), dtype=bool)
    density = float((truth[off_diagonal] != 0).mean())
    return infer_network(
        trajectories,
        times,
        epochs=epochs,
        seed=seed,
        target_sparsity=(1 - density) / 2,
        difference="forward",
        resamples=resamples,
    ).weights


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--networks", nargs="+", default=list(BEELINE_MODELS), choices=list(BEELINE_MODELS))
    parser.add_argument("--simulations", type=int, default=40)
    parser.add_argument("--points", type=int, default=50)
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--resamples", type=int, default=10, help="biogrn's bootstrap fits (0: one fit)")
    parser.add_argument("--out", default="runs/beeline_inference")
    parser.add_argument(
        "--report",
        nargs="+",
        metavar="NC",
        help="print the tables of finished runs' .nc files, joined; a later file's results replace an earlier one's",
    )
    args = parser.parse_args(argv)
    if args.report:
        report(join_runs([xr.open_dataset(path).load() for path in args.report]))
        return 0

    shape = (len(args.networks), len(args.methods), len(args.seeds))
    table = {name: np.full(shape, np.nan) for name in SCORES + ("seconds",)}
    most = max(BEELINE_MODELS[name].boolean_rules().network.n_genes for name in args.networks)
    matrices = np.full((*shape, most, most), np.nan)
    for n, name in enumerate(args.networks):
        for s, seed in enumerate(args.seeds):
            trajectories, times, truth = beeline_data(name, args.simulations, args.points, seed)
            for m, method in enumerate(args.methods):
                started = time.perf_counter()
                weights = infer(method, trajectories, times, truth, seed, args.epochs, args.resamples)
                table["seconds"][n, m, s] = time.perf_counter() - started
                scores = score_edges(weights, truth)
                for key in SCORES:
                    table[key][n, m, s] = scores[key]
                genes = len(truth)
                matrices[n, m, s, :genes, :genes] = np.abs(np.asarray(weights, dtype=np.float64)).T
                print(
                    f"{name} seed {seed} {method}: AUPRC ratio {scores['auprc'] / scores['chance_auprc']:.2f}, "
                    f"EPR {scores['early_precision_ratio']:.2f}",
                    flush=True,
                )
    result = xr.Dataset(
        {key: (("network", "method", "seed"), value) for key, value in table.items()},
        coords={"network": args.networks, "method": args.methods, "seed": args.seeds},
    )
    result["edge_scores"] = (("network", "method", "seed", "source", "target"), matrices)
    result["edge_scores"].attrs["meaning"] = "|W| of each method, [source, target], NaN past the network's genes"
    result["auprc_ratio"] = result["auprc"] / result["chance_auprc"]
    result["average_precision_ratio"] = result["average_precision"] / result["chance_auprc"]
    Path(args.out).mkdir(parents=True, exist_ok=True)
    result.to_netcdf(Path(args.out) / "beeline_inference.nc", engine="netcdf4")
    report(result)
    return 0


def join_runs(runs: list[xr.Dataset]) -> xr.Dataset:
    """Runs joined on every coordinate (network, method, seed); where two hold the same cell, the later one's."""
    joined = runs[-1]
    for earlier in reversed(runs[:-1]):
        joined = joined.combine_first(earlier)
    methods = list(dict.fromkeys(m for run in runs for m in map(str, run["method"].values)))
    networks = list(dict.fromkeys(n for run in runs for n in map(str, run["network"].values)))
    return joined.sel(  # combine_first sorts the labels; put them back in the study's order
        {
            "method": [m for m in METHODS if m in methods] + [m for m in methods if m not in METHODS],
            "network": [n for n in BEELINE_MODELS if n in networks] + [n for n in networks if n not in BEELINE_MODELS],
        }
    )


def report(result: xr.Dataset) -> None:
    """The median table and the paired comparisons of biogrn against each other method."""
    networks, methods = [str(n) for n in result["network"].values], [str(m) for m in result["method"].values]

    def at(variable: str, name: str, method: str) -> xr.DataArray:
        return result[variable].sel({"network": name, "method": method})  # `method` is a keyword of sel

    def table(title: str, cell) -> None:
        print(f"\n{title}\n")
        print("| network | " + " | ".join(methods) + " |\n|---|" + "---|" * len(methods))
        for name in networks:
            print(f"| {name} | " + " | ".join(cell(name, m) for m in methods) + " |")

    median = lambda variable, name, m: float(at(variable, name, m).median())
    table(
        "Medians over seeds: BEELINE's AUPRC ratio (its early precision ratio, AUROC, seconds per inference)",
        lambda name, m: (
            f"{median('auprc_ratio', name, m):.2f} ({median('early_precision_ratio', name, m):.2f}, "
            f"{median('auroc', name, m):.2f}, {median('seconds', name, m):.1f} s)"
        ),
    )
    if "average_precision_ratio" in result:
        table(
            "What the metric changed: median over seeds, BEELINE's AUPRC ratio / the average precision ratio",
            lambda name, m: f"{median('auprc_ratio', name, m):.2f} / {median('average_precision_ratio', name, m):.2f}",
        )
    if "biogrn" in methods and len(methods) > 1:
        medians = result["auprc_ratio"].median("seed")
        above = (medians.sel({"method": "biogrn"}) > medians.drop_sel({"method": "biogrn"}).max("method")).values
        print(f"\nbiogrn's median is above every other method's on {int(above.sum())} of {len(networks)} networks")
    if "biogrn" in methods and len(methods) > 1 and len(result["seed"]) > 1:
        others = [m for m in methods if m != "biogrn"]
        comparisons = {
            (name, other): paired_comparison(
                at("auprc_ratio", name, "biogrn").values, at("auprc_ratio", name, other).values
            )
            for name in networks
            for other in others
        }
        adjusted = adjust([c.t_pvalue if np.isfinite(c.t_pvalue) else 1.0 for c in comparisons.values()])
        print(
            "\nPaired on the seeds: biogrn minus the other method's AUPRC ratio (Benjamini-Hochberg over the table)\n"
        )
        print("| network | against | mean difference (95% interval) | t p | adjusted p |\n|---|---|---|---|---|")
        for ((name, other), c), p in zip(comparisons.items(), adjusted):
            print(
                f"| {name} | {other} | {c.mean_difference:+.2f} ({c.low:+.2f} to {c.high:+.2f}) | "
                f"{c.t_pvalue:.3f} | {p:.3f} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
