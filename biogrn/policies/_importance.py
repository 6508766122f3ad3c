r"""The importance score of Eq. 2, with its per-layer normalisation.

$$S_c = \hat{|w_c|} + \alpha\, \hat p_c + \beta\, \mathrm{Time},$$

where $\hat x$ is $x$ normalised per layer (see `normalize_per_layer`), $p_c$ the expression (the
protein level of Eq. 1) and $\mathrm{Time}$ the training progress in $[0, 1]$.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["importance", "normalize_per_layer"]


def normalize_per_layer(x: Tensor, slices: list[slice], how: str, out: Tensor | None = None) -> Tensor:
    r"""Normalise a flat, non-negative per-gene quantity within each layer's slice.

    - `mean`: $x / \bar x_{\text{layer}}$, the mean over all of the layer's genes, pruned ones
      included (their magnitude is zero), so remaining connections score higher as a layer
      thins;
    - `max`: $x / \max_{\text{layer}} x$, into $[0, 1]$;
    - `none`: unchanged.

    A layer whose reference is 0 (all of it zero) stays 0. `out` may be `x` (in place).
    """
    if how == "none":
        return x if out is None else out.copy_(x)
    if how not in ("mean", "max"):
        raise ValueError(f"normalization: {how!r} is unknown; choose 'mean', 'max' or 'none'")
    out = torch.empty_like(x) if out is None else out
    for s in slices:  # layers are contiguous slices: no gather/scatter over genes
        torch.div(x[s], _reference(x[s], how), out=out[s])
    return out


def _reference(part: Tensor, how: str) -> Tensor:
    """A layer's normaliser: its mean or max, at least the dtype's smallest normal (so 0 stays 0)."""
    reference = part.mean() if how == "mean" else part.max()
    return reference.clamp_min(torch.finfo(part.dtype).tiny)


def importance(
    magnitude: Tensor,
    expression: Tensor,
    slices: list[slice],
    alpha: float,
    beta: float,
    time: float,
    normalization: str = "mean",
    out: Tensor | None = None,
) -> Tensor:
    r"""Eq. 2 for every gene: $S = \hat{|w|} + \alpha \hat p + \beta\,\mathrm{Time}$.

    Args:
        magnitude: $|w|$ per gene (the fan-in mean of $|w|$ for unit genes), shape `(n_genes,)`.
        expression: protein level $p$ per gene, shape `(n_genes,)`.
        slices: each layer's contiguous slice of the flat gene axis.
        time: training progress in $[0, 1]$.
        out: where to write $S$ (no other temporary of the genes' size is made).
    """
    scores = torch.clamp_min(expression, 0.0, out=out)
    if normalization == "none":
        return scores.mul_(alpha).add_(magnitude).add_(beta * time)
    if normalization not in ("mean", "max"):
        raise ValueError(f"normalization: {normalization!r} is unknown; choose 'mean', 'max' or 'none'")
    for s in slices:  # per layer, one pass per term: p (alpha / p_ref) + |w| / |w|_ref
        scores[s].mul_(alpha / _reference(scores[s], normalization))
        scores[s].addcdiv_(magnitude[s], _reference(magnitude[s], normalization))
    return scores.add_(beta * time)
