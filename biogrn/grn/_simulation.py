r"""Simulation of every member of a model form at once: deterministic (a step per member, or one
torchdiffeq call) or chemical Langevin."""

from __future__ import annotations

import numpy as np
import torch
import xarray as xr
from torch import Tensor

from biogrn.core import DivergedError
from biogrn.dynamics import check_finite_members, integrate_members

__all__ = ["NOISES", "STEPPINGS", "simulate", "simulate_langevin"]

NOISES = ("chemical", "boolode")
STEPPINGS = ("batch", "member")
EDGE_PARAMETERS = ("threshold", "hill", "fold")


def simulate(
    model: torch.nn.Module,
    y0: Tensor,
    times: Tensor,
    method: str = "dopri5",
    rtol: float = 1e-6,
    atol: float = 1e-8,
    stepping: str | None = None,
    stop_at_rest: bool = False,
) -> xr.Dataset:
    """Integrate every member at once; `y0` is `(members, variables)`.

    `stepping="member"` (the default for dopri5): `dynamics.integrate_members`, Dormand-Prince
    5(4) with each member's own steps and error test, finished members leaving the batch: each
    member's solution is the one scipy's RK45 gives it alone, and a batch of members of unlike
    stiffness no longer pays the stiffest one's steps for all. With it, `stop_at_rest` ends each
    member whose field is within its tolerance (`integrate_members`: its later outputs are that
    state; for runs to a steady state). It runs without autograd. `stepping="batch"` (the default
    for every other method): one `torchdiffeq.odeint` call, one step size for the batch, its error
    the root mean square over every member, so a few members can end far outside the tolerance
    (docs/grn.md); differentiable.

    Returns a Dataset with `state (time, variable, member)` and every parameter as a variable
    over `member` and `gene` or `edge`.

    Raises:
        ValueError: an unknown `stepping`, `stepping="member"` with another method than dopri5,
            or `stop_at_rest` without it.
        DivergedError: a member's state left the finite numbers, or the adaptive step underflowed.
    """
    if stepping is None:
        stepping = "member" if method == "dopri5" else "batch"
    if stepping not in STEPPINGS:
        raise ValueError(f"stepping: {stepping!r} is not one of {STEPPINGS}")
    if stop_at_rest and stepping != "member":
        raise ValueError("stop_at_rest: needs stepping='member' (members stop one by one)")
    if stepping == "member":
        if method != "dopri5":
            raise ValueError(
                f"method: {method!r} with stepping='member'; a step per member is Dormand-Prince's (dopri5)"
            )
        with torch.no_grad():
            solution = integrate_members(model, y0, times, rtol=rtol, atol=atol, stop_at_rest=stop_at_rest)
        return _as_dataset(model, solution, times)
    import torchdiffeq

    try:
        solution = torchdiffeq.odeint(model, y0, times, method=method, rtol=rtol, atol=atol)
    except AssertionError as error:  # torchdiffeq's adaptive solvers assert on a vanishing step
        if "underflow in dt" not in str(error):
            raise
        raise DivergedError(
            f"simulate: the batch's step underflowed ({error}); some member's field is not finite or too stiff: "
            "stepping='member' names the first such member"
        ) from error
    check_finite_members(solution, "simulate")
    return _as_dataset(model, solution, times)


def simulate_langevin(
    model: torch.nn.Module,
    y0: Tensor,
    times: Tensor,
    dt: float = 0.01,
    volume: float = 100.0,
    generator: torch.Generator | None = None,
    noise: str = "chemical",
) -> xr.Dataset:
    r"""The chemical Langevin equation for single-cell-like data, every member at once (Euler-Maruyama):

    $x_{t + \Delta t} = \left[x_t + (P - D)\,\Delta t + \sqrt{(P + D)\,\Delta t / \Omega}\;\xi\right]_+$,

    with production $P$ and degradation $D$ fluxes of the model (`model.rates`), $\xi$ standard
    normal per member and variable, and the system size $\Omega$ (`volume`): the noise shrinks as
    $\Omega^{-1/2}$ and the deterministic model is the limit $\Omega \to \infty$. States are kept
    non-negative. Returns the same layout as `simulate`.

    `noise="boolode"` takes BoolODE's noise instead, $\sqrt{x\,\Delta t / \Omega}\;\xi$: BoolODE
    adds $c\sqrt{x}\,\xi\,\Delta t$ with $c = 10$ at $\Delta t = 0.01$ (its increments have standard
    deviation $\Delta t$ where an SDE's have $\sqrt{\Delta t}$), which is this term at $\Omega = 1$.
    """
    if dt <= 0 or volume <= 0:
        raise ValueError(f"dt and volume must be > 0; got {dt}, {volume}")
    if noise not in NOISES:
        raise ValueError(f"noise: {noise!r} is not one of {NOISES}")
    y = y0.clone()
    out, t, index = [], float(times[0]), 0
    while index < len(times):
        if t >= float(times[index]) - 1e-12:
            out.append(y.clone())
            index += 1
            continue
        step = min(dt, float(times[index]) - t)
        made, lost = model.rates(y)
        spread = made + lost if noise == "chemical" else y
        kick = torch.randn(y.shape, generator=generator, dtype=y.dtype, device=y.device)
        y = (y + (made - lost) * step + torch.sqrt(spread.clamp_min(0) * step / volume) * kick).clamp_min(0)
        t += step
    return _as_dataset(model, torch.stack(out), times)


def _as_dataset(model: torch.nn.Module, solution: Tensor, times: Tensor) -> xr.Dataset:
    network = model.network
    data = {"state": (("time", "variable", "member"), solution.permute(0, 2, 1).detach().cpu().numpy())}
    for name, value in model.parameters_dict().items():
        dim = "edge" if name in EDGE_PARAMETERS else "gene"  # by name: a network may have as many edges as genes
        data[name] = (("member", dim), value.detach().cpu().numpy())
    edges = [f"{network.genes[a]}->{network.genes[b]}" for a, b in zip(network.sources, network.targets)]
    return xr.Dataset(
        data,
        coords={
            "time": times.cpu().numpy(),
            "variable": model.variables,
            "member": np.arange(solution.shape[1]),
            "gene": list(network.genes),
            "edge": edges,
        },
    )
