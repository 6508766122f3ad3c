"""Dense baselines on MNIST-1D against the paper's published test accuracies.

    python simulations/mnist1d_baselines.py                 # logistic, MLP, CNN x seeds 0 1 2
    python simulations/mnist1d_baselines.py --seeds 0 1 2 3 4 --workers 2

The paper's protocol (Greydanus & Kobak; the notebooks of github.com/greydanus/mnist1d): the
default 4,000 training and 1,000 test signals, Adam with lr 1e-2, batch 100, 6,000 steps, test
accuracy at the last step. Models: `logistic` (one Linear layer), `mlp` (hidden 100, 100: the
paper's 15,210 parameters, its second layer residual) and `cnn` (`cnn1d`: the
paper's ConvBase, 5,210 parameters). Here a tenth of the training signals is held out for
validation, so each run trains on 3,600 signals for as many epochs as make 6,000 steps.

Beside each, the authors' own protocol replayed on the same generated signals (`--reference`,
on by default): the same model and optimizer in a plain loop over all 4,000 training signals in
fixed order, 6,000 steps, no validation split, as the notebooks' `train_model` does. It tells a
gap of biogrn's harness from a gap of the data generator's version to the published figure.

Writes OUT/mnist1d_baselines.nc (model x seed) and OUT/mnist1d_baselines.md: means, 95% t
intervals, the authors' protocol and the published figure beside each.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
import xarray as xr

from biogrn.data import MNIST1D_PUBLISHED, Mnist1dSettings, mnist1d
from biogrn.runs import build_model, mean_interval, parse_run_config, sweep

MODELS = {
    "logistic": {"model.name": "mlp", "model.hidden": []},
    "mlp": {"model.name": "mlp", "model.hidden": [100, 100], "model.residual": True},
    "cnn": {"model.name": "cnn1d"},
}
STEPS, BATCH, VAL_FRACTION = 6000, 100, 0.1


def protocol_base(num_samples: int = 5000, steps: int = STEPS) -> dict:
    """The paper's training protocol as a run configuration (dense, MNIST-1D, epochs for `steps`)."""
    n_train = int(0.8 * num_samples) - int(VAL_FRACTION * int(0.8 * num_samples))
    epochs = math.ceil(steps / math.ceil(n_train / BATCH))
    return {
        "pruning": "none",
        "data": {"name": "mnist1d", "val_fraction": VAL_FRACTION, "mnist1d": {"num_samples": num_samples}},
        "training": {"epochs": epochs, "batch_size": BATCH, "optimizer": "adam", "lr": 1e-2},
    }


def reference_protocol(model_name: str, seed: int, steps: int = STEPS) -> float:
    """The notebooks' `train_model` on the same signals: every training signal, batches in fixed
    order, Adam lr 1e-2; the test accuracy after `steps` steps."""
    data = mnist1d(Mnist1dSettings(), val_fraction=VAL_FRACTION, seed=0)
    x = torch.cat([data.train.tensors[0], data.val.tensors[0]])
    y = torch.cat([data.train.tensors[1], data.val.tensors[1]])
    config = parse_run_config({"model": {k.split(".")[1]: v for k, v in MODELS[model_name].items()}})
    torch.manual_seed(seed)
    model = build_model(config.model, x.shape[1], 10)
    optimizer = torch.optim.Adam(model.parameters(), 1e-2)
    for step in range(steps + 1):
        start = (step * BATCH) % len(x)
        loss = torch.nn.functional.cross_entropy(model(x[start : start + BATCH]), y[start : start + BATCH])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        return float((model(data.test.tensors[0]).argmax(1) == data.test.tensors[1]).float().mean())


def markdown(study: xr.Dataset) -> str:
    reference = "reference_accuracy" in study
    lines = [
        "| model | published | authors' protocol here | biogrn, mean | 95% interval | biogrn - published | per seed |",
        "|---|---|---|---|---|---|---|",
    ]
    for model in study["model"].values:
        acc = 100 * study["test_accuracy"].sel(model=model).values
        mean, low, high = mean_interval(acc)
        published = 100 * MNIST1D_PUBLISHED[str(model)]
        theirs = f"{100 * float(study['reference_accuracy'].sel(model=model).mean()):.2f}" if reference else "-"
        seeds = ", ".join(f"{a:.1f}" for a in acc)
        lines.append(
            f"| {model} | {published:.0f} | {theirs} | {mean:.2f} | {low:.2f} to {high:.2f} | "
            f"{mean - published:+.2f} | {seeds} |"
        )
    lines.append(
        f"\nTest accuracy (%) at the last step, {study.sizes['seed']} seeds (the same seeds for both "
        "protocols); interval: Student's t."
    )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="runs/mnist1d_baselines")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--no-reference",
        dest="reference",
        action="store_false",
        help="skip the authors' protocol replayed on the same signals",
    )
    args = parser.parse_args(argv)

    out = Path(args.out)
    points = [{**MODELS[m], "seed": s} for m in args.models for s in args.seeds]
    names = [f"{m}-seed{s}" for m in args.models for s in args.seeds]
    started = time.perf_counter()
    summaries = sweep(protocol_base(), points, out / "runs", args.workers, names=names)
    shape = (len(args.models), len(args.seeds))
    study = xr.Dataset(
        {
            key: (("model", "seed"), np.asarray([s[key] for s in summaries]).reshape(shape))
            for key in ("test_accuracy", "train_seconds")
        },
        coords={"model": args.models, "seed": args.seeds},
        attrs={"command": " ".join(["python", "simulations/mnist1d_baselines.py", *(argv or sys.argv[1:])])},
    )
    if args.reference:
        study["reference_accuracy"] = (
            ("model", "seed"),
            np.asarray([[reference_protocol(m, s) for s in args.seeds] for m in args.models]),
        )
    study.to_netcdf(out / "mnist1d_baselines.nc", engine="netcdf4")
    table = markdown(study)
    (out / "mnist1d_baselines.md").write_text(table + "\n")
    print(table)
    print(f"\n{len(points)} runs in {time.perf_counter() - started:.0f} s; {out}/mnist1d_baselines.nc")
    return 0


if __name__ == "__main__":
    sys.exit(main())
