r"""Threshold rules for $\tau$.

A policy sees the scores $S$ of one *scope* (a layer, or every gene of the model) and decides
which active connections to prune. Pruning is an event: an active gene whose score is below
$\tau$ is masked off; genes come back only through rewiring (Eq. 3).

- `PaperThreshold`: the seed paper's rule, with its ambiguities resolved (docs/choices.md).
- `ScheduledThreshold`: $\tau$ is the quantile that follows the cubic schedule of Zhu & Gupta
  (2017) to a target sparsity.

Decisions that need counts (how many to prune) read them back from the device once per update.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from biogrn.core import segment_counts, segment_sums
from biogrn.policies._schedules import cubic_sparsity

__all__ = ["MEDIAN_RULES", "PaperThreshold", "ScheduledThreshold", "lowest_active"]

MEDIAN_RULES = ("track", "cap", "always", "never")


def lowest_active(scores: Tensor, active: Tensor, n: int) -> Tensor:
    """Boolean mask of the `n` active entries with the lowest scores (ties broken by index)."""
    chosen = torch.zeros_like(active)
    if n <= 0:
        return chosen
    keyed = torch.where(active, scores, torch.full_like(scores, math.inf))
    chosen[torch.topk(keyed, n, largest=False, sorted=False).indices] = True
    return chosen


class PaperThreshold:
    r"""$\tau$ as the seed paper specifies it, one value per scope.

    1. At the first update, $\tau = \mu + k\sigma$ of the scope's scores ($k$ = `sigmas`, 0.5).
    2. At each later update, until frozen, the scores of the remaining (active) connections are
       recomputed and $\tau$ moves to their median when `median_rule` says so:
       `cap` (default): $\tau \leftarrow \min(\tau, \mathrm{median})$, so one update never prunes
       more than half of what remains, which after the first prune leaves $\tau$ where it is
       (every remaining score is above it); `track`: $\tau \leftarrow \rho\,\mathrm{median}$ with
       $\rho = \tau_1 / \mathrm{median}_1$ taken right after the first prune, so $\tau$ keeps its
       place relative to the remaining scores as they drift up or down (and prunes those that fall
       behind); `always`: $\tau \leftarrow \mathrm{median}$; `never`.
    3. Frozen once the validation metric is stable: each of the last `patience` epoch-to-epoch
       changes is at most `tol` in absolute value. A frozen $\tau$ still prunes.
    """

    def __init__(self, sigmas: float = 0.5, median_rule: str = "cap", patience: int = 3, tol: float = 0.005):
        if median_rule not in MEDIAN_RULES:
            raise ValueError(f"median_rule: {median_rule!r} is unknown; choose from {MEDIAN_RULES}")
        self.sigmas = float(sigmas)
        self.median_rule = median_rule
        self.patience = int(patience)
        self.tol = float(tol)
        self.tau: Tensor | None = None
        self.ratio: Tensor | None = None
        """`track`: $\\rho$ per scope, $\\tau$ over the median of the scores that survived the first prune."""
        self.frozen = False
        self.history: list[float] = []

    def observe(self, metric: float | None) -> None:
        """Record an epoch's validation metric; freeze $\\tau$ on a plateau."""
        if metric is None:
            return
        self.history.append(float(metric))
        recent = self.history[-(self.patience + 1) :]
        if len(recent) == self.patience + 1 and all(abs(b - a) <= self.tol for a, b in zip(recent[:-1], recent[1:])):
            self.frozen = True

    def select(
        self,
        scores: Tensor,
        active: Tensor,
        scopes: list[slice],
        regrow: list[int],
        progress: float,
        n_active: list[int] | None = None,
    ) -> tuple[Tensor, Tensor]:
        """Return `(prune, tau)`: a boolean mask over genes and $\\tau$ per scope.

        `n_active`: the active genes of each scope when the caller has them counted.
        """
        first = self.tau is None
        if first:
            self.tau = torch.stack([scores[s].mean() + self.sigmas * scores[s].std(unbiased=False) for s in scopes])
        elif not self.frozen and self.median_rule == "always":
            self.tau = torch.stack([_active_median(scores[s], active[s]) for s in scopes])
        elif not self.frozen and self.median_rule == "track" and self.ratio is not None:
            self.tau = self.ratio * torch.stack([_active_median(scores[s], active[s]) for s in scopes])
        prune = torch.zeros_like(active)
        for i, s in enumerate(scopes):
            torch.lt(scores[s], self.tau[i], out=prune[s]).logical_and_(active[s])
        if first and self.median_rule == "track":
            survivors = active & ~prune
            medians = torch.stack([_active_median(scores[s], survivors[s]) for s in scopes])
            # a scope pruned empty has an infinite median: its ratio is 0 and tau stops there
            self.ratio = torch.where(torch.isfinite(medians) & (medians > 0), self.tau / medians, 0.0)
        if not first and not self.frozen and self.median_rule == "cap":
            self._cap_at_median(scores, active, scopes, prune, n_active)
        return prune, self.tau

    def _cap_at_median(
        self, scores: Tensor, active: Tensor, scopes: list[slice], prune: Tensor, n_active: list[int] | None
    ) -> None:
        """$\\tau \\leftarrow \\min(\\tau, \\mathrm{median})$, updating `prune` in place where it moves.

        The median (a costly selection) is computed only where $\\tau$ exceeds it: torch's median
        is the lower median $s_{\\lceil n/2 \\rceil}$, so $\\tau > \\mathrm{median}$ exactly when at
        least $\\lceil n/2 \\rceil$ of the $n$ remaining scores lie below $\\tau$, i.e. $2\\,\\#below \\ge n$.
        """
        below = segment_sums(prune, scopes)
        remaining = segment_sums(active, scopes) if n_active is None else below.new_tensor(n_active)
        over = (2 * below >= remaining).tolist()  # one host read per update
        taus = list(self.tau)
        for i, s in enumerate(scopes):
            if over[i]:
                taus[i] = torch.minimum(taus[i], _active_median(scores[s], active[s]))
                torch.lt(scores[s], taus[i], out=prune[s]).logical_and_(active[s])
        self.tau = torch.stack(taus)

    def state_dict(self) -> dict:
        return {"tau": self.tau, "ratio": self.ratio, "frozen": self.frozen, "history": list(self.history)}

    def load_state_dict(self, state: dict) -> None:
        self.tau = state["tau"]
        self.ratio = state.get("ratio")  # absent from checkpoints written before `track`
        self.frozen = bool(state["frozen"])
        self.history = list(state["history"])


def _active_median(scores: Tensor, active: Tensor) -> Tensor:
    remaining = scores[active]
    return remaining.median() if remaining.numel() else torch.tensor(math.inf, device=scores.device, dtype=scores.dtype)


class ScheduledThreshold:
    r"""$\tau$ follows a sparsity schedule: each scope holds exactly $\mathrm{round}(s\,N)$ pruned
    (at most $N - 1$: a layer pruned whole would cut the network).

    At an update with schedule value $s$ and $k$ connections about to be regrown, the lowest-score
    active connections are pruned until $\mathrm{round}(sN) + k$ are pruned, so that after
    rewiring exactly $\mathrm{round}(sN)$ remain pruned. $\tau$ is reported as the
    $\mathrm{round}(sN)$-th smallest score of the scope (its $s$-quantile).
    """

    def __init__(self, final: float, initial: float = 0.0, start: float = 0.0, end: float = 1.0):
        self.final, self.initial, self.start, self.end = float(final), float(initial), float(start), float(end)
        self.frozen = False
        self.tau: Tensor | None = None

    def sparsity(self, epoch: float) -> float:
        return cubic_sparsity(epoch, self.initial, self.final, self.start, self.end)

    def observe(self, metric: float | None) -> None:
        return None

    def select(
        self,
        scores: Tensor,
        active: Tensor,
        scopes: list[slice],
        regrow: list[int],
        progress: float,
        n_active: list[int] | None = None,
    ) -> tuple[Tensor, Tensor]:
        """Return `(prune, tau)`, as `PaperThreshold.select`."""
        s = self.sparsity(progress)
        prune = torch.zeros_like(active)
        taus = []
        if n_active is None:
            n_active = segment_counts(active, slices=scopes)  # one host sync
        for sl, k, kept in zip(scopes, regrow, n_active):
            n = sl.stop - sl.start
            target = min(round(s * n), n - 1)  # a layer keeps one connection: pruned whole, it cuts the network
            n_drop = min(max(0, target - (n - kept) + k), kept)
            prune[sl] = lowest_active(scores[sl], active[sl], n_drop)
            taus.append(scores[sl].kthvalue(max(1, target)).values)
        self.tau = torch.stack(taus)
        return prune, self.tau

    def state_dict(self) -> dict:
        return {"tau": self.tau}

    def load_state_dict(self, state: dict) -> None:
        self.tau = state["tau"]
