r"""What the drive reads from training: $\sum_t g_t^2$ of each regulated tensor's dense gradient,
and, for the `movement` drive, $\sum_t w_t g_t$ with $w_t$ the weight the step's forward pass used.

$g = \partial L / \partial w^{\text{eff}}$, the gradient of the effective weight, dense: a pruned
connection's $g$ is recorded too, so that it can earn its way back. Two ways fill a record: a
`GeneGate` parametrization at each backward pass, or the regulator's step from the stored
weight's own `.grad` (the mask path, where the stored weight is the effective one). On the mask
path a record may instead read the interval from the optimizer's second moment
(`OptimizerMoments`), and then nothing is recorded per step.

$\sum_t w_t g_t$ needs the weight of the forward pass, which the optimizer has already moved when
the regulator steps: a gate has it at its backward pass; on the mask path an optimizer's pre-step
hook has it (`Attachment.record_movement_from`), or, with no optimizer attached, the record keeps
the weight as the regulator last left it (`previous`, copied after each step and each edit of the
mask), which is the next forward pass's weight.
"""

from __future__ import annotations

import torch
from torch import Tensor

from biogrn.regulation._moments import OptimizerMoments

__all__ = ["GradientRecord", "record_gradients"]


class GradientRecord:
    """$\\sum g^2$ over the steps since the last integration, their count, and optionally the last $g$.

    Args:
        shape, dtype, device: the regulated tensor's.
        record: keep $\\sum g^2$ (policies that read expression).
        keep_last: keep the last dense gradient (RigL's growth criterion, the listing's $|\\nabla w|$).
    """

    def __init__(
        self,
        shape: torch.Size,
        dtype: torch.dtype,
        device: torch.device,
        record: bool = True,
        keep_last: bool = False,
        movement: bool = False,
    ):
        self.grad_sq = torch.zeros(shape, dtype=dtype, device=device) if record else None
        self.last_grad = torch.zeros(shape, dtype=dtype, device=device) if keep_last else None
        self.n_backward = 0
        self.movement = torch.zeros(shape, dtype=dtype, device=device) if movement else None
        r"""$\sum_t w_t g_t$ over the interval's steps (the `movement` drive), or None."""
        self.n_movement = 0
        self.previous: Tensor | None = None
        """The mask path's weight as the regulator last left it (`snapshot`), or None."""
        self.by_hook = False
        """Whether an optimizer's pre-step hook adds $w_t g_t$ (the mask path with an optimizer attached)."""
        self.moments: OptimizerMoments | None = None
        """Set by `read_moments`: the interval comes from the optimizer, not from `add`."""
        self.enabled = True
        """Whether the next gradient enters the sum (`record_every` skips some); the last
        gradient is kept regardless."""

    @property
    def recording(self) -> bool:
        return self.grad_sq is not None

    @property
    def summing(self) -> bool:
        """Whether `add` sums the next gradient (recording, enabled, and not read from moments)."""
        return self.grad_sq is not None and self.enabled and self.moments is None

    def read_moments(self, optimizer: torch.optim.Optimizer, param: Tensor) -> None:
        """From now on take each interval from `optimizer`'s second moment of `param` (`OptimizerMoments`).

        The interval restarts here: what was recorded so far is dropped.
        """
        if self.grad_sq is None:
            raise ValueError("a record that keeps no sum of g^2 has no interval to read")
        self.moments = OptimizerMoments(optimizer, param, self.grad_sq)
        self.n_backward = 0

    def interval(self) -> tuple[Tensor, float | Tensor]:
        r"""The interval's (weighted) $\sum g^2$ and the total weight of its steps: their count when recorded.

        With moments this consumes the snapshot: `reset` must follow before the next interval.
        """
        if self.moments is not None:
            self.n_backward = self.moments.read()
        return self.grad_sq, self.n_backward

    def add(self, grad: Tensor, weight: Tensor | None = None) -> None:
        """Take one gradient, and the weight its forward pass used (for `movement`)."""
        if self.summing:
            self.grad_sq.addcmul_(grad, grad)
            self.n_backward += 1
        if self.last_grad is not None:
            self.last_grad.copy_(grad)
        if self.movement is not None and self.enabled and weight is not None:
            self.movement.addcmul_(weight, grad)
            self.n_movement += 1

    def snapshot(self, weight: Tensor) -> None:
        """Keep `weight` (the mask path's stored weight now) as the next step's $w_t$."""
        if self.previous is None:
            self.previous = weight.detach().clone()
        else:
            self.previous.copy_(weight)

    def reset(self) -> None:
        """Start a new interval (the last gradient is kept)."""
        if self.moments is not None:
            self.moments.start()
        elif self.grad_sq is not None:
            self.grad_sq.zero_()
        self.n_backward = 0
        if self.movement is not None:
            self.movement.zero_()
            self.n_movement = 0


def record_gradients(records: list[GradientRecord], grads: list[Tensor]) -> None:
    """`add` for many records at once: one multi-tensor `addcmul_` (and `copy_`) for them all;
    `movement` from each record's `previous` weight."""
    summed = [(r, g) for r, g in zip(records, grads) if r.summing]
    if summed:
        torch._foreach_addcmul_([r.grad_sq for r, _ in summed], [g for _, g in summed], [g for _, g in summed])
        for record, _ in summed:
            record.n_backward += 1
    kept = [(r, g) for r, g in zip(records, grads) if r.last_grad is not None]
    if kept:
        torch._foreach_copy_([r.last_grad for r, _ in kept], [g for _, g in kept])
    moving = [(r, g) for r, g in zip(records, grads) if r.movement is not None and r.enabled and r.previous is not None]
    if moving:
        torch._foreach_addcmul_(
            [r.movement for r, _ in moving], [r.previous for r, _ in moving], [g for _, g in moving]
        )
        for record, _ in moving:
            record.n_movement += 1
