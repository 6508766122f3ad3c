r"""The fused step: an explicit Runge-Kutta solve of Eq. 1 in one pass, where the field is affine.

When the transcription rate reads no state (basal and drive terms only, the default), Eq. 1 over
an interval with the drive held constant is the affine system

$$\dot y = A y + b f, \qquad A = \begin{pmatrix} -\gamma_m & 0 \\ k_p & -\gamma_p \end{pmatrix},
\quad b = \begin{pmatrix} 1 \\ 0 \end{pmatrix},$$

with one forcing $f_c$ per gene and $A$ shared by all genes. An explicit Runge-Kutta method with
stability polynomial $R(z) = \sum_k c_k z^k$ maps it exactly (in exact arithmetic) to

$$y_{n+1} = R(hA)\, y_n + h\,\varphi(hA)\, b\, f, \qquad \varphi(z) = \sum_{k \ge 1} c_k z^{k-1}$$

(the method applied to $y' = A(y + A^{-1} b f)$, a linear autonomous system). Composing the
steps of the solver's grid gives one $2 \times 2$ matrix $P$ and one vector $q$:
$m \leftarrow P_{00} m + q_0 f$, $p \leftarrow P_{10} m + P_{11} p + q_1 f$, evaluated for every
gene in one pass instead of one pass per stage and per operation. The coefficients are computed
on the host in float64 from Python numbers, so the step reads nothing back from the device.

`tests/dynamics/test_propagator.py` checks that this equals `torchdiffeq.odeint` with the same
method and grid to 1e-6 relative, for every explicit Runge-Kutta method biogrn offers.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = ["POLYNOMIALS", "affine_step_coefficients", "fixed_grid", "propagate"]

POLYNOMIALS: dict[str, tuple[float, ...]] = {
    "euler": (1.0, 1.0),
    "midpoint": (1.0, 1.0, 1 / 2),
    "heun2": (1.0, 1.0, 1 / 2),
    "heun3": (1.0, 1.0, 1 / 2, 1 / 6),
    "rk4": (1.0, 1.0, 1 / 2, 1 / 6, 1 / 24),
}
"""Stability polynomial coefficients $c_k$ of each explicit Runge-Kutta method torchdiffeq names:
$R(z) = \\sum_{k \\le s} z^k / k!$ for an $s$-stage method of order $s \\le 4$."""


def fixed_grid(duration: float, step_size: float | None, dtype: torch.dtype) -> list[float]:
    """The step lengths torchdiffeq's fixed-grid solvers take over `[0, duration]`.

    One step without `step_size`; with it, `ceil(T / h + 1)` points `k h` computed in `dtype`,
    the last one moved onto `T` (torchdiffeq's `_grid_constructor_from_step_size`).
    """
    if step_size is None:
        return [float(torch.tensor(duration, dtype=dtype))]
    end = torch.tensor(duration, dtype=dtype)
    points = int(torch.ceil(end / step_size + 1).item())
    grid = torch.arange(0, points, dtype=dtype) * step_size
    grid[-1] = end
    return (grid[1:] - grid[:-1]).tolist()


def _matmul(a: list[list[float]], b: list[list[float]]) -> list[list[float]]:
    return [[sum(a[i][k] * b[k][j] for k in range(2)) for j in range(2)] for i in range(2)]


def affine_step_coefficients(
    method: str, steps: list[float], gamma_m: float, gamma_p: float, k_p: float
) -> tuple[list[list[float]], list[float]]:
    """$(P, q)$ with $y(T) = P\\,y(0) + q f$ after `steps` of `method` on $\\dot y = Ay + bf$.

    Raises:
        ValueError: `method` is not an explicit Runge-Kutta method with a known polynomial.
    """
    if method not in POLYNOMIALS:
        raise ValueError(f"method: the fused step covers {sorted(POLYNOMIALS)}, not {method!r}")
    coefficients = POLYNOMIALS[method]
    a = [[-gamma_m, 0.0], [k_p, -gamma_p]]
    total = [[1.0, 0.0], [0.0, 1.0]]
    forcing = [0.0, 0.0]
    for h in steps:
        ha = [[h * x for x in row] for row in a]
        power = [[1.0, 0.0], [0.0, 1.0]]  # (hA)^(k-1), then (hA)^k
        step = [[c * power[i][j] for j in range(2)] for i, c in zip(range(2), (coefficients[0],) * 2)]  # c_0 I
        phi = [[0.0, 0.0], [0.0, 0.0]]  # h * sum_{k>=1} c_k (hA)^(k-1)
        for c in coefficients[1:]:
            phi = [[phi[i][j] + h * c * power[i][j] for j in range(2)] for i in range(2)]
            power = _matmul(power, ha)
            step = [[step[i][j] + c * power[i][j] for j in range(2)] for i in range(2)]
        total = _matmul(step, total)
        forcing = [step[i][0] * forcing[0] + step[i][1] * forcing[1] + phi[i][0] for i in range(2)]
    return total, forcing


def _apply(m: Tensor, p: Tensor, f: Tensor, p00: float, p10: float, p11: float, q0: float, q1: float) -> None:
    # p first: it reads the old m. In place, so the state's views (the gates' expression) follow.
    p.mul_(p11).add_(m, alpha=p10).add_(f, alpha=q1)
    m.mul_(p00).add_(f, alpha=q0)


def _forcing_and_apply(
    m: Tensor, p: Tensor, u: Tensor, transcription, p00: float, p10: float, p11: float, q0: float, q1: float
) -> None:
    _apply(m, p, transcription.constant_rate(u), p00, p10, p11, q0, q1)


_compiled: dict[str, object] = {}


def propagate(
    y: Tensor,
    coefficients: tuple[list[list[float]], list[float]],
    forcing: Tensor | None = None,
    drive: Tensor | None = None,
    transcription=None,
    compile: bool = False,
    forcing_scale: float = 1.0,
) -> None:
    """Advance `y` (`(2, n)`, rows $m$ and $p$) in place by the affine map `coefficients`.

    The forcing per gene is given (as $g$ with $f = $ `forcing_scale` $\\cdot g$: the factor goes
    into $q$, not over the genes), or computed from `drive` by the state-free `transcription`
    (with `compile`, inside the same generated kernel: one pass reads $u$, $m$, $p$ and writes $m$,
    $p$). With `compile`, shapes are dynamic so that models of any size share the kernel; the
    first call pays the compilation.

    Raises:
        ValueError: neither `forcing` nor `drive` and `transcription`, or coefficients that are
            not those of Eq. 1.
    """
    (p00, p01), (p10, p11) = coefficients[0]
    q0, q1 = coefficients[1]
    if forcing is not None:
        q0, q1 = q0 * forcing_scale, q1 * forcing_scale
    if p01 != 0.0 or not all(math.isfinite(x) for x in (p00, p10, p11, q0, q1)):
        raise ValueError(f"the fused step's coefficients are not those of Eq. 1: {coefficients}")
    with torch.no_grad():
        if forcing is not None:
            apply = _compiled_step("apply", _apply) if compile else _apply
            apply(y[0], y[1], forcing, p00, p10, p11, q0, q1)
        elif drive is not None and transcription is not None:
            if compile:
                _compiled_step("forcing_and_apply", _forcing_and_apply)(
                    y[0], y[1], drive, transcription, p00, p10, p11, q0, q1
                )
            else:
                _apply(y[0], y[1], transcription.constant_rate(drive), p00, p10, p11, q0, q1)
        else:
            raise ValueError("propagate: give the forcing, or the drive and the transcription")


def _compiled_step(name: str, function):
    if name not in _compiled:
        _compiled[name] = torch.compile(function, dynamic=True)
    return _compiled[name]
