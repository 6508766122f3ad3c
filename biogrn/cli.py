"""The `biogrn` command: `demo`, `run`, `report`, `simulate`.

Bad input (a config field, a data file, an option, an occupied output directory) and a run that
diverges end with exit status 2 and one message on stderr that names the field, the option or the
file; nothing is trained or written before the whole configuration and the data are validated,
and no command deletes or overwrites a file it did not create (docs/reliability.md).

This module parses and checks the command line with the standard library alone; what a command
does lives in `biogrn._commands`, imported once there is a command to run, so `biogrn --help`
answers without loading torch.
"""

from __future__ import annotations

import argparse
import errno
import math
import sys
import warnings
from pathlib import Path

__all__ = ["main"]

DEFAULT_DEMO = "biogrn-demo"
DEFAULT_SIMULATION = "simulation"


class _DefaultsFormatter(argparse.HelpFormatter):
    """Each option's default after its help, where it has one (not None, not a switch's False)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default  # by identity: a default of 0 is shown, a switch's False is not
        shown = default is not None and default is not False and default is not argparse.SUPPRESS
        if action.option_strings and shown and "%(default)" not in text:
            text += " (default: %(default)s)"
        return text


class _OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (the usage is one `--help` away), exit status 2, and
    `--help` shows each option's default."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _DefaultsFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def parser() -> argparse.ArgumentParser:
    main_parser = _OneLineParser(prog="biogrn", description="Gene-regulated dynamic pruning for PyTorch")
    commands = main_parser.add_subparsers(dest="command", required=True)

    demo_parser = commands.add_parser("demo", help="train dense and gene-regulated MLPs on digits (offline data)")
    demo_parser.add_argument("--epochs", type=int, default=20, help="training epochs of each run")
    demo_parser.add_argument("--seed", type=int, default=0, help="the runs' seed")
    demo_parser.add_argument(
        "--out",
        type=Path,
        help=f"new or empty directory for the two runs (default {DEFAULT_DEMO}, or the first free {DEFAULT_DEMO}-N)",
    )
    demo_parser.add_argument("--quiet", action="store_true", help="no progress bars or epoch lines")

    run_parser = commands.add_parser(
        "run",
        help="train the study a TOML or YAML file describes",
        epilog="Run files to start from: examples/ in the repository (digits, MNIST-1D MLP and CNN, a "
        "connectome model); every field: docs/configuration.md",
    )
    run_parser.add_argument("config", nargs="?", help="the study's .toml/.yaml (optional with --resume)")
    run_parser.add_argument(
        "--out",
        help="new or empty directory for the run (default runs/<config name>, or the first free runs/<config name>-N)",
    )
    run_parser.add_argument("--resume", metavar="DIR", help="continue the run in DIR from its last checkpoint")
    run_parser.add_argument("--quiet", action="store_true", help="no progress bars or epoch lines")
    run_parser.add_argument(
        "--nproc", type=int, default=1, help="processes on this machine (torchrun; one per GPU when there are GPUs)"
    )

    simulate_parser = commands.add_parser(
        "simulate", help="simulate a gene regulatory network (preset, network file or BoolODE rules)"
    )
    simulate_parser.add_argument(
        "network",
        help="'toggle', 'repressilator', a RACIPE .topo, a BEELINE refNetwork.csv or a source,target,sign CSV "
        "(RACIPE's form), or a BoolODE rule file (BoolODE's form)",
    )
    simulate_parser.add_argument(
        "--out",
        type=Path,
        help=f"new or empty directory (default {DEFAULT_SIMULATION}, or the first free {DEFAULT_SIMULATION}-N)",
    )
    simulate_parser.add_argument("--members", type=int, default=100, help="parameter sets / initial conditions")
    simulate_parser.add_argument("--t-end", type=float, default=100.0, help="simulated time")
    simulate_parser.add_argument("--points", type=int, default=201, help="output times from 0 to --t-end")
    simulate_parser.add_argument("--seed", type=int, default=0, help="parameter sets and starting points")
    simulate_parser.add_argument("--iptg", type=float, default=0.0, help="toggle: inducer concentration (M)")
    simulate_parser.add_argument("--hill", type=float, help="repressilator: Hill coefficient (published: 2)")
    simulate_parser.add_argument(
        "--stepping",
        choices=("member", "batch"),
        default="member",
        help="a step and an error test per member (each member within its tolerance), or one for all (torchdiffeq)",
    )
    simulate_parser.add_argument(
        "--stop-at-rest",
        action="store_true",
        help="(member stepping) a member whose field is within its tolerance keeps that state from then on",
    )

    select_parser = commands.add_parser(
        "select-genes",
        help="choose the genes that tell cell types apart in an AnnData file (gene-regulated input pruning)",
        epilog="docs/genomics.md: what is trained, what is written, the study against scanpy's rankings",
    )
    select_parser.add_argument("file", help="an AnnData .h5ad of cells x genes")
    select_parser.add_argument("--label-key", required=True, help="the .obs column of each cell's type")
    select_parser.add_argument("--n-genes", type=int, required=True, help="genes to keep")
    select_parser.add_argument(
        "--out", type=Path, required=True, help="the .h5ad to write (new): the input with var and uns filled in"
    )
    select_parser.add_argument("--layer", help="the layer to read instead of X")
    select_parser.add_argument("--seed", type=int, default=0, help="initial weights, batch order, draws")
    select_parser.add_argument(
        "--drive", choices=("taylor", "fisher", "movement", "grad", "magnitude"), default="taylor", help="Eq. 1's drive"
    )
    select_parser.add_argument("--epochs", type=int, default=60, help="training epochs")

    report_parser = commands.add_parser("report", help="tables and figures of a finished or running run")
    report_parser.add_argument("directory")
    report_parser.add_argument("--no-figures", action="store_true", help="print the table only")
    return main_parser


def _argument_problems(args: argparse.Namespace) -> list[str]:
    """What is wrong with the command line's numbers, each naming its option."""
    problems = []
    seed = getattr(args, "seed", None)
    if seed is not None and not 0 <= seed < 2**63:
        problems.append(f"--seed: must be in 0 .. 2**63 - 1, got {seed}")
    if args.command == "run" and args.nproc < 1:
        problems.append(f"--nproc: must be >= 1, got {args.nproc}")
    if args.command == "demo" and args.epochs < 1:
        problems.append(f"--epochs: must be >= 1, got {args.epochs}")
    if args.command == "select-genes":
        if args.n_genes < 1:
            problems.append(f"--n-genes: must be >= 1, got {args.n_genes}")
        if args.epochs < 2:
            problems.append(f"--epochs: must be >= 2, got {args.epochs}")
        if args.out.suffix != ".h5ad":
            problems.append(f"--out: {args.out} must end in .h5ad")
    if args.command == "simulate":
        if args.stop_at_rest and args.stepping != "member":
            problems.append("--stop-at-rest: needs --stepping member (members stop one by one)")
        checks = [
            ("--members", args.members, args.members >= 1, ">= 1"),
            ("--points", args.points, args.points >= 2, ">= 2"),
            ("--t-end", args.t_end, math.isfinite(args.t_end) and args.t_end > 0, "finite and > 0"),
            ("--iptg", args.iptg, math.isfinite(args.iptg) and args.iptg >= 0, "finite and >= 0"),
        ]
        if args.hill is not None:
            checks.append(("--hill", args.hill, math.isfinite(args.hill) and args.hill > 0, "finite and > 0"))
        problems += [f"{option}: must be {rule}, got {value}" for option, value, ok, rule in checks if not ok]
    return problems


def main(argv: list[str] | None = None) -> int:
    command_parser = parser()
    args = command_parser.parse_args(argv)
    for problem in _argument_problems(args):
        command_parser.error(problem)
    if args.command == "run":
        if args.config is None and args.resume is None:
            command_parser.error("run: give a CONFIG file, or --resume DIR")
        if args.out is not None and args.resume is not None:
            command_parser.error("run: --out and --resume exclude each other (a resumed run stays in its DIR)")
    import biogrn._commands as _commands  # the library, loaded now that there is a command to run

    formatted_as = warnings.formatwarning  # the format, not the display: catch_warnings(record=True) still records
    warnings.formatwarning = _warning_line
    try:
        if args.command == "demo":
            return _commands.demo_command(args.epochs, args.seed, args.out, args.quiet)
        if args.command == "run":
            return _commands.run_command(args.config, args.out, args.resume, args.quiet, args.nproc)
        if args.command == "select-genes":
            return _commands.select_genes_command(
                args.file, args.label_key, args.n_genes, args.out, args.layer, args.seed, args.drive, args.epochs
            )
        if args.command == "simulate":
            return _commands.simulate_command(
                args.network,
                args.out,
                args.members,
                args.t_end,
                args.points,
                args.seed,
                args.iptg,
                args.hill,
                args.stepping,
                args.stop_at_rest,
            )
        return _commands.report_command(args.directory, figures=not args.no_figures)
    except _commands.USAGE_ERRORS as error:
        print(f"biogrn: error: {error}", file=sys.stderr)
        return 2
    except _commands.RunInterrupted as interrupted:
        print(
            f"biogrn: interrupted; the last finished epoch is checkpointed; continue with: "
            f"biogrn run --resume {interrupted.directory}",
            file=sys.stderr,
        )
        return 130
    except KeyboardInterrupt:
        print("biogrn: interrupted", file=sys.stderr)
        return 130
    except OSError as error:  # the operating system's refusal: one line naming the path and the cause
        print(f"biogrn: error: {os_error_line(error)}", file=sys.stderr)
        return 1
    finally:
        warnings.formatwarning = formatted_as


def _warning_line(message, category, filename, lineno, line=None) -> str:
    """A warning as the command's one line, `biogrn: warning: ...`, not Python's two (the second is
    the source line that warned, which means nothing to the command's user)."""
    return "biogrn: warning: " + " ".join(str(message).split()) + "\n"


OS_ERROR_HINTS = {
    errno.ENOSPC: "the device is full; the files of the last finished epoch are intact: free space, then resume",
    errno.EROFS: "the file system is read-only: choose a writable directory",
    errno.EACCES: "permission denied: choose a directory you may write",
    errno.EPERM: "operation not permitted: choose a directory you may write",
    errno.ENOTDIR: "a part of the path is a file, not a directory",
    errno.EDQUOT: "the disk quota is exhausted; the files of the last finished epoch are intact",
}


def os_error_line(error: OSError) -> str:
    """`PATH: cause (ENAME); what to do`, from an OSError however it was raised."""
    where = error.filename if error.filename is not None else "(no path)"
    cause = error.strerror or str(error)
    name = errno.errorcode.get(error.errno, "") if error.errno is not None else ""
    hint = OS_ERROR_HINTS.get(error.errno)
    return f"{where}: {cause}" + (f" ({name})" if name else "") + (f"; {hint}" if hint else "")


if __name__ == "__main__":
    sys.exit(main())
