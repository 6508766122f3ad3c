"""A plain training/evaluation loop with an optional Regulator, shared by the CLI and studies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from biogrn.regulator import Regulator

__all__ = ["EpochResult", "evaluate", "fit", "mlp"]


def mlp(sizes: list[int]) -> nn.Sequential:
    """Linear layers of the given widths with ReLU between them (the seed listing's model)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


@dataclass
class EpochResult:
    epoch: int
    train_loss: float
    val_loss: float
    val_accuracy: float
    sparsity: float
    extra: dict = field(default_factory=dict)


@torch.no_grad()
def evaluate(model: nn.Module, loader: DataLoader, device: torch.device) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of `model` over `loader`."""
    model.eval()
    loss_sum, correct, count = 0.0, 0, 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        logits = model(x)
        loss_sum += nn.functional.cross_entropy(logits, y, reduction="sum").item()
        correct += (logits.argmax(1) == y).sum().item()
        count += len(y)
    model.train()
    return loss_sum / count, correct / count


def fit(model: nn.Module, optimizer: torch.optim.Optimizer, train: TensorDataset, val: TensorDataset,
        epochs: int, batch_size: int = 64, regulator: Regulator | None = None, seed: int = 0,
        device: torch.device | str = "cpu",
        on_epoch: Callable[[EpochResult], None] | None = None) -> list[EpochResult]:
    """Train `model` for `epochs`; step the regulator after each optimizer step and at each epoch end."""
    device = torch.device(device)
    generator = torch.Generator().manual_seed(seed)
    train_loader = DataLoader(train, batch_size=batch_size, shuffle=True, generator=generator)
    val_loader = DataLoader(val, batch_size=512)
    results = []
    model.train()
    for epoch in range(1, epochs + 1):
        total, batches = torch.zeros((), device=device), 0
        for x, y in train_loader:
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad(set_to_none=True)
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            if regulator is not None:
                regulator.step()
            total += loss.detach()
            batches += 1
        val_loss, val_accuracy = evaluate(model, val_loader, device)
        if regulator is not None:
            regulator.epoch_end(val_accuracy)
        result = EpochResult(epoch, float(total) / batches, val_loss, val_accuracy,
                             regulator.sparsity() if regulator is not None else 0.0)
        results.append(result)
        if on_epoch is not None:
            on_epoch(result)
    return results
