"""Accuracy against sparsity: gene regulation and the baselines, same harness, same budget.

    python simulations/sparsity_study.py                    # digits, 4 sparsities x 6 methods x 3 seeds
    python simulations/sparsity_study.py --data run.toml    # the [data] table of a run file instead

Methods at each target sparsity: `gene` (the `target` policy: Eq. 1-3 with a cubic schedule),
`magnitude` (Zhu & Gupta), `set`, `rigl`; once per seed, at the sparsity they reach by
themselves: `gene-paper` (the `paper` policy) and `listing` (the seed paper's algorithm), and
`dense`. Every run: the listing's MLP (hidden 128, 64), Adam lr 1e-3, batch 64, 20 epochs;
dense-to-sparse methods prune once per epoch from epoch 2 to 15; sparse-to-sparse ones start
sparse and drop/grow every 100 steps (RigL's Delta T; 5 digits epochs) until epoch 15, drop
fraction 0.3 (SET: constant; RigL: cosine decay).

Writes OUT/sparsity_study.nc (method x sparsity x seed), OUT/sparsity_study.md (means and
standard deviations) and OUT/sparsity_study.png; every run's records stay under OUT/runs/.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from biogrn.runs import load_run_config, sweep

TARGETED = ("gene", "magnitude", "set", "rigl")
NATURAL = ("dense", "gene-paper", "listing")

BASE = {"model": {"hidden": [128, 64]}, "training": {"epochs": 20, "batch_size": 64, "optimizer": "adam", "lr": 1e-3}}

METHOD_SETTINGS = {
    "dense": {"pruning": "none"},
    "gene": {"regulator.policy": "target", "regulator.start_epoch": 2, "regulator.end_epoch": 15},
    "magnitude": {"regulator.policy": "magnitude", "regulator.start_epoch": 2, "regulator.end_epoch": 15},
    "set": {
        "regulator.policy": "set",
        "regulator.start_epoch": 0,
        "regulator.end_epoch": 15,
        "regulator.update_every": 100,
        "regulator.drop_schedule": "constant",
    },
    "rigl": {
        "regulator.policy": "rigl",
        "regulator.start_epoch": 0,
        "regulator.end_epoch": 15,
        "regulator.update_every": 100,
        "regulator.drop_schedule": "cosine",
    },
    "gene-paper": {"regulator.policy": "paper"},
    "listing": {"regulator.policy": "listing", "regulator.start_epoch": 6},
}


def points(sparsities, seeds, methods):
    chosen, names, keys = [], [], []
    for method in methods:
        levels = sparsities if method in TARGETED else [None]
        for level in levels:
            for seed in seeds:
                point = {"seed": seed, **METHOD_SETTINGS[method]}
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


def markdown(study: xr.Dataset) -> str:
    lines = [
        "| method | target sparsity | reached sparsity | test accuracy (%) | regrown | seconds per run |",
        "|---|---|---|---|---|---|",
    ]
    for method in study["method"].values:
        for target in study["target"].values:
            cell = study.sel({"method": method, "target": target})  # dict: `method` is also a keyword of sel
            if np.isnan(cell["test_accuracy"]).all():
                continue
            acc = 100 * cell["test_accuracy"]
            lines.append(
                f"| {method} | {target} | {100 * float(cell['sparsity'].mean()):.1f}% | "
                f"{float(acc.mean()):.2f} ± {float(acc.std(ddof=1)) if cell.sizes['seed'] > 1 else 0:.2f} | "
                f"{float(cell['n_regrown'].mean()):.0f} | {float(cell['train_seconds'].median()):.1f} |"
            )
    n = study.sizes["seed"]
    lines.append(f"\nMeans ± sample standard deviations over {n} seed(s); seconds: median of training time per run.")
    return "\n".join(lines)


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
    parser.add_argument("--sparsities", type=float, nargs="+", default=[0.5, 0.8, 0.9, 0.95])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--methods", nargs="+", default=[*NATURAL[:1], *TARGETED, *NATURAL[1:]], choices=[*TARGETED, *NATURAL]
    )
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--data", help="a run file whose [data] table replaces the digits set")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--ray-address", help="run the points on this Ray cluster")
    args = parser.parse_args(argv)

    base = {**BASE, "training": {**BASE["training"], "epochs": args.epochs}}
    if args.data:
        base["data"] = load_run_config(args.data).data.model_dump(mode="json")
    chosen, names, keys = points(args.sparsities, args.seeds, args.methods)
    out = Path(args.out)
    started = time.perf_counter()
    summaries = sweep(base, chosen, out / "runs", args.workers, args.ray_address, names)
    study = tabulate(keys, summaries, args.sparsities, args.seeds, args.methods)
    study.attrs.update(
        command=" ".join(["python", "simulations/sparsity_study.py", *(argv or sys.argv[1:])]),
        data=base.get("data", {}).get("name", "digits"),
        epochs=args.epochs,
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
