"""Parameter sets for a network in RACIPE's ranges, by quasi-random sampling."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from biogrn.grn._network import Network

__all__ = ["sample_parameters"]


def sample_parameters(
    network: Network, n: int, method: str = "sobol", seed: int = 0, dtype: torch.dtype = torch.float64
) -> dict[str, Tensor]:
    """Random `ShiftedHill` parameter sets in RACIPE's ranges, by scipy.stats.qmc (Sobol or Latin hypercube).

    Production 1-100, degradation 0.1-1, Hill coefficient an integer 1-6, fold change 1-100
    (its inverse for repression), as RACIPE draws them. Thresholds: 0.02-1.98 times a typical
    level of 50 / 0.55 (the ranges' mid production over mid degradation); RACIPE instead
    estimates each source gene's median level from its regulators, which is not done here.
    """
    from scipy.stats import qmc

    genes, edges = network.n_genes, network.n_edges
    widths = [genes, genes, edges, edges, edges]
    if method == "sobol":
        # Sobol points are balanced in powers of two: draw the next power and keep the first n
        unit = qmc.Sobol(sum(widths), scramble=True, seed=seed).random_base2(max(0, int(np.ceil(np.log2(n)))))[:n]
    elif method == "lhs":
        unit = qmc.LatinHypercube(sum(widths), seed=seed).random(n)
    else:
        raise ValueError(f"method: {method!r} is unknown; choose 'sobol' or 'lhs'")
    production, degradation, threshold, hill, fold = torch.split(torch.as_tensor(unit, dtype=dtype), widths, dim=1)
    fold = 1 + 99 * fold
    return {
        "production": 1 + 99 * production,
        "degradation": 0.1 + 0.9 * degradation,
        "threshold": (50.0 / 0.55) * (0.02 + 1.96 * threshold),
        "hill": torch.round(1 + 5 * hill),
        "fold": torch.where(torch.as_tensor(network.signs) > 0, fold, 1 / fold),
    }
