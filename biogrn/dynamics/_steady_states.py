r"""Steady states of a batch of members: classified by the eigenvalues of their Jacobians, and
polished by Newton's method.

Every function reads every member's Jacobian $J = \partial f / \partial y$ from one
`torch.func.jacrev` of the field summed over members: members are independent, so that Jacobian
holds each member's block, in one reverse pass per variable and none per member. The field is
`field(t, y)` for `y` `(members, variables)`, autonomous (it is called with `t = 0`).
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = [
    "classify_steady_states",
    "decay_rates_by_squaring",
    "polish_steady_states",
    "settle_at_rest",
    "slowest_decay_rates",
]


def _field(field, y: Tensor) -> Tensor:
    return field(torch.zeros((), dtype=y.dtype, device=y.device), y)


def _jacobians(field, y: Tensor) -> Tensor:
    r"""`(members, variables, variables)`: each member's $\partial f_i / \partial y_j$."""
    from torch.func import jacrev

    return jacrev(lambda state: _field(field, state).sum(dim=0))(y).permute(1, 0, 2)


def _steady(f: Tensor, y: Tensor, tolerance: float) -> tuple[Tensor, Tensor]:
    r"""Each member's residual $\max_i |f_i|$, and whether it is below `tolerance` $\cdot (1 + \max_i |y_i|)$."""
    residual = f.abs().amax(dim=1)
    return residual, residual < tolerance * (1 + y.abs().amax(dim=1))


def classify_steady_states(field, y: Tensor, tolerance: float = 1e-6) -> dict[str, Tensor]:
    r"""Whether each member's state `y` is a steady state, $\max_i |f_i(y)| < $ `tolerance`
    $\cdot (1 + \max_i |y_i|)$, and a stable one (every eigenvalue of its Jacobian with negative real part).

    Returns `{"residual": (M,), "steady": (M,), "stable": (M,), "eigenvalues": (M, V)}`; a member
    whose Jacobian is not finite has NaN eigenvalues and is not stable.
    """
    eigenvalues, finite = _eigenvalues(_jacobians(field, y))
    residual, steady = _steady(_field(field, y), y, tolerance)
    return {
        "residual": residual,
        "steady": steady,
        "stable": steady & finite & (eigenvalues.real < 0).all(dim=1),
        "eigenvalues": eigenvalues,
    }


def _eigenvalues(jacobians: Tensor) -> tuple[Tensor, Tensor]:
    """Each Jacobian's eigenvalues (NaN where it is not finite), and whether it is finite."""
    finite = torch.isfinite(jacobians).flatten(1).all(dim=1)
    eye = torch.eye(jacobians.shape[-1], dtype=jacobians.dtype, device=jacobians.device)
    # LAPACK refuses a whole batch for one matrix that is not finite: those are stood in for by -I
    eigenvalues = torch.linalg.eigvals(torch.where(finite[:, None, None], jacobians, -eye))
    return torch.where(finite[:, None], eigenvalues, torch.full_like(eigenvalues, float("nan"))), finite


def polish_steady_states(field, y: Tensor, iterations: int = 8, tolerance: float = 1e-12) -> tuple[Tensor, Tensor]:
    r"""Newton's method on $f(y^*) = 0$ for every member at once, $y \leftarrow y - J(y)^{-1} f(y)$
    (one `jacrev` and one batched `torch.linalg.solve_ex` per iteration), until every member's
    residual is below `tolerance` $\cdot (1 + \max_i |y_i|)$ or `iterations` run out.

    From a state within the basin of Newton's method (an integration stopped near a steady state)
    it converges quadratically; from elsewhere it may reach any root of $f$, stable or not, or none:
    compare the result with the start before trusting it. A member whose Jacobian is singular or
    whose Newton step is not finite keeps its last state.

    Returns:
        The polished states `(members, variables)`, and `(members,)` whether each converged.
    """
    if iterations < 1:
        raise ValueError(f"iterations: must be >= 1, got {iterations}")
    y = y.clone()
    with torch.no_grad():
        f = _field(field, y)
        _, converged = _steady(f, y, tolerance)
        for _ in range(iterations):
            if bool(converged.all()):
                break
            step, info = torch.linalg.solve_ex(_jacobians(field, y), f.unsqueeze(2))
            step = step.squeeze(2)
            moves = ~converged & (info == 0) & torch.isfinite(step).all(dim=1)
            y = torch.where(moves.unsqueeze(1), y - step, y)
            f = _field(field, y)
            _, converged = _steady(f, y, tolerance)
    return y, converged


def settle_at_rest(field, y: Tensor, rtol: float, atol: float, iterations: int = 6) -> tuple[Tensor, Tensor, Tensor]:
    r"""The stable steady state by each member of `y`, found by the chord method at an integration's
    tolerance, and its slowest decay rate.

    From `y` (members an integration found at rest, their field within the tolerance), the chord
    method (Newton's with the Jacobian of the start, factored once),
    $y \leftarrow y - J(y_0)^{-1} f(y)$, runs until its correction $\delta$ is within the tolerance,
    $\lVert \delta / (a_{tol} + r_{tol}|y|) \rVert_{\mathrm{rms}} \le 1$ (the norm of an
    integrator's error test), for every member, or `iterations` run out. So close to the root it
    contracts by about $\lVert J(y_0)^{-1} (J(y) - J(y_0)) \rVert$ per iteration, a small multiple
    of the tolerance: once a correction is within the tolerance the state is exact to far below
    it. One `jacrev` per call: a second Jacobian costs more than the iterations it would save.
    Unlike `polish_steady_states`, whose residual test asks for the rounding level of float64,
    the tolerance is the integration's, so float32 members settle too.

    Returns:
        The states reached `(members, variables)`; `(members,)` whether each is a stable steady
        state (the corrections got within the tolerance, and the slowest decay rate is positive);
        and `(members,)` that rate, $\min_k -\mathrm{Re}\,\lambda_k$ of the Jacobian at the start
        (`slowest_decay_rates`). The others (a saddle, a singular Jacobian, no convergence) keep
        the state they were left in.
    """
    if iterations < 1:
        raise ValueError(f"iterations: must be >= 1, got {iterations}")
    y = y.clone()
    within = torch.zeros(len(y), dtype=torch.bool, device=y.device)
    with torch.no_grad():
        jacobians = _jacobians(field, y)
        factors, pivots, info = torch.linalg.lu_factor_ex(jacobians)
        regular = info == 0
        for _ in range(iterations):
            step = torch.linalg.lu_solve(factors, pivots, _field(field, y).unsqueeze(2)).squeeze(2)
            regular &= torch.isfinite(step).all(dim=1)
            moves = ~within & regular
            y = torch.where(moves.unsqueeze(1), y - step, y)
            size = (step / (y.abs() * rtol + atol)).square().mean(dim=1).sqrt()
            within |= moves & (size <= 1.0)
            if bool((within | ~regular).all()):
                break
        rates = slowest_decay_rates(jacobians)  # at the start, within a few tolerances of the root
    return y, within & regular & (rates > 0) & torch.isfinite(y).all(dim=1), rates


def slowest_decay_rates(jacobians: Tensor) -> Tensor:
    r"""Each `(members, V, V)` Jacobian's slowest decay rate $\min_k -\mathrm{Re}\,\lambda_k$:
    positive exactly when every eigenvalue has a negative real part (a stable steady state).

    For $V \le 2$ in closed form ($\lambda = \mathrm{tr}/2 \pm \sqrt{\mathrm{tr}^2/4 - \det}$), on
    a GPU by `decay_rates_by_squaring` (a lower bound where stable: `torch.linalg.eigvals` runs
    there on the host, a matrix at a time), else by the eigenvalues. NaN where the Jacobian is
    not finite (a float32 Hill term past its range): not stable.
    """
    size = jacobians.shape[-1]
    if size == 1:
        return -jacobians[:, 0, 0]
    if size == 2:
        a, b, c, d = jacobians[:, 0, 0], jacobians[:, 0, 1], jacobians[:, 1, 0], jacobians[:, 1, 1]
        half_trace = (a + d) / 2
        discriminant = half_trace.square() - (a * d - b * c)
        return -(half_trace + discriminant.clamp_min(0).sqrt())
    if jacobians.is_cuda:
        return decay_rates_by_squaring(jacobians)
    return _decay_rates_by_eigenvalues(jacobians)


def _decay_rates_by_eigenvalues(jacobians: Tensor) -> Tensor:
    return -_eigenvalues(jacobians)[0].real.amax(dim=1)  # NaN eigenvalues where not finite: NaN


def decay_rates_by_squaring(jacobians: Tensor, squarings: int = 32, margin: float = 1e-6) -> Tensor:
    r"""Each Jacobian's slowest decay rate, bounded from below by matrix products: positive
    exactly when every eigenvalue has a negative real part.

    The Cayley transform $C = (sI - J)^{-1}(sI + J)$, $s > 0$, maps the open left half-plane onto
    the open unit disc, so $J$ is stable exactly when $C$'s spectral radius $\rho(C) < 1$.
    Squaring a normalised $C$ `squarings` times gives Gelfand's estimate
    $\log \rho(C) \approx \log\lVert C^{2^m}\rVert / 2^m = \sum_{k=0}^{m} 2^{-k} \log n_k$, with
    $n_k$ the Frobenius norm of the $k$-th power before normalising; $s$ is the mean of $|J_{ii}|$.
    An eigenvalue $-a + ib$ of $J$ whose image has $|\mu|^2 = ((s - a)^2 + b^2) / ((s + a)^2 + b^2)
    \le \rho^2$ has $a \ge s (1 - \rho) / (1 + \rho)$ (equality for a real eigenvalue), the rate
    returned (negative where $\rho > 1$), with $\rho$ raised by `margin` in the log against the
    estimate's error. Members whose estimate is within `margin` of 0, or not finite, get their
    exact rate from `torch.linalg.eigvals`.
    Batched matrix products only, in float64: a GPU's way to classify millions of members where
    `eigvals` would copy each to the host.
    """
    work = jacobians.double()
    eye = torch.eye(work.shape[-1], dtype=work.dtype, device=work.device)
    scale = work.diagonal(dim1=1, dim2=2).abs().mean(dim=1).clamp_min(1e-300)
    power, info = torch.linalg.solve_ex(scale[:, None, None] * eye - work, scale[:, None, None] * eye + work)
    log_radius = torch.zeros(len(work), dtype=work.dtype, device=work.device)
    for k in range(squarings + 1):
        norm = torch.linalg.matrix_norm(power).clamp_min(1e-300)
        log_radius += norm.log() / 2.0**k
        if k < squarings:
            power = power / norm[:, None, None]
            power = power @ power
    radius = (log_radius + margin).exp()
    rates = (scale * (1 - radius) / (1 + radius)).to(jacobians.dtype)
    undecided = ((log_radius.abs() <= margin) | ~torch.isfinite(log_radius) | (info != 0)).nonzero().squeeze(1)
    if len(undecided):
        rates[undecided] = _decay_rates_by_eigenvalues(jacobians[undecided])
    return rates
