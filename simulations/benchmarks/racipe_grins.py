"""RACIPE ensembles on one device: biogrn against GRiNS (JAX + diffrax) on the same members.

    pip install grins            # Python >= 3.12; JAX (with CUDA for a GPU) and diffrax
    python simulations/benchmarks/racipe_grins.py --network toggle --members 100000 1000000
    python simulations/benchmarks/racipe_grins.py --network random --members 100000 1000000

The toggle switch, or a random RACIPE network (`Network.random(20, 40, 0)`), written as a `.topo`
file; GRiNS's own RACIPE sampler draws the parameter sets (Sobol) and its initial conditions, and
both libraries integrate exactly these members from t = 0 to 200 under GRiNS's defaults
(rtol 1e-5, atol 1e-6, float32, at most 2048 steps). Before any timing, biogrn's field is checked
against GRiNS's own ODE term on the members' starts (both are RACIPE's form, the activating
shifted Hill divided by its fold). GRiNS: Tsit5 per member under `vmap`, each member stopping at its steady state
(diffrax's steady-state event); timed as `topo_simulate` (what its users call: compilation and
its pandas output included) and as its compiled solver alone after a warm-up call (its best
case). biogrn, after a warm-up, median of three: one `torchdiffeq` call (dopri5, one step size
shared by the batch), `integrate_members` (a step per member), and `integrate_members` with
`stop_at_rest`. Accuracy: the largest relative error of the final state over `--sample` members
against scipy's DOP853 at rtol 1e-10, and the share of all members on which the two libraries
agree to 1%.
"""

from __future__ import annotations

import argparse
import itertools
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")  # JAX and torch share the GPU

import numpy as np
import torch
from racipe_stepping import dop853, relative_error
from regulator_overhead import median_time

from biogrn.grn import Network, ShiftedHill, toggle_switch, write_topo

T_END, RTOL, ATOL, MAX_STEPS = 200.0, 1e-5, 1e-6, 2048
NETWORKS = {"toggle": lambda: toggle_switch(1).network, "random": lambda: Network.random(20, 40, 0)}


def grins_members(network: Network, name: str, members: int, folder: Path):
    """GRiNS's parameter and initial-condition tables for `members` parameter sets, one start each."""
    from grins.gen_diffrax_ode import gen_diffrax_odesys
    from grins.gen_params import gen_init_cond, gen_param_df, parse_topos

    topo_file = folder / f"{name}.topo"
    write_topo(network, topo_file)
    topology = parse_topos(str(topo_file))
    gen_diffrax_odesys(topology, name, str(folder))
    parameters = gen_param_df(topo_df=topology, num_params=members)
    starts = gen_init_cond(topology, num_init_conds=members)
    return topo_file, parameters, starts.iloc[: len(parameters)]


def as_biogrn(network: Network, parameters, starts, device, dtype) -> tuple[ShiftedHill, torch.Tensor]:
    """The same members as a `ShiftedHill`: RACIPE's form, GRiNS's parameters as they are (ActFld and
    InhFld are the folds; `tests/grn/test_racipe.py` holds the two fields equal)."""
    table = lambda names: np.stack([parameters[n].to_numpy(np.float64) for n in names], axis=1)
    genes = network.genes
    edges = [(genes[a], genes[b], sign) for a, b, sign in zip(network.sources, network.targets, network.signs)]
    folds = table([f"{'ActFld' if sign > 0 else 'InhFld'}_{a}_{b}" for a, b, sign in edges])
    production = table([f"Prod_{g}" for g in genes])
    as_tensor = lambda x: torch.as_tensor(x, dtype=dtype, device=device)
    model = ShiftedHill(
        network,
        as_tensor(production),
        as_tensor(table([f"Deg_{g}" for g in genes])),
        as_tensor(table([f"Thr_{a}_{b}" for a, b, _ in edges])),
        as_tensor(table([f"Hill_{a}_{b}" for a, b, _ in edges])),
        as_tensor(folds),
    )
    y0 = as_tensor(np.stack([starts[g].to_numpy(np.float64) for g in genes], axis=1))
    return model, y0


def grins_node_order(starts) -> list[str]:
    """The order of GRiNS's state vector: its initial-condition columns."""
    return [column for column in starts.columns if column != "InitCondNum"]


def check_field(network: Network, name: str, folder: Path, parameters, starts, rows: int = 256) -> float:
    """The largest relative difference between biogrn's field and GRiNS's ODE term on the first `rows` members."""
    import jax.numpy as jnp
    from grins.racipe_run import load_odeterm

    term = load_odeterm(name, str(folder))
    model, y0 = as_biogrn(network, parameters.iloc[:rows], starts.iloc[:rows], "cpu", torch.float64)
    with torch.no_grad():
        ours = model(torch.zeros(()), y0).numpy()
    order = grins_node_order(starts)
    values = parameters.drop(columns="ParamNum").to_numpy(np.float64)
    states = starts[order].to_numpy(np.float64)
    theirs = np.stack(
        [
            np.asarray(jnp.array(term.vector_field(0.0, tuple(states[i]), tuple(values[i]))), dtype=np.float64)
            for i in range(min(rows, len(parameters)))
        ]
    )[:, [order.index(g) for g in network.genes]]
    return float((np.abs(ours - theirs) / np.maximum(np.abs(theirs), 1e-6)).max())


def reference(network: Network, parameters, starts, sample: np.ndarray) -> np.ndarray:
    """Final states of the sampled members by scipy DOP853 at rtol 1e-10, float64."""
    model, y0 = as_biogrn(network, parameters, starts, "cpu", torch.float64)
    times = torch.tensor([0.0, T_END], dtype=torch.float64)
    return dop853(model, y0, times, sample, rtol=1e-10, atol=1e-10)[:, -1]


STEPPING_LABELS = {"batch": "", "member": ", a step per member", "rest": ", per member, stop at rest"}


def time_biogrn(model, y0, repeats: int = 3, stepping: str = "batch") -> tuple[float, np.ndarray]:
    """Seconds and final states of biogrn's dopri5: one step for the batch (torchdiffeq), one per member, or one
    per member with members stopping at rest."""
    import torchdiffeq

    from biogrn.dynamics import integrate_members

    times = torch.tensor([0.0, T_END], dtype=y0.dtype, device=y0.device)
    final = None

    def solve():
        nonlocal final
        with torch.no_grad():
            if stepping != "batch":  # "member", or "rest": members also stop at their steady state, as GRiNS's do
                final = integrate_members(
                    model, y0, times, rtol=RTOL, atol=ATOL, max_steps=MAX_STEPS, stop_at_rest=stepping == "rest"
                )[-1]
            else:
                options = {"max_num_steps": MAX_STEPS}
                final = torchdiffeq.odeint(model, y0, times, rtol=RTOL, atol=ATOL, options=options)[-1]

    seconds = median_time(solve, y0.device, repeats, warmup=0)  # the caller warms up on a smaller batch
    return seconds, final.double().cpu().numpy()


def time_grins_solver(network: Network, name: str, folder: Path, parameters, starts, batch: int):
    """GRiNS's compiled per-member solver over all members in chunks of `batch`, after a warm-up: seconds,
    final states in biogrn's gene order, and the share of members that reached a steady state."""
    import jax
    import jax.numpy as jnp
    from diffrax import PIDController, SaveAt, Tsit5
    from grins.racipe_run import load_odeterm, parameterise_solveode

    term = load_odeterm(name, str(folder))
    order = grins_node_order(starts)
    starts_array = jnp.array(starts[[*order, "InitCondNum"]].to_numpy())
    parameter_array = jnp.array(parameters.to_numpy())
    solve = parameterise_solveode(
        term,
        Tsit5(),
        0.0,
        T_END,
        0.01,
        SaveAt(t1=True),
        PIDController(rtol=RTOL, atol=ATOL),
        MAX_STEPS,
        starts_array,
        parameter_array,
    )
    solve_chunk = jax.jit(jax.vmap(solve))
    index = jnp.arange(len(parameters))
    pairs = jnp.stack([index, index], axis=1)  # member i: start i with parameter set i
    chunks = [pairs[i : i + batch] for i in range(0, len(parameters), batch)]
    solve_chunk(chunks[0]).block_until_ready()
    if chunks[-1].shape != chunks[0].shape:
        solve_chunk(chunks[-1]).block_until_ready()
    start = time.perf_counter()
    outputs = [solve_chunk(chunk) for chunk in chunks]
    jax.block_until_ready(outputs)
    seconds = time.perf_counter() - start
    table = np.asarray(jnp.concatenate(outputs)).reshape(len(parameters), -1)
    n = len(order)  # states, then t, then the event flag
    states = table[:, :n].astype(np.float64)[:, [order.index(g) for g in network.genes]]
    return seconds, states, float(table[:, n + 1].mean())


def time_grins_topo_simulate(topo_file: Path, parameters, starts, batch: int) -> float:
    from grins.racipe_run import topo_simulate

    start = time.perf_counter()
    topo_simulate(
        str(topo_file),
        str(topo_file.parent / "001"),
        starts.iloc[:1],
        parameters,
        tmax=T_END,
        rel_tol=RTOL,
        abs_tol=ATOL,
        max_steps=MAX_STEPS,
        batch_size=batch,
        ode_term_dir=str(topo_file.parent),
    )
    return time.perf_counter() - start


def jax_device() -> str:
    import jax

    return str(jax.devices()[0].device_kind)


class _Rows:
    """Prints each measured row of the table at once (a long run shows its progress)."""

    def append(self, row) -> None:
        members, label, seconds, error, note = row
        print(
            f"| {members:,} | {label} | {seconds:.3f} | {members / seconds:,.0f} | {error:.1e} | {note} |", flush=True
        )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--network", choices=sorted(NETWORKS), default="toggle")
    parser.add_argument("--members", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument(
        "--batch", type=int, nargs="+", default=[10_000, 100_000], help="GRiNS chunk sizes (its default is 10,000)"
    )
    parser.add_argument("--sample", type=int, default=200, help="members checked against scipy")
    parser.add_argument("--device", default="cuda", help="torch device for biogrn; JAX picks its own")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    network, name = NETWORKS[args.network](), f"{args.network}_{{}}"  # GRiNS imports its ODE module by this name
    name = name.format(network.n_genes)  # so not "random", which would be Python's own
    print(
        f"{args.network} ({network.n_genes} genes, {len(network.sources)} edges), GRiNS's RACIPE members, "
        f"t = 0..{T_END:.0f}, rtol {RTOL}, atol {ATOL}; torch on "
        f"{torch.cuda.get_device_name() if device.type == 'cuda' else f'cpu ({torch.get_num_threads()} threads)'}, "
        f"JAX on {jax_device()}",
        flush=True,
    )
    rows = _Rows()
    for members in args.members:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            topo_file, parameters, starts = grins_members(network, name, members, folder)
            field_gap = check_field(network, name, folder, parameters, starts)
            if not field_gap < 1e-6:
                raise SystemExit(
                    f"biogrn's field differs from GRiNS's by {field_gap:.1e} (relative): not the same members"
                )
            print(
                f"\n{members:,} members; biogrn's field against GRiNS's ODE term: {field_gap:.1e} largest relative "
                "difference\n\n| members | solver | seconds | solves/s | max rel. error (sample) | note |"
                "\n|---|---|---|---|---|---|",
                flush=True,
            )
            (folder / "001").mkdir()
            sample = np.random.default_rng(0).choice(members, size=min(args.sample, members), replace=False)
            truth = reference(network, parameters, starts, sample)
            grins_final = None
            for batch in args.batch:
                seconds, grins_final, at_rest = time_grins_solver(
                    network, name, folder, parameters, starts, min(batch, members)
                )
                rows.append(
                    (
                        members,
                        f"GRiNS solver, chunks of {batch:,}",
                        seconds,
                        relative_error(grins_final[sample], truth),
                        f"{at_rest:.1%} reached steady state",
                    )
                )
            seconds = time_grins_topo_simulate(topo_file, parameters, starts, min(args.batch[0], members))
            rows.append(
                (
                    members,
                    f"GRiNS topo_simulate, chunks of {args.batch[0]:,}",
                    seconds,
                    float("nan"),
                    "compilation and tables included",
                )
            )
            for dtype, stepping in itertools.product((torch.float32, torch.float64), ("batch", "member", "rest")):
                model, y0 = as_biogrn(network, parameters, starts, device, dtype)
                warm_up = as_biogrn(network, parameters.iloc[:1000], starts.iloc[:1000], device, dtype)
                time_biogrn(*warm_up, repeats=1, stepping=stepping)
                seconds, final = time_biogrn(model, y0, stepping=stepping)
                agree = np.mean(
                    np.all(np.abs(final - grins_final) <= 1e-2 * np.maximum(np.abs(grins_final), 1), axis=1)
                )
                rows.append(
                    (
                        members,
                        f"biogrn dopri5 {str(dtype).removeprefix('torch.')}" + STEPPING_LABELS[stepping],
                        seconds,
                        relative_error(final[sample], truth),
                        f"{agree:.2%} agree with GRiNS to 1%",
                    )
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
