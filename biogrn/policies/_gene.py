r"""Gene regulation as a policy: the Eq. 2 score against a threshold, then Eq. 3 rewiring."""

from __future__ import annotations

import math
from functools import partial

import torch
from torch import Tensor

from biogrn.core import segment_counts
from biogrn.policies._base import Decision, Policy, PolicyView
from biogrn.policies._importance import importance
from biogrn.policies._rewiring import deficit, draw_weighted, mean_distance, rewiring_logits, rewiring_weights
from biogrn.policies._thresholds import PaperThreshold, ScheduledThreshold

__all__ = ["GenePolicy"]


class GenePolicy(Policy):
    r"""Prune active genes whose Eq. 2 score falls under $\tau$; regrow candidates drawn by Eq. 3.

    Args:
        threshold: the rule for $\tau$ (`PaperThreshold` for `paper`, `ScheduledThreshold` for
            `target`).
        alpha, beta, normalization: the weights and the per-layer normalisation of Eq. 2.
        scope: `layer` ($\tau$ per regulated tensor) or `global` (one $\tau$ over every gene).
        rewire: draw regrowths at all.
        max_regrow, max_regrow_fraction: at most this many, and at most this fraction of a layer's
            active connections, regrown per layer and update.
        delta: $\Delta$ of Eq. 3, `deficit` ($\max(\tau - S, 0)$) or `mean_distance` ($|S - \bar S|$).
    """

    uses_expression = True

    def __init__(
        self,
        threshold: PaperThreshold | ScheduledThreshold,
        alpha: float = 0.5,
        beta: float = 0.2,
        normalization: str = "mean",
        scope: str = "layer",
        rewire: bool = True,
        max_regrow: int = 100,
        max_regrow_fraction: float = 0.1,
        delta: str = "deficit",
    ):
        if scope not in ("layer", "global"):
            raise ValueError(f"scope: {scope!r} is unknown; choose 'layer' or 'global'")
        if delta not in ("deficit", "mean_distance"):
            raise ValueError(f"delta: {delta!r} is unknown; choose 'deficit' or 'mean_distance'")
        self.threshold = threshold
        self.alpha, self.beta, self.normalization = float(alpha), float(beta), normalization
        self.scope, self.rewire, self.delta = scope, bool(rewire), delta
        self.max_regrow, self.max_regrow_fraction = int(max_regrow), float(max_regrow_fraction)

    @property
    def frozen(self) -> bool:
        return bool(self.threshold.frozen)

    def observe(self, metric: float | None) -> None:
        self.threshold.observe(metric)

    def scores(self, view: PolicyView) -> Tensor:
        """Eq. 2 for every gene, flat."""
        out = view.scratch("scores", view.n_genes, view.expression.dtype, view.device)
        return importance(
            view.magnitude,
            view.expression,
            list(view.slices),
            self.alpha,
            self.beta,
            view.time,
            self.normalization,
            out,
        )

    def decide(self, view: PolicyView) -> Decision:
        scores = self.scores(view)
        active = view.scratch("active", view.n_genes, torch.bool, view.device).copy_(view.mask)  # = view.active
        candidates = torch.logical_not(active, out=view.scratch("candidates", view.n_genes, torch.bool, view.device))
        candidates &= view.allow
        slices = list(view.slices)
        n_active, n_candidates = self._counts(view, candidates, active)
        regrow = [
            min(self.max_regrow, c, math.floor(self.max_regrow_fraction * a)) if self.rewire else 0
            for c, a in zip(n_candidates, n_active)
        ]
        if self.scope == "layer":
            scopes, scope_regrow, scope_active = slices, regrow, n_active
        else:
            scopes, scope_regrow, scope_active = [slice(0, view.n_genes)], [sum(regrow)], [sum(n_active)]
        prune, tau = self.threshold.select(scores, active, scopes, scope_regrow, view.epochs_done, scope_active)
        layer_tau = tau if self.scope == "layer" else tau.expand(len(slices))
        grow = torch.zeros_like(active)
        if not any(regrow):
            return Decision(prune, grow, layer_tau)
        excluded = self._excluded(view, candidates, n_candidates, n_active)
        for i, sl in enumerate(slices):
            if regrow[i] == 0:
                continue
            buffer = view.scratch("delta", sl.stop - sl.start, scores.dtype, view.device)
            delta = self._delta(scores[sl], layer_tau[i], buffer)
            weights = rewiring_weights(delta, excluded[sl], view.sigma, out=buffer)
            # the Gumbel hand-over (rare) ranks on the exact logits, recomputed: the buffer holds weights now
            exact = partial(self._logits, scores[sl], layer_tau[i], candidates[sl], view.sigma)
            grow[sl][draw_weighted(weights, regrow[i], view.generator, logits=exact, scratch=view.scratch)] = True
        return Decision(prune, grow, layer_tau)

    def _delta(self, scores: Tensor, tau: Tensor, out: Tensor | None = None) -> Tensor:
        return deficit(scores, tau, out=out) if self.delta == "deficit" else mean_distance(scores, out=out)

    def _logits(self, scores: Tensor, tau: Tensor, candidates: Tensor, sigma: float) -> Tensor:
        return rewiring_logits(self._delta(scores, tau), candidates, sigma)

    @staticmethod
    def _counts(view: PolicyView, candidates: Tensor, active: Tensor) -> tuple[list[int], list[int]]:
        """Active genes and candidates of each tensor, one host read (the active ones from the regulator's counts)."""
        if view.n_active is not None:
            return list(view.n_active), segment_counts(candidates, slices=list(view.slices))
        n_candidates, n_active = segment_counts(candidates, active, slices=list(view.slices))
        return n_active, n_candidates

    @staticmethod
    def _excluded(view: PolicyView, candidates: Tensor, n_candidates: list[int], n_active: list[int]) -> Tensor:
        """1 outside the candidates, 0 on them, in the mask's dtype.

        The mask itself when every inactive gene is a candidate (all of them allowed)."""
        sizes = [sl.stop - sl.start for sl in view.slices]
        if all(c + a == n for c, a, n in zip(n_candidates, n_active, sizes)):
            return view.mask
        excluded = view.scratch("excluded", view.n_genes, view.mask.dtype, view.device)
        return excluded.copy_(candidates).neg_().add_(1.0)

    def state_dict(self) -> dict:
        return {"threshold": self.threshold.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.threshold.load_state_dict(state["threshold"])
