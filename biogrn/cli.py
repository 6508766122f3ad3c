"""The `biogrn` command: `demo`, `run`, `report`, `simulate`.

Bad input (a config field, a data file, an occupied output directory) ends with exit status 2 and
one message on stderr that names the field or the file; nothing is trained or written before the
whole configuration and the data are validated.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import numpy as np
import xarray as xr

from biogrn.core import CheckpointError, ConfigError, DataError, DivergedError
from biogrn.runs import CONFIG_FILE, RECORDS_FILE, load_run_config, parse_run_config, read_records, resume, run

__all__ = ["main"]

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
    return {
        "dense": {**base, "pruning": "none"},
        "regulated": {**base, "pruning": "gene", "records": {"trace_connections": 64}},
    }


def demo_command(epochs: int, seed: int, out: Path, quiet: bool) -> int:
    configs = {label: parse_run_config(c, source="demo") for label, c in demo_configs(epochs, seed).items()}
    _clear_previous_demo(out)
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


def _clear_previous_demo(out: Path) -> None:
    """A demo directory is replaced by the next demo; any other non-empty directory is refused."""
    if not out.exists():
        return
    entries = {p.name for p in out.iterdir()}
    ours = entries <= {*DEMO_RUNS, "summary.txt"} and all(
        (out / r / CONFIG_FILE).is_file() or r not in entries for r in DEMO_RUNS
    )
    if entries and not ours:
        raise FileExistsError(f"{out}: exists and holds files that are not a biogrn demo; choose another --out")
    for name in DEMO_RUNS:
        shutil.rmtree(out / name, ignore_errors=True)
    (out / "summary.txt").unlink(missing_ok=True)


def run_command(config_path: str | None, out: str | None, resume_dir: str | None, quiet: bool) -> int:
    config = load_run_config(config_path) if config_path else None
    if resume_dir is not None:
        records = resume(resume_dir, config, quiet=quiet)
        out_dir = Path(resume_dir)
    else:
        out_dir = Path(out) if out else Path("runs") / Path(config_path).stem
        records = run(config, out_dir, quiet=quiet)
    print(
        f"test accuracy {float(records['test_accuracy']) * 100:.2f}%  "
        f"sparsity {float(records['total_sparsity'][-1]) * 100:.1f}%  records: {out_dir / RECORDS_FILE}"
    )
    return 0


def report_command(directory: str, figures: bool = True) -> int:
    from biogrn.runs._figures import plot_run  # matplotlib loads only where figures are drawn

    records = read_records(directory)
    print(format_report(records))
    if figures:
        written = plot_run(records, Path(directory))
        print("figures: " + ", ".join(str(p) for p in written))
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
    return "\n".join(lines)


def simulate_command(
    network: str, out: Path, members: int, t_end: float, points: int, seed: int, iptg: float, hill: float | None
) -> int:
    """A preset (`toggle`, `repressilator`) or a network CSV, simulated for many members at once."""
    import torch
    from matplotlib.figure import Figure

    from biogrn.grn import Network, ShiftedHill, repressilator, sample_parameters, simulate, toggle_switch

    generator = torch.Generator().manual_seed(seed)
    if network == "toggle":
        model = toggle_switch(members, iptg=iptg)
        y0 = 200 * torch.rand(members, 2, generator=generator, dtype=torch.float64)
    elif network == "repressilator":
        model = repressilator(members, hill=2.0 if hill is None else hill)
        y0 = 50 * torch.rand(members, 6, generator=generator, dtype=torch.float64)
    else:
        graph = Network.from_file(network)
        model = ShiftedHill(graph, **sample_parameters(graph, members, "sobol", seed))
        y0 = 100 * torch.rand(members, graph.n_genes, generator=generator, dtype=torch.float64)
    times = torch.linspace(0, t_end, points, dtype=torch.float64)
    result = simulate(model, y0, times)
    result.attrs.update(network=network, seed=seed, iptg=iptg)
    out.mkdir(parents=True, exist_ok=True)
    result.to_netcdf(out / "simulation.nc", engine="netcdf4")
    variables = list(result["variable"].values)
    figure = Figure(figsize=(4 * len(variables), 3.4), layout="constrained")
    for ax, variable in zip(np.atleast_1d(figure.subplots(1, len(variables))), variables):
        ax.plot(result["time"], result["state"].sel(variable=variable).values[:, : min(members, 20)], alpha=0.6)
        ax.set(xlabel="time", ylabel=str(variable), title=str(variable))
    figure.savefig(out / "simulation.png", dpi=100)
    final = result["state"].isel(time=-1)
    print(
        f"{network}: {members} members, {len(variables)} variables, t = 0..{t_end:g}; final state, mean over "
        f"members: " + ", ".join(f"{v} {float(final.sel(variable=v).mean()):.3g}" for v in variables)
    )
    print(f"wrote {out / 'simulation.nc'} and {out / 'simulation.png'}")
    return 0


def parser() -> argparse.ArgumentParser:
    main_parser = argparse.ArgumentParser(prog="biogrn", description="Gene-regulated dynamic pruning for PyTorch")
    commands = main_parser.add_subparsers(dest="command", required=True)

    demo_parser = commands.add_parser("demo", help="train dense and gene-regulated MLPs on digits (offline data)")
    demo_parser.add_argument("--epochs", type=int, default=20)
    demo_parser.add_argument("--seed", type=int, default=0)
    demo_parser.add_argument(
        "--out", default="biogrn-demo", help="directory of the two runs (a previous demo there is replaced)"
    )
    demo_parser.add_argument("--quiet", action="store_true", help="no progress bars or epoch lines")

    run_parser = commands.add_parser("run", help="train the study a TOML or YAML file describes")
    run_parser.add_argument("config", nargs="?", help="the study's .toml/.yaml (optional with --resume)")
    run_parser.add_argument("--out", help="new directory for the run (default runs/<config name>)")
    run_parser.add_argument("--resume", metavar="DIR", help="continue the run in DIR from its last checkpoint")
    run_parser.add_argument("--quiet", action="store_true", help="no progress bars or epoch lines")

    simulate_parser = commands.add_parser("simulate", help="simulate a gene regulatory network (preset or CSV)")
    simulate_parser.add_argument("network", help="'toggle', 'repressilator', or a CSV with source,target,sign")
    simulate_parser.add_argument("--out", default="simulation")
    simulate_parser.add_argument("--members", type=int, default=100, help="parameter sets / initial conditions")
    simulate_parser.add_argument("--t-end", type=float, default=100.0)
    simulate_parser.add_argument("--points", type=int, default=201)
    simulate_parser.add_argument("--seed", type=int, default=0)
    simulate_parser.add_argument("--iptg", type=float, default=0.0, help="toggle: inducer concentration (M)")
    simulate_parser.add_argument("--hill", type=float, help="repressilator: Hill coefficient (published: 2)")

    report_parser = commands.add_parser("report", help="tables and figures of a finished or running run")
    report_parser.add_argument("directory")
    report_parser.add_argument("--no-figures", action="store_true", help="print the table only")
    return main_parser


def main(argv: list[str] | None = None) -> int:
    command_parser = parser()
    args = command_parser.parse_args(argv)
    if args.command == "demo" and args.epochs < 1:
        command_parser.error(f"--epochs: must be >= 1, got {args.epochs}")
    if args.command == "simulate" and (args.members < 1 or args.points < 2 or args.t_end <= 0):
        command_parser.error("simulate: --members >= 1, --points >= 2 and --t-end > 0")
    if args.command == "run":
        if args.config is None and args.resume is None:
            command_parser.error("run: give a CONFIG file, or --resume DIR")
        if args.out is not None and args.resume is not None:
            command_parser.error("run: --out and --resume exclude each other (a resumed run stays in its DIR)")
    try:
        if args.command == "demo":
            return demo_command(args.epochs, args.seed, Path(args.out), args.quiet)
        if args.command == "run":
            return run_command(args.config, args.out, args.resume, args.quiet)
        if args.command == "simulate":
            return simulate_command(
                args.network, Path(args.out), args.members, args.t_end, args.points, args.seed, args.iptg, args.hill
            )
        return report_command(args.directory, figures=not args.no_figures)
    except USAGE_ERRORS as error:
        print(f"biogrn: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        where = f" with: biogrn run --resume {args.resume or args.out}" if args.command == "run" else ""
        print(f"biogrn: interrupted; the last finished epoch is checkpointed{where}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
