"""Task switches: the genes' time constants as memory, against the baselines' masks.

    OMP_NUM_THREADS=1 python simulations/task_switches.py --seeds $(seq 0 9) --workers 2 \\
        --out runs/task_switches

The seed paper's cultural adaptation, in a form that can be measured offline: one network meets
two groups whose signals differ in appearance, in turn. Task A is MNIST-1D's default generator;
task B is the fine-tuning study's shifted generator (`shear_scale` 1.5, `scale_coeff` 0.8,
generator seed 7): the same ten classes, drawn differently. The residual MLP (40-100-100-10)
trains on A, B, A, B for `--phase-epochs` epochs each (Adam lr 3e-3, batch 100, 3,600 signals per
task), its two hidden layers held at 90% sparsity (reached by the end of the first phase on a
cubic schedule; the classifier stays dense), while each method keeps moving its mask:

- `gene` (the `target` policy, Taylor drive) with `gamma_m`, `gamma_p` scaled by 0.25, 1 or 4
  (`gene-x0.25`, `gene`, `gene-x4`): the mRNA and protein time constants $1/\\gamma$ set how long
  a connection's expression remembers the task that drove it (every gene run integrates with
  rk4 steps of 10, inside the stability region at the fastest decay);
- `gene-movement`: the same with the movement drive;
- `magnitude` (its mask fixed once the target is reached: magnitude pruning never regrows),
  `movement` (hard top-k of -sum w g, recomputed each epoch) and `rigl` (drop and grow every 100
  steps through all four phases).

Every 12 steps both tasks' validation signals are scored. Per phase: the test accuracy of its task
at its end; recovery, the steps after the switch until the validation accuracy of the new task
first reaches 95% of its value at the phase's end; forgetting, the change of the previous task's
test accuracy over the phase (negative: forgotten). The summary per run is the mean test accuracy
of the two tasks after the last phase. Methods are compared on the same seeds by paired t-tests
(Wilcoxon beside), Benjamini-Hochberg over the table.

Each run's curves and results go to OUT/points/METHOD-seedN.nc as it finishes (a killed study
continues where it stopped); the table (OUT/task_switches.md) and OUT/task_switches.nc are made
from those files.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
import xarray as xr
from torch.utils.data import DataLoader

from biogrn.core import atomic_write, stream_seed
from biogrn.data import Mnist1dSettings, mnist1d
from biogrn.models import mlp
from biogrn.regulation import regulate
from biogrn.runs import adjust, evaluate, in_processes, mean_interval, paired_comparison, train_epoch

TASKS = {
    "A": Mnist1dSettings(),
    "B": Mnist1dSettings(seed=7, shear_scale=1.5, scale_coeff=0.8),
}
ORDER = ("A", "B", "A", "B")
HIDDEN_LAYERS = ("0", "2.block.0")
TARGET = 0.9
EVAL_EVERY = 12
BASE_GAMMA = {"gamma_m": 0.02, "gamma_p": 0.01}
METHODS = ("gene-x0.25", "gene", "gene-x4", "gene-movement", "magnitude", "movement", "rigl")
GENE_METHODS = ("gene-x0.25", "gene", "gene-x4", "gene-movement")
BASELINES = ("magnitude", "movement", "rigl")


def regulator_settings(method: str, phase_epochs: int) -> dict:
    """The `regulate` keywords of a method over the whole sequence."""
    total = phase_epochs * len(ORDER)
    start = min(1, phase_epochs - 1)  # the first prune after epoch 1 (or at the end of a one-epoch phase)
    window = {"target_sparsity": TARGET, "start_epoch": start, "end_epoch": phase_epochs, "epochs": total}
    if method.startswith("gene"):
        scale = float(method.split("-x")[1]) if "-x" in method else 1.0
        drive = "movement" if method == "gene-movement" else "taylor"
        # rk4 steps of 10 keep h * gamma inside its stability region at the fastest decay (0.08)
        gammas = {k: v * scale for k, v in BASE_GAMMA.items()}
        return {"policy": "target", "drive": drive, **gammas, "step_size": 10.0, **window}
    if method in ("magnitude", "movement"):
        return {"policy": method, **window}
    if method == "rigl":
        return {
            "policy": "rigl",
            "target_sparsity": TARGET,
            "start_epoch": 0,
            "end_epoch": total,
            "epochs": total,
            "update_every": 100,
            "drop_schedule": "cosine",
        }
    raise ValueError(f"method: {method!r} is unknown; choose from {', '.join(METHODS)}")


def one_run(method: str, seed: int, phase_epochs: int, path: Path) -> None:
    """Train one method on one seed through the sequence; write its curves and results to `path`."""
    splits = {name: mnist1d(settings, val_fraction=0.1, seed=seed) for name, settings in TASKS.items()}
    torch.manual_seed(seed)
    model = mlp([40, 100, 100, 10], residual=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    regulator = regulate(
        model, optimizer=optimizer, layers=HIDDEN_LAYERS, seed=seed, **regulator_settings(method, phase_epochs)
    )
    cpu = torch.device("cpu")
    val = {name: DataLoader(s.val, batch_size=1000) for name, s in splits.items()}
    test = {name: DataLoader(s.test, batch_size=1000) for name, s in splits.items()}
    shuffle = torch.Generator().manual_seed(stream_seed(seed, "shuffle"))
    curve_steps, curve = [], {name: [] for name in TASKS}
    step = 0

    def score() -> None:
        curve_steps.append(step)
        for name in TASKS:
            curve[name].append(evaluate(model, val[name], cpu)[1])

    def on_step() -> None:
        nonlocal step
        step += 1
        if step % EVAL_EVERY == 0:
            score()

    phase_end = np.zeros((len(ORDER), len(TASKS)))
    phase_start_step = []
    for phase, task in enumerate(ORDER):
        phase_start_step.append(step)
        loader = DataLoader(splits[task].train, batch_size=100, shuffle=True, generator=shuffle)
        for _ in range(phase_epochs):
            train_epoch(model, loader, optimizer, cpu, regulator, on_step=on_step)
            regulator.epoch_end(evaluate(model, val[task], cpu)[1])
        phase_end[phase] = [evaluate(model, test[name], cpu)[1] for name in TASKS]
    steps = np.array(curve_steps)
    accuracy = np.array([curve[name] for name in TASKS])
    recovery = np.full(len(ORDER), np.nan)
    for phase, task in enumerate(ORDER):
        inside = (steps > phase_start_step[phase]) & (
            steps <= (phase_start_step[phase + 1] if phase + 1 < len(ORDER) else step)
        )
        own = accuracy[list(TASKS).index(task), inside]
        reached = np.flatnonzero(own >= 0.95 * own[-1])
        recovery[phase] = steps[inside][reached[0]] - phase_start_step[phase]
    result = xr.Dataset(
        {
            "val_accuracy": (("task", "check"), accuracy),
            "phase_test_accuracy": (("phase", "task"), phase_end),
            "recovery_steps": ("phase", recovery),
            "sparsity": ((), regulator.sparsity()),
        },
        coords={"task": list(TASKS), "check": steps, "phase": [f"{i + 1}:{t}" for i, t in enumerate(ORDER)]},
        attrs={
            "method": method,
            "seed": seed,
            "phase_epochs": phase_epochs,
            **regulator_settings(method, phase_epochs),
        },
    )
    atomic_write(path, lambda tmp: result.to_netcdf(tmp, engine="netcdf4"))


def summarize(points: dict[tuple[str, int], xr.Dataset], methods: list[str], seeds: list[int]) -> xr.Dataset:
    """method x seed: final mean accuracy, mean recovery after the switches, mean forgetting."""
    shape = (len(methods), len(seeds))
    final, recovery, forgetting, sparsity = (np.full(shape, np.nan) for _ in range(4))
    tasks = list(TASKS)
    for i, method in enumerate(methods):
        for j, seed in enumerate(seeds):
            run = points.get((method, seed))
            if run is None:
                continue
            ends = run["phase_test_accuracy"].values
            final[i, j] = ends[-1].mean()
            recovery[i, j] = run["recovery_steps"].values[1:].mean()  # the switches, not the first phase
            drops = [
                ends[p, tasks.index(ORDER[p - 1])] - ends[p - 1, tasks.index(ORDER[p - 1])]
                for p in range(1, len(ORDER))
            ]
            forgetting[i, j] = float(np.mean(drops))
            sparsity[i, j] = float(run["sparsity"])
    dims = ("method", "seed")
    return xr.Dataset(
        {
            "final_accuracy": (dims, final),
            "recovery_steps": (dims, recovery),
            "forgetting": (dims, forgetting),
            "sparsity": (dims, sparsity),
        },
        coords={"method": methods, "seed": seeds},
    )


def markdown(study: xr.Dataset) -> str:
    lines = [
        "| method | final accuracy, mean of A and B (%) | 95% interval | recovery after a switch (steps) "
        "| forgetting (points) | sparsity |",
        "|---|---|---|---|---|---|",
    ]
    for method in study["method"].values:
        cell = study.sel({"method": method})
        if np.isnan(cell["final_accuracy"]).any():
            continue
        mean, low, high = mean_interval(100 * cell["final_accuracy"].values)
        lines.append(
            f"| {method} | {mean:.2f} | {low:.2f} to {high:.2f} | {float(cell['recovery_steps'].mean()):.0f} | "
            f"{100 * float(cell['forgetting'].mean()):+.2f} | {100 * float(cell['sparsity'].mean()):.1f}% |"
        )
    rows = []
    present = set(study["method"].values)
    for gene in GENE_METHODS:
        for baseline in [*BASELINES, *(m for m in GENE_METHODS if m != gene and m < gene)]:
            if gene not in present or baseline not in present:
                continue
            a = 100 * study["final_accuracy"].sel({"method": gene}).values
            b = 100 * study["final_accuracy"].sel({"method": baseline}).values
            if len(a) > 1 and not np.isnan([*a, *b]).any():
                rows.append((gene, baseline, paired_comparison(a, b)))
    if rows:
        adjusted = adjust([c.t_pvalue for *_, c in rows])
        lines += [
            "",
            "| method | against | difference (points) | 95% interval | p (paired t) | p (Wilcoxon) | p adjusted "
            "| detectable (80% power) |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for (gene, baseline, c), q in zip(rows, adjusted):
            lines.append(
                f"| {gene} | {baseline} | {c.mean_difference:+.2f} | {c.low:+.2f} to {c.high:+.2f} | "
                f"{c.t_pvalue:.3g} | {c.wilcoxon_pvalue:.3g} | {q:.3g} | {c.detectable:.2f} |"
            )
        lines.append(
            f"\nPaired over {rows[0][2].n} seeds on the final accuracy; p adjusted over the table by "
            "Benjamini-Hochberg; detectable: the smallest true difference found in 80% of studies at p < 0.05."
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="runs/task_switches")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--phase-epochs", type=int, default=10)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    out = Path(args.out)
    (out / "points").mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    paths = {(m, s): out / "points" / f"{m}-seed{s}.nc" for m in args.methods for s in args.seeds}
    todo = [(m, s, args.phase_epochs, p) for (m, s), p in paths.items() if not p.exists()]
    in_processes(one_run, todo, args.workers)
    points = {key: xr.load_dataset(path) for key, path in paths.items()}
    for (method, seed), run in points.items():
        if run.attrs["phase_epochs"] != args.phase_epochs:
            raise SystemExit(
                f"{paths[method, seed]}: ran with --phase-epochs {run.attrs['phase_epochs']}; use a new --out"
            )
    study = summarize(points, args.methods, args.seeds)
    study.attrs.update(
        command=" ".join(["python", "simulations/task_switches.py", *(argv or sys.argv[1:])]),
        order=" ".join(ORDER),
        phase_epochs=args.phase_epochs,
    )
    atomic_write(out / "task_switches.nc", lambda tmp: study.to_netcdf(tmp, engine="netcdf4"))
    table = markdown(study)
    (out / "task_switches.md").write_text(table + "\n")
    print(table)
    print(f"\n{len(todo)} runs in {time.perf_counter() - started:.0f} s; {out}/task_switches.nc")
    return 0


if __name__ == "__main__":
    sys.exit(main())
