"""The `biogrn` command."""

from __future__ import annotations

import argparse
import sys

import numpy as np
import torch
from torch.utils.data import TensorDataset

from biogrn.regulator import regulate
from biogrn.train import evaluate, fit, mlp

__all__ = ["main"]


def digits_splits(seed: int = 0) -> tuple[TensorDataset, TensorDataset, TensorDataset]:
    """scikit-learn's 8x8 digits (ships offline), pixels scaled to [0, 1], split 70/15/15."""
    from sklearn.datasets import load_digits

    data = load_digits()
    x = torch.tensor(data.data / 16.0, dtype=torch.float32)
    y = torch.tensor(data.target, dtype=torch.long)
    order = torch.tensor(np.random.default_rng(seed).permutation(len(y)))
    x, y = x[order], y[order]
    a, b = int(0.7 * len(y)), int(0.85 * len(y))
    return TensorDataset(x[:a], y[:a]), TensorDataset(x[a:b], y[a:b]), TensorDataset(x[b:], y[b:])


def demo(epochs: int, seed: int, quiet: bool) -> int:
    """The seed paper's demonstration on digits: a dense MLP and a gene-regulated one, side by side."""
    train, val, test = digits_splits(seed)
    sizes = [64, 128, 64, 10]
    say = (lambda *a: None) if quiet else print
    say(f"biogrn demo: digits ({len(train)} train / {len(val)} val / {len(test)} test), MLP {sizes}, "
        f"Adam lr 1e-3, batch 64, {epochs} epochs")
    finals = {}
    for label in ("dense", "regulated"):
        torch.manual_seed(seed)
        model = mlp(sizes)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        regulator = regulate(model, optimizer=optimizer, epochs=epochs, seed=seed) if label == "regulated" else None

        def report(r, label=label):
            say(f"  {label:9s} epoch {r.epoch:3d}  loss {r.train_loss:.4f}  val acc {r.val_accuracy * 100:6.2f}%  "
                f"sparsity {r.sparsity * 100:5.1f}%")
        fit(model, optimizer, train, val, epochs, 64, regulator, seed, on_epoch=report)
        _, accuracy = evaluate(model, torch.utils.data.DataLoader(test, batch_size=512), torch.device("cpu"))
        finals[label] = (accuracy, regulator.sparsity() if regulator else 0.0)
    print("model      test accuracy  sparsity")
    for label, (accuracy, sparsity) in finals.items():
        print(f"{label:10s} {accuracy * 100:12.2f}%  {sparsity * 100:7.1f}%")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="biogrn", description="Gene-regulated dynamic pruning for PyTorch")
    commands = parser.add_subparsers(dest="command", required=True)
    demo_parser = commands.add_parser("demo", help="train dense and gene-regulated MLPs on digits (offline data)")
    demo_parser.add_argument("--epochs", type=int, default=20)
    demo_parser.add_argument("--seed", type=int, default=0)
    demo_parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "demo":
        if args.epochs < 1:
            parser.error(f"--epochs: must be >= 1, got {args.epochs}")
        return demo(args.epochs, args.seed, args.quiet)
    return 2


if __name__ == "__main__":
    sys.exit(main())
