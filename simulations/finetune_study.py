"""Pruning while fine-tuning under a shift: the regime where movement pruning beat magnitude.

    OMP_NUM_THREADS=1 python simulations/finetune_study.py --seeds $(seq 0 19) --workers 2 \\
        --out runs/finetune_study

Sanh, Wolf & Rush (2020) found accumulated saliency ahead of magnitude when a pretrained network
must move its weights for a new task, at high sparsity. The same regime, built offline on MNIST-1D
(docs/mnist1d.md), per seed:

1. **Pretrain** the paper's residual MLP (40-100-100-10) dense on 25,000 signals of the default
   generator (18,000 train after its test part and a validation tenth), Adam lr 1e-2, batch 100,
   20 epochs. One run per seed, under OUT/pretrain/.
2. **Fine-tune under a shift**: from those weights (`model.weights`), 30 epochs at Adam lr 3e-3 on
   the standard 4,000 + 1,000 signals of a generator whose signals are sheared and scaled more
   (`shear_scale` 1.5 against 0.75, `scale_coeff` 0.8 against 0.4; generator seed 7), while each
   method prunes the two hidden layers to the target (the classifier stays dense, as the task
   head does in Sanh et al.): dense-to-sparse methods once per epoch from epoch 1 to 20 on a
   cubic schedule; RigL drops and grows every 100 steps to epoch 20 (it starts sparse, from the
   pretrained weights).

Methods: `dense` (fine-tuned, not pruned), `gene` (the `target` policy, Taylor drive),
`gene-movement` and `gene-fisher` (the same policy with the drives of Eq. 1 that movement pruning
and the empirical Fisher name), `magnitude` (Zhu & Gupta), `movement` (Sanh et al.'s hard top-k of
-sum w g) and `rigl`. `zero-shot` is the pretrained model on the shifted test signals, not
fine-tuned.

The primary comparison, stated in docs/studies.md before the run: `gene-movement` against
`magnitude` at 95%, paired t-test over the seeds (Wilcoxon beside it); every other comparison of
the table is adjusted by Benjamini-Hochberg. Writes OUT/finetune_study.nc (method x target x seed),
OUT/finetune_study.md and OUT/finetune_study.png; every run's records stay under OUT/runs/. The
study resumes: finished runs are read back, unfinished ones continue.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sparsity_study import markdown, plot, points, tabulate  # a sibling script

from biogrn.runs import (
    build_model,
    evaluate,
    load_data,
    load_initial_weights,
    parse_run_config,
    sweep,
    with_overrides,
)

MODEL = {"name": "mlp", "hidden": [100, 100], "residual": True}
PRETRAIN = {
    "pruning": "none",
    "data": {"name": "mnist1d", "val_fraction": 0.1, "mnist1d": {"num_samples": 25000}},
    "model": MODEL,
    "training": {"epochs": 20, "batch_size": 100, "optimizer": "adam", "lr": 1e-2},
    "records": {"write_every": 5},
}
SHIFT = {"seed": 7, "shear_scale": 1.5, "scale_coeff": 0.8}
"""The fine-tuning task's generator: other signals, sheared and scaled more than the pretraining's."""
HIDDEN_LAYERS = ["0", "2.block.0"]
"""The pruned layers: the two hidden ones; the classifier stays dense, as Sanh et al. prune the
encoder and not the task head (pruned too, every method fell to 23-26% at 95%: a pilot on seeds
100 and 101, outside the study's)."""
FINETUNE = {
    "data": {"name": "mnist1d", "val_fraction": 0.1, "mnist1d": SHIFT},
    "model": MODEL,
    "training": {"epochs": 30, "batch_size": 100, "optimizer": "adam", "lr": 3e-3},
    "regulator": {"layers": HIDDEN_LAYERS},
    "records": {"write_every": 10},
}
SCHEDULE = (1, 20)
METHODS = ("dense", "gene", "gene-movement", "gene-fisher", "magnitude", "movement", "rigl")
PRIMARY = ("0.95", "gene-movement", "magnitude")


def pretrained_weights(out: Path, seed: int) -> Path:
    return out / "pretrain" / f"pretrain-seed{seed}" / "checkpoint.pt"


def zero_shot(out: Path, seeds: list[int]) -> np.ndarray:
    """Each seed's pretrained model on the shifted test signals, before any fine-tuning."""
    config = parse_run_config(with_overrides(FINETUNE, {"seed": 0, "pruning": "none"}))
    data = load_data(config.data, 0)  # the test part does not depend on the run's seed
    loader = DataLoader(data.test, batch_size=512)
    accuracies = []
    for seed in seeds:
        model = build_model(config.model, data.n_features, data.n_classes)
        load_initial_weights(model, pretrained_weights(out, seed))
        accuracies.append(evaluate(model, loader, torch.device("cpu"))[1])
    return np.array(accuracies)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="runs/finetune_study")
    parser.add_argument("--sparsities", type=float, nargs="+", default=[0.9, 0.95, 0.98])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(20)))
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--ray-address", help="run the points on this Ray cluster")
    args = parser.parse_args(argv)
    out = Path(args.out)
    started = time.perf_counter()

    sweep(
        PRETRAIN,
        [{"seed": seed} for seed in args.seeds],
        out / "pretrain",
        args.workers,
        args.ray_address,
        [f"pretrain-seed{seed}" for seed in args.seeds],
    )
    chosen, names, keys = points(args.sparsities, args.seeds, args.methods, SCHEDULE)
    for point in chosen:
        point["model.weights"] = str(pretrained_weights(out, point["seed"]).resolve())
    summaries = sweep(FINETUNE, chosen, out / "runs", args.workers, args.ray_address, names)
    study = tabulate(keys, summaries, args.sparsities, args.seeds, args.methods)
    study["zero_shot_accuracy"] = ("seed", zero_shot(out, args.seeds))
    study.attrs.update(
        command=" ".join(["python", "simulations/finetune_study.py", *(argv or sys.argv[1:])]),
        regime="pretrain dense on 25,000 default MNIST-1D signals; fine-tune on a sheared, scaled generator",
        shift=str(SHIFT),
        primary=" ".join(PRIMARY),
    )
    study.to_netcdf(out / "finetune_study.nc", engine="netcdf4")
    shot = 100 * study["zero_shot_accuracy"].values
    table = markdown(study, PRIMARY) + (
        f"\n\nZero-shot (pretrained, not fine-tuned) on the shifted test signals: {shot.mean():.2f}% "
        f"(seeds {shot.min():.1f} to {shot.max():.1f})."
    )
    (out / "finetune_study.md").write_text(table + "\n")
    plot(study, out / "finetune_study.png")
    print(table)
    print(f"\n{len(chosen) + len(args.seeds)} runs in {time.perf_counter() - started:.0f} s; {out}/finetune_study.nc")
    return 0


if __name__ == "__main__":
    sys.exit(main())
