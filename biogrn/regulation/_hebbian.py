r"""Hebbian co-activity with homeostasis, recorded by forward hooks: a drive for the gene ODE.

For a Linear layer with input $x$ (presynaptic rates) and output $z = Wx + b$, the postsynaptic
rate is the rectified output $y = [z]_+$ and the presynaptic rate is $[x]_+$. Forward hooks add,
at every training forward pass, the batch mean of $y_i x_j$ into a co-activity accumulator (one
matrix product; activations are not kept), and update a running mean activity per unit,
$\bar y_i \leftarrow (1 - \rho)\,\bar y_i + \rho\, \langle y_i \rangle$.

- Drive (`drive = "hebbian"`): $u_{ij} = h_i\, \overline{y_i x_j}$ averaged over the steps since the
  last integration, with the homeostatic factor $h_i = a^* / (\bar y_i + \epsilon)$: units above the
  target activity $a^*$ drive their connections' genes less. Non-negative by construction.
- Rule: `biogrn.biology.HebbianRule` (BCM) reads the same hooks.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["HebbianRecorder"]


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

    def last_batch(self, index: int) -> tuple[Tensor, Tensor] | None:
        """The rectified input and output `(x, y)` of layer `index`'s last training forward pass."""
        return self._last[index]

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
        return {
            "coactivity": [c.clone() for c in self.coactivity],
            "activity": [a.clone() for a in self.activity],
            "steps": self.steps,
        }

    def load_state_dict(self, state: dict) -> None:
        for mine, theirs in zip(self.coactivity, state["coactivity"]):
            mine.copy_(theirs)
        for mine, theirs in zip(self.activity, state["activity"]):
            mine.copy_(theirs)
        self.steps = int(state["steps"])
