"""Steady states of a batch of members, classified by the eigenvalues of their Jacobians."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["classify_steady_states"]


def classify_steady_states(model: torch.nn.Module, y: Tensor, tolerance: float = 1e-6) -> dict[str, Tensor]:
    """Whether each member's state `y` is a steady state (|f(y)| small) and a stable one (every
    eigenvalue of its Jacobian with negative real part); Jacobians by `torch.func.jacrev`.

    Returns `{"residual": (M,), "steady": (M,), "stable": (M,), "eigenvalues": (M, V)}`.
    """
    from torch.func import jacrev

    def summed(state: Tensor) -> Tensor:
        # members are independent: the Jacobian of the field summed over members holds each
        # member's block (one reverse pass per variable, none per member)
        return model(torch.zeros(()), state).sum(dim=0)

    jacobians = jacrev(summed)(y).permute(1, 0, 2)  # (M, V, V)
    eigenvalues = torch.linalg.eigvals(jacobians)
    residual = model(torch.zeros(()), y).abs().amax(dim=1)
    steady = residual < tolerance * (1 + y.abs().amax(dim=1))
    return {
        "residual": residual,
        "steady": steady,
        "stable": steady & (eigenvalues.real < 0).all(dim=1),
        "eigenvalues": eigenvalues,
    }
