r"""Rewiring (Eq. 3): which pruned connections come back.

Among the candidates $C$ (pruned before this update, inside the structural allow-mask),

$$P_c = \frac{\exp(-\Delta_c/\sigma_r)}{\sum_{c' \in C} \exp(-\Delta_{c'}/\sigma_r)},$$

with $\Delta_c$ the importance deficit to $\tau$, $\max(\tau - S_c, 0)$ (default), or the seed
listing's $|S_c - \bar S|$ over the layer. $k$ candidates are drawn without replacement in
proportion to $P$ by the Gumbel top-$k$ trick (Vieira 2014; Kool et al. 2019): add independent
Gumbel noise to $\log P$ and keep the $k$ largest. Everything stays on the device; the only host
read is the number of candidates per layer, to clamp $k$.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = [
    "deficit",
    "gumbel_topk",
    "mean_distance",
    "rewiring_logits",
    "rewiring_probabilities",
]


def deficit(scores: Tensor, tau: Tensor | float) -> Tensor:
    r"""$\Delta_c = \max(\tau - S_c, 0)$: how far a candidate's score is below the threshold."""
    return (tau - scores).clamp_min(0.0)


def mean_distance(scores: Tensor) -> Tensor:
    r"""$\Delta_c = |S_c - \bar S|$ with $\bar S$ the mean over all of the layer's scores (the listing)."""
    return (scores - scores.mean()).abs()


def rewiring_logits(delta: Tensor, candidates: Tensor, sigma: float) -> Tensor:
    r"""$\log$ of the unnormalised Eq. 3, $-\Delta/\sigma_r$; $-\infty$ outside the candidates."""
    if sigma <= 0:
        raise ValueError(f"sigma: {sigma} must be > 0")
    return torch.where(candidates, -delta / sigma, torch.full_like(delta, -math.inf))


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
