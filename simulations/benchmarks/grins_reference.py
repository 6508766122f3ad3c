"""GRiNS's side of the RACIPE checks, recorded as a fixture (GRiNS stays out of biogrn's CI).

Runs in GRiNS's own environment (Python >= 3.12, JAX on the CPU), without biogrn:

    python3.12 -m venv grinsenv && grinsenv/bin/pip install grins pyarrow
    grinsenv/bin/python simulations/benchmarks/grins_reference.py --topo TS.topo EMT22N.topo \\
        --out tests/grn/fixtures/grins_reference.npz --sample-out grins_sample.npz

`TS.topo` and `EMT22N.topo` are GRiNS's own files (`TOPOS/TS.topo`, `CaseStudies/CS2/EMT22N.topo`
in its repository). For each network the fixture holds, with GRiNS's gene order (sorted names) and
the file's edge order:

- `<net>/sets_*`: `--sets` parameter sets from GRiNS's sampler (`gen_param_df`, Sobol, `--seed`),
  as biogrn's `ShiftedHill` arrays (production, degradation, threshold, hill, fold);
- `<net>/starts`: `--starts` initial conditions from `gen_init_cond`;
- `<net>/field`: GRiNS's own ODE term (the module `gen_diffrax_odesys` writes) at every (set, start);
- `<net>/steady`: GRiNS's ODE term integrated by diffrax (Tsit5, float64, rtol 1e-10, atol 1e-14)
  from every (set, start) to t = 2000, and `<net>/settled`: whether every gene's rate there is
  within 1e-12 + 1e-8 |y| of zero (a steady state to float64's rounding of the field);
- `<net>/threshold_low`, `threshold_high`, `production_high`: the ranges `gen_param_range_df`
  gives from `--range-samples` draws (its half-functional rule and amplification);
- `<net>/census_sets`, `census_starts`: `--census-sets` sets of GRiNS's sampler through GRiNS's own pipeline
  (`topo_simulate` at its defaults from `--census-starts` starts each, then
  `gk_normalise_solutions(..., discretize=True)`), and `<net>/census_states`, the number of
  distinct steady states of each set as GRiNS's case studies count them
  (`groupby("ParamNum")["State"].nunique()` over the settled solutions).

`--sample-out` writes `--sample-sets` sets of GRiNS's sampler for the distribution comparison
(`racipe_fidelity.py`), too large for the repository.
"""

from __future__ import annotations

import argparse
import inspect
import os
import sys
import tempfile
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)  # before any array: GRiNS's term in float64

import diffrax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from grins.gen_diffrax_ode import gen_diffrax_odesys  # noqa: E402
from grins.gen_params import gen_init_cond, gen_param_df, gen_param_range_df, parse_topos  # noqa: E402
from grins.racipe_run import gk_normalise_solutions, load_odeterm, topo_simulate  # noqa: E402


def seeded(function, seed: int, **arguments):
    """`function(**arguments)` with `rng=seed` where GRiNS takes one (its repository's HEAD); its PyPI
    release 0.1.2 takes none and draws unseeded Sobol points, so its fixture is one draw of many."""
    if "rng" in inspect.signature(function).parameters:
        arguments["rng"] = seed
    return function(**arguments)


def as_arrays(topology, parameters):
    """GRiNS's parameter table as biogrn's arrays, edges in the file's order."""
    genes = sorted(set(topology["Source"]) | set(topology["Target"]))
    column = lambda name: parameters[name].to_numpy(np.float64)
    table = lambda names: np.stack([column(n) for n in names], axis=1)
    edges = list(zip(topology["Source"], topology["Target"], topology["Type"]))
    fold = [f"{'ActFld' if kind == 1 else 'InhFld'}_{a}_{b}" for a, b, kind in edges]
    return genes, {
        "production": table([f"Prod_{g}" for g in genes]),
        "degradation": table([f"Deg_{g}" for g in genes]),
        "threshold": table([f"Thr_{a}_{b}" for a, b, _ in edges]),
        "hill": table([f"Hill_{a}_{b}" for a, b, _ in edges]),
        "fold": table(fold),
    }


def reference(topo_file: Path, args, folder: Path) -> dict[str, np.ndarray]:
    name = topo_file.stem
    topology = parse_topos(str(topo_file))
    gen_diffrax_odesys(topology, name, str(folder))
    term = load_odeterm(name, str(folder))
    parameters = seeded(gen_param_df, args.seed, topo_df=topology, num_params=args.sets)
    starts = seeded(gen_init_cond, args.seed, topo_df=topology, num_init_conds=args.starts)
    genes, arrays = as_arrays(topology, parameters)
    order = [c for c in parameters.columns if c != "ParamNum"]
    values = parameters[order].to_numpy(np.float64)
    y0 = starts[genes].to_numpy(np.float64)

    def field(y, p):
        return jnp.stack(term.vector_field(0.0, tuple(y), tuple(p)))

    controller = diffrax.PIDController(rtol=1e-10, atol=1e-14)

    def steady(y, p):
        # no steady-state event: it tests the field against rtol * rms(y), which amplified genes
        # (up to 10^6 in EMT22N) make far too loose for genes near 10^-5; t = 2000 is RACIPE's span
        solution = diffrax.diffeqsolve(
            term, diffrax.Tsit5(), 0.0, 2000.0, 0.01, tuple(y), tuple(p), max_steps=500_000,
            stepsize_controller=controller, throw=False,
        )  # fmt: skip
        end = jnp.stack([s[-1] for s in solution.ys])
        rate = jnp.stack(term.vector_field(0.0, tuple(end), tuple(p)))
        return end, jnp.max(jnp.abs(rate) / (1e-12 + 1e-8 * jnp.abs(end))) < 1.0

    pairs = lambda f: jax.vmap(lambda p: jax.vmap(lambda y: f(y, p))(jnp.asarray(y0)))(jnp.asarray(values))
    fields = np.asarray(jax.jit(lambda: pairs(field))())
    states, settled = jax.jit(lambda: pairs(steady))()
    ranges = seeded(gen_param_range_df, args.seed, topo_df=topology, num_params=args.range_samples)
    bounds = ranges.set_index("Parameter")
    edges = list(zip(topology["Source"], topology["Target"]))
    out = {
        "genes": np.asarray(genes),
        "sources": np.asarray([genes.index(a) for a, _ in edges]),
        "targets": np.asarray([genes.index(b) for _, b in edges]),
        "signs": np.where(topology["Type"].to_numpy() == 1, 1, -1),
        "starts": y0,
        "field": fields,
        "steady": np.asarray(states),
        "settled": np.asarray(settled),
        "threshold_low": np.asarray([bounds.loc[f"Thr_{a}_{b}", "Minimum"] for a, b in edges], np.float64),
        "threshold_high": np.asarray([bounds.loc[f"Thr_{a}_{b}", "Maximum"] for a, b in edges], np.float64),
        "production_high": np.asarray([bounds.loc[f"Prod_{g}", "Maximum"] for g in genes], np.float64),
    }
    out.update({f"sets_{k}": v for k, v in arrays.items()})
    if args.census_sets:
        census_parameters = seeded(gen_param_df, args.seed + 1, topo_df=topology, num_params=args.census_sets)
        census_starts = seeded(gen_init_cond, args.seed + 1, topo_df=topology, num_init_conds=args.census_starts)
        replicate = folder / name / "001"
        replicate.mkdir(parents=True, exist_ok=True)
        solutions = topo_simulate(
            str(topo_file), str(replicate), census_starts, census_parameters, ode_term_dir=str(folder)
        )
        solutions = solutions.astype({"ParamNum": int, "InitCondNum": int})
        states, _ = gk_normalise_solutions(solutions, census_parameters, discretize=True)
        settled_rows = states[states["SteadyStateFlag"] == 1]
        counts = settled_rows.groupby("ParamNum")["State"].nunique()
        out["census_starts"] = census_starts[genes].to_numpy(np.float64)
        out["census_states"] = counts.reindex(range(1, args.census_sets + 1), fill_value=0).to_numpy()
        out["census_settled"] = (states["SteadyStateFlag"] == 1).to_numpy().reshape(-1)
        if not args.no_census_sets:
            out.update({f"census_sets_{k}": v for k, v in as_arrays(topology, census_parameters)[1].items()})
    if args.sample_out:
        sample = seeded(gen_param_df, args.seed + 2, topo_df=topology, num_params=args.sample_sets)
        out.update({f"sample_{k}": v for k, v in as_arrays(topology, sample)[1].items()})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--topo", type=Path, nargs="+", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--sets", type=int, default=32)
    parser.add_argument("--starts", type=int, default=4)
    parser.add_argument("--range-samples", type=int, default=10_000)
    parser.add_argument("--census-sets", type=int, default=0)
    parser.add_argument("--census-starts", type=int, default=100)
    parser.add_argument("--no-census-sets", action="store_true", help="keep the census's counts, not its sets")
    parser.add_argument("--sample-out", type=Path)
    parser.add_argument("--sample-sets", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    np.random.seed(args.seed)  # noqa: NPY002 (GRiNS 0.1.2 draws its uniform and shuffled parameters from numpy's global stream)
    small, large = {}, {}
    with tempfile.TemporaryDirectory() as folder:
        sys.path.insert(0, folder)
        for topo_file in args.topo:
            for key, value in reference(topo_file, args, Path(folder)).items():
                (large if key.startswith("sample_") else small)[f"{topo_file.stem}/{key}"] = value
    import grins

    small["versions"] = np.asarray([f"grins {getattr(grins, '__version__', '0.1.2')}", f"jax {jax.__version__}"])
    np.savez_compressed(args.out, **small)
    if args.sample_out:
        np.savez_compressed(args.sample_out, **large)
    print(f"wrote {args.out}" + (f" and {args.sample_out}" if args.sample_out else ""), file=sys.stderr)
    os._exit(0)  # JAX's threads can hold the interpreter at exit


if __name__ == "__main__":
    main()
