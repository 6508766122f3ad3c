r"""Steady states of a batch of members: classified by the eigenvalues of their Jacobians, and
polished by Newton's method.

Both read every member's Jacobian $J = \partial f / \partial y$ from one `torch.func.jacrev` of the
field summed over members: members are independent, so that Jacobian holds each member's block,
in one reverse pass per variable and none per member.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["classify_steady_states", "polish_steady_states"]


def _field(model: torch.nn.Module, y: Tensor) -> Tensor:
    return model(torch.zeros((), dtype=y.dtype, device=y.device), y)


def _jacobians(model: torch.nn.Module, y: Tensor) -> Tensor:
    r"""`(members, variables, variables)`: each member's $\partial f_i / \partial y_j$."""
    from torch.func import jacrev

    return jacrev(lambda state: _field(model, state).sum(dim=0))(y).permute(1, 0, 2)


def _steady(f: Tensor, y: Tensor, tolerance: float) -> tuple[Tensor, Tensor]:
    r"""Each member's residual $\max_i |f_i|$, and whether it is below `tolerance` $\cdot (1 + \max_i |y_i|)$."""
    residual = f.abs().amax(dim=1)
    return residual, residual < tolerance * (1 + y.abs().amax(dim=1))


def classify_steady_states(model: torch.nn.Module, y: Tensor, tolerance: float = 1e-6) -> dict[str, Tensor]:
    r"""Whether each member's state `y` is a steady state, $\max_i |f_i(y)| < $ `tolerance`
    $\cdot (1 + \max_i |y_i|)$, and a stable one (every eigenvalue of its Jacobian with negative real part).

    Returns `{"residual": (M,), "steady": (M,), "stable": (M,), "eigenvalues": (M, V)}`.
    """
    eigenvalues = torch.linalg.eigvals(_jacobians(model, y))
    residual, steady = _steady(_field(model, y), y, tolerance)
    return {
        "residual": residual,
        "steady": steady,
        "stable": steady & (eigenvalues.real < 0).all(dim=1),
        "eigenvalues": eigenvalues,
    }


def polish_steady_states(
    model: torch.nn.Module, y: Tensor, iterations: int = 8, tolerance: float = 1e-12
) -> tuple[Tensor, Tensor]:
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
        f = _field(model, y)
        _, converged = _steady(f, y, tolerance)
        for _ in range(iterations):
            if bool(converged.all()):
                break
            step, info = torch.linalg.solve_ex(_jacobians(model, y), f.unsqueeze(2))
            step = step.squeeze(2)
            moves = ~converged & (info == 0) & torch.isfinite(step).all(dim=1)
            y = torch.where(moves.unsqueeze(1), y - step, y)
            f = _field(model, y)
            _, converged = _steady(f, y, tolerance)
    return y, converged
