r"""Mask policies: what one prune/rewire update of a `Regulator` decides.

A policy looks at the regulator (weights, gradients, expression, masks) and returns a `Decision`:
which active genes to prune, which inactive ones to grow, and the threshold per layer if it has
one. The regulator applies it the same way for every policy (masks, zeroed weights, reset
optimizer moments, records), so the baselines share one code path with gene regulation.

| policy | prune | grow | reference |
|---|---|---|---|
| `paper`, `target` (gene) | Eq. 2 score under $\tau$ | Eq. 3 draws | this library (docs/equations.md) |
| `magnitude` | lowest $|w|$ to the cubic schedule $s(t)$ | none | Zhu & Gupta 2017 |
| `set` | fraction $\zeta$ of active, lowest $|w|$ | as many, uniformly at random | Mocanu et al. 2018 |
| `rigl` | fraction $f(t)$ of active, lowest $|w|$ | as many, largest dense $|g|$ | Evci et al. 2020 |
| `listing` | the seed paper's listing, vectorised | score back over $\tau$, and Eq. 3 with $|S-\bar S|$ | seed paper |

`set` and `rigl` start sparse: at attachment each layer keeps a uniformly random
$1 - s_{\text{target}}$ of its allowed connections, and updates keep the count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from biogrn.rewiring import deficit, gumbel_topk, mean_distance, rewiring_logits
from biogrn.threshold import PaperThreshold, TargetThreshold, lowest_active

if TYPE_CHECKING:
    from biogrn.regulator import Regulator

__all__ = ["Decision", "GenePolicy", "ListingPolicy", "MagnitudePolicy", "RigLPolicy", "SETPolicy",
           "drop_fraction", "make_policy"]


@dataclass
class Decision:
    prune: Tensor
    """Boolean over genes: active genes to switch off."""
    grow: Tensor
    """Boolean over genes: inactive (or just pruned) genes to switch on."""
    tau: Tensor | None = None
    """Threshold per layer, or None for policies without one."""


def drop_fraction(epochs_done: float, fraction: float, end: float, schedule: str) -> float:
    r"""Fraction of active connections a drop/grow update replaces.

    `cosine` (RigL): $f(t) = \frac{\zeta}{2}\,(1 + \cos(\pi t / T_{\text{end}}))$;
    `constant` (SET): $f = \zeta$; both 0 from $T_{\text{end}}$ on.
    """
    if epochs_done >= end:
        return 0.0
    if schedule == "cosine":
        return fraction / 2 * (1 + math.cos(math.pi * epochs_done / end))
    if schedule == "constant":
        return fraction
    raise ValueError(f"drop_schedule: {schedule!r} is unknown; choose 'cosine' or 'constant'")


class GenePolicy:
    """Gene regulation: the Eq. 2 score against a threshold policy, then Eq. 3 rewiring."""

    uses_expression, needs_last_gradient, zeroes_pruned = True, False, True

    def __init__(self, config):
        self.config = config
        if config.policy == "paper":
            self.threshold = PaperThreshold(config.tau_sigmas, config.median_rule, config.patience,
                                            config.plateau_tol)
        else:
            self.threshold = TargetThreshold(config.target_sparsity, config.initial_sparsity,
                                             float(config.start_epoch), config.schedule_end)

    @property
    def frozen(self) -> bool:
        return bool(self.threshold.frozen)

    def observe(self, metric: float | None) -> None:
        self.threshold.observe(metric)

    def initial_prune(self, reg: Regulator) -> Tensor | None:
        return None

    def decide(self, reg: Regulator) -> Decision:
        cfg = self.config
        scores = reg.scores()
        active = reg.mask > 0
        candidates = ~active & reg.allow
        slices = reg.state.slices
        counts = torch.stack([torch.stack([candidates[s].sum(), active[s].sum()]) for s in slices]).tolist()
        regrow = [min(cfg.max_regrow, c, math.floor(cfg.max_regrow_fraction * a)) if cfg.rewire else 0
                  for c, a in counts]
        if cfg.scope == "layer":
            scopes, scope_regrow = slices, regrow
        else:
            scopes, scope_regrow = [slice(0, reg.state.n_genes)], [sum(regrow)]
        prune, tau = self.threshold.select(scores, active, scopes, scope_regrow, reg.epochs_done)
        layer_tau = tau if cfg.scope == "layer" else tau.expand(len(slices))
        grow = torch.zeros_like(active)
        sigma = reg.sigma
        for i, sl in enumerate(slices):
            if regrow[i] == 0:
                continue
            delta = deficit(scores[sl], layer_tau[i]) if cfg.delta == "deficit" else mean_distance(scores[sl])
            grow[sl][gumbel_topk(rewiring_logits(delta, candidates[sl], sigma), regrow[i], reg.generator)] = True
        return Decision(prune, grow, layer_tau)

    def state_dict(self) -> dict:
        return {"threshold": self.threshold.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.threshold.load_state_dict(state["threshold"])


class MagnitudePolicy:
    """Gradual magnitude pruning (Zhu & Gupta 2017): lowest $|w|$ to the cubic schedule, no growth."""

    uses_expression, needs_last_gradient, zeroes_pruned = False, False, True
    frozen = False

    def __init__(self, config):
        self.config = config
        self.threshold = TargetThreshold(config.target_sparsity, config.initial_sparsity,
                                         float(config.start_epoch), config.schedule_end)

    def observe(self, metric: float | None) -> None:
        return None

    def initial_prune(self, reg: Regulator) -> Tensor | None:
        return None

    def decide(self, reg: Regulator) -> Decision:
        magnitude = reg.magnitudes()
        active = reg.mask > 0
        slices = reg.state.slices
        scopes = slices if self.config.scope == "layer" else [slice(0, reg.state.n_genes)]
        prune, tau = self.threshold.select(magnitude, active, scopes, [0] * len(scopes), reg.epochs_done)
        return Decision(prune, torch.zeros_like(active), tau if len(scopes) == len(slices)
                        else tau.expand(len(slices)))

    def state_dict(self) -> dict:
        return {"threshold": self.threshold.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.threshold.load_state_dict(state["threshold"])


class _DropGrow:
    """Sparse-to-sparse training: a random sparse start, then drop by magnitude and grow as many."""

    uses_expression, zeroes_pruned = False, True
    frozen = False

    def __init__(self, config):
        self.config = config

    def observe(self, metric: float | None) -> None:
        return None

    def initial_prune(self, reg: Regulator) -> Tensor:
        """Each layer keeps $\\mathrm{round}((1 - s) N)$ of its allowed connections, uniformly at random."""
        prune = torch.zeros(reg.state.n_genes, dtype=torch.bool, device=reg.device)
        allowed = torch.stack([reg.allow[s].sum() for s in reg.state.slices]).tolist()
        for sl, n_allowed in zip(reg.state.slices, allowed):
            n_prune = max(0, n_allowed - round((1 - self.config.target_sparsity) * (sl.stop - sl.start)))
            uniform = torch.where(reg.allow[sl], 0.0, -math.inf)
            prune[sl][gumbel_topk(uniform, n_prune, reg.generator)] = True
        return prune

    def eligible(self, active: Tensor, pruned: Tensor, allow: Tensor) -> Tensor:
        """Which connections of a layer may grow, given its active set and this update's drops."""
        raise NotImplementedError

    def choose(self, reg: Regulator, sl: slice, eligible: Tensor, k: int) -> Tensor:
        """Indices (within the layer) of the `k` eligible connections to grow."""
        raise NotImplementedError

    def decide(self, reg: Regulator) -> Decision:
        cfg = self.config
        fraction = drop_fraction(reg.epochs_done - cfg.start_epoch, cfg.drop_fraction,
                                 cfg.schedule_end - cfg.start_epoch, cfg.drop_schedule)
        magnitude = reg.magnitudes()
        active = reg.mask > 0
        prune, grow = torch.zeros_like(active), torch.zeros_like(active)
        n_active = torch.stack([active[s].sum() for s in reg.state.slices]).tolist()
        for sl, n in zip(reg.state.slices, n_active):
            k = math.floor(fraction * n)
            if k == 0:
                continue
            prune[sl] = lowest_active(magnitude[sl], active[sl], k)
            eligible = self.eligible(active[sl], prune[sl], reg.allow[sl])
            grow[sl][self.choose(reg, sl, eligible, min(k, int(eligible.sum())))] = True
        return Decision(prune, grow, None)

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        return None


class SETPolicy(_DropGrow):
    """SET (Mocanu et al. 2018): grow uniformly at random among connections inactive before the drop."""

    needs_last_gradient = False

    def eligible(self, active: Tensor, pruned: Tensor, allow: Tensor) -> Tensor:
        return ~active & allow

    def choose(self, reg: Regulator, sl: slice, eligible: Tensor, k: int) -> Tensor:
        return gumbel_topk(torch.where(eligible, 0.0, -math.inf), k, reg.generator)


class RigLPolicy(_DropGrow):
    """RigL (Evci et al. 2020): grow the largest dense-gradient magnitudes of the last batch.

    As in the reference implementation, every connection inactive after the drop is eligible,
    the just-dropped ones included (a dropped-and-regrown weight restarts at zero). Growth is
    deterministic: the $k$ largest $|g|$, ties broken by index.
    """

    needs_last_gradient = True

    def eligible(self, active: Tensor, pruned: Tensor, allow: Tensor) -> Tensor:
        return (~active | pruned) & allow

    def choose(self, reg: Regulator, sl: slice, eligible: Tensor, k: int) -> Tensor:
        return lowest_active(-reg.last_gradient()[sl], eligible, k).nonzero().squeeze(1)


class ListingPolicy:
    r"""The seed paper's listing, vectorised: what its `dynamic_pruning` and `rewiring` do, per epoch.

    1. $S = |w| + \alpha\,|\nabla w| + \beta\,e/E$ with $\nabla w$ the last batch's gradient of the
       stored (masked) weight and $e$ the 0-based index of the epoch just trained; no normalisation.
    2. $\tau = \mu + k\sigma$ of the layer's scores (all of them; unbiased std, as `torch.std`),
       then the median rule (`median_rule`: `cap` $\tau \leftarrow \min(\tau, \mathrm{median}$ of
       the active scores$)$, `always`, or the listing's own `never`).
    3. The mask is recomputed from scratch, $M = [S \ge \tau]$: a pruned weight whose score is back
       over $\tau$ returns. Weights are not zeroed and optimizer state is not reset.
    4. Connections switched off join a candidate set; Eq. 3 with $\Delta = |S - \bar S|$ draws
       $\min(100, |C|)$ of them without replacement (candidates already back by score included, as
       in the listing), switches them on and removes them from the set.
    """

    uses_expression, needs_last_gradient, zeroes_pruned = False, True, False
    frozen = False

    def __init__(self, config):
        self.config = config
        self.candidates: Tensor | None = None

    def observe(self, metric: float | None) -> None:
        return None

    def initial_prune(self, reg: Regulator) -> Tensor | None:
        return None

    def scores(self, reg: Regulator) -> Tensor:
        cfg = self.config
        gradient = reg.last_gradient(masked=True)
        return reg.magnitudes() + cfg.alpha * gradient + cfg.beta * (reg.epoch - 1) / cfg.epochs

    def decide(self, reg: Regulator) -> Decision:
        cfg = self.config
        scores = self.scores(reg)
        active = reg.mask > 0
        if self.candidates is None:
            self.candidates = torch.zeros_like(active)
        slices = reg.state.slices
        taus = torch.stack([scores[s].mean() + cfg.tau_sigmas * scores[s].std() for s in slices])
        if cfg.median_rule != "never":
            medians = torch.stack([scores[s][active[s]].median() if bool(active[s].any()) else taus[i]
                                   for i, s in enumerate(slices)])
            taus = torch.minimum(taus, medians) if cfg.median_rule == "cap" else medians
        keep = torch.cat([scores[s] >= taus[i] for i, s in enumerate(slices)]) & reg.allow
        self.candidates |= active & ~keep
        drawn = torch.zeros_like(active)
        n_candidates = torch.stack([self.candidates[s].sum() for s in slices]).tolist()
        sigma = reg.sigma
        for sl, n in zip(slices, n_candidates):
            k = min(cfg.max_regrow, n) if cfg.rewire else 0
            if k:
                logits = rewiring_logits(mean_distance(scores[sl]), self.candidates[sl], sigma)
                drawn[sl][gumbel_topk(logits, k, reg.generator)] = True
        self.candidates &= ~drawn
        new_mask = keep | drawn
        return Decision(active & ~new_mask, ~active & new_mask, taus)

    def state_dict(self) -> dict:
        return {"candidates": self.candidates}

    def load_state_dict(self, state: dict) -> None:
        self.candidates = state["candidates"]


def make_policy(config):
    """The policy object a `RegulatorConfig.policy` names."""
    if config.policy in ("paper", "target"):
        return GenePolicy(config)
    policies = {"magnitude": MagnitudePolicy, "set": SETPolicy, "rigl": RigLPolicy, "listing": ListingPolicy}
    if config.policy not in policies:
        raise ValueError(f"policy: {config.policy!r} is unknown; choose from paper, target, {', '.join(policies)}")
    return policies[config.policy](config)
