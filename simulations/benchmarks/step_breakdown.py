"""Split the regulator's per-step cost: masking and recording versus integration; detect host syncs.

    cd simulations/benchmarks && python step_breakdown.py [--device cuda] [--repeats 10]

The three variants run in alternating 50-step windows, so drift of a shared machine hits them alike;
the regulated ones after one prune + rewire update (about 60% pruned).
"""

from __future__ import annotations

import argparse
import statistics
import warnings

import torch
from regulator_overhead import clock, make_model, print_ratio_table, prune_once, train_step

import biogrn

VARIANTS = {
    "plain": None,
    "regulated, no integration in the window": dict(integrate_every=10**9, step_size=1.0),
    "regulated": {},
}


def count_syncs(run, steps: int) -> int:
    """Host synchronisations flagged by CUDA's sync debug mode over `steps` steps."""
    torch.cuda.set_sync_debug_mode("warn")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(steps):
            train_step(*run)
        torch.cuda.set_sync_debug_mode(0)
    return sum("synchroniz" in str(w.message) for w in caught)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    window = 50
    x = torch.randn(64, 1024, device=device)
    y = torch.randint(0, 10, (64,), device=device)
    runs = {}
    for label, settings in VARIANTS.items():
        model = make_model(device)
        opt = torch.optim.Adam(model.parameters(), 1e-3)
        reg = None if settings is None else biogrn.regulate(model, optimizer=opt, **settings)
        if reg is not None:
            prune_once(reg, device)  # the state of every step once pruning has started
        runs[label] = (model, opt, reg, x, y)
        for _ in range(window):
            train_step(*runs[label])
    times = {label: [] for label in runs}
    for _ in range(args.repeats):
        for label, run in runs.items():
            start = clock(device)
            for _ in range(window):
                train_step(*run)
            times[label].append((clock(device) - start) / window)
    if device.type == "cuda":
        for label, run in runs.items():
            print(f"{label}: {count_syncs(run, window)} host syncs in {window} steps")
    print_ratio_table(
        "variant (batch 64, 2.1 M connections, 50-step windows), per step",
        {label: statistics.median(t) for label, t in times.items()},
        "plain",
    )


if __name__ == "__main__":
    main()
