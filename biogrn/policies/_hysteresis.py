r"""A gene switches its own connection: off when its expression falls below a lower threshold, on
when it rises above an upper one (the switch of a bistable gene, with hysteresis between).

Per layer, the thresholds are quantiles of the layer's expression $p$ over its allowed genes
(active and pruned alike), so they follow the distribution as it drifts:

    \theta_{\text{off}} = Q_p(s(t)), \qquad \theta_{\text{on}} = Q_p(s(t) + b\,(1 - s(t)))
    \text{off}: M_c = 1 \wedge p_c < \theta_{\text{off}}, \qquad
    \text{on}:  M_c = 0 \wedge p_c > \theta_{\text{on}}

with $s(t)$ the cubic sparsity schedule (Zhu & Gupta) to `target_sparsity` and $b$ the band, a
fraction of the active share $1 - s$ (so that at $s = 0.9$ a band of 0.1 still lets the most
expressed pruned genes back: the on-threshold is the 0.91 quantile, not the maximum). Only the
expression decides; $|w|$ does not enter. A gene between the two thresholds keeps its state, so
the layer's sparsity stays between $s$ and $s + b(1 - s)$ once the ranking settles, and a gene
near a threshold does not flap. At most `max_regrow_fraction` of a layer's active connections come
back per update (the highest-expressed first), as for the other gene policies.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from biogrn.core import segment_counts
from biogrn.policies._base import Decision, Policy, PolicyView
from biogrn.policies._schedules import cubic_sparsity
from biogrn.policies._thresholds import lowest_active

__all__ = ["HysteresisPolicy", "expression_quantile"]


def expression_quantile(expression: Tensor, allow: Tensor, q: float) -> Tensor:
    """The `q`-quantile of `expression` over the allowed genes: the $\\lceil qn \\rceil$-th smallest
    (the lower quantile, so that exactly $\\lfloor qn \\rfloor$ genes lie strictly below it when
    values are distinct); $+\\infty$ for $q = 1$, $-\\infty$ for $q = 0$ or no allowed gene."""
    values = expression if bool(allow.all()) else expression[allow]
    n = values.numel()
    if n == 0 or q <= 0.0:
        return torch.tensor(-math.inf, device=expression.device, dtype=expression.dtype)
    if q >= 1.0:
        return torch.tensor(math.inf, device=expression.device, dtype=expression.dtype)
    k = min(n, max(1, math.floor(q * n) + 1))
    return values.kthvalue(k).values


class HysteresisPolicy(Policy):
    r"""Switch genes off below $Q_p(s)$ and on above $Q_p(s + b(1 - s))$, per layer (module docstring).

    Args:
        final: target sparsity of the schedule $s(t)$.
        band: $b$, the width of the hysteresis band as a fraction of the active share $1 - s$ (0: no
            hysteresis).
        start, end: epochs between which $s(t)$ rises from `initial` to `final`.
        max_regrow_fraction: at most this fraction of a layer's active connections switched on per update.
    """

    uses_expression = True

    def __init__(
        self,
        final: float,
        band: float = 0.1,
        initial: float = 0.0,
        start: float = 0.0,
        end: float = 1.0,
        max_regrow_fraction: float = 0.1,
    ):
        if not 0.0 <= band <= 1.0:
            raise ValueError(f"hysteresis_band: {band} must lie in [0, 1]")
        self.final, self.band, self.initial = float(final), float(band), float(initial)
        self.start, self.end = float(start), float(end)
        self.max_regrow_fraction = float(max_regrow_fraction)
        self.tau: Tensor | None = None

    def sparsity(self, epoch: float) -> float:
        return cubic_sparsity(epoch, self.initial, self.final, self.start, self.end)

    def decide(self, view: PolicyView) -> Decision:
        s = self.sparsity(view.epochs_done)
        active, p = view.active, view.expression
        prune, grow = torch.zeros_like(active), torch.zeros_like(active)
        lows = []
        for sl in view.slices:
            low = expression_quantile(p[sl], view.allow[sl], s)
            high = expression_quantile(p[sl], view.allow[sl], s + self.band * (1.0 - s))
            torch.logical_and(active[sl], p[sl] < low, out=prune[sl])
            torch.logical_and(~active[sl] & view.allow[sl], p[sl] > high, out=grow[sl])
            lows.append(low)
        n_grow, n_active = segment_counts(grow, active, slices=list(view.slices))  # one host read
        for sl, n, kept in zip(view.slices, n_grow, n_active):
            budget = math.floor(self.max_regrow_fraction * kept)
            if n > budget:  # keep the `budget` highest-expressed candidates: the lowest of -p
                grow[sl] = lowest_active(-p[sl], grow[sl].clone(), budget)
        self.tau = torch.stack(lows)
        return Decision(prune, grow, self.tau)

    def state_dict(self) -> dict:
        return {"tau": self.tau}

    def load_state_dict(self, state: dict) -> None:
        self.tau = state["tau"]
