"""Accuracy against sparsity: gene regulation and the baselines, same harness, same budget, paired.

    python simulations/sparsity_study.py                              # digits, 3 seeds
    python simulations/sparsity_study.py --preset mnist1d-mlp --seeds 0 1 2 3 4 --workers 2
    python simulations/sparsity_study.py --preset mnist1d-cnn --genes unit --seeds 0 1 2 3 4
    python simulations/sparsity_study.py --data run.toml              # the [data] table of a run file

Presets: `digits` (the listing's MLP, hidden 128, 64, on scikit-learn's digits: Adam lr 1e-3,
batch 64, 20 epochs; prune from epoch 2 to 15), `mnist1d-mlp` (MNIST-1D, the paper's residual
MLP, hidden 100, 100) and `mnist1d-cnn` (MNIST-1D, the paper's CNN): Adam lr 1e-2, batch 100,
40 epochs (1,440 steps); prune from epoch 4 to 30.

Methods at each target sparsity: `gene` (the `target` policy: Eq. 1-3 with a cubic schedule),
`hysteresis` (each gene switches itself by its own expression, same schedule), `magnitude` (Zhu &
Gupta), `set`, `rigl`; once per seed, at the sparsity they reach by themselves: `gene-paper`
(the `paper` policy, `median_rule` `cap`), `gene-paper-track` (`median_rule` `track`), `listing`
(the seed paper's algorithm) and `dense`. Dense-to-sparse methods prune once per epoch;
sparse-to-sparse ones start sparse and drop/grow every 100 steps (RigL's Delta T) until the
schedule's end, drop fraction 0.3 (SET: constant; RigL: cosine decay). `--genes unit` makes every
method prune whole units and channels.

The methods share the seeds, so each gene policy is compared with each baseline at each target by
a paired t-test on the per-seed test accuracies; p-values are adjusted over the table
(Benjamini-Hochberg) and a difference is called significant only below 0.05 after adjustment.

Writes OUT/sparsity_study.nc (method x target x seed), OUT/sparsity_study.md (means, 95% t
intervals, the paired table) and OUT/sparsity_study.png; every run's records stay under OUT/runs/.
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from biogrn.runs import adjust, load_run_config, mean_interval, paired_comparison, sweep

TARGETED = ("gene", "hysteresis", "gene-movement", "gene-fisher", "magnitude", "movement", "set", "rigl")
NATURAL = ("dense", "gene-paper", "gene-paper-track", "listing")
GENE_METHODS = ("gene", "hysteresis", "gene-movement", "gene-fisher")
BASELINES = ("magnitude", "movement", "set", "rigl")
DEFAULT_METHODS = (
    "dense",
    "gene",
    "hysteresis",
    "magnitude",
    "set",
    "rigl",
    "gene-paper",
    "gene-paper-track",
    "listing",
)
"""The published tables' methods; the drives of Eq. 1 (`gene-movement`, `gene-fisher`) and hard
movement pruning (`movement`) are asked for by name."""

MNIST1D_TRAINING = {"epochs": 40, "batch_size": 100, "optimizer": "adam", "lr": 1e-2}
MNIST1D_DATA = {"name": "mnist1d", "val_fraction": 0.1}
STUDY_RECORDS = {"write_every": 10}  # a records write costs about an epoch of these small models
PRESETS = {
    "digits": {
        "base": {
            "model": {"hidden": [128, 64]},
            "training": {"epochs": 20, "batch_size": 64, "optimizer": "adam", "lr": 1e-3},
        },
        "schedule": (2, 15),
    },
    "mnist1d-mlp": {
        "base": {
            "data": MNIST1D_DATA,
            "model": {"name": "mlp", "hidden": [100, 100], "residual": True},
            "training": MNIST1D_TRAINING,
        },
        "schedule": (4, 30),
    },
    "mnist1d-cnn": {
        "base": {
            "data": MNIST1D_DATA,
            "model": {"name": "cnn1d"},
            "training": MNIST1D_TRAINING,
            "records": STUDY_RECORDS,
        },
        "schedule": (4, 30),
    },
}


def preset_base(name: str, epochs: int | None = None) -> tuple[dict, int, int]:
    """A preset's base configuration (a copy) and its pruning window; `epochs` shortens the run and
    keeps the window inside it."""
    preset = PRESETS[name]
    base = copy.deepcopy(preset["base"])
    start, end = preset["schedule"]
    if epochs is not None:
        base["training"]["epochs"] = epochs
        start = min(start, epochs - 1)
        end = max(min(end, epochs), start + 1)
    return base, start, end


def method_settings(method: str, start: int, end: int) -> dict:
    """The regulator overrides of one method under a pruning schedule from `start` to `end`."""
    window = {"regulator.start_epoch": start, "regulator.end_epoch": end}
    sparse_to_sparse = {"regulator.start_epoch": 0, "regulator.end_epoch": end, "regulator.update_every": 100}
    return {
        "dense": {"pruning": "none"},
        "gene": {"regulator.policy": "target", **window},
        "hysteresis": {"regulator.policy": "hysteresis", **window},
        "gene-movement": {"regulator.policy": "target", "regulator.drive": "movement", **window},
        "gene-fisher": {"regulator.policy": "target", "regulator.drive": "fisher", **window},
        "magnitude": {"regulator.policy": "magnitude", **window},
        "movement": {"regulator.policy": "movement", **window},
        "set": {"regulator.policy": "set", **sparse_to_sparse, "regulator.drop_schedule": "constant"},
        "rigl": {"regulator.policy": "rigl", **sparse_to_sparse, "regulator.drop_schedule": "cosine"},
        "gene-paper": {"regulator.policy": "paper", "regulator.start_epoch": start, "regulator.median_rule": "cap"},
        "gene-paper-track": {
            "regulator.policy": "paper",
            "regulator.start_epoch": start,
            "regulator.median_rule": "track",
        },
        "listing": {"regulator.policy": "listing", "regulator.start_epoch": max(start, 6)},
    }[method]


def points(sparsities, seeds, methods, schedule=(2, 15), genes="connection"):
    chosen, names, keys = [], [], []
    for method in methods:
        levels = sparsities if method in TARGETED else [None]
        for level in levels:
            for seed in seeds:
                point = {"seed": seed, **method_settings(method, *schedule)}
                if method != "dense" and genes != "connection":
                    point["regulator.genes"] = genes
                if level is not None:
                    point["regulator.target_sparsity"] = level
                chosen.append(point)
                names.append(f"{method}-s{level if level is not None else 'natural'}-seed{seed}")
                keys.append((method, level, seed))
    return chosen, names, keys


def tabulate(keys, summaries, sparsities, seeds, methods) -> xr.Dataset:
    levels = ["natural", *[str(s) for s in sparsities]]
    shape = (len(methods), len(levels), len(seeds))
    data = {name: np.full(shape, np.nan) for name in ("test_accuracy", "sparsity", "n_regrown", "train_seconds")}
    for (method, level, seed), summary in zip(keys, summaries):
        index = (methods.index(method), levels.index("natural" if level is None else str(level)), seeds.index(seed))
        for name in data:
            data[name][index] = summary[name]
    dims = ("method", "target", "seed")
    return xr.Dataset(
        {name: (dims, values) for name, values in data.items()},
        coords={"method": list(methods), "target": levels, "seed": list(seeds)},
    )


def markdown(study: xr.Dataset, primary: tuple[str, str, str] | None = None) -> str:
    lines = [
        "| method | target sparsity | reached sparsity | test accuracy (%) | 95% interval | regrown "
        "| seconds per run |",
        "|---|---|---|---|---|---|---|",
    ]
    for method in study["method"].values:
        for target in study["target"].values:
            cell = study.sel({"method": method, "target": target})  # dict: `method` is also a keyword of sel
            if np.isnan(cell["test_accuracy"]).all():
                continue
            mean, low, high = mean_interval(100 * cell["test_accuracy"].values)
            interval = f"{low:.2f} to {high:.2f}" if np.isfinite(low) else "-"
            lines.append(
                f"| {method} | {target} | {100 * float(cell['sparsity'].mean()):.1f}% | {mean:.2f} | {interval} | "
                f"{float(cell['n_regrown'].mean()):.0f} | {float(cell['train_seconds'].median()):.1f} |"
            )
    n = study.sizes["seed"]
    lines.append(f"\nMeans over {n} seed(s) with Student's t 95% intervals; seconds: median training time per run.")
    paired = paired_table(study, primary)
    if paired:
        lines += ["", *paired]
    return "\n".join(lines)


def paired_table(study: xr.Dataset, primary: tuple[str, str, str] | None = None) -> list[str]:
    """Each gene policy against each baseline at each target: paired t-test on the same seeds, the
    Wilcoxon signed-rank test beside it, and the smallest difference the comparison could detect.

    `primary` (target, gene policy, baseline) is the comparison stated before the run: it is
    judged on its own p-value and left out of the Benjamini-Hochberg adjustment of the others.
    """
    rows = []
    for target in study["target"].values:
        for gene in GENE_METHODS:
            for baseline in BASELINES:
                if gene not in study["method"] or baseline not in study["method"]:
                    continue
                a = 100 * study["test_accuracy"].sel({"method": gene, "target": target}).values
                b = 100 * study["test_accuracy"].sel({"method": baseline, "target": target}).values
                if np.isnan(a).any() or np.isnan(b).any() or len(a) < 2:
                    continue
                rows.append((str(target), gene, baseline, paired_comparison(a, b)))
    if not rows:
        return []
    is_primary = [primary is not None and (r[0], r[1], r[2]) == tuple(map(str, primary)) for r in rows]
    secondary = [r[3].t_pvalue for r, first in zip(rows, is_primary) if not first]
    adjusted = iter(adjust(secondary))
    lines = [
        "| target | gene policy | baseline | difference (points) | 95% interval | p (paired t) | p (Wilcoxon) "
        "| p adjusted | detectable (80% power) | verdict |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (target, gene, baseline, c), first in zip(rows, is_primary):
        q = c.t_pvalue if first else next(adjusted)
        if np.isnan(q):
            verdict = "no spread to test"
        elif q < 0.05:
            verdict = f"{gene} {'better' if c.mean_difference > 0 else 'worse'} (significant)"
        else:
            verdict = "inside the noise"
        label = f"**{target} (primary)**" if first else target
        lines.append(
            f"| {label} | {gene} | {baseline} | {c.mean_difference:+.2f} | {c.low:+.2f} to {c.high:+.2f} | "
            f"{c.t_pvalue:.3g} | {c.wilcoxon_pvalue:.3g} | {'-' if first else f'{q:.3g}'} | {c.detectable:.2f} | "
            f"{verdict} |"
        )
    lines.append(
        f"\nPaired over {rows[0][3].n} seeds: the difference is gene policy minus baseline; p adjusted over "
        "the table by Benjamini-Hochberg"
        + (" (the primary comparison, stated before the run, is judged on its own p)" if any(is_primary) else "")
        + "; detectable: the smallest true difference a paired t-test with this spread finds in 80% of studies "
        "at p < 0.05."
    )
    return lines


def plot(study: xr.Dataset, path: Path) -> None:
    figure = Figure(figsize=(7, 4.5), layout="constrained")
    axes = figure.subplots()
    for i, method in enumerate(study["method"].values):
        cell = study.sel({"method": method})
        x = 100 * cell["sparsity"].mean("seed").values
        y = 100 * cell["test_accuracy"].mean("seed").values
        e = 100 * cell["test_accuracy"].std("seed", ddof=1).values if study.sizes["seed"] > 1 else None
        keep = ~np.isnan(y)
        axes.errorbar(
            x[keep], y[keep], yerr=None if e is None else e[keep], fmt="o-", capsize=3, label=str(method), color=f"C{i}"
        )
    axes.set(xlabel="reached sparsity (%)", ylabel="test accuracy (%)", title="Accuracy against sparsity")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    figure.savefig(path, dpi=110)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="runs/sparsity_study")
    parser.add_argument("--sparsities", type=float, nargs="+", default=[0.5, 0.8, 0.9])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--methods", nargs="+", default=list(DEFAULT_METHODS), choices=[*TARGETED, *NATURAL])
    parser.add_argument("--preset", choices=list(PRESETS), default="digits")
    parser.add_argument("--genes", choices=["connection", "unit"], default="connection")
    parser.add_argument("--epochs", type=int, help="training epochs (default: the preset's)")
    parser.add_argument("--data", help="a run file whose [data] table replaces the preset's data")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--ray-address", help="run the points on this Ray cluster")
    args = parser.parse_args(argv)

    base, start, end = preset_base(args.preset, args.epochs)
    if args.data:
        base["data"] = load_run_config(args.data).data.model_dump(mode="json")
    chosen, names, keys = points(args.sparsities, args.seeds, args.methods, (start, end), args.genes)
    out = Path(args.out)
    started = time.perf_counter()
    summaries = sweep(base, chosen, out / "runs", args.workers, args.ray_address, names)
    study = tabulate(keys, summaries, args.sparsities, args.seeds, args.methods)
    study.attrs.update(
        command=" ".join(["python", "simulations/sparsity_study.py", *(argv or sys.argv[1:])]),
        data=base.get("data", {}).get("name", "digits"),
        preset=args.preset,
        genes=args.genes,
        epochs=base["training"]["epochs"],
    )
    study.to_netcdf(out / "sparsity_study.nc", engine="netcdf4")
    table = markdown(study)
    (out / "sparsity_study.md").write_text(table + "\n")
    plot(study, out / "sparsity_study.png")
    print(table)
    print(f"\n{len(chosen)} runs in {time.perf_counter() - started:.0f} s; {out}/sparsity_study.nc")
    return 0


if __name__ == "__main__":
    sys.exit(main())
