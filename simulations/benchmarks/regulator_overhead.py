"""Regulator cost on an MLP of 2.1 M connections (1024-1024-1024-10), measured side by side.

    cd simulations/benchmarks && python regulator_overhead.py [--device cuda] [--repeats 30]
    python regulator_overhead.py --batches --genes --repeats 20      # the update alone

Prints medians and ratios of:
1. a training step (forward, backward, Adam) with and without the regulator (steps interleaved,
   so machine noise hits both alike; the regulated step includes its share of integrations).
   The regulated models are measured after one prune + rewire update (about 60% pruned), the
   state of every step once pruning has started, in which pruned weights must be kept at zero;
2. one prune + rewire update (`Regulator.update`) at 2.1 M connections;
3. the gene-state update in place (as the regulator runs it), in GB/s of the state it must touch
   (read y, read u, write y), against a plain copy of the state on the same device: a naive eager
   RK4 vector field through torchdiffeq, biogrn's integration (the fused step for RK4 and Euler;
   with the drive kept, and with the forcing written over the drive's buffer as the regulator
   does, that buffer refilled untimed before each call), and the same under torch.compile.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torchdiffeq
from torch import nn

import biogrn
from biogrn.dynamics import METHODS, hill_activation, integrate


def clock(device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter()


def median_time(fn, device, repeats: int, warmup: int = 3, setup=None) -> float:
    """Median seconds of `fn()` over `repeats` calls after `warmup`; `setup()` untimed before each."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        if setup is not None:
            setup()
        start = clock(device)
        fn()
        times.append(clock(device) - start)
    return statistics.median(times)


def train_step(model, optimizer, regulator, x, y) -> None:
    """One Adam step on a batch, then the regulator's step if there is one."""
    optimizer.zero_grad(set_to_none=True)
    nn.functional.cross_entropy(model(x), y).backward()
    optimizer.step()
    if regulator is not None:
        regulator.step()


def print_ratio_table(title: str, times: dict[str, float], base: str) -> None:
    """A markdown table of median ms and the added fraction over `times[base]`."""
    print(f"\n| {title} | median ms | added |\n|---|---|---|")
    for label, t in times.items():
        print(f"| {label} | {t * 1e3:.3f} | {(t / times[base] - 1) * 100:+.1f}% |")


def make_model(device):
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(1024, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(), nn.Linear(1024, 10)).to(
        device
    )


def training_steps(device, repeats: int, batch: int, drives: tuple[str, ...] = ()) -> dict[str, float]:
    """Median seconds per step: plain, regulated, regulated with compiled integration, and with
    each of `drives` (interleaved)."""
    x = torch.randn(batch, 1024, device=device)
    y = torch.randint(0, 10, (batch,), device=device)
    runs = {}
    for label, settings in (
        ("plain (Adam)", None),
        ("regulated (Adam + reg.step; drive from Adam's moments)", {}),
        ("regulated, drive_source='gradients' (every gradient recorded)", {"drive_source": "gradients"}),
        ("regulated, compile=True", {"compile": True}),
        *((f"regulated, drive='{drive}'", {"drive": drive}) for drive in drives),
    ):
        model = make_model(device)
        opt = torch.optim.Adam(model.parameters(), 1e-3)
        reg = None if settings is None else biogrn.regulate(model, optimizer=opt, **settings)
        if reg is not None:
            prune_once(reg, device)
        runs[label] = (model, opt, reg, x, y)

    return interleaved_step_times(runs, biogrn.RegulatorConfig().integrate_every, repeats, device)


def interleaved_step_times(runs: dict, every: int, repeats: int, device) -> dict[str, float]:
    """Median seconds per step of each `(model, optimizer, regulator, x, y)` run, timed in
    alternating blocks of `every` steps after `2 * every` steps of warm-up (compilation included).

    With `every` the integration interval, each regulated block holds exactly one integrate().
    """
    for _ in range(2 * every):
        for run in runs.values():
            train_step(*run)
    times = {label: [] for label in runs}
    for _ in range(repeats):
        for label, run in runs.items():
            start = clock(device)
            for _ in range(every):
                train_step(*run)
            times[label].append((clock(device) - start) / every)
    return {label: statistics.median(t) for label, t in times.items()}


def prune_once(reg, device, x=None, y=None, steps: int = 10) -> None:
    """A drive from `steps` Adam steps on the batch `x, y` (default: random MLP inputs; recorded or
    read from the moments, as the regulator is set), one integration, one update: the first tau
    (mu + 0.5 sigma) prunes about 60% of every layer."""
    if x is None:
        gen = torch.Generator(device=device).manual_seed(0)
        x = torch.randn(64, 1024, generator=gen, device=device)
        y = torch.randint(0, 10, (64,), generator=gen, device=device)
    for _ in range(steps):
        train_step(reg.model, reg.optimizer, reg, x, y)
    reg.integrate()
    reg.update()


def update_time(device, repeats: int) -> float:
    model = make_model(device)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    reg = biogrn.regulate(model, optimizer=opt, policy="paper", max_regrow=100)
    prune_once(reg, device)
    return median_time(reg.update, device, repeats)  # later updates prune and rewire 100 per layer


class NaiveField(nn.Module):
    """Eq. 1 written directly: every term, the Hill of the drive included, at every stage."""

    def __init__(self, u, gamma_m=0.1, gamma_p=0.05, k_p=0.05, rate=0.1):
        super().__init__()
        self.u, self.gamma_m, self.gamma_p, self.k_p, self.rate = u, gamma_m, gamma_p, k_p, rate

    def forward(self, t, y):
        m, p = y[0], y[1]
        f = self.rate * hill_activation(self.u, 1.0, 2.0)
        return torch.stack((f - self.gamma_m * m, self.k_p * m - self.gamma_p * p))


def gene_update_rates(device, repeats: int, n_genes: int) -> dict[str, float]:
    """GB/s of state touched per integration (read y and u, write y) for each variant."""
    cfg = biogrn.RegulatorConfig()
    state = biogrn.dynamics.GeneState([n_genes], [1], device=device)
    state.y.fill_(1.0)
    u = torch.rand(n_genes, device=device)
    useful_bytes = (2 * state.y.numel() + u.numel()) * 4
    interval = cfg.dt * cfg.integrate_every
    results = {}

    copy_target = torch.empty_like(state.y)
    t = median_time(lambda: copy_target.copy_(state.y), device, repeats)
    results["plain copy of the state"] = 2 * state.y.numel() * 4 / t / 1e9

    naive = NaiveField(u, cfg.gamma_m, cfg.gamma_p, cfg.k_p, cfg.drive_rate)
    grid = torch.tensor([0.0, interval], device=device)
    t = median_time(lambda: torchdiffeq.odeint(naive, state.y, grid, method="rk4"), device, repeats)
    results["naive eager field, rk4"] = useful_bytes / t / 1e9

    from biogrn.regulation import transcription_from_config

    drive = torch.empty_like(u)  # the regulator's drive buffer, rebuilt before every integration
    for label, method, compile_, overwrite in (
        ("biogrn field, rk4, drive kept", "rk4", False, False),
        ("biogrn field, rk4, forcing over the drive (as the regulator runs it)", "rk4", False, True),
        ("biogrn field, euler, forcing over the drive", "euler", False, True),
        ("biogrn field compiled, rk4", "rk4", True, False),
    ):
        # Euler's admissible step is shorter than RK4's: give each method its largest one-step interval
        interval_ = min(interval, METHODS[method].decay_bound / max(cfg.gamma_m, cfg.gamma_p))
        field = biogrn.dynamics.GeneField(
            transcription_from_config(cfg), cfg.gamma_m, cfg.gamma_p, cfg.k_p, state=state
        )

        def run(field=field, method=method, interval_=interval_, compile_=compile_, overwrite=overwrite):
            spend = {"overwrite_drive": True} if overwrite else {}  # the call of any earlier biogrn too
            integrate(
                field,
                state.y,
                interval_,
                method,
                drive=drive if overwrite else u,
                compile=compile_,
                out=state.y,
                **spend,
            )

        try:
            t = median_time(run, device, repeats, warmup=3, setup=lambda: drive.copy_(u))
            results[label] = useful_bytes / t / 1e9
        except Exception as error:  # torch.compile needs a working C++/Triton toolchain
            results[label] = float("nan")
            print(f"{label}: unavailable ({type(error).__name__}: {str(error)[:120]})")
    return results


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--batches", type=int, nargs="*", default=[64, 512], help="none: no training-step table")
    parser.add_argument(
        "--genes",
        type=int,
        nargs="*",
        default=[2_109_440],
        help="gene counts for the gene-state update table (none: no table)",
    )
    parser.add_argument("--drives", nargs="*", default=[], help="drives to time beside the default (fisher, movement)")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    torch.manual_seed(0)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"# biogrn regulator benchmark on {name}, torch {torch.__version__}")

    for batch in args.batches:
        steps = training_steps(device, args.repeats, batch, tuple(args.drives))
        print_ratio_table(f"training step, batch {batch}, 2.1 M connections", steps, "plain (Adam)")

    t_update = update_time(device, args.repeats)
    print("\n| one prune + rewire update, 2.1 M connections | median ms |\n|---|---|")
    print(f"| Regulator.update() | {t_update * 1e3:.2f} |")

    for n_genes in args.genes:
        rates = gene_update_rates(device, args.repeats, n_genes)
        copy_rate = rates["plain copy of the state"]
        print(f"\n| gene-state update, {n_genes / 1e6:.1f} M genes, one integration | GB/s | of copy |\n|---|---|---|")
        for label, rate in rates.items():
            print(f"| {label} | {rate:.2f} | {rate / copy_rate * 100:.1f}% |")


if __name__ == "__main__":
    main()
