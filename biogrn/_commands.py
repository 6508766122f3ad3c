"""What the `biogrn` commands do, once `biogrn.cli` has parsed and checked their arguments.

Kept apart from the parser so that `biogrn --help` and a usage error load no torch, xarray or
pandas: this module (and, through it, the library) is imported only when a command runs.
"""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path

import numpy as np
import xarray as xr

from biogrn.cli import DEFAULT_DEMO, DEFAULT_SIMULATION
from biogrn.core import CheckpointError, ConfigError, DataError, DivergedError, atomic_write, require_memory
from biogrn.regulation import RankSync
from biogrn.runs import (
    CONFIG_FILE,
    RECORDS_FILE,
    claim_directory,
    free_name,
    launch_torchrun,
    launched_by_torchrun,
    load_run_config,
    parse_run_config,
    process_group_from_environment,
    read_records,
    resume,
    run,
)
from biogrn.runs._trainer import stored_config

USAGE_ERRORS = (ConfigError, DataError, CheckpointError, DivergedError, FileExistsError, FileNotFoundError)
DEMO_RUNS = ("dense", "regulated")


def demo_configs(epochs: int, seed: int) -> dict[str, dict]:
    """The seed paper's demonstration on digits: one MLP trained dense and gene-regulated."""
    base = {
        "seed": seed,
        "data": {"name": "digits"},
        "model": {"hidden": [128, 64]},
        "training": {"epochs": epochs, "batch_size": 64, "optimizer": "adam", "lr": 1e-3},
    }
    # the listing's first prune follows epoch 5; a shorter demo prunes after its first epoch
    regulator = {"start_epoch": min(5, epochs - 1)}
    return {
        "dense": {**base, "pruning": "none"},
        "regulated": {**base, "pruning": "gene", "regulator": regulator, "records": {"trace_connections": 64}},
    }


def demo_command(epochs: int, seed: int, out: Path | None, quiet: bool) -> int:
    configs = {label: parse_run_config(c, source="demo") for label, c in demo_configs(epochs, seed).items()}
    out = free_name(Path(DEFAULT_DEMO)) if out is None else out
    claim_directory(out)
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, file=sys.stderr))
    say(f"biogrn demo: digits, MLP 64-128-64-10, Adam lr 1e-3, batch 64, {epochs} epochs, seed {seed}; writing {out}/")
    finals = {}
    for label, config in configs.items():
        say(f"-- {label}")
        records = run(config, out / label, quiet=quiet)
        finals[label] = (float(records["test_accuracy"]), float(records["total_sparsity"][-1]))
    table = ["model      test accuracy  sparsity"]
    table += [
        f"{label:10s} {accuracy * 100:12.2f}%  {sparsity * 100:7.1f}%" for label, (accuracy, sparsity) in finals.items()
    ]
    (out / "summary.txt").write_text("\n".join(table) + "\n")
    print("\n".join(table))
    say(f"records and figures: {out / 'dense'}/, {out / 'regulated'}/ (biogrn report DIR shows one)")
    return 0


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during a run, carrying the run's directory (the one `--out` named, or the one chosen)."""

    def __init__(self, directory: Path):
        super().__init__(str(directory))
        self.directory = directory


def run_command(config_path: str | None, out: str | None, resume_dir: str | None, quiet: bool, nproc: int = 1) -> int:
    config = load_run_config(config_path) if config_path else None  # validated before any launch
    out_dir = (
        Path(resume_dir)
        if resume_dir is not None
        else (Path(out) if out else free_name(Path("runs") / Path(config_path).stem))
    )
    if nproc > 1 and not launched_by_torchrun():
        # what can be checked before any rank starts: the run to resume and its config, an occupied --out
        if resume_dir is not None:
            stored_config(out_dir)
        if resume_dir is None and out_dir.exists():
            claim_directory(out_dir)  # refuses a file or a directory that holds anything
        arguments = ["run", *([config_path] if config_path else []), *(["--quiet"] if quiet else [])]
        arguments += ["--resume", resume_dir] if resume_dir is not None else ["--out", str(out_dir)]
        return launch_torchrun(nproc, arguments)
    with process_group_from_environment():
        try:
            records = (
                resume(out_dir, config, quiet=quiet) if resume_dir is not None else run(config, out_dir, quiet=quiet)
            )
        except KeyboardInterrupt:
            raise RunInterrupted(out_dir) from None  # `main` names the directory this run chose
        if RankSync().rank == 0:  # every rank holds the same records; one reports them
            print(
                f"test accuracy {float(records['test_accuracy']) * 100:.2f}%  "
                f"sparsity {float(records['total_sparsity'][-1]) * 100:.1f}%  records: {out_dir / RECORDS_FILE}"
            )
    return 0


def report_command(directory: str, figures: bool = True) -> int:
    """The table of a run; its figures are redrawn in the run directory (the run's own files,
    replaced atomically), never beside a records file elsewhere."""
    from biogrn.runs._figures import plot_run  # matplotlib loads only where figures are drawn

    records = read_records(directory)
    print(format_report(records))
    run_directory = Path(directory)
    if figures and (run_directory / CONFIG_FILE).is_file():
        written = plot_run(records, run_directory)
        print("figures: " + ", ".join(str(p) for p in written))
    elif figures:
        print(f"figures: not drawn ({directory} is not a run directory)")
    return 0


def format_report(records: xr.Dataset) -> str:
    """A run's records as a plain-text table, one row per epoch, then the test result."""
    status = "complete" if int(records.attrs.get("complete", 0)) else "running or stopped"
    if records.attrs.get("stopped"):
        status = f"stopped at {records.attrs['stopped']}"
    lines = [
        f"{records.attrs.get('data_source', '?')}, pruning {records.attrs.get('pruning', '?')}, "
        f"seed {records.attrs.get('seed', '?')}: {int(records.attrs.get('epochs_done', 0))} of "
        f"{int(records.attrs.get('epochs_planned', 0))} epochs ({status})",
        "epoch  train loss  val loss  val acc  sparsity  mean tau  pruned  regrown",
    ]
    for i, epoch in enumerate(records["epoch"].values):
        tau = records["tau"].values[i]
        mean_tau = f"{np.mean(tau):8.4f}" if np.isfinite(tau).all() else "       -"
        lines.append(
            f"{epoch:5d}  {records['train_loss'].values[i]:10.4f}  {records['val_loss'].values[i]:8.4f}  "
            f"{records['val_accuracy'].values[i] * 100:6.2f}%  {records['total_sparsity'].values[i] * 100:7.1f}%  "
            f"{mean_tau}  {records['n_pruned'].values[i].sum():6d}  {records['n_regrown'].values[i].sum():7d}"
        )
    test = float(records["test_accuracy"])
    lines.append(f"test accuracy {test * 100:.2f}%" if np.isfinite(test) else "test accuracy: not yet scored")
    if records.sizes.get("probe", 0):
        scores = [str(s) for s in records["score"].values]
        lines += [
            "",
            "what the expression knows: Spearman rho with the exact loss change / AUROC for the least important 10%",
            "epoch  genes  " + "  ".join(f"{s:>17}" for s in scores),
        ]
        for i, epoch in enumerate(records["probe_epoch"].values):
            n = int((records["probe_gene"].values[i] >= 0).sum())
            cells = [
                f"{records['probe_spearman'].values[i, k]:+8.3f} / {records['probe_auroc'].values[i, k]:5.3f}"
                for k in range(len(scores))
            ]
            lines.append(f"{epoch:5d}  {n:5d}  " + "  ".join(f"{c:>17}" for c in cells))
    return "\n".join(lines)


MOST_PANELS = 36
"""`simulate`'s figure shows at most this many variables (the first ones; its title says so)."""

SIMULATION_MODELS = {
    "toggle": "the toggle switch of Gardner et al. 2000 (their fitted parameters)",
    "repressilator": "the repressilator of Elowitz & Leibler 2000 (two-stage, Box 1 parameters)",
    "racipe": "RACIPE (shifted Hill, one variable per gene; RACIPE's sampled parameter sets)",
    "boolode": "BoolODE (its Boolean rules as Hill terms, mRNA and protein; BoolODE's default parameters)",
}


def simulate_command(
    network: str,
    out: Path | None,
    members: int,
    t_end: float,
    points: int,
    seed: int,
    iptg: float,
    hill: float | None,
    stepping: str = "member",
    stop_at_rest: bool = False,
) -> int:
    """A preset (`toggle`, `repressilator`), a network file in RACIPE's form, or a BoolODE rule file
    in BoolODE's, simulated for many members at once; every output names the model that ran."""
    import torch

    from biogrn.grn import (
        BoolODE,
        ShiftedHill,
        racipe_initial_states,
        read_boolean_rules,
        read_network,
        repressilator,
        sample_parameters,
        simulate,
        toggle_switch,
    )
    from biogrn.grn._files import is_boolode_rules

    if network in ("toggle", "repressilator"):
        kind, n_variables = network, 2 if network == "toggle" else 6
    elif is_boolode_rules(Path(network)):
        rules = read_boolean_rules(network)
        kind, n_variables = "boolode", 2 * rules.network.n_genes
    else:
        graph = read_network(network)
        kind, n_variables = "racipe", graph.n_genes
    # measured (toggle, 2026-12-07): the trajectory costs about 9 times its array at its peak (the
    # solver's output, numpy, xarray and netCDF copies), and a member about 900 bytes beyond it (its
    # parameters, the solver's state and stages); the output array alone underestimated 10^8 points
    # eightfold
    needed = 10 * 8 * members * n_variables * points + members * (512 + 200 * n_variables)
    require_memory(
        needed, "cpu", f"simulate --members {members} --points {points} of {n_variables} variables", ConfigError
    )
    out = free_name(Path(DEFAULT_SIMULATION)) if out is None else out
    claim_directory(out)
    generator = torch.Generator().manual_seed(seed)
    if kind == "toggle":
        model = toggle_switch(members, iptg=iptg)
        y0 = 200 * torch.rand(members, 2, generator=generator, dtype=torch.float64)
    elif kind == "repressilator":
        model = repressilator(members, hill=2.0 if hill is None else hill)
        y0 = 50 * torch.rand(members, 6, generator=generator, dtype=torch.float64)
    elif kind == "boolode":
        model = BoolODE.defaults(rules, members)
        # BoolODE's members share its defaults; they start from mRNA levels uniform in 0..mu/gamma_m
        highest = model.transcription / model.gamma_m
        m0 = highest * torch.rand(members, rules.network.n_genes, generator=generator, dtype=torch.float64)
        y0 = torch.cat([m0, model.translation * m0 / model.gamma_p], dim=1)
    else:
        model = ShiftedHill(graph, **sample_parameters(graph, members, "sobol", seed))
        y0 = racipe_initial_states(model, generator)
    times = torch.linspace(0, t_end, points, dtype=torch.float64)
    result = simulate(model, y0, times, stepping=stepping, stop_at_rest=stop_at_rest)
    result.attrs.update(
        network=network,
        model=kind,
        model_description=SIMULATION_MODELS[kind],
        seed=seed,
        iptg=iptg,
        stepping=stepping,
        stop_at_rest=int(stop_at_rest),
    )
    result.to_netcdf(out / "simulation.nc", engine="netcdf4")
    _simulation_figure(result, out / "simulation.png", f"{Path(network).name}: {SIMULATION_MODELS[kind]}", members)
    final = result["state"].isel(time=-1)
    variables = list(result["variable"].values)
    print(f"{network}: model {SIMULATION_MODELS[kind]}")
    print(
        f"{members} members, {len(variables)} variables, t = 0..{t_end:g}; final state, mean over members: "
        + ", ".join(f"{v} {float(final.sel(variable=v).mean()):.3g}" for v in variables[:MOST_PANELS])
        + (f", ... ({len(variables) - MOST_PANELS} more in simulation.nc)" if len(variables) > MOST_PANELS else "")
    )
    print(f"wrote {out / 'simulation.nc'} and {out / 'simulation.png'}")
    return 0


def _simulation_figure(result, path: Path, title: str, members: int) -> None:
    """Trajectories of up to 20 members, one panel per variable (the first `MOST_PANELS`) in a grid;
    a log axis on a panel whose positive levels span more than two decades."""
    from matplotlib.figure import Figure

    variables = list(result["variable"].values)
    shown = variables[:MOST_PANELS]
    columns = min(6, len(shown))
    rows = -(-len(shown) // columns)
    figure = Figure(figsize=(3.0 * columns, 2.3 * rows + 0.6), layout="constrained")
    axes = np.atleast_1d(figure.subplots(rows, columns, squeeze=False)).ravel()
    for ax, variable in zip(axes, shown):
        levels = result["state"].sel(variable=variable).values[:, : min(members, 20)]
        ax.plot(result["time"], levels, alpha=0.6, linewidth=0.9)
        positive = levels[levels > 0]
        if len(positive) and positive.max() > 100 * positive.min():
            ax.set_yscale("log")
        ax.set_title(str(variable), fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in axes[len(shown) :]:
        ax.set_visible(False)
    for ax in axes[(rows - 1) * columns : rows * columns]:
        ax.set_xlabel("time", fontsize=8)
    more = f"; {len(shown)} of {len(variables)} variables shown" if len(variables) > len(shown) else ""
    figure.suptitle(f"{title}{more}", fontsize=10)
    figure.savefig(path, dpi=100)


def select_genes_command(
    file: str, label_key: str, n_genes: int, out: Path, layer: str | None, seed: int, drive: str, epochs: int
) -> int:
    """`biogrn select-genes`: the selection written into a new `.h5ad`, a dot plot beside it."""
    from biogrn.data._anndata import opened
    from biogrn.genomics import select_genes

    figure = out.with_suffix(".png")
    for path in (out, figure):  # both are new files: nothing of the user's is replaced
        if path.exists() or path.is_symlink():
            raise FileExistsError(f"{path}: already exists; nothing is replaced: choose another --out")
    _writable_folder(out.parent)  # before the training, not after it
    adata, where = opened(file)
    chosen = select_genes(adata, label_key, n_genes, seed=seed, layer=layer, drive=drive, epochs=epochs, source=where)
    atomic_write(out, lambda tmp: adata.write_h5ad(tmp))
    _dot_plot(adata, chosen, label_key, layer, figure, f"{Path(file).name}: {n_genes} genes chosen by biogrn")
    print(f"{n_genes} genes, most expressed first: {', '.join(chosen)}")
    print(f"wrote {out} (var: biogrn_selected, biogrn_expression; uns: biogrn) and {figure}")
    return 0


def _writable_folder(folder: Path) -> None:
    """Create `folder` (and its parents) for the outputs, or say in one line why it cannot be.

    Raises:
        NotADirectoryError: a part of the path is a file (ENOTDIR, naming it).
        OSError: the operating system's refusal to create it.
    """
    for part in (folder, *folder.parents):
        if part.exists() and not part.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(part))
    folder.mkdir(parents=True, exist_ok=True)


def _dot_plot(adata, genes: list[str], label_key: str, layer: str | None, path: Path, title: str) -> None:
    """scanpy's dot plot, drawn here: per cell type and gene, the mean level scaled 0..1 across types
    (colour) and the fraction of the type's cells with a level above 0 (size)."""
    from matplotlib.figure import Figure

    from biogrn.genomics import cell_matrix

    x, y, types = cell_matrix(adata, label_key, layer)
    levels = x[:, adata.var_names.get_indexer(genes)]
    means = np.array([levels[y == t].mean(axis=0) for t in range(len(types))])
    shares = np.array([(levels[y == t] > 0).mean(axis=0) for t in range(len(types))])
    spread = means.max(axis=0) - means.min(axis=0)
    scaled = (means - means.min(axis=0)) / np.where(spread > 0, spread, 1.0)
    figure = Figure(figsize=(1.2 + 0.42 * len(genes), 1.4 + 0.38 * len(types)), layout="constrained")
    axes = figure.subplots()
    columns, rows = np.meshgrid(np.arange(len(genes)), np.arange(len(types)))
    dots = axes.scatter(
        columns.ravel(),
        rows.ravel(),
        s=250 * shares.ravel(),
        c=scaled.ravel(),
        cmap="Reds",
        vmin=0,
        vmax=1,
        edgecolors="0.5",
        linewidths=0.4,
    )
    axes.set_xticks(range(len(genes)), genes, rotation=90, fontsize=8)
    axes.set_yticks(range(len(types)), [str(t) for t in types], fontsize=8)
    axes.set_xlim(-0.7, len(genes) - 0.3)
    axes.set_ylim(len(types) - 0.5, -0.5)
    axes.set_title(title, fontsize=9)
    figure.colorbar(dots, ax=axes, shrink=0.6, label="mean level in the type,\nscaled 0 to 1 across types")
    for share in (0.25, 0.5, 1.0):
        axes.scatter([], [], s=250 * share, c="0.6", label=f"{share:.0%}")
    axes.legend(
        title="cells with level > 0",
        fontsize=7,
        title_fontsize=7,
        loc="upper left",
        bbox_to_anchor=(1.02, 0.0),
        frameon=False,
    )
    atomic_write(path, lambda tmp: figure.savefig(tmp, format="png", dpi=110, bbox_inches="tight"))
