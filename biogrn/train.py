"""The training and evaluation loop shared by the CLI, `biogrn.runner` and study scripts.

A step makes no host sync: loss and accuracy sums stay on the device and are read once per
epoch (and every `progress_every` steps while a progress bar is shown).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from biogrn.models import mlp
from biogrn.regulator import Regulator
from biogrn.seeding import stream_seed

__all__ = ["EpochResult", "evaluate", "fit", "mlp", "resolve_device", "train_epoch"]


@dataclass
class EpochResult:
    epoch: int
    train_loss: float
    train_accuracy: float
    val_loss: float
    val_accuracy: float
    sparsity: float


def resolve_device(name: str = "auto") -> torch.device:
    """`auto` is CUDA when present, else the CPU; other names as torch reads them.

    Raises:
        ValueError: the named device is not available here.
    """
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device: {name!r} asked for, but CUDA is not available here")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device: {name!r} asked for, but MPS is not available here")
    return device


@torch.no_grad()
def evaluate(model: nn.Module, loader: DataLoader, device: torch.device) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of `model` over `loader` (in eval mode, then back)."""
    was_training = model.training
    model.eval()
    loss_sum = torch.zeros((), device=device, dtype=torch.float64)
    correct = torch.zeros((), device=device, dtype=torch.long)
    count = 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        logits = model(x)
        loss_sum += nn.functional.cross_entropy(logits, y, reduction="sum")
        correct += (logits.argmax(1) == y).sum()
        count += len(y)
    model.train(was_training)
    return float(loss_sum) / count, int(correct) / count


def train_epoch(model: nn.Module, loader: DataLoader, optimizer: torch.optim.Optimizer, device: torch.device,
                regulator: Regulator | None = None, on_step: Callable[[], None] | None = None,
                progress=None, progress_every: int = 10,
                transform: Callable[[torch.Tensor], torch.Tensor] | None = None) -> tuple[float, float]:
    """One pass over `loader`: forward, cross-entropy, backward, `optimizer.step()`, `regulator.step()`.

    Args:
        on_step: called after each step (after the regulator's), e.g. to trace connections.
        transform: applied to each input batch on the device (augmentation).
        progress: a tqdm bar to advance; its postfix shows loss, accuracy and sparsity.

    Returns:
        Mean training loss and accuracy over the epoch (of the batches as they were trained).
    """
    model.train()
    loss_sum = torch.zeros((), device=device, dtype=torch.float64)
    correct = torch.zeros((), device=device, dtype=torch.long)
    count = 0
    for i, (x, y) in enumerate(loader, 1):
        x, y = x.to(device), y.to(device)
        if transform is not None:
            x = transform(x)
        optimizer.zero_grad(set_to_none=True)
        logits = model(x)
        loss = nn.functional.cross_entropy(logits, y)
        loss.backward()
        optimizer.step()
        if regulator is not None:
            regulator.step()
        if on_step is not None:
            on_step()
        loss_sum += loss.detach() * len(y)
        correct += (logits.detach().argmax(1) == y).sum()
        count += len(y)
        if progress is not None:
            progress.update()
            if i % progress_every == 0:
                progress.set_postfix(loss=f"{float(loss_sum) / count:.4f}", acc=f"{int(correct) / count:.3f}",
                                     sparsity=f"{regulator.sparsity() if regulator else 0.0:.3f}", refresh=False)
    return float(loss_sum) / count, int(correct) / count


def fit(model: nn.Module, optimizer: torch.optim.Optimizer, train: TensorDataset, val: TensorDataset,
        epochs: int, batch_size: int = 64, regulator: Regulator | None = None, seed: int = 0,
        device: torch.device | str = "cpu",
        on_epoch: Callable[[EpochResult], None] | None = None) -> list[EpochResult]:
    """Train `model` for `epochs` with a seeded shuffle; the regulator steps and ends each epoch.

    For runs with records, checkpoints and resumption use `biogrn.runner.run`.
    """
    device = torch.device(device)
    generator = torch.Generator().manual_seed(stream_seed(seed, "shuffle"))
    train_loader = DataLoader(train, batch_size=batch_size, shuffle=True, generator=generator)
    val_loader = DataLoader(val, batch_size=512)
    results = []
    for epoch in range(1, epochs + 1):
        train_loss, train_accuracy = train_epoch(model, train_loader, optimizer, device, regulator)
        val_loss, val_accuracy = evaluate(model, val_loader, device)
        if regulator is not None:
            regulator.epoch_end(val_accuracy)
        result = EpochResult(epoch, train_loss, train_accuracy, val_loss, val_accuracy,
                             regulator.sparsity() if regulator is not None else 0.0)
        results.append(result)
        if on_epoch is not None:
            on_epoch(result)
    return results
