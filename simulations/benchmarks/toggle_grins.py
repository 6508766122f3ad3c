"""Toggle-switch ensembles on one GPU: biogrn against GRiNS (JAX + diffrax) on the same members.

    pip install grins            # Python >= 3.12; JAX with CUDA and diffrax
    python simulations/benchmarks/toggle_grins.py --members 100000 1000000

GRiNS's own RACIPE sampler draws the parameter sets (Sobol) and its initial conditions; both
libraries then integrate exactly these members from t = 0 to 200 under GRiNS's defaults
(rtol 1e-5, atol 1e-6, float32, at most 2048 steps). GRiNS: Tsit5 per member under `vmap`, each
member stopping at its steady state (diffrax's steady-state event); timed twice, as
`topo_simulate` (what its users call: compilation and its pandas output included) and as its
compiled solver alone after a warm-up call (its best case). biogrn: one `torchdiffeq` call
(dopri5, one step size shared by the batch) to t = 200, after a warm-up, median of three.
Accuracy: the largest relative error of the final state over 200 members against scipy's
DOP853 at rtol 1e-10, and the share of all members on which the two libraries agree to 1%.
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
from racipe_stepping import dop853
from regulator_overhead import median_time

from biogrn.grn import ShiftedHill, toggle_switch

T_END, RTOL, ATOL, MAX_STEPS = 200.0, 1e-5, 1e-6, 2048
TOPOLOGY = "Source Target Type\nA B 2\nB A 2\n"  # RACIPE topo format: type 2 represses


def grins_members(members: int, folder: Path):
    """GRiNS's parameter and initial-condition tables for `members` parameter sets, one start each."""
    from grins.gen_diffrax_ode import gen_diffrax_odesys
    from grins.gen_params import gen_init_cond, gen_param_df, parse_topos

    topo_file = folder / "toggle.topo"
    topo_file.write_text(TOPOLOGY)
    topology = parse_topos(str(topo_file))
    gen_diffrax_odesys(topology, "toggle", str(folder))
    parameters = gen_param_df(topo_df=topology, num_params=members)
    starts = gen_init_cond(topology, num_init_conds=members)
    return topo_file, parameters, starts


def as_biogrn(parameters, starts, device, dtype) -> tuple[ShiftedHill, torch.Tensor]:
    """The same members as a `ShiftedHill`: GRiNS's negative shifted Hill equals ours with fold = InhFld."""
    column = lambda *names: torch.as_tensor(
        np.stack([parameters[n].to_numpy() for n in names], axis=1),
        dtype=dtype,
        device=device,
    )
    network = toggle_switch(1).network  # genes (u, v) = (A, B); edges B -> A, A -> B
    model = ShiftedHill(
        network,
        column("Prod_A", "Prod_B"),
        column("Deg_A", "Deg_B"),
        column("Thr_B_A", "Thr_A_B"),
        column("Hill_B_A", "Hill_A_B"),
        column("InhFld_B_A", "InhFld_A_B"),
    ).to(device)
    y0 = torch.as_tensor(np.array(starts[["A", "B"]].to_numpy()[: len(parameters)]), dtype=dtype, device=device)
    return model, y0


def reference(parameters, starts, sample: np.ndarray) -> np.ndarray:
    """Final states of the sampled members by scipy DOP853 at rtol 1e-10, float64."""
    model, y0 = as_biogrn(parameters, starts, "cpu", torch.float64)
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


def time_grins_solver(topo_file: Path, parameters, starts, batch: int) -> tuple[float, np.ndarray, float]:
    """GRiNS's compiled per-member solver over all members in chunks of `batch`, after a warm-up."""
    import jax
    import jax.numpy as jnp
    from diffrax import PIDController, SaveAt, Tsit5
    from grins.racipe_run import load_odeterm, parameterise_solveode

    term = load_odeterm("toggle", str(topo_file.parent))
    starts_array = jnp.array(starts.to_numpy())
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
    return seconds, table[:, :2].astype(np.float64), float(table[:, 3].mean())  # states, then t, then event flag


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


def relative_error(states: np.ndarray, truth: np.ndarray) -> float:
    return float((np.abs(states - truth) / np.maximum(np.abs(truth), 1e-3)).max())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument(
        "--batch", type=int, nargs="+", default=[10_000, 100_000], help="GRiNS chunk sizes (its default is 10,000)"
    )
    parser.add_argument("--sample", type=int, default=200, help="members checked against scipy")
    parser.add_argument("--device", default="cuda", help="torch device for biogrn; JAX picks its own")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    rows = []
    for members in args.members:
        with tempfile.TemporaryDirectory() as folder:
            topo_file, parameters, starts = grins_members(members, Path(folder))
            (Path(folder) / "001").mkdir()
            sample = np.random.default_rng(0).choice(members, size=min(args.sample, members), replace=False)
            truth = reference(parameters, starts, sample)
            grins_final = None
            for batch in args.batch:
                seconds, grins_final, at_rest = time_grins_solver(topo_file, parameters, starts, min(batch, members))
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
                model, y0 = as_biogrn(parameters, starts, device, dtype)
                warm_up = as_biogrn(parameters.iloc[:1000], starts.iloc[:1000], device, dtype)
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
    print(
        f"toggle switch, GRiNS's RACIPE members, t = 0..{T_END:.0f}, rtol {RTOL}, atol {ATOL}; "
        f"torch on {torch.cuda.get_device_name() if device.type == 'cuda' else 'cpu'}, JAX on {jax_device()}"
    )
    print("\n| members | solver | seconds | solves/s | max rel. error (sample) | note |\n|---|---|---|---|---|---|")
    for members, label, seconds, error, note in rows:
        print(f"| {members:,} | {label} | {seconds:.3f} | {members / seconds:,.0f} | {error:.1e} | {note} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
