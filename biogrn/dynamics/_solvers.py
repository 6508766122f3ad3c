r"""Integration of Eq. 1 through torchdiffeq: the methods biogrn offers and their admissible steps."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import torch
import torchdiffeq
from torch import Tensor

from biogrn.dynamics._field import GeneField
from biogrn.dynamics._propagator import POLYNOMIALS, affine_step_coefficients, fixed_grid, propagate

__all__ = [
    "MAX_FIXED_STEPS",
    "METHODS",
    "MethodInfo",
    "check_stability",
    "check_step_count",
    "integrate",
    "method_info",
    "uses_fused_step",
]


@dataclass(frozen=True)
class MethodInfo:
    r"""What biogrn needs to know of a torchdiffeq method.

    `decay_bound` is the largest $h\gamma_{max}$ at which a fixed step keeps the two-stage cascade
    $\dot m = f - \gamma_m m$, $\dot p = k_p m - \gamma_p p$ non-negative for any non-negative
    forcing $f$, with pure decay non-increasing; `None` for adaptive methods, which choose $h$.
    For a Runge-Kutta method with stability polynomial $R$ the step map is $R(hA)$ with $A$
    lower-triangular, and the conditions on $[-h\gamma_{max}, 0]$ are $0 \le R \le 1$ (decay),
    $R' \ge 0$ (the off-diagonal $k_p$ coupling, a divided difference of $R$) and
    $\big((R(z) - 1)/z\big)' \ge 0$ (the forcing reaching $p$).
    """

    fixed: bool
    order: int
    decay_bound: float | None


# Runge-Kutta bounds from those conditions: Euler 1 (R >= 0); RK2 1 (R' = 1 + z >= 0);
# RK3 1.5 (((R - 1)/z)' = 1/2 + z/3 >= 0); RK4 1.596 (R' = the RK3 polynomial, root -1.5961).
# The Adams bounds were measured on torchdiffeq 0.2.5 (40 to 60 steps). tests/test_expression.py
# checks all of them against torchdiffeq, and that the Runge-Kutta ones are sharp.
METHODS: dict[str, MethodInfo] = {
    "euler": MethodInfo(True, 1, 1.0),
    "midpoint": MethodInfo(True, 2, 1.0),
    "heun2": MethodInfo(True, 2, 1.0),
    "heun3": MethodInfo(True, 3, 1.5),
    "rk4": MethodInfo(True, 4, 1.596),
    "explicit_adams": MethodInfo(True, 4, 0.013),
    "implicit_adams": MethodInfo(True, 4, 0.121),
    "fixed_adams": MethodInfo(True, 4, 0.121),
    "adaptive_heun": MethodInfo(False, 2, None),
    "fehlberg2": MethodInfo(False, 2, None),
    "bosh3": MethodInfo(False, 3, None),
    "dopri5": MethodInfo(False, 5, None),
    "dopri8": MethodInfo(False, 8, None),
}


def method_info(method: str) -> MethodInfo:
    """`METHODS[method]`.

    Raises:
        ValueError: the method is not one biogrn supports.
    """
    if method not in METHODS:
        raise ValueError(f"method: {method!r} is not supported; choose one of {sorted(METHODS)}")
    return METHODS[method]


def check_stability(method: str, step: float, rate: float, what: str = "step") -> None:
    """Refuse a fixed step outside the method's admissible region for the fastest decay rate.

    Raises:
        ValueError: `step * rate` exceeds `METHODS[method].decay_bound`.
    """
    bound = method_info(method).decay_bound
    # A step of exactly bound / rate may round a few ulps above the bound; it is still admissible.
    tolerance = 1 + 4 * sys.float_info.epsilon
    if bound is not None and step * rate > bound * tolerance:
        raise ValueError(
            f"{what}: {step:g} times the fastest decay rate {rate:g} is {step * rate:g}, outside the "
            f"admissible region of {method!r} (h*gamma <= {bound}); use a step <= {bound / rate:g} "
            f"(step_size, or a smaller dt * integrate_every), or an adaptive method such as 'dopri5'"
        )


MAX_FIXED_STEPS = 1_000_000
"""The most fixed steps one integration may take: beyond it the grid alone takes gigabytes and the
solver's loop hours, so a `step_size` that asks for more is a slip, refused before anything runs."""


def check_step_count(duration: float, step_size: float, what: str = "step_size") -> None:
    """Refuse a fixed step so small that `duration / step_size` exceeds `MAX_FIXED_STEPS` (or is
    not finite: a subnormal step overflows the quotient).

    Raises:
        ValueError: naming `what`, the steps it asks for and the smallest step admitted.
    """
    steps = duration / step_size if step_size > 0 else float("inf")
    if not steps <= MAX_FIXED_STEPS:
        raise ValueError(
            f"{what}: {step_size} takes {steps:g} steps over an integration of {duration:g}; at most "
            f"{MAX_FIXED_STEPS:,} are taken (a step of at least {duration / MAX_FIXED_STEPS:g})"
        )


def _solve(
    field: GeneField, y0: Tensor, drive: Tensor | None, t: Tensor, method: str, rtol: float, atol: float, options: dict
) -> Tensor:
    if drive is not None:
        field.set_drive(drive)
    return torchdiffeq.odeint(field, y0, t, method=method, rtol=rtol, atol=atol, options=options)[-1]


_compiled_solve = None


def uses_fused_step(field: GeneField, method: str) -> bool:
    """Whether `integrate` takes the fused affine step: an explicit Runge-Kutta method on a field
    whose transcription reads no state (the default field)."""
    return method in POLYNOMIALS and not field.transcription.uses_state


def integrate(
    field: GeneField,
    y0: Tensor,
    duration: float,
    method: str = "rk4",
    step_size: float | None = None,
    rtol: float = 1e-5,
    atol: float = 1e-7,
    drive: Tensor | None = None,
    compile: bool = False,
    fused: bool = True,
    out: Tensor | None = None,
    overwrite_drive: bool = False,
) -> Tensor:
    """Advance the whole state by `duration`; returns $y(T)$ (in `out` when given).

    Fixed-step methods take one step over the interval unless `step_size` is given. Where the
    field is affine (its transcription reads no state) and the method is an explicit
    Runge-Kutta one, `fused` takes the exact fused step of `biogrn.dynamics._propagator`: the
    same result as `torchdiffeq.odeint` with the same method and grid, in one pass over the
    state. Otherwise (adaptive methods, Adams methods, a field with self-activation or pool
    repression, or `fused=False`) one `torchdiffeq.odeint` call integrates every gene. With
    `compile`, the fused step, or the whole odeint call (the field's state-free terms, every
    solver stage and torchdiffeq's bookkeeping), goes through `torch.compile`; the first call
    pays the compilation. With `overwrite_drive`, the eager fused step may write its forcing
    over `drive` (a scratch buffer of the caller's, such as the regulator's): one buffer fewer
    for the step to read and write.

    Raises:
        ValueError: unknown method, a fixed step outside the method's admissible region, or one that
            takes more than `MAX_FIXED_STEPS` steps.
    """
    global _compiled_solve
    info = method_info(method)
    options = {}
    if info.fixed:
        step = duration if step_size is None else min(step_size, duration)
        check_stability(method, step, field.fastest_rate)
        if step_size is not None:
            check_step_count(duration, step_size)
            options["step_size"] = step_size
    if fused and uses_fused_step(field, method):
        if drive is not None:
            field.set_drive(drive)
        coefficients = affine_step_coefficients(
            method, fixed_grid(duration, step_size, y0.dtype), field.gamma_m, field.gamma_p, field.k_p
        )
        if out is None:
            out = y0.clone()
        elif out is not y0:
            out.copy_(y0)
        if compile:  # the forcing inside the generated kernel: one pass over u, m and p
            propagate(out, coefficients, drive=field.drive, transcription=field.transcription, compile=True)
        else:
            forcing, scale = field.scaled_forcing(overwrite_drive and drive is not None)
            propagate(out, coefficients, forcing=forcing, forcing_scale=scale)
        return out
    t = torch.tensor([0.0, duration], dtype=y0.dtype, device=y0.device)
    solve = _solve
    if compile:
        if _compiled_solve is None:
            # static shapes: a recompile for a second model or size must not go dynamic (inductor
            # failed on a symbolic-size addmm on CUDA, torch 2.11)
            _compiled_solve = torch.compile(_solve, dynamic=False)
        solve = _compiled_solve
    with torch.no_grad():
        y1 = solve(field, y0, drive, t, method, rtol, atol, options)
    if out is None:
        return y1
    return out.copy_(y1)
