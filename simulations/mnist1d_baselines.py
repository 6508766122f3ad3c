"""Dense baselines on MNIST-1D against the paper's published test accuracies.

    python simulations/mnist1d_baselines.py                 # logistic, MLP, CNN x seeds 0 1 2
    python simulations/mnist1d_baselines.py --seeds 0 1 2 3 4 --workers 2
    python simulations/mnist1d_baselines.py --models mlp mlp_wide     # how wide reaches the 68%

The paper's protocol (Greydanus & Kobak; the notebooks of github.com/greydanus/mnist1d): the
default 4,000 training and 1,000 test signals, Adam with lr 1e-2, batch 100, 6,000 steps, test
accuracy at the last step. Models: `logistic` (one Linear layer), `mlp` (hidden 100, 100: the
paper's 15,210 parameters, its second layer residual) and `cnn` (`cnn1d`: the
paper's ConvBase, 5,210 parameters); `mlp_wide` (hidden 400, 400, residual: not the paper's, four
times its width, compared with the paper's MLP figure) tells how far the published 68% is from the
published architecture. Here a tenth of the training signals is held out for
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
    "mlp_wide": {"model.name": "mlp", "model.hidden": [400, 400], "model.residual": True},
}
PUBLISHED_AS = {"mlp_wide": "mlp"}
"""Models that are not the paper's, and the published figure they are set beside."""
STEPS, BATCH, VAL_FRACTION, EVAL_EVERY = 6000, 100, 0.1, 250
NUM_SAMPLES = Mnist1dSettings().num_samples  # the generator's default: the paper's 5,000


def protocol_base(num_samples: int = NUM_SAMPLES, steps: int = STEPS) -> dict:
    """The paper's training protocol as a run configuration (dense, MNIST-1D, epochs for `steps`)."""
    n_train = int(0.8 * num_samples) - int(VAL_FRACTION * int(0.8 * num_samples))
    epochs = math.ceil(steps / math.ceil(n_train / BATCH))
    return {
        "pruning": "none",
        "data": {"name": "mnist1d", "val_fraction": VAL_FRACTION, "mnist1d": {"num_samples": num_samples}},
        "training": {"epochs": epochs, "batch_size": BATCH, "optimizer": "adam", "lr": 1e-2},
    }


def reference_protocol(
    model_name: str, seed: int, steps: int = STEPS, num_samples: int = NUM_SAMPLES
) -> tuple[float, float]:
    """The notebooks' `train_model` on the same signals: every training signal, batches in fixed
    order, Adam lr 1e-2. Returns the test accuracy after `steps` steps and the best one seen
    every `EVAL_EVERY` steps (the last included)."""
    data = mnist1d(Mnist1dSettings(num_samples=num_samples), val_fraction=VAL_FRACTION, seed=0)
    x = torch.cat([data.train.tensors[0], data.val.tensors[0]])
    y = torch.cat([data.train.tensors[1], data.val.tensors[1]])
    config = parse_run_config({"model": {k.split(".")[1]: v for k, v in MODELS[model_name].items()}})
    torch.manual_seed(seed)
    model = build_model(config.model, x.shape[1], 10)
    optimizer = torch.optim.Adam(model.parameters(), 1e-2)
    x_test, y_test = data.test.tensors
    seen = []
    for step in range(steps + 1):
        start = (step * BATCH) % len(x)
        loss = torch.nn.functional.cross_entropy(model(x[start : start + BATCH]), y[start : start + BATCH])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % EVAL_EVERY == 0 or step == steps:
            with torch.no_grad():
                seen.append(float((model(x_test).argmax(1) == y_test).float().mean()))
    return seen[-1], max(seen)


def markdown(study: xr.Dataset) -> str:
    reference = "reference_accuracy" in study
    lines = [
        "| model | published | authors' protocol here | its best step | biogrn, mean | 95% interval "
        "| biogrn - published | per seed |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for model in study["model"].values:
        acc = 100 * study["test_accuracy"].sel(model=model).values
        mean, low, high = mean_interval(acc)
        published = 100 * MNIST1D_PUBLISHED[PUBLISHED_AS.get(str(model), str(model))]
        theirs, best = (
            (f"{100 * float(study[k].sel(model=model).mean()):.2f}" for k in ("reference_accuracy", "reference_best"))
            if reference
            else ("-", "-")
        )
        seeds = ", ".join(f"{a:.1f}" for a in acc)
        lines.append(
            f"| {model} | {published:.0f} | {theirs} | {best} | {mean:.2f} | {low:.2f} to {high:.2f} | "
            f"{mean - published:+.2f} | {seeds} |"
        )
    lines.append(
        f"\nTest accuracy (%) at the last step, {study.sizes['seed']} seeds (the same seeds for both "
        "protocols); interval: Student's t. The best step is chosen on the test set: a diagnostic, not a "
        "result. mlp_wide is not the paper's model: it is set beside the paper's MLP figure."
    )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="runs/mnist1d_baselines")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--steps", type=int, default=STEPS, help="optimizer steps (the paper's 6,000)")
    parser.add_argument("--num-samples", type=int, default=NUM_SAMPLES, help="signals generated (the paper's 5,000)")
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
    summaries = sweep(protocol_base(args.num_samples, args.steps), points, out / "runs", args.workers, names=names)
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
        replayed = np.asarray(
            [[reference_protocol(m, s, args.steps, args.num_samples) for s in args.seeds] for m in args.models]
        )
        study["reference_accuracy"] = (("model", "seed"), replayed[..., 0])
        study["reference_best"] = (("model", "seed"), replayed[..., 1])
    study.to_netcdf(out / "mnist1d_baselines.nc", engine="netcdf4")
    table = markdown(study)
    (out / "mnist1d_baselines.md").write_text(table + "\n")
    print(table)
    print(f"\n{len(points)} runs in {time.perf_counter() - started:.0f} s; {out}/mnist1d_baselines.nc")
    return 0


if __name__ == "__main__":
    sys.exit(main())
