"""Regulatory dynamics against accuracy: a grid over the gene ODE, Eq. 2 and Eq. 3 settings.

    python simulations/dynamics_sweep.py                          # the default grid, locally
    python simulations/dynamics_sweep.py --workers 2              # two local processes
    python simulations/dynamics_sweep.py --ray-address auto       # on a Ray cluster (shared --out)
    python simulations/dynamics_sweep.py --grid gamma_m=0.005,0.02 alpha=0,0.5 --seeds 0 1
    python simulations/dynamics_sweep.py --preset mnist1d-mlp --num-samples 50000 --ray-address local

Swept (dotted regulator fields; any can be given with --grid NAME=v1,v2,...): gamma_m, gamma_p
(decay rates of Eq. 1), drive_hill (the Hill coefficient of the drive), alpha and beta (Eq. 2),
sigma_schedule (Eq. 3). Per point: test accuracy, final sparsity, connections rewired, the epoch
at which tau froze (NaN: never), training seconds. One xarray.Dataset with the swept parameters
(and seed) as dimensions: OUT/dynamics_sweep.nc, and a heat map per pair of the first two axes.
With two or more seeds, OUT/dynamics_sweep.md pairs each swept value with its axis's first value
at every setting of the other axes (paired t-test over the seeds, Benjamini-Hochberg adjusted).
Every run is the digits demo model with the `paper` policy unless --base gives a run file or
--preset names one of the sparsity study's (`mnist1d-mlp`, `mnist1d-cnn`: MNIST-1D with the
paper's models; --num-samples sets how many signals the generator makes).
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sparsity_study import PRESETS, preset_base  # a sibling script

from biogrn import runs
from biogrn.runs import adjust, grid, load_run_config, paired_comparison

DEFAULT_GRID = {
    "gamma_m": [0.005, 0.02],
    "gamma_p": [0.005, 0.02],
    "drive_hill": [1.0, 4.0],
    "alpha": [0.0, 0.5, 2.0],
    "beta": [0.0, 0.2],
    "sigma_schedule": ["paper", "constant"],
}
METRICS = ("test_accuracy", "sparsity", "n_regrown", "freeze_epoch", "train_seconds")


def parse_axis(text: str) -> tuple[str, list]:
    """`name=v1,v2` with numbers where they parse."""
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"--grid {text!r}: expected NAME=v1,v2,...")
    name, values = text.split("=", 1)

    def value(v: str):
        try:
            return float(v) if any(c in v for c in ".e") else int(v)
        except ValueError:
            return v

    return name, [value(v) for v in values.split(",")]


def sweep(
    base: dict, axes: dict[str, list], seeds: list[int], out: Path, workers: int = 1, ray_address: str | None = None
) -> xr.Dataset:
    """Run the grid (x seeds) and gather the metrics into one Dataset with one dimension per axis."""
    full_axes = {**{f"regulator.{name}": values for name, values in axes.items()}, "seed": seeds}
    points = grid(full_axes)
    summaries = runs.sweep(base, points, out / "runs", workers, ray_address)
    shape = [len(v) for v in full_axes.values()]
    dims = [*axes, "seed"]
    data = {metric: np.asarray([s[metric] for s in summaries], dtype=float).reshape(shape) for metric in METRICS}
    dataset = xr.Dataset(
        {m: (dims, v) for m, v in data.items()},
        coords={**{name: values for name, values in axes.items()}, "seed": seeds},
    )
    dataset["test_accuracy"].attrs["description"] = "accuracy on the test split at the end"
    dataset["sparsity"].attrs["description"] = "pruned fraction of all regulated connections at the end"
    dataset["n_regrown"].attrs["description"] = "connections rewired by Eq. 3 over the run"
    dataset["freeze_epoch"].attrs["description"] = "epoch at which tau froze (NaN: never)"
    dataset["train_seconds"].attrs["description"] = "wall-clock training time of the run"
    return dataset


def paired_effects(dataset: xr.Dataset, metric: str = "test_accuracy") -> str:
    """Each swept value against the axis's first value, at every setting of the other axes, paired
    over the seeds (t-test, Benjamini-Hochberg over the table); empty with fewer than two seeds."""
    if dataset.sizes.get("seed", 0) < 2:
        return ""
    axes = [d for d in dataset[metric].dims if d != "seed"]
    rows = []
    for axis in axes:
        others = [a for a in axes if a != axis]
        reference = dataset[axis].values[0]
        for value in dataset[axis].values[1:]:
            for setting in itertools.product(*(dataset[a].values for a in others)):
                where = dict(zip(others, setting))
                a = dataset[metric].sel({axis: value, **where}).values
                b = dataset[metric].sel({axis: reference, **where}).values
                if np.isfinite(a).all() and np.isfinite(b).all():
                    label = ", ".join(f"{k}={v}" for k, v in where.items()) or "-"
                    rows.append((f"{axis}: {value} vs {reference}", label, paired_comparison(100 * a, 100 * b)))
    if not rows:
        return ""
    adjusted = adjust([c.t_pvalue for *_, c in rows])
    lines = [
        "| effect | at | difference (points) | 95% interval | p (paired t) | p adjusted |",
        "|---|---|---|---|---|---|",
    ]
    for (effect, label, c), q in zip(rows, adjusted):
        lines.append(
            f"| {effect} | {label} | {c.mean_difference:+.2f} | {c.low:+.2f} to {c.high:+.2f} | "
            f"{c.t_pvalue:.3g} | {q:.3g} |"
        )
    lines.append(
        f"\n{metric} paired over {dataset.sizes['seed']} seeds; p adjusted by Benjamini-Hochberg over the table."
    )
    return "\n".join(lines)


def plot(dataset: xr.Dataset, path: Path) -> None:
    """Heat maps over the first two axes (mean over every other axis and the seeds)."""
    axes_names = [d for d in dataset.dims if d != "seed"][:2]
    if len(axes_names) < 2:
        axes_names = axes_names + ["seed"]
    figure = Figure(figsize=(4 * len(METRICS[:3]), 3.6), layout="constrained")
    for ax, metric in zip(figure.subplots(1, 3), METRICS[:3]):
        mean = dataset[metric].mean([d for d in dataset.dims if d not in axes_names]).transpose(*axes_names)
        image = ax.imshow(mean.values, origin="lower", aspect="auto", cmap="viridis")
        ax.set_xticks(range(mean.shape[1]), [str(v) for v in dataset[axes_names[1]].values])
        ax.set_yticks(range(mean.shape[0]), [str(v) for v in dataset[axes_names[0]].values])
        ax.set(xlabel=axes_names[1], ylabel=axes_names[0], title=metric)
        figure.colorbar(image, ax=ax)
    figure.savefig(path, dpi=110)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="runs/dynamics_sweep")
    parser.add_argument("--grid", nargs="+", type=parse_axis, help="NAME=v1,v2,... (regulator fields)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--epochs", type=int, help="training epochs (default: 20, or the preset's)")
    parser.add_argument("--base", help="a run file for everything not swept (default: the demo's model on digits)")
    parser.add_argument(
        "--preset",
        choices=[p for p in PRESETS if p != "digits"],
        help="a sparsity-study preset instead of the demo's model on digits",
    )
    parser.add_argument("--num-samples", type=int, help="with an MNIST-1D preset: signals the generator makes")
    parser.add_argument("--genes", choices=["connection", "unit"], help="with a preset: a gene per connection or unit")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--ray-address", help="run the points on this Ray cluster")
    args = parser.parse_args(argv)

    axes = dict(args.grid) if args.grid else DEFAULT_GRID
    if args.base:
        base = load_run_config(args.base).model_dump(mode="json")
        for key in ("epochs", "seed"):
            base["regulator"].pop(key, None)
    elif args.preset:
        base, start, _ = preset_base(args.preset, args.epochs or None)
        base["regulator"] = {"start_epoch": start}
        if args.num_samples:
            base["data"]["mnist1d"] = {"num_samples": args.num_samples}
        if args.genes:
            base["regulator"]["genes"] = args.genes
    else:
        base = {"model": {"hidden": [128, 64]}, "training": {"epochs": args.epochs or 20}}
    out = Path(args.out)
    started = time.perf_counter()
    dataset = sweep(base, axes, args.seeds, out, args.workers, args.ray_address)
    dataset.attrs["command"] = " ".join(["python", "simulations/dynamics_sweep.py", *(argv or sys.argv[1:])])
    dataset.to_netcdf(out / "dynamics_sweep.nc", engine="netcdf4")
    plot(dataset, out / "dynamics_sweep.png")
    flat = dataset.mean("seed").to_dataframe().sort_values("test_accuracy", ascending=False)
    print(flat.to_string(float_format=lambda v: f"{v:.4g}"))
    effects = paired_effects(dataset)
    if effects:
        (out / "dynamics_sweep.md").write_text(effects + "\n")
        print("\n" + effects)
    print(f"\n{dataset['test_accuracy'].size} runs in {time.perf_counter() - started:.0f} s; {out}/dynamics_sweep.nc")
    return 0


if __name__ == "__main__":
    sys.exit(main())
