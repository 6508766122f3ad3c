"""Figures of a run, drawn from its records alone (headless: matplotlib's Figure, no pyplot).

- training.png: loss, accuracy and pruning rate per epoch (the seed listing's three panels);
- expression.png: quantile bands of m and p per layer over epochs;
- threshold.png: tau per layer at each prune/rewire update, and sigma_r;
- traces.png: w and p of the traced connections over steps (when traces were recorded);
- probe.png: what the expression knows: each score's rank correlation with the exact loss change of
  removing a gene, and its AUROC for the least important 10%, per probe (when probes ran).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from biogrn.core import atomic_write

__all__ = ["plot_run"]


def plot_run(records: xr.Dataset, out: str | Path) -> list[Path]:
    """Draw every figure the records support into `out`; returns the files written."""
    out = Path(out)
    written = [_save(_training(records), out / "training.png")]
    has_epochs = records.sizes["epoch"] > 0
    if has_epochs and records.attrs.get("policy") in ("paper", "target"):  # the gene ODE ran
        written.append(_save(_expression(records), out / "expression.png"))
    if has_epochs and records.sizes["update"] > 0:
        written.append(_save(_threshold(records), out / "threshold.png"))
    if records.sizes["trace_step"] > 0 and records.sizes["connection"] > 0:
        written.append(_save(_traces(records), out / "traces.png"))
    if records.sizes.get("probe", 0) > 0:
        written.append(_save(_probe(records), out / "probe.png"))
    return written


def _probe(records: xr.Dataset) -> Figure:
    figure = Figure(figsize=(13, 3.8), layout="constrained")
    correlation, auroc, scatter = figure.subplots(1, 3)
    epochs = records["probe_epoch"].values
    for i, score in enumerate(records["score"].values):
        correlation.plot(epochs, records["probe_spearman"].sel(score=score), "o-", color=f"C{i}", label=str(score))
        auroc.plot(epochs, records["probe_auroc"].sel(score=score), "o-", color=f"C{i}", label=str(score))
    correlation.axhline(0, color="k", lw=0.8)
    auroc.axhline(0.5, color="k", lw=0.8, ls="--", label="chance")
    correlation.set(xlabel="epoch", ylabel="Spearman rho", title="Rank correlation with the loss change")
    auroc.set(xlabel="epoch", ylabel="AUROC", title="Finding the least important 10%", ylim=(0, 1))
    last = records.isel(probe=-1)
    keep = last["probe_gene"].values >= 0
    scatter.scatter(last["probe_expression"].values[keep], last["probe_loss_change"].values[keep], s=8, alpha=0.6)
    scatter.set(
        xlabel="protein p",
        ylabel="loss change on removal (nat)",
        title=f"Expression against the loss change, epoch {int(last['probe_epoch'])}",
    )
    for axes in (correlation, auroc, scatter):
        axes.grid(alpha=0.3)
    correlation.legend(fontsize=8)
    auroc.legend(fontsize=8)
    return figure


def _save(figure: Figure, path: Path) -> Path:
    atomic_write(path, lambda tmp: figure.savefig(tmp, format="png", dpi=110, bbox_inches="tight"))
    return path


def _training(records: xr.Dataset) -> Figure:
    figure = Figure(figsize=(13, 3.8), layout="constrained")
    loss, accuracy, pruning = figure.subplots(1, 3)
    epoch = records["epoch"].values
    loss.plot(epoch, records["train_loss"], label="train")
    loss.plot(epoch, records["val_loss"], label="validation")
    loss.set(xlabel="epoch", ylabel="cross-entropy", title="Loss")
    accuracy.plot(epoch, 100 * records["train_accuracy"], label="train")
    accuracy.plot(epoch, 100 * records["val_accuracy"], label="validation")
    test = float(records["test_accuracy"])
    if np.isfinite(test) and len(epoch):
        accuracy.plot([epoch[-1]], [100 * test], "k*", markersize=10, label=f"test {100 * test:.2f}%")
    accuracy.set(xlabel="epoch", ylabel="accuracy (%)", title="Accuracy")
    for layer in records["layer"].values:
        pruning.plot(epoch, 100 * records["sparsity"].sel(layer=layer), label=str(layer), alpha=0.8)
    pruning.plot(epoch, 100 * records["total_sparsity"], "k--", label="all regulated")
    pruning.set(xlabel="epoch", ylabel="pruned connections (%)", title="Pruning rate", ylim=(-2, 102))
    for axes in (loss, accuracy, pruning):
        axes.legend(fontsize=8)
        axes.grid(alpha=0.3)
    return figure


def _bands(qs: np.ndarray) -> tuple[int, list[tuple[int, int]]]:
    """Index of the quantile nearest the median, and symmetric index pairs from the outside in."""
    return int(np.argmin(np.abs(qs - 0.5))), [(i, len(qs) - 1 - i) for i in range(len(qs) // 2)]


def _expression(records: xr.Dataset) -> Figure:
    layers = records["layer"].values
    figure = Figure(figsize=(4 * len(layers), 6), layout="constrained")
    axes = np.asarray(figure.subplots(2, len(layers), squeeze=False))
    epoch = records["epoch"].values
    qs = records["quantile"].values
    median, pairs = _bands(qs)
    for column, layer in enumerate(layers):
        for row, (name, label) in enumerate((("m_quantiles", "mRNA m"), ("p_quantiles", "protein p"))):
            values = records[name].sel(layer=layer).values
            ax = axes[row, column]
            for depth, (low, high) in enumerate(pairs):
                ax.fill_between(
                    epoch,
                    values[:, low],
                    values[:, high],
                    color="C0",
                    alpha=0.15 + 0.15 * depth,
                    label=f"q{qs[low]:g} to q{qs[high]:g}",
                )
            ax.plot(epoch, values[:, median], "C0", label=f"q{qs[median]:g}")
            ax.set(xlabel="epoch", ylabel=label, title=f"{layer}: {label}")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
    return figure


def _threshold(records: xr.Dataset) -> Figure:
    figure = Figure(figsize=(10, 3.8), layout="constrained")
    tau_axes, sigma_axes = figure.subplots(1, 2)
    steps = records["update_step"].values
    for layer in records["layer"].values:
        tau_axes.plot(steps, records["update_tau"].sel(layer=layer), "o-", markersize=3, label=str(layer))
    tau_axes.set(xlabel="training step", ylabel="tau", title="Threshold at each update")
    sigma_axes.plot(records["epoch"].values, records["sigma"], "o-", markersize=3)
    sigma_axes.set(xlabel="epoch", ylabel="sigma_r", title="Rewiring temperature (Eq. 3)")
    for axes in (tau_axes, sigma_axes):
        axes.grid(alpha=0.3)
    if len(steps):
        tau_axes.legend(fontsize=8)
    return figure


def _traces(records: xr.Dataset) -> Figure:
    figure = Figure(figsize=(11, 3.8), layout="constrained")
    weight_axes, expression_axes = figure.subplots(1, 2)
    steps = records["trace_step"].values
    active_at_end = records["trace_mask"].values[-1] > 0
    for axes, name, label in ((weight_axes, "trace_w", "stored weight w"), (expression_axes, "trace_p", "protein p")):
        values = records[name].values
        for kept, colour, what in ((True, "C0", "active at the end"), (False, "C3", "pruned at the end")):
            chosen = values[:, active_at_end == kept]
            if chosen.shape[1]:
                lines = axes.plot(steps, chosen, colour, alpha=0.35, linewidth=0.8)
                lines[0].set_label(f"{what} ({chosen.shape[1]})")
        axes.set(xlabel="training step", ylabel=label, title=f"Traced connections: {label}")
        axes.grid(alpha=0.3)
        axes.legend(fontsize=8)
    return figure
