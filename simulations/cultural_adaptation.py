"""Cultural adaptation, the seed paper's question: a model trained on a majority group adapts to an
under-represented group from a few examples. Static fine-tuning against gene-regulated rewiring.

    python simulations/cultural_adaptation.py                 # simulated groups on digits
    python simulations/cultural_adaptation.py --shots 5 --seeds 0 1 2 3 4
    python simulations/cultural_adaptation.py --fer fer2013.csv --groups groups.csv --key row \
        --majority east --minority west                       # real group labels you hold

No real group labels ship with any package, so by default the groups are a SIMULATION: the
minority group is the same images under a fixed, seeded appearance shift
(`biogrn.data.groups.GroupShift`: gamma, contrast, brightness, a horizontal shift). Per seed:

1. Train an MLP with gene regulation (`paper` policy) on the majority group only.
2. From that same state, adapt on `shots` minority examples per class, in two arms:
   - `static`: fine-tune the surviving weights; masks fixed (no pruning, no rewiring);
   - `rewiring`: fine-tune with the regulator running (Eq. 1 driven by the new group's gradients,
     pruning and Eq. 3 rewiring every adaptation epoch);
   and `before`: no adaptation.
3. Evaluate every arm on the whole test split seen as each group (the same images, unshifted and
   shifted): accuracy and macro-F1 per group, worst group, largest gap.

Writes OUT/cultural_adaptation.nc (arm x group x seed) and prints the table side by side.
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import numpy as np
import torch
import xarray as xr
from torch.utils.data import DataLoader, TensorDataset

from biogrn.core import stream_seed
from biogrn.data import GroupShift, digits
from biogrn.models import mlp
from biogrn.regulation import regulate
from biogrn.runs import group_metrics, predict, train_epoch

ARMS = ("before", "static", "rewiring")


def few_shot(x: torch.Tensor, y: torch.Tensor, shots: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """`shots` examples of each class, drawn with `seed`."""
    rng = np.random.default_rng(seed)
    chosen = np.concatenate(
        [rng.choice(np.flatnonzero(y.numpy() == c), shots, replace=False) for c in np.unique(y.numpy())]
    )
    return x[chosen], y[chosen]


def simulated_groups(seed: int, shots: int, strength: float) -> dict:
    """Digits; the minority group is the same images under a seeded GroupShift (a simulation)."""
    splits = digits(seed=seed)
    shift = GroupShift(2, strength, seed=stream_seed(seed, "groups"))

    def as_group(x: torch.Tensor, group: int) -> torch.Tensor:
        return shift(x.reshape(-1, 1, 8, 8), torch.full((len(x),), group)).reshape(len(x), -1)

    x_train, y_train = splits.train.tensors
    x_test, y_test = splits.test.tensors
    return {
        "majority": (x_train, y_train),
        "minority": few_shot(as_group(x_train, 1), y_train, shots, stream_seed(seed, "shots")),
        "val": splits.val,
        "test": (
            torch.cat([x_test, as_group(x_test, 1)]),
            torch.cat([y_test, y_test]),
            np.array(["majority"] * len(y_test) + ["minority (simulated)"] * len(y_test)),
        ),
        "n_classes": 10,
    }


def real_groups(path: str, groups_csv: str, key: str, majority: str, minority: str, shots: int, seed: int) -> dict:
    """FER-2013 with a group per example from a metadata CSV: train on `majority`, adapt on `minority`."""
    from biogrn.data import EMOTIONS, FER2013, read_groups

    mapping = read_groups(groups_csv, key)
    parts = {split: FER2013(path, split, groups=mapping) for split in ("train", "val", "test")}

    def flat(dataset, chosen):
        x, y = dataset.tensors()
        return x.reshape(len(y), -1)[chosen], y[chosen]

    train = parts["train"]
    x_major, y_major = flat(train, torch.as_tensor(train.groups == majority))
    x_minor, y_minor = flat(train, torch.as_tensor(train.groups == minority))
    test = parts["test"]
    keep = np.isin(test.groups, [majority, minority])
    x_test, y_test = flat(test, torch.as_tensor(keep))
    x_val, y_val = flat(parts["val"], torch.ones(len(parts["val"]), dtype=torch.bool))
    return {
        "majority": (x_major, y_major),
        "minority": few_shot(x_minor, y_minor, shots, stream_seed(seed, "shots")),
        "val": TensorDataset(x_val, y_val),
        "test": (x_test, y_test, test.groups[keep].astype(str)),
        "n_classes": len(EMOTIONS),
    }


def one_seed(seed: int, data: dict, epochs: int, adapt_epochs: int) -> dict[str, xr.Dataset]:
    x_train, y_train = data["majority"]
    x_minority, y_minority = data["minority"]
    test_x, test_y, test_groups = data["test"]
    test_loader = DataLoader(TensorDataset(test_x, test_y), batch_size=512)
    sizes = [x_train.shape[1], 128, 64, data["n_classes"]]

    total = epochs + adapt_epochs
    start = min(5, epochs - 1)  # the listing's first prune after epoch 5, or after the first of a shorter run
    torch.manual_seed(seed)
    model = mlp(sizes)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    regulator = regulate(model, optimizer=optimizer, epochs=total, start_epoch=start, seed=seed)
    majority = DataLoader(
        TensorDataset(x_train, y_train),
        batch_size=64,
        shuffle=True,
        generator=torch.Generator().manual_seed(stream_seed(seed, "shuffle")),
    )
    validation = DataLoader(data["val"], batch_size=512)
    for _ in range(epochs):
        train_epoch(model, majority, optimizer, torch.device("cpu"), regulator)
        labels, predictions = predict(model, validation)
        regulator.epoch_end(float((labels == predictions).mean()))
    trained = {
        "model": copy.deepcopy(model.state_dict()),
        "optimizer": copy.deepcopy(optimizer.state_dict()),
        "regulator": copy.deepcopy(regulator.state_dict()),
    }

    results = {}
    for arm in ARMS:
        torch.manual_seed(seed)
        model = mlp(sizes)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        regulator = regulate(model, optimizer=optimizer, epochs=total, start_epoch=start, seed=seed)
        model.load_state_dict(copy.deepcopy(trained["model"]))
        optimizer.load_state_dict(copy.deepcopy(trained["optimizer"]))
        regulator.load_state_dict(copy.deepcopy(trained["regulator"]))
        minority = DataLoader(
            TensorDataset(x_minority, y_minority),
            batch_size=16,
            shuffle=True,
            generator=torch.Generator().manual_seed(stream_seed(seed, "adapt")),
        )
        if arm != "before":
            for _ in range(adapt_epochs):
                train_epoch(model, minority, optimizer, torch.device("cpu"), regulator if arm == "rewiring" else None)
                if arm == "rewiring":
                    regulator.epoch_end()
        labels, predictions = predict(model, test_loader)
        metrics = group_metrics(labels, predictions, test_groups, data["n_classes"])
        metrics["sparsity"] = regulator.sparsity()
        results[arm] = metrics
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="runs/cultural_adaptation")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--shots", type=int, default=10, help="minority examples per class")
    parser.add_argument("--epochs", type=int, default=20, help="epochs on the majority group")
    parser.add_argument("--adapt-epochs", type=int, default=10)
    parser.add_argument("--strength", type=float, default=1.0, help="size of the simulated group shift, 0 to 1")
    parser.add_argument("--fer", help="FER-2013 (CSV or folders) with real groups, instead of the simulation")
    parser.add_argument("--groups", help="metadata CSV giving each example's group")
    parser.add_argument("--key", default="row", help="the groups CSV's key column (row number or file path)")
    parser.add_argument("--majority", help="the group trained on")
    parser.add_argument("--minority", help="the group adapted to")
    args = parser.parse_args(argv)
    real = args.fer is not None
    if real and not (args.groups and args.majority and args.minority):
        parser.error("--fer needs --groups, --majority and --minority")

    def data_for(seed: int) -> dict:
        if real:
            return real_groups(args.fer, args.groups, args.key, args.majority, args.minority, args.shots, seed)
        return simulated_groups(seed, args.shots, args.strength)

    per_seed = [one_seed(s, data_for(s), args.epochs, args.adapt_epochs) for s in args.seeds]
    variables = ("accuracy", "macro_f1")
    groups = per_seed[0]["before"]["group"].values
    data = {
        v: (
            ("arm", "group", "seed"),
            np.array(
                [
                    [[per_seed[k][a][v].sel(group=g).item() for k in range(len(args.seeds))] for g in groups]
                    for a in ARMS
                ]
            ),
        )
        for v in variables
    }
    for v in ("worst_group_accuracy", "largest_gap", "sparsity"):
        data[v] = (
            ("arm", "seed"),
            np.array([[float(per_seed[k][a][v]) for k in range(len(args.seeds))] for a in ARMS]),
        )
    study = xr.Dataset(data, coords={"arm": list(ARMS), "group": groups, "seed": args.seeds})
    study.attrs.update(
        simulation="no: real group labels"
        if real
        else "minority group = GroupShift of the same images (no real group labels)",
        shots=args.shots,
        epochs=args.epochs,
        adapt_epochs=args.adapt_epochs,
        strength=args.strength,
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    study.to_netcdf(out / "cultural_adaptation.nc", engine="netcdf4")

    def cell(values) -> str:
        values = 100 * np.asarray(values)
        spread = values.std(ddof=1) if len(values) > 1 else 0.0
        return f"{values.mean():.2f} ± {spread:.2f}"

    what = (
        f"REAL GROUPS from {args.groups}: {args.majority} (majority) and {args.minority} (minority)"
        if real
        else "SIMULATION: the minority group is a seeded appearance shift of digits"
    )
    print(f"{what}; {args.shots} shots per class, {len(args.seeds)} seeds\n")
    print(
        "| arm | majority acc. (%) | minority acc. (%) | minority macro-F1 (%) | worst group (%) | gap (points) "
        "| sparsity |"
    )
    print("|---|---|---|---|---|---|---|")
    major, minor = (args.majority, args.minority) if real else ("majority", "minority (simulated)")
    for arm in ARMS:
        row = study.sel(arm=arm)
        print(
            f"| {arm} | {cell(row['accuracy'].sel(group=major))} | {cell(row['accuracy'].sel(group=minor))} | "
            f"{cell(row['macro_f1'].sel(group=minor))} | {cell(row['worst_group_accuracy'])} | "
            f"{cell(row['largest_gap'])} | {100 * float(row['sparsity'].mean()):.1f}% |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
