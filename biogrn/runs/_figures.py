"""Figures of a run, drawn from its records alone (headless: matplotlib's Figure, no pyplot).

Each figure is titled with its run (directory, data, model, policy, seed), names layers with their
shapes, counts epochs in whole numbers and marks the first prune; legends sit outside the data.

- training.png: loss, accuracy and pruning rate per epoch (the seed listing's three panels; a
  dense run has no pruning panel);
- expression.png: the median and the middle 50% and 90% of connections' m and p per layer;
- threshold.png: tau per layer where it moves (a fixed tau is stated in words), and sigma_r;
- traces.png: w and p of the traced connections over steps (when traces were recorded);
- probe.png: what the expression knows: each score's rank correlation with the exact loss change of
  removing a gene, and its AUROC for the least important 10%, per probe (when probes ran).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import xarray as xr
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from biogrn.core import atomic_write

__all__ = ["plot_run"]


def plot_run(records: xr.Dataset, out: str | Path) -> list[Path]:
    """Draw every figure the records support into `out`; returns the files written."""
    out = Path(out)
    title = run_title(records, out)
    drawn = [(_training(records), "training.png")]
    has_epochs = records.sizes["epoch"] > 0
    if has_epochs and records.attrs.get("policy") in ("paper", "target"):  # the gene ODE ran
        drawn.append((_expression(records), "expression.png"))
    if has_epochs and records.sizes["update"] > 0:
        drawn.append((_threshold(records), "threshold.png"))
    if records.sizes["trace_step"] > 0 and records.sizes["connection"] > 0:
        drawn.append((_traces(records), "traces.png"))
    if records.sizes.get("probe", 0) > 0:
        drawn.append((_probe(records), "probe.png"))
    written = []
    for figure, name in drawn:
        figure.suptitle(title, fontsize=10)
        written.append(_save(figure, out / name))
    return written


def run_title(records: xr.Dataset, directory: Path) -> str:
    """`regulated: digits (scikit-learn, 1,797 8x8 images), mlp 128-64, policy paper, seed 0`."""
    parts = [str(records.attrs.get("data_source", "")).strip()]
    config = records.attrs.get("config")
    if config:
        model = json.loads(config).get("model", {})
        widths = "-".join(map(str, model.get("hidden") or []))
        parts.append(f"{model.get('name', 'model')} {widths}".strip())
    if records.attrs.get("pruning") == "none":
        parts.append("dense (no pruning)")
    else:
        parts.append(f"policy {records.attrs.get('policy', '?')}")
    parts.append(f"seed {records.attrs.get('seed', '?')}")
    return f"{directory.name}: " + ", ".join(part for part in parts if part)


def layer_label(records: xr.Dataset, layer) -> str:
    """A layer's name with its shape (`0.weight, 128 x 64`), where the records hold shapes."""
    if "layer_shape" in records.coords:
        return f"{layer}, {records['layer_shape'].sel(layer=layer).item()}"
    return str(layer)


def first_prune_epoch(records: xr.Dataset) -> float | None:
    """The epoch whose end held the first prune/rewire update, or None when none ran."""
    if records.sizes.get("update", 0) == 0:
        return None
    return float(records["update_epoch"].values[0])


def _mark_first_prune(axes, epoch: float | None, label: bool = True) -> None:
    if epoch is not None:
        axes.axvline(epoch, color="0.4", linestyle=":", linewidth=1.2, label="first prune" if label else None)


def _whole_epochs(*axes_list) -> None:
    for axes in axes_list:
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))


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
    dense = records.attrs.get("pruning") == "none"
    figure = Figure(figsize=(9 if dense else 13, 4.2), layout="constrained")
    panels = figure.subplots(1, 2 if dense else 3)
    loss, accuracy = panels[0], panels[1]
    epoch = records["epoch"].values
    first = first_prune_epoch(records)
    loss.plot(epoch, records["train_loss"], label="train")
    loss.plot(epoch, records["val_loss"], label="validation")
    loss.set(xlabel="epoch", ylabel="cross-entropy", title="Loss")
    accuracy.plot(epoch, 100 * records["train_accuracy"], label="train")
    accuracy.plot(epoch, 100 * records["val_accuracy"], label="validation")
    test = float(records["test_accuracy"])
    if np.isfinite(test) and len(epoch):
        accuracy.plot([epoch[-1]], [100 * test], "k*", markersize=10, label=f"test {100 * test:.2f}%")
    accuracy.set(xlabel="epoch", ylabel="accuracy (%)", title="Accuracy")
    for axes in panels:
        _mark_first_prune(axes, first)
    if not dense:
        pruning = panels[2]
        for layer in records["layer"].values:
            pruning.plot(
                epoch, 100 * records["sparsity"].sel(layer=layer), label=layer_label(records, layer), alpha=0.8
            )
        pruning.plot(epoch, 100 * records["total_sparsity"], "k--", label="all regulated")
        pruning.set(xlabel="epoch", ylabel="pruned connections (%)", title="Pruning rate", ylim=(-2, 102))
    for axes in panels:
        axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(0.0, -0.18), ncols=2, frameon=False)
        axes.grid(alpha=0.3)
    _whole_epochs(*panels)
    return figure


def _bands(qs: np.ndarray) -> tuple[int, list[tuple[int, int]]]:
    """Index of the quantile nearest the median, and symmetric index pairs from the outside in."""
    return int(np.argmin(np.abs(qs - 0.5))), [(i, len(qs) - 1 - i) for i in range(len(qs) // 2)]


def _share(low: float, high: float) -> str:
    """`middle 90% of connections` for the quantiles 0.05 and 0.95."""
    return f"middle {100 * (high - low):.3g}% of connections"


def _expression(records: xr.Dataset) -> Figure:
    layers = records["layer"].values
    figure = Figure(figsize=(4 * len(layers), 6.6), layout="constrained")
    axes = np.asarray(figure.subplots(2, len(layers), squeeze=False))
    epoch = records["epoch"].values
    qs = records["quantile"].values
    median, pairs = _bands(qs)
    first = first_prune_epoch(records)
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
                    label=_share(qs[low], qs[high]),
                )
            ax.plot(
                epoch,
                values[:, median],
                "C0",
                label="median" if abs(qs[median] - 0.5) < 1e-9 else f"{qs[median]:g} quantile",
            )
            _mark_first_prune(ax, first)
            ax.set(xlabel="epoch", ylabel=label, title=f"{layer_label(records, layer)}: {label}")
            ax.grid(alpha=0.3)
    _whole_epochs(*axes.ravel())
    handles, labels = axes[0, 0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncols=len(labels), fontsize=8, frameon=False)
    return figure


def _threshold(records: xr.Dataset) -> Figure:
    epochs = records["update_epoch"].values
    moving, fixed = [], []
    for layer in records["layer"].values:
        tau = records["update_tau"].sel(layer=layer).values
        finite = tau[np.isfinite(tau)]
        if len(finite) and np.ptp(finite) <= 1e-9 * max(1.0, float(np.abs(finite).max())):
            fixed.append(f"{layer_label(records, layer)}: {finite[0]:.3g}")
        else:
            moving.append((layer, tau))
    figure = Figure(figsize=(11 if moving else 6, 4.2), layout="constrained")
    panels = np.atleast_1d(figure.subplots(1, 2 if moving else 1))
    if moving:
        tau_axes = panels[0]
        for layer, tau in moving:
            tau_axes.plot(epochs, tau, "o-", markersize=3, label=layer_label(records, layer))
        tau_axes.set(
            xlabel="epoch of the update",
            ylabel="tau (Eq. 2 score)",
            title="Threshold: a connection whose score S falls below tau is pruned",
        )
        tau_axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(0.0, -0.18), frameon=False)
    sigma_axes = panels[-1]
    sigma_axes.plot(records["epoch"].values, records["sigma"], "o-", markersize=3)
    sigma_axes.set(
        xlabel="epoch",
        ylabel="sigma_r",
        title="Rewiring temperature (Eq. 3): P(regrow) = exp(-Delta / sigma_r)",
    )
    if fixed:  # a flat line says nothing a number does not
        figure.text(
            0.5,
            -0.02,
            "Threshold tau (a connection whose Eq. 2 score falls below it is pruned), fixed from its first "
            "update on: " + "; ".join(fixed),
            ha="center",
            va="top",
            fontsize=8,
            wrap=True,
        )
    for axes in panels:
        axes.grid(alpha=0.3)
    _whole_epochs(*panels)
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
        if records.sizes.get("update", 0):
            axes.axvline(
                records["update_step"].values[0], color="0.4", linestyle=":", linewidth=1.2, label="first prune"
            )
        axes.set(xlabel="training step", ylabel=label, title=f"Traced connections: {label}")
        axes.grid(alpha=0.3)
        axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(0.0, -0.18), ncols=3, frameon=False)
    return figure
