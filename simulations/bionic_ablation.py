"""BioNIC's ablations here: the BioNIC-style model with every biological feature, then each one off.

    python simulations/bionic_ablation.py --workers 2                   # digits, 3 seeds
    python simulations/bionic_ablation.py --data fer.toml --epochs 30   # FER-2013 (docs/fer2013.md)

Variants (each a run of `biogrn run`'s harness): `full` (laminar connectome mask, Dale's law with
20% inhibitory units, synaptic noise 0.05, LayerNorm, gene regulation with the Hebbian/homeostatic
drive), and `full` with one feature switched off: `no-connectome` (density 1), `no-dale`,
`no-noise`, `no-layernorm`, `no-hebbian` (the Taylor drive), `no-gene-regulation` (no regulator).
Prints accuracy and sparsity per variant (mean ± sd over seeds) and the change against `full`;
writes OUT/bionic_ablation.nc.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import xarray as xr

from biogrn.runs import load_run_config, sweep

FULL = {
    "model.name": "bionic",
    "model.hidden": [128, 64],
    "model.connectome_density": 0.3,
    "model.dale": True,
    "model.noise": 0.05,
    "model.layernorm": True,
    "pruning": "gene",
    "regulator.drive": "hebbian",
    "regulator.start_epoch": 3,
}
ABLATIONS = {
    "full": {},
    "no-connectome": {"model.connectome_density": 1.0},
    "no-dale": {"model.dale": False},
    "no-noise": {"model.noise": 0.0},
    "no-layernorm": {"model.layernorm": False},
    "no-hebbian": {"regulator.drive": "taylor"},
    "no-gene-regulation": {"pruning": "none"},
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="runs/bionic_ablation")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--data", help="a run file whose [data] table replaces the digits set")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--ray-address")
    args = parser.parse_args(argv)

    base = {"training": {"epochs": args.epochs}}
    if args.data:
        base["data"] = load_run_config(args.data).data.model_dump(mode="json")
    points, names = [], []
    for variant, change in ABLATIONS.items():
        for seed in args.seeds:
            # the first prune after epoch 3, or after the first epoch of a shorter run
            points.append({**FULL, **change, "regulator.start_epoch": min(3, args.epochs - 1), "seed": seed})
            names.append(f"{variant}-seed{seed}")
    summaries = sweep(base, points, Path(args.out) / "runs", args.workers, args.ray_address, names)
    shape = (len(ABLATIONS), len(args.seeds))
    accuracy = np.asarray([s["test_accuracy"] for s in summaries]).reshape(shape)
    sparsity = np.asarray([s["sparsity"] for s in summaries]).reshape(shape)
    result = xr.Dataset(
        {"test_accuracy": (("variant", "seed"), accuracy), "sparsity": (("variant", "seed"), sparsity)},
        coords={"variant": list(ABLATIONS), "seed": args.seeds},
    )
    result.attrs["data"] = base.get("data", {}).get("name", "digits")
    result.to_netcdf(Path(args.out) / "bionic_ablation.nc", engine="netcdf4")

    spread = (lambda v: v.std(ddof=1)) if len(args.seeds) > 1 else (lambda v: 0.0)
    print(f"BioNIC-style model on {result.attrs['data']}, {args.epochs} epochs, seeds {args.seeds}\n")
    print("| variant | test accuracy (%) | change vs full (points) | sparsity |")
    print("|---|---|---|---|")
    for i, variant in enumerate(ABLATIONS):
        print(
            f"| {variant} | {100 * accuracy[i].mean():.2f} ± {100 * spread(accuracy[i]):.2f} | "
            f"{100 * (accuracy[i].mean() - accuracy[0].mean()):+.2f} | {100 * sparsity[i].mean():.1f}% |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
