r"""Rewiring (Eq. 3): which pruned connections come back.

Among the candidates $C$ (pruned before this update, inside the structural allow-mask),

$$P_c = \frac{\exp(-\Delta_c/\sigma_r)}{\sum_{c' \in C} \exp(-\Delta_{c'}/\sigma_r)},$$

with $\Delta_c$ the importance deficit to $\tau$, $\max(\tau - S_c, 0)$ (default), or the seed
listing's $|S_c - \bar S|$ over the layer. $k$ candidates are drawn without replacement in
proportion to $P$: the first $k$ picks of Plackett-Luce sampling, each pick drawn from $P$
restricted to the candidates not yet picked. Two exact ways to draw them, with the same law:

- `gumbel_topk`, the Gumbel top-$k$ trick (Vieira 2014; Kool et al. 2019): add independent
  Gumbel noise to $\log P$ and keep the $k$ largest; one random number per entry.
- `draw_weighted` (what the policies call, through `draw_without_replacement` for logits or
  `rewiring_weights` for Eq. 3 directly): successive sampling, draws with replacement from $P$ by
  the inverse of its cumulative sum, each entry kept the first time it comes up; about $2k$
  random numbers, however many entries. It hands over to `gumbel_topk` when $k$ is a large share
  of the candidates or $P$ is so peaked that the draws keep repeating.

Everything stays on the device; the host reads only counts (the candidates, the entries kept).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from biogrn.core import Scratch, sparse_nonzero

__all__ = [
    "deficit",
    "draw_weighted",
    "draw_without_replacement",
    "gumbel_topk",
    "mean_distance",
    "rewiring_logits",
    "rewiring_probabilities",
    "rewiring_weights",
]


def deficit(scores: Tensor, tau: Tensor | float, out: Tensor | None = None) -> Tensor:
    r"""$\Delta_c = \max(\tau - S_c, 0)$: how far a candidate's score is below the threshold."""
    return torch.sub(tau, scores, out=out).clamp_min_(0.0)


def mean_distance(scores: Tensor, out: Tensor | None = None) -> Tensor:
    r"""$\Delta_c = |S_c - \bar S|$ with $\bar S$ the mean over all of the layer's scores (the listing)."""
    return torch.sub(scores, scores.mean(), out=out).abs_()


def rewiring_logits(delta: Tensor, candidates: Tensor, sigma: float) -> Tensor:
    r"""$\log$ of the unnormalised Eq. 3, $-\Delta/\sigma_r$; $-\infty$ outside the candidates."""
    if sigma <= 0:
        raise ValueError(f"sigma: {sigma} must be > 0")
    return torch.where(candidates, delta, delta.new_tensor(math.inf)).div_(-sigma)


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
    if _nothing_to_draw(k):
        return torch.empty(0, dtype=torch.long, device=logits.device)
    uniform = torch.rand(logits.shape, generator=generator, device=logits.device, dtype=logits.dtype)
    tiny = torch.finfo(logits.dtype).tiny
    # in place on one buffer: -log(-log u) + logits
    keys = uniform.clamp_(tiny, 1.0 - torch.finfo(logits.dtype).eps).log_().neg_().log_().neg_().add_(logits)
    top_values, top_indices = _largest(keys, k)
    if not bool(torch.isfinite(top_values).all()):
        raise ValueError(f"k: {k} exceeds the number of candidates ({int(torch.isfinite(logits).sum())})")
    return top_indices


def _nothing_to_draw(k: int) -> bool:
    if k < 0:
        raise ValueError(f"k: {k} must be >= 0")
    return k == 0


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
    survivors = sparse_nonzero(keys >= cutoff)
    if survivors.numel() < k:
        top = torch.topk(keys, k, sorted=False)
        return top.values, top.indices
    top = torch.topk(keys[survivors], k, sorted=False)
    return top.values, survivors[top.indices]


_FLOOR = 87.0
"""How far under the largest weight a drawable entry's weight is floored: exp(-87) is still a normal
float32 (an exponential that underflows takes a slow path on CPUs, about 40 times slower)."""

_BLOCK = 128
"""Entries per block of the two-level inverse of the cumulative weights."""


def rewiring_weights(delta: Tensor, excluded: Tensor, sigma: float, out: Tensor | None = None) -> Tensor:
    r"""Eq. 3 unnormalised, shifted to its largest candidate: $w_c = \exp(-(\Delta_c - \min_C \Delta)/\sigma_r)$.

    `excluded` is 1 outside the candidates and 0 on them, in a float dtype (the mask itself when
    every connection is allowed); excluded entries get weight 0. The largest weight is 1 and a
    candidate's weight is at least $e^{-87}$: one more than $87\sigma_r$ of deficit behind the
    best candidate is drawn with $e^{-87}$ (about $10^{-38}$) times the best one's chance rather
    than with its own smaller one. No boolean indexing: six passes of arithmetic and one minimum.
    `out` may be `delta` (in place).
    """
    if sigma <= 0:
        raise ValueError(f"sigma: {sigma} must be > 0")
    # excluded entries are pushed half the dtype's range up, so the minimum is the candidates' (and
    # nothing overflows, even with no candidate), and their shifted logit clamps to the floor; the
    # last pass zeroes them exactly
    shifted = torch.add(delta, excluded, alpha=torch.finfo(delta.dtype).max / 2, out=out)
    shifted.sub_(shifted.min()).mul_(-1.0 / sigma)
    weights = shifted.clamp_min_(-_FLOOR).exp_()
    return weights.addcmul_(weights, excluded, value=-1.0)


def draw_without_replacement(
    logits: Tensor, k: int, generator: torch.Generator | None = None, rounds: int = 3, scratch: Scratch | None = None
) -> Tensor:
    r"""Indices of `k` entries drawn without replacement with probabilities `softmax(logits)`.

    The weights $w = \exp(\ell - \max \ell)$ (floored at $e^{-87}$, 0 where $\ell = -\infty$)
    go to `draw_weighted`; the exact logits serve its Gumbel hand-over. `scratch` holds the
    weights and their float64 copy.

    Raises:
        ValueError: `k` is negative or larger than the number of drawable entries.
    """
    if _nothing_to_draw(k):
        return torch.empty(0, dtype=torch.long, device=logits.device)
    top = float(logits.max())
    if not math.isfinite(top):  # nothing to draw (gumbel_topk says so), or a NaN logit
        return gumbel_topk(logits, k, generator)
    scratch = scratch if scratch is not None else Scratch(hold=False)
    weights = scratch("draw_weights", logits.numel(), logits.dtype, logits.device)
    torch.sub(logits, top, out=weights).clamp_min_(-_FLOOR).exp_().mul_(torch.isfinite(logits))
    return draw_weighted(weights, k, generator, rounds, lambda: logits, scratch)


def draw_weighted(
    weights: Tensor,
    k: int,
    generator: torch.Generator | None = None,
    rounds: int = 3,
    logits: Callable[[], Tensor] | None = None,
    scratch: Scratch | None = None,
) -> Tensor:
    r"""Indices of `k` entries drawn without replacement with probabilities proportional to `weights`.

    Successive sampling, the same law as `gumbel_topk` on $\log w$. With the cumulative sum $W$ of
    the weights, a draw is the first entry whose $W_i$ exceeds $u\,W_n$, $u \sim U[0, 1)$; an entry
    drawn again is passed over, and one of weight 0 is never drawn. Given the set $K$ kept so far,
    the next new entry has probability $w_i / \sum_{j \notin K} w_j$: the step of Plackett-Luce
    sampling, whose first $k$ picks are the $k$ largest Gumbel keys (Yellott 1977). A round draws
    $2k' + 8$ times for the $k'$ still missing; after it the kept entries' weights are zeroed (in
    a float64 copy held by `scratch`: `weights` is not changed).

    $W$ is never formed entry by entry: the float64 sums of blocks of 128 weights are one
    vectorised reduction, their cumulative sum picks a draw's block, and only the drawn blocks'
    weights are summed in order ($2k$ blocks of 128, not a scan over the layer). float64, so that
    a sum over millions of weights still resolves the smallest of them.

    When $\sum w < 8k$ (a few entries hold the mass, so the draws would mostly repeat them), or
    when `rounds` rounds leave entries missing, the rest come from `gumbel_topk` over the entries
    not yet kept, on the exact `logits()` (default $\log w$). That continues the same law: the
    picks depend on the past only through the kept set. About $2k$ random numbers are drawn
    instead of one per entry.

    Args:
        weights: flat, non-negative, at most 1 (as `rewiring_weights` and `draw_without_replacement`
            make them: then fewer than `k` positive weights always hand over, and `gumbel_topk`
            refuses).
        logits: the exact log-weights, asked for only by the hand-over.

    Host reads: one, then two per round (the distinct draws, the entries kept).

    Raises:
        ValueError: `k` is negative or larger than the number of drawable entries.
    """
    kept = [torch.empty(0, dtype=torch.long, device=weights.device)]
    if _nothing_to_draw(k):
        return kept[0]
    scratch = scratch if scratch is not None else Scratch(hold=False)
    wide = scratch("draw_wide", weights.numel(), torch.float64, weights.device).copy_(weights)
    missing = k
    for round_ in range(rounds):
        block_ends = _block_sums(wide).cumsum(0)
        if round_ == 0 and not float(block_ends[-1]) >= 8 * k:  # NaN weights hand over too
            break
        draws = torch.rand(2 * missing + 8, generator=generator, device=weights.device, dtype=torch.float64)
        new = _first_occurrences(_inverse_cdf(wide, block_ends, draws))[:missing]
        kept.append(new)
        missing -= new.numel()
        if missing == 0:
            return torch.cat(kept)
        wide.index_fill_(0, new, 0.0)
    exact = logits() if logits is not None else weights.log()
    rest = exact.index_fill(0, torch.cat(kept), -math.inf)
    return torch.cat([*kept, gumbel_topk(rest, missing, generator)])


def _block_sums(weights: Tensor) -> Tensor:
    """Sums of consecutive blocks of `_BLOCK` entries (the last block may be shorter)."""
    n = weights.numel()
    full = n - n % _BLOCK
    sums = weights[:full].view(-1, _BLOCK).sum(1)
    if full == n:
        return sums
    return torch.cat([sums, weights[full:].sum().reshape(1)])


def _inverse_cdf(weights: Tensor, block_ends: Tensor, u: Tensor) -> Tensor:
    r"""For each $u$ in $[0, 1)$, the first entry $i$ with $W_i > u W_n$: never one of weight 0.

    Two levels: the block whose cumulative end first exceeds $u W_n$, then the entry within it
    whose cumulative sum from the block's start first exceeds the remainder. A remainder that
    rounding puts past a block's own sum lands on its last entry with weight.
    """
    n = weights.numel()
    total = block_ends[-1]
    target = u.mul_(total)
    last_block = torch.searchsorted(block_ends, total.reshape(1))  # the last block with weight
    block = torch.minimum(torch.searchsorted(block_ends, target, right=True), last_block)
    starts = torch.cat([block_ends.new_zeros(1), block_ends[:-1]])
    remainder = (target - starts[block]).unsqueeze(1)  # >= 0: the same floats that chose the block
    positions = block.unsqueeze(1) * _BLOCK + torch.arange(_BLOCK, device=weights.device)
    local = weights[positions.clamp_max(n - 1)]
    if n % _BLOCK:
        local.masked_fill_(positions >= n, 0.0)
    cumulative = local.cumsum(1)
    last = torch.searchsorted(cumulative, cumulative[:, -1:].contiguous())  # the block's last entry with weight
    within = torch.minimum(torch.searchsorted(cumulative, remainder, right=True), last)
    return positions.gather(1, within).squeeze(1)


def _first_occurrences(index: Tensor) -> Tensor:
    """The distinct values of `index` in the order they first occur."""
    distinct, inverse = torch.unique(index, return_inverse=True)
    position = torch.arange(index.numel(), device=index.device)
    first = torch.full_like(distinct, index.numel()).scatter_reduce_(0, inverse, position, "amin")
    return distinct[first.argsort()]
