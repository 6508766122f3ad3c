"""The movement drive two ways: -sum_t w_t g_t recorded every step, against w * dw from one weight
snapshot per interval, on the same training run.

    python simulations/benchmarks/movement_estimates.py --optimizer adam sgd --seeds 0 1 2

Movement pruning's score over an integration interval of T steps is -sum_t w_t g_t (what
`drive="movement"` records: one multiply-add and one copy per step). Under plain gradient descent,
dw = w_T - w_0 = -lr sum_t g_t, so w * dw / lr approximates it from one snapshot per interval (one
copy per interval, nothing per step), up to how much w moves within the interval; under Adam, dw is
Adam's normalised step, not the gradient. On the demo's digits MLP (64-128-10, batch 64, 30 epochs,
integration every 20 steps, `drive="movement"`, `policy="target"` to 80%), per interval and layer:
Spearman's rho between the two over the active connections, and the agreement of their signs.
Medians over intervals and seeds.
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np
import torch
from scipy import stats
from torch import nn

import biogrn
from biogrn.data import digits


def run(optimizer_name: str, seed: int, epochs: int, every: int) -> list[tuple[float, float]]:
    torch.manual_seed(seed)
    splits = digits(0.15, 0.15, seed)
    x, y = splits.train.tensors
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    if optimizer_name == "adam":
        optimizer = torch.optim.Adam(model.parameters(), 1e-3)
    else:
        optimizer = torch.optim.SGD(model.parameters(), 0.05)
    reg = biogrn.regulate(
        model, optimizer=optimizer, drive="movement", policy="target", target_sparsity=0.8,
        start_epoch=2, end_epoch=20, epochs=epochs, integrate_every=every, seed=seed,
    )  # fmt: skip
    layers = [model[0], model[2]]
    start = [layer.weight.detach().clone() for layer in layers]
    out = []
    for _ in range(epochs):
        order = torch.randperm(len(x))
        for i in range(0, len(x), 64):
            batch = order[i : i + 64]
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x[batch]), y[batch]).backward()
            optimizer.step()
            last = reg.clock.steps_since_integration + 1 >= every  # reg.step integrates after this one
            if last:  # the record holds the interval's sum but this step's term, which reg.step adds
                masks = list(reg.masks().values())  # pruned weights: the optimizer has moved them, reg.step re-zeroes
                for record, layer, w0, mask in zip(reg.records, layers, start, masks):
                    previous = record.previous.detach().clone()
                    record.movement.addcmul_(previous, layer.weight.grad)  # this step's term, as reg.step adds it
                    exact = -record.movement.detach().reshape(-1)
                    record.movement.addcmul_(previous, layer.weight.grad, value=-1.0)
                    w = layer.weight.detach()
                    snapshot = (w * (w - w0)).reshape(-1)
                    active = mask.reshape(-1)
                    if int(active.sum()) > 10 and float(exact[active].abs().sum()) > 0:
                        rho = stats.spearmanr(exact[active].numpy(), snapshot[active].numpy()).statistic
                        sign = float((torch.sign(exact[active]) == torch.sign(snapshot[active])).float().mean())
                        out.append((float(rho), sign))
            reg.step()
            if last:
                start = [layer.weight.detach().clone() for layer in layers]
        reg.epoch_end()
        start = [layer.weight.detach().clone() for layer in layers]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--optimizer", nargs="+", default=["adam", "sgd"], choices=["adam", "sgd"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--every", type=int, default=20)
    args = parser.parse_args()
    print("| optimizer | intervals x layers | median rho (exact, snapshot) | 10th percentile | median sign agreement |")
    print("|---|---|---|---|---|")
    for name in args.optimizer:
        pairs = [p for seed in args.seeds for p in run(name, seed, args.epochs, args.every)]
        rhos, signs = [p[0] for p in pairs], [p[1] for p in pairs]
        print(
            f"| {name} | {len(pairs)} | {statistics.median(rhos):.3f} | {np.percentile(rhos, 10):.3f} | "
            f"{statistics.median(signs):.3f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
