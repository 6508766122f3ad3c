r"""The mask and gate on a regulated weight, as a `torch.nn.utils.parametrize` parametrization.

The effective weight is $w^{\text{eff}} = w \odot M$ (gate `mask`) or
$w^{\text{eff}} = w \odot M \odot H^+(p; K_g, n_g)$ (gate `hill`), with $M$ the binary mask of
the connection's (or unit's) gene and $p$ its expression. The parametrization also records
$\sum_t g_t^2$ of the dense gradient $g = \partial L / \partial w^{\text{eff}}$ on each backward
pass into a `GradientRecord`, which feeds the drive (`GeneDrive`); a pruned connection's $g$
is still recorded, while the gradient reaching the stored weight, $g \odot M$, is zero.

The regulator uses this parametrization only where the forward pass must transform the weight:
gate `hill`, policies that keep pruned weights (`listing`), and tensors that already carry a
parametrization (Dale's law, synaptic noise), on which the mask must act last. Elsewhere pruned
weights are exact zeros in the stored tensor and no parametrization is needed (`Attachment`).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from biogrn.dynamics import hill_activation
from biogrn.regulation._gradients import GradientRecord

__all__ = ["GeneGate", "gated_modules"]


class _GateAndRecord(torch.autograd.Function):
    """$w \\odot F$ whose backward adds $g^2$ into a recorder (one fused `addcmul_`)."""

    @staticmethod
    def forward(ctx, weight: Tensor, factor: Tensor, record: GradientRecord) -> Tensor:
        # the stored weight is kept only for the movement drive's sum of w g
        ctx.save_for_backward(factor, weight if record.movement is not None else None)
        ctx.record = record
        return weight * factor

    @staticmethod
    def backward(ctx, grad: Tensor):
        factor, weight = ctx.saved_tensors
        ctx.record.add(grad, weight)
        return grad * factor, None, None


class GeneGate(nn.Module):
    """Parametrization $w \\mapsto w \\odot M (\\odot H^+(p))$ for one regulated tensor.

    Args:
        mask: view of the flat gene mask, reshaped to broadcast against the weight
            (the weight's shape for connection genes; `(out, 1, ...)` for unit genes).
        expression: view of the protein level, same shape as `mask`; used by gate `hill`.
        gate: `mask` or `hill`.
        half, hill: $K_g$ and $n_g$ of the Hill gate.
        record: where each backward pass's dense gradient goes, or None (a bias that shares a
            unit's gene records nothing).
    """

    def __init__(
        self,
        mask: Tensor,
        expression: Tensor,
        gate: str = "mask",
        half: float = 0.5,
        hill: float = 2.0,
        record: GradientRecord | None = None,
    ):
        super().__init__()
        if gate not in ("mask", "hill"):
            raise ValueError(f"gate: {gate!r} is unknown; choose 'mask' or 'hill'")
        self.mask = mask
        self.expression = expression
        self.gate = gate
        self.half, self.hill = float(half), float(hill)
        self.record = record
        self._records = record is not None and (
            record.recording or record.last_grad is not None or record.movement is not None
        )

    def factor(self) -> Tensor:
        if self.gate == "mask":
            return self.mask
        return self.mask * hill_activation(self.expression, self.half, self.hill).to(self.mask.dtype)

    def forward(self, weight: Tensor) -> Tensor:
        if self._records and weight.requires_grad and torch.is_grad_enabled():
            return _GateAndRecord.apply(weight, self.factor(), self.record)
        return weight * self.factor()


def gated_modules(model: nn.Module) -> list[str]:
    """Names of the modules of `model` that still carry a `GeneGate` (a model before `Regulator.remove`)."""
    return [
        name
        for name, module in model.named_modules()
        if any(isinstance(p, GeneGate) for plist in getattr(module, "parametrizations", {}).values() for p in plist)
    ]
