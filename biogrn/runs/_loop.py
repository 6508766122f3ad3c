"""The training and evaluation loop shared by the CLI, `Trainer`, the sweeps and study scripts.

What is minimised is an `Objective`: cross-entropy with accuracy (`CLASSIFICATION`, the default)
or squared error (`REGRESSION`, for forecasting and network inference).

A step makes no host sync: loss and accuracy sums stay on the device and are read once per
epoch (and every `progress_every` steps while a progress bar is shown).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from biogrn.core import stream_seed
from biogrn.regulation import RankSync, Regulator

__all__ = ["CLASSIFICATION", "REGRESSION", "EpochResult", "Objective", "evaluate", "fit", "train_epoch"]


@dataclass(frozen=True)
class Objective:
    """What a loop minimises and how it scores a batch.

    `loss(output, target, reduction)` follows torch's loss functions (`"mean"` or `"sum"`);
    `hits(output, target)` counts the correct predictions of a batch, or is None where accuracy
    means nothing (regression: the loop reports NaN).
    """

    loss: Callable[..., torch.Tensor]
    hits: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None


def _class_hits(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return (logits.argmax(1) == labels).sum()


def _squared_error(output: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    return nn.functional.mse_loss(output.reshape(target.shape), target, reduction=reduction)


CLASSIFICATION = Objective(nn.functional.cross_entropy, _class_hits)
"""Cross-entropy over class logits; accuracy."""
REGRESSION = Objective(_squared_error)
"""Mean squared error (outputs reshaped to the targets' shape); no accuracy."""


@dataclass
class EpochResult:
    epoch: int
    train_loss: float
    train_accuracy: float
    val_loss: float
    val_accuracy: float
    sparsity: float


@torch.no_grad()
def evaluate(
    model: nn.Module,
    loader: DataLoader,
    device: torch.device,
    objective: Objective = CLASSIFICATION,
    ranks: RankSync | None = None,
) -> tuple[float, float]:
    """Mean loss and accuracy of `model` over `loader` (in eval mode, then back).

    With `ranks`, each rank's loader holds its shard and the sums are added across ranks first:
    every rank returns the metrics of the whole split.
    """
    was_training = model.training
    model.eval()
    loss_sum = torch.zeros((), device=device, dtype=torch.float64)
    correct = torch.zeros((), device=device, dtype=torch.long)
    count = 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        output = model(x)
        loss_sum += objective.loss(output, y, reduction="sum")
        if objective.hits is not None:
            correct += objective.hits(output, y)
        count += len(y)
    model.train(was_training)
    return _means(objective, loss_sum, correct, count, ranks)


def _means(
    objective: Objective, loss_sum: torch.Tensor, correct: torch.Tensor, count: int, ranks: RankSync | None
) -> tuple[float, float]:
    if ranks is not None and ranks.world_size > 1:
        totals = torch.stack([loss_sum, correct.to(loss_sum.dtype), loss_sum.new_tensor(float(count))])
        ranks.sum_([totals])  # counts below 2**53 add exactly in float64
        loss_sum, correct, count = totals[0], totals[1].long(), int(totals[2])
    return float(loss_sum) / count, _accuracy(objective, correct, count)


def _accuracy(objective: Objective, correct: torch.Tensor, count: int) -> float:
    return int(correct) / count if objective.hits is not None else float("nan")


def train_epoch(
    model: nn.Module,
    loader: DataLoader,
    optimizer: torch.optim.Optimizer,
    device: torch.device,
    regulator: Regulator | None = None,
    on_step: Callable[[], None] | None = None,
    progress=None,
    progress_every: int = 10,
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
    objective: Objective = CLASSIFICATION,
    ranks: RankSync | None = None,
) -> tuple[float, float]:
    """One pass over `loader`: forward, loss, backward, `optimizer.step()`, `regulator.step()`.

    `loader` is any iterable of `(input, target)` batches (a DataLoader, or a list holding one
    full batch several times).

    Args:
        on_step: called after each step (after the regulator's), e.g. to trace connections.
        transform: applied to each input batch on the device (augmentation).
        progress: a tqdm bar to advance; its postfix shows loss, accuracy and sparsity.
        ranks: under torch.distributed, the epoch's sums are added across ranks.

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
        output = model(x)
        loss = objective.loss(output, y)
        loss.backward()
        optimizer.step()
        if regulator is not None:
            regulator.step()
        if on_step is not None:
            on_step()
        loss_sum += loss.detach() * len(y)
        if objective.hits is not None:
            correct += objective.hits(output.detach(), y)
        count += len(y)
        if progress is not None:
            progress.update()
            if i % progress_every == 0:
                progress.set_postfix(
                    loss=f"{float(loss_sum) / count:.4f}",
                    acc=f"{_accuracy(objective, correct, count):.3f}",
                    sparsity=f"{regulator.sparsity() if regulator else 0.0:.3f}",
                    refresh=False,
                )
    return _means(objective, loss_sum, correct, count, ranks)


def fit(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    train: TensorDataset,
    val: TensorDataset,
    epochs: int,
    batch_size: int = 64,
    regulator: Regulator | None = None,
    seed: int = 0,
    device: torch.device | str = "cpu",
    on_epoch: Callable[[EpochResult], None] | None = None,
) -> list[EpochResult]:
    """Train `model` for `epochs` with a seeded shuffle; the regulator steps and ends each epoch.

    For runs with records, checkpoints and resumption use `biogrn.run`.
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
        result = EpochResult(
            epoch,
            train_loss,
            train_accuracy,
            val_loss,
            val_accuracy,
            regulator.sparsity() if regulator is not None else 0.0,
        )
        results.append(result)
        if on_epoch is not None:
            on_epoch(result)
    return results
