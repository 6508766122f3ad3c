r"""Rewiring (Eq. 3): which pruned connections come back.

Among the candidates $C$ (pruned before this update, inside the structural allow-mask),

$$P_c = \frac{\exp(-\Delta_c/\sigma_r)}{\sum_{c' \in C} \exp(-\Delta_{c'}/\sigma_r)},$$

with $\Delta_c$ the importance deficit to $\tau$, $\max(\tau - S_c, 0)$ (default), or the seed
listing's $|S_c - \bar S|$ over the layer. $k$ candidates are drawn without replacement in
proportion to $P$: the first $k$ picks of Plackett-Luce sampling, each pick drawn from $P$
restricted to the candidates not yet picked. Two exact ways to draw them, with the same law:

- `gumbel_topk`, the Gumbel top-$k$ trick (Vieira 2014; Kool et al. 2019): add independent
  Gumbel noise to $\log P$ and keep the $k$ largest; one random number per entry.
- `draw_without_replacement` (what the policies call): successive sampling, draws with
  replacement from $P$ by the inverse of its cumulative sum, each entry kept the first time it
  comes up; about $2k$ random numbers, however many entries. It hands over to `gumbel_topk` when
  $k$ is a large share of the candidates or $P$ is so peaked that the draws keep repeating.

Everything stays on the device; the host reads only counts (the candidates, the entries kept).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from biogrn.core import Scratch

__all__ = [
    "deficit",
    "draw_without_replacement",
    "gumbel_topk",
    "mean_distance",
    "rewiring_logits",
    "rewiring_probabilities",
]


def deficit(scores: Tensor, tau: Tensor | float, out: Tensor | None = None) -> Tensor:
    r"""$\Delta_c = \max(\tau - S_c, 0)$: how far a candidate's score is below the threshold."""
    return torch.sub(tau, scores, out=out).clamp_min_(0.0)


def mean_distance(scores: Tensor) -> Tensor:
    r"""$\Delta_c = |S_c - \bar S|$ with $\bar S$ the mean over all of the layer's scores (the listing)."""
    return (scores - scores.mean()).abs()


def rewiring_logits(delta: Tensor, candidates: Tensor, sigma: float, out: Tensor | None = None) -> Tensor:
    r"""$\log$ of the unnormalised Eq. 3, $-\Delta/\sigma_r$; $-\infty$ outside the candidates.

    `out` may be `delta` (in place).
    """
    if sigma <= 0:
        raise ValueError(f"sigma: {sigma} must be > 0")
    return torch.where(candidates, delta, delta.new_tensor(math.inf), out=out).div_(-sigma)


def rewiring_probabilities(delta: Tensor, candidates: Tensor, sigma: float) -> Tensor:
    """Eq. 3, normalised over the candidates (zero elsewhere; all zero when there are none)."""
    logits = rewiring_logits(delta, candidates, sigma)
    if not bool(candidates.any()):
        return torch.zeros_like(delta)
    return torch.softmax(logits, dim=0)


def gumbel_topk(logits: Tensor, k: int, generator: torch.Generator | None = None) -> Tensor:
    """Indices of `k` entries drawn without replacement with probabilities `softmax(logits)`.

    Entries with logit $-\\infty$ are never drawn; `k` must not exceed the number of finite
    logits.

    Raises:
        ValueError: `k` is negative or larger than the number of drawable entries.
    """
    if k < 0:
        raise ValueError(f"k: {k} must be >= 0")
    if k == 0:
        return torch.empty(0, dtype=torch.long, device=logits.device)
    uniform = torch.rand(logits.shape, generator=generator, device=logits.device, dtype=logits.dtype)
    tiny = torch.finfo(logits.dtype).tiny
    # in place on one buffer: -log(-log u) + logits
    keys = uniform.clamp_(tiny, 1.0 - torch.finfo(logits.dtype).eps).log_().neg_().log_().neg_().add_(logits)
    top_values, top_indices = _largest(keys, k)
    if not bool(torch.isfinite(top_values).all()):
        raise ValueError(f"k: {k} exceeds the number of candidates ({int(torch.isfinite(logits).sum())})")
    return top_indices


def _largest(keys: Tensor, k: int) -> tuple[Tensor, Tensor]:
    """`torch.topk(keys, k, sorted=False)` for a flat `keys`, exactly, faster where `k` is small.

    A strided sample of the keys sets a cutoff that about `8k` keys pass; the `k` largest of the
    survivors are the `k` largest of all whenever at least `k` survive (every key left out lies
    below the cutoff, every survivor on or above it). With fewer survivors, the full `topk`.
    """
    n = keys.numel()
    if 64 * k >= n:
        top = torch.topk(keys, k, sorted=False)
        return top.values, top.indices
    stride = max(1, n // (64 * k))
    sample = keys[::stride]
    rank = min(sample.numel(), max(1, (8 * k * sample.numel()) // n))
    cutoff = torch.topk(sample, rank, sorted=False).values.min()
    survivors = (keys >= cutoff).nonzero().squeeze(1)
    if survivors.numel() < k:
        top = torch.topk(keys, k, sorted=False)
        return top.values, top.indices
    top = torch.topk(keys[survivors], k, sorted=False)
    return top.values, survivors[top.indices]


_EXCLUDED = 80.0
"""How far under the largest logit `draw_without_replacement` weighs an excluded (-inf) entry:
exp(-80) is still a normal float32."""


def draw_without_replacement(
    logits: Tensor, k: int, generator: torch.Generator | None = None, rounds: int = 3, scratch: Scratch | None = None
) -> Tensor:
    r"""Indices of `k` entries drawn without replacement with probabilities `softmax(logits)`.

    The same law as `gumbel_topk`, drawn by successive sampling. With weights
    $w = \exp(\ell - \max \ell)$ and their cumulative sum $W$, a draw is the first entry whose
    $W_i$ exceeds $u\,W_n$, $u \sim U[0, 1)$; an entry drawn again is passed over. Given the set
    $K$ kept so far, the next new entry has probability $w_i / \sum_{j \notin K} w_j$: the step of
    Plackett-Luce sampling, whose first $k$ picks are the $k$ largest Gumbel keys (Yellott 1977).
    A round draws $2k' + 8$ times for the $k'$ still missing; after it the kept entries' weights
    are zeroed and $W$ recomputed. An entry with logit $-\infty$ carries a tiny weight and a draw
    that lands on it is discarded, which conditions the draw on the drawable entries (rejection):
    it is never returned.

    When $\sum w < 8k$ (a few entries hold the mass, so the draws would mostly repeat them), or
    when `rounds` rounds leave entries missing, the rest come from `gumbel_topk` over the entries
    not yet kept. That continues the same law: the picks depend on the past only through the kept
    set. About $2k$ random numbers are drawn instead of one per entry.

    `k` must not exceed the number of finite logits. With float32 logits, an entry more than about
    87 under the largest has a weight that underflows: its chance, below $10^{-38}$ of the largest
    entry's, is lost to the successive draws (the Gumbel hand-over still ranks it). Host reads:
    two, then two per round (the drawable draws, the new entries). `scratch` holds the weights and
    their cumulative sum.

    Raises:
        ValueError: `k` is negative or larger than the number of drawable entries.
    """
    if k < 0:
        raise ValueError(f"k: {k} must be >= 0")
    kept = [torch.empty(0, dtype=torch.long, device=logits.device)]
    if k == 0:
        return kept[0]
    top = float(logits.max())
    if not math.isfinite(top):  # nothing to draw (gumbel_topk says so), or a NaN logit
        return gumbel_topk(logits, k, generator)
    # Weights in the logits' dtype, their cumulative sum in float64: a sum over a million weights
    # must still resolve the smallest of them. Excluded entries get a tiny normal weight (exp of
    # -inf, or an underflow, takes a slow path on CPUs) and draws of them are discarded.
    scratch = scratch if scratch is not None else Scratch(hold=False)
    n = logits.numel()
    weights = scratch("draw_weights", n, logits.dtype, logits.device)
    torch.nan_to_num(logits, neginf=top - _EXCLUDED, out=weights).sub_(top).exp_()
    cumulative = scratch("draw_cumulative", n, torch.float64, logits.device)
    torch.cumsum(cumulative.copy_(weights), 0, out=cumulative)  # in place: no float64 temporary
    if float(cumulative[-1]) < 8 * k:
        return gumbel_topk(logits, k, generator)
    missing = k
    for round_ in range(rounds):
        if round_:
            torch.cumsum(cumulative.copy_(weights), 0, out=cumulative)
        total = cumulative[-1]
        # a draw that rounds onto the total lands on the last entry with weight, not past the end
        last = torch.searchsorted(cumulative, total)
        draws = torch.rand(2 * missing + 8, generator=generator, device=logits.device, dtype=torch.float64)
        drawn = torch.minimum(torch.searchsorted(cumulative, draws.mul_(total), right=True), last)
        new = _first_occurrences(drawn[torch.isfinite(logits[drawn])])[:missing]
        kept.append(new)
        missing -= new.numel()
        if missing == 0:
            return torch.cat(kept)
        weights.index_fill_(0, new, 0.0)
    rest = logits.index_fill(0, torch.cat(kept), -math.inf)
    return torch.cat([*kept, gumbel_topk(rest, missing, generator)])


def _first_occurrences(index: Tensor) -> Tensor:
    """The distinct values of `index` in the order they first occur."""
    distinct, inverse = torch.unique(index, return_inverse=True)
    position = torch.arange(index.numel(), device=index.device)
    first = torch.full_like(distinct, index.numel()).scatter_reduce_(0, inverse, position, "amin")
    return distinct[first.argsort()]
