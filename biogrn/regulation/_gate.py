r"""The mask and gate on a regulated weight, as a `torch.nn.utils.parametrize` parametrization.

The effective weight is $w^{\text{eff}} = w \odot M$ (gate `mask`) or
$w^{\text{eff}} = w \odot M \odot H^+(p; K_g, n_g)$ (gate `hill`), with $M$ the binary mask of
the connection's (or unit's) gene and $p$ its expression. The parametrization also records
$\sum_t g_t^2$ of the dense gradient $g = \partial L / \partial w^{\text{eff}}$ on each backward
pass, which feeds the drive (`GeneDrive`); a pruned connection's $g$ is still recorded,
while the gradient reaching the stored weight, $g \odot M$, is zero.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from biogrn.dynamics import hill_activation

__all__ = ["GeneGate"]


class _GateAndRecord(torch.autograd.Function):
    """$w \\odot F$ whose backward adds $g^2$ into a recorder (one fused `addcmul_`)."""

    @staticmethod
    def forward(ctx, weight: Tensor, factor: Tensor, gate: GeneGate) -> Tensor:
        ctx.save_for_backward(factor)
        ctx.gate = gate
        return weight * factor

    @staticmethod
    def backward(ctx, grad: Tensor):
        (factor,) = ctx.saved_tensors
        gate = ctx.gate
        if gate.recording:
            gate.grad_sq.addcmul_(grad, grad)
            gate.n_backward += 1
        if gate.last_grad is not None:
            gate.last_grad.copy_(grad)
        return grad * factor, None, None


class GeneGate(nn.Module):
    """Parametrization $w \\mapsto w \\odot M (\\odot H^+(p))$ for one regulated tensor.

    Args:
        mask: view of the flat gene mask, reshaped to broadcast against the weight
            (the weight's shape for connection genes; `(out, 1, ...)` for unit genes).
        expression: view of the protein level, same shape as `mask`; used by gate `hill`.
        gate: `mask` or `hill`.
        half, hill: $K_g$ and $n_g$ of the Hill gate.
        record: record $\\sum g^2$ for the drive (False for a bias that shares a unit's gene).
        keep_last: keep the last backward pass's dense gradient $g$ (RigL's growth criterion,
            the listing's $|\\nabla w|$).
    """

    def __init__(
        self,
        mask: Tensor,
        expression: Tensor,
        gate: str = "mask",
        half: float = 0.5,
        hill: float = 2.0,
        record: bool = True,
        weight_shape: torch.Size | None = None,
        keep_last: bool = False,
    ):
        super().__init__()
        if gate not in ("mask", "hill"):
            raise ValueError(f"gate: {gate!r} is unknown; choose 'mask' or 'hill'")
        self.mask = mask
        self.expression = expression
        self.gate = gate
        self.half, self.hill = float(half), float(hill)
        self.recording = record
        self.grad_sq = torch.zeros(weight_shape, dtype=mask.dtype, device=mask.device) if record else None
        self.n_backward = 0
        self.last_grad = torch.zeros(weight_shape, dtype=mask.dtype, device=mask.device) if keep_last else None

    def factor(self) -> Tensor:
        if self.gate == "mask":
            return self.mask
        return self.mask * hill_activation(self.expression, self.half, self.hill).to(self.mask.dtype)

    def forward(self, weight: Tensor) -> Tensor:
        if (self.recording or self.last_grad is not None) and weight.requires_grad and torch.is_grad_enabled():
            return _GateAndRecord.apply(weight, self.factor(), self)
        return weight * self.factor()

    def reset_record(self) -> None:
        if self.grad_sq is not None:
            self.grad_sq.zero_()
        self.n_backward = 0
