r"""N:M semi-structured sparsity decided by gene scores: in every group of M consecutive connections
of a row, the N with the highest Eq. 2 score stay.

    S_c = \hat{|w_c|} + \alpha \hat p_c + \beta\,\mathrm{Time}         (Eq. 2, per layer)
    keep_c = c \in \mathrm{top}_N \{ S_{c'} : c' \in \mathrm{group}(c) \}

A group is M consecutive genes of a tensor's flat slice, which for a weight `(out, in, ...)` with
`in * ... ` divisible by M are M consecutive inputs of one output row: the layout of NVIDIA's 2:4
sparse tensor cores (`torch.sparse.to_sparse_semi_structured`). Connections outside the
allow-mask never stay. Each update recomputes the whole pattern, so a connection whose gene
expression rises above its group's N-th is reconnected (grown) and the one it displaces pruned:
the expression of Eq. 1 moves the pattern during training, and every update ends exactly N:M.
"""

from __future__ import annotations

import torch
from torch import Tensor

from biogrn.policies._base import Decision, Policy, PolicyView
from biogrn.policies._importance import importance

__all__ = ["SemiStructuredPolicy", "semi_structured_keep"]


def semi_structured_keep(scores: Tensor, allow: Tensor, n: int, m: int) -> Tensor:
    """Boolean over one layer's genes: the `n` best-scored allowed genes of each group of `m`.

    Raises:
        ValueError: the layer's size is not a multiple of `m`.
    """
    if scores.numel() % m:
        raise ValueError(f"N:M: {scores.numel()} genes do not split into groups of {m}")
    grouped = torch.where(allow, scores, -torch.inf).view(-1, m)
    keep = torch.zeros_like(grouped, dtype=torch.bool)
    keep.scatter_(1, grouped.topk(n, dim=1).indices, True)
    return keep.view(-1) & allow


class SemiStructuredPolicy(Policy):
    """Keep N of every M consecutive connections by gene score (Eq. 2); no threshold, no Eq. 3.

    Args:
        n, m: the pattern, e.g. 2 and 4.
        alpha, beta, normalization: Eq. 2.
    """

    uses_expression = True

    def __init__(self, n: int, m: int, alpha: float, beta: float, normalization: str = "mean"):
        if not 0 < n < m:
            raise ValueError(f"nm_n, nm_m: need 0 < n < m, got {n}:{m}")
        self.n, self.m = int(n), int(m)
        self.alpha, self.beta, self.normalization = float(alpha), float(beta), normalization

    def decide(self, view: PolicyView) -> Decision:
        scores = importance(
            view.magnitude, view.expression, list(view.slices), self.alpha, self.beta, view.time, self.normalization
        )
        keep = torch.cat([semi_structured_keep(scores[s], view.allow[s], self.n, self.m) for s in view.slices])
        active = view.active
        return Decision(prune=active & ~keep, grow=~active & keep)
