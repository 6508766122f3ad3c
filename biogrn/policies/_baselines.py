r"""The baselines as policies, so that they share one code path with gene regulation.

| policy | prune | grow | reference |
|---|---|---|---|
| `magnitude` | lowest $|w|$ to the cubic schedule $s(t)$ | none | Zhu & Gupta 2017 |
| `set` | fraction $\zeta$ of active, lowest $|w|$ | as many, uniformly at random | Mocanu et al. 2018 |
| `rigl` | fraction $f(t)$ of active, lowest $|w|$ | as many, largest dense $|g|$ | Evci et al. 2020 |
| `listing` | the seed paper's listing, vectorised | score back over $\tau$, and Eq. 3 with $|S-\bar S|$ | seed paper |

`set` and `rigl` start sparse: at attachment each layer keeps a uniformly random
$1 - s_{\text{target}}$ of its allowed connections, and updates keep the count.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from biogrn.core import segment_counts
from biogrn.policies._base import Decision, Policy, PolicyView
from biogrn.policies._rewiring import draw_without_replacement, mean_distance, rewiring_logits
from biogrn.policies._schedules import drop_fraction
from biogrn.policies._thresholds import ScheduledThreshold, lowest_active

__all__ = ["ListingPolicy", "MagnitudePolicy", "MovementPolicy", "RigLPolicy", "SETPolicy"]


class MagnitudePolicy(Policy):
    """Gradual magnitude pruning (Zhu & Gupta 2017): lowest $|w|$ to the cubic schedule, no growth.

    Args:
        threshold: the schedule to the target sparsity.
        scope: `layer` or `global`.
    """

    def __init__(self, threshold: ScheduledThreshold, scope: str = "layer"):
        self.threshold, self.scope = threshold, scope

    def decide(self, view: PolicyView) -> Decision:
        active = view.active
        slices = list(view.slices)
        scopes = slices if self.scope == "layer" else [slice(0, view.n_genes)]
        prune, tau = self.threshold.select(view.magnitude, active, scopes, [0] * len(scopes), view.epochs_done)
        return Decision(prune, torch.zeros_like(active), tau if len(scopes) == len(slices) else tau.expand(len(slices)))

    def state_dict(self) -> dict:
        return {"threshold": self.threshold.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.threshold.load_state_dict(state["threshold"])


class MovementPolicy(Policy):
    r"""Hard movement pruning (Sanh, Wolf & Rush 2020): each layer keeps the top $(1 - s)$ of its
    connections by the accumulated score $S = -\sum_t (\partial L/\partial W')_t \odot W_t$, $s$
    the cubic schedule to the target sparsity.

    $W' = W \odot M$ is the masked weight and $W$ the stored one: pruned weights are kept, not
    zeroed (`zeroes_pruned = False`), take no gradient (it reaches them through the mask), and keep
    accumulating score, so the mask is recomputed from scratch at every update and a pruned weight
    returns when its score climbs back into the top $(1 - s)$, as under the paper's straight-through
    top-k. $S$ is the paper's score under gradient descent on the scores (its section 4); the
    released code instead trains $S$ as a parameter with its own optimizer, which this policy does not
    reproduce. The mask moves at each update (`update_every` steps, or once per epoch), the paper's at
    every step.

    Args:
        threshold: the schedule to the target sparsity.
    """

    needs_movement, zeroes_pruned = True, False

    def __init__(self, threshold: ScheduledThreshold):
        self.threshold = threshold

    def decide(self, view: PolicyView) -> Decision:
        if view.movement is None:
            raise ValueError("MovementPolicy: the view carries no movement score (the regulator tracks it)")
        s = self.threshold.sparsity(view.epochs_done)
        keep = torch.zeros_like(view.active)
        taus = []
        for sl in view.slices:  # one top-k per layer: each has its own size
            allowed = view.allow[sl]
            k = min(max(1, round((1.0 - s) * (sl.stop - sl.start))), int(allowed.sum()))  # never a whole layer
            ranked = torch.where(allowed, view.movement[sl], -math.inf)
            top = torch.topk(ranked, k)
            keep[sl][top.indices] = True
            taus.append(top.values[-1] if k > 0 else ranked.new_tensor(math.inf))
        active = view.active
        return Decision(active & ~keep, keep & ~active, torch.stack(taus))

    def state_dict(self) -> dict:
        return {"threshold": self.threshold.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.threshold.load_state_dict(state["threshold"])


class _DropGrow(Policy):
    """Sparse-to-sparse training: a random sparse start, then drop by magnitude and grow as many.

    Args:
        target_sparsity: the sparsity of the random start, kept by every update.
        drop_fraction, drop_schedule: the fraction $\\zeta$ of active connections an update
            replaces, and its schedule (`cosine` or `constant`).
        start_epoch, end_epoch: updates replace connections from `start_epoch` to `end_epoch`.
    """

    def __init__(
        self,
        target_sparsity: float,
        drop_fraction: float = 0.3,
        drop_schedule: str = "cosine",
        start_epoch: float = 0.0,
        end_epoch: float = 1.0,
    ):
        self.target_sparsity, self.drop_fraction, self.drop_schedule = target_sparsity, drop_fraction, drop_schedule
        self.start_epoch, self.end_epoch = float(start_epoch), float(end_epoch)

    def initial_prune(self, view: PolicyView) -> Tensor:
        """Each layer keeps $\\mathrm{round}((1 - s) N)$ of its allowed connections, uniformly at random."""
        prune = torch.zeros(view.n_genes, dtype=torch.bool, device=view.device)
        allowed = segment_counts(view.allow, slices=list(view.slices))
        for sl, n_allowed in zip(view.slices, allowed):
            n_prune = max(0, n_allowed - max(1, round((1 - self.target_sparsity) * (sl.stop - sl.start))))
            uniform = torch.where(view.allow[sl], 0.0, -math.inf)
            prune[sl][draw_without_replacement(uniform, n_prune, view.generator)] = True
        return prune

    def eligible(self, active: Tensor, pruned: Tensor, allow: Tensor) -> Tensor:
        """Which connections of a layer may grow, given its active set and this update's drops."""
        raise NotImplementedError

    def choose(self, view: PolicyView, sl: slice, eligible: Tensor, k: int) -> Tensor:
        """Indices (within the layer) of the `k` eligible connections to grow."""
        raise NotImplementedError

    def decide(self, view: PolicyView) -> Decision:
        fraction = drop_fraction(
            view.epochs_done - self.start_epoch,
            self.drop_fraction,
            self.end_epoch - self.start_epoch,
            self.drop_schedule,
        )
        active = view.active
        prune, grow = torch.zeros_like(active), torch.zeros_like(active)
        n_active = segment_counts(active, slices=list(view.slices))
        for sl, n in zip(view.slices, n_active):
            k = math.floor(fraction * n)
            if k == 0:
                continue
            prune[sl] = lowest_active(view.magnitude[sl], active[sl], k)
            eligible = self.eligible(active[sl], prune[sl], view.allow[sl])
            grow[sl][self.choose(view, sl, eligible, min(k, int(eligible.sum())))] = True
        return Decision(prune, grow, None)


class SETPolicy(_DropGrow):
    """SET (Mocanu et al. 2018): grow uniformly at random among connections inactive before the drop."""

    def eligible(self, active: Tensor, pruned: Tensor, allow: Tensor) -> Tensor:
        return ~active & allow

    def choose(self, view: PolicyView, sl: slice, eligible: Tensor, k: int) -> Tensor:
        return draw_without_replacement(torch.where(eligible, 0.0, -math.inf), k, view.generator)


class RigLPolicy(_DropGrow):
    """RigL (Evci et al. 2020): grow the largest dense-gradient magnitudes of the last batch.

    As in the reference implementation, every connection inactive after the drop is eligible,
    the just-dropped ones included (a dropped-and-regrown weight restarts at zero). Growth is
    deterministic: the $k$ largest $|g|$, ties broken by index.
    """

    needs_last_gradient = True

    def eligible(self, active: Tensor, pruned: Tensor, allow: Tensor) -> Tensor:
        return (~active | pruned) & allow

    def choose(self, view: PolicyView, sl: slice, eligible: Tensor, k: int) -> Tensor:
        return lowest_active(-view.last_gradient[sl], eligible, k).nonzero().squeeze(1)


class ListingPolicy(Policy):
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

    needs_last_gradient, zeroes_pruned = True, False

    def __init__(
        self,
        alpha: float = 0.5,
        beta: float = 0.2,
        epochs: int = 20,
        tau_sigmas: float = 0.5,
        median_rule: str = "cap",
        max_regrow: int = 100,
        rewire: bool = True,
    ):
        if median_rule not in ("cap", "always", "never"):
            raise ValueError(f"median_rule: {median_rule!r} is unknown; choose 'cap', 'always' or 'never'")
        self.alpha, self.beta, self.epochs, self.tau_sigmas = float(alpha), float(beta), int(epochs), float(tau_sigmas)
        self.median_rule, self.max_regrow, self.rewire = median_rule, int(max_regrow), bool(rewire)
        self.candidates: Tensor | None = None

    def scores(self, view: PolicyView) -> Tensor:
        # |grad w| of the stored weight: the dense gradient where the connection is active, 0 elsewhere
        gradient = view.last_gradient * view.mask
        return view.magnitude + self.alpha * gradient + self.beta * (view.epoch - 1) / self.epochs

    def decide(self, view: PolicyView) -> Decision:
        scores = self.scores(view)
        active = view.active
        if self.candidates is None:
            self.candidates = torch.zeros_like(active)
        slices = list(view.slices)
        taus = torch.stack([scores[s].mean() + self.tau_sigmas * scores[s].std() for s in slices])
        if self.median_rule != "never":
            medians = torch.stack(
                [scores[s][active[s]].median() if bool(active[s].any()) else taus[i] for i, s in enumerate(slices)]
            )
            taus = torch.minimum(taus, medians) if self.median_rule == "cap" else medians
        keep = torch.cat([scores[s] >= taus[i] for i, s in enumerate(slices)]) & view.allow
        self.candidates |= active & ~keep
        drawn = torch.zeros_like(active)
        n_candidates = segment_counts(self.candidates, slices=slices)
        for sl, n in zip(slices, n_candidates):
            k = min(self.max_regrow, n) if self.rewire else 0
            if k:
                logits = rewiring_logits(mean_distance(scores[sl]), self.candidates[sl], view.sigma)
                drawn[sl][draw_without_replacement(logits, k, view.generator)] = True
        self.candidates &= ~drawn
        new_mask = keep | drawn
        return Decision(active & ~new_mask, ~active & new_mask, taus)

    def state_dict(self) -> dict:
        return {"candidates": self.candidates}

    def load_state_dict(self, state: dict) -> None:
        self.candidates = state["candidates"]
