r"""Mask policies: what one prune/rewire update decides, from a frozen view of the genes.

- `_base`: the contract, `Policy`, `PolicyView` and `Decision`.
- `_importance`: Eq. 2, $S = \hat{|w|} + \alpha \hat p + \beta\,\mathrm{Time}$.
- `_thresholds`: $\tau$ as the seed paper sets it, or as the quantile of a sparsity schedule.
- `_rewiring`: Eq. 3, $P_c \propto \exp(-\Delta_c/\sigma_r)$, drawn by successive sampling (Gumbel top-$k$
  where that pays).
- `_schedules`: $\sigma_r$, the cubic sparsity and the drop fraction over training time.
- `_gene`: `GenePolicy`, gene regulation (`paper`, `target`).
- `_hysteresis`: `HysteresisPolicy`, each gene's own switch with two thresholds (`hysteresis`).
- `_semistructured`: `SemiStructuredPolicy`, N:M (2:4) sparsity by gene score (`nm`).
- `_baselines`: magnitude pruning, SET, RigL and the seed listing.
"""

from biogrn.policies._base import Decision, Policy, PolicyView
from biogrn.policies._baselines import ListingPolicy, MagnitudePolicy, MovementPolicy, RigLPolicy, SETPolicy
from biogrn.policies._gene import GenePolicy
from biogrn.policies._hysteresis import HysteresisPolicy, expression_quantile
from biogrn.policies._importance import importance, normalize_per_layer
from biogrn.policies._rewiring import (
    deficit,
    draw_weighted,
    draw_without_replacement,
    gumbel_topk,
    mean_distance,
    rewiring_logits,
    rewiring_probabilities,
    rewiring_weights,
)
from biogrn.policies._schedules import (
    ConstantSigma,
    ExponentialSigma,
    PaperSigma,
    cubic_sparsity,
    drop_fraction,
    make_sigma_schedule,
)
from biogrn.policies._semistructured import SemiStructuredPolicy, semi_structured_keep
from biogrn.policies._thresholds import MEDIAN_RULES, PaperThreshold, ScheduledThreshold, lowest_active

__all__ = [
    "MEDIAN_RULES",
    "ConstantSigma",
    "Decision",
    "ExponentialSigma",
    "GenePolicy",
    "HysteresisPolicy",
    "ListingPolicy",
    "MagnitudePolicy",
    "MovementPolicy",
    "PaperSigma",
    "PaperThreshold",
    "Policy",
    "PolicyView",
    "RigLPolicy",
    "SETPolicy",
    "ScheduledThreshold",
    "SemiStructuredPolicy",
    "cubic_sparsity",
    "deficit",
    "draw_weighted",
    "draw_without_replacement",
    "drop_fraction",
    "expression_quantile",
    "gumbel_topk",
    "importance",
    "lowest_active",
    "make_sigma_schedule",
    "mean_distance",
    "normalize_per_layer",
    "rewiring_logits",
    "rewiring_probabilities",
    "rewiring_weights",
    "semi_structured_keep",
]
