"""What an integration logs of a regulator each epoch."""

from __future__ import annotations

import math

import torch

from biogrn.regulation import Regulator

__all__ = ["EXPRESSION_QUANTILES", "regulator_summary"]

EXPRESSION_QUANTILES = (0.05, 0.5, 0.95)
_QUANTILE_SAMPLE = 2**24  # torch.quantile refuses larger inputs; the first 16 M genes estimate them


def regulator_summary(reg: Regulator) -> dict[str, float]:
    """`biogrn/sparsity`, `biogrn/tau` (mean over layers of the last update's finite taus),
    `biogrn/sigma` and `biogrn/p_q05`, `p_q50`, `p_q95` (protein-level quantiles), as numbers."""
    finite = [t for t in (reg.history[-1]["tau"] if reg.history else []) if math.isfinite(t)]
    values = {"biogrn/sparsity": reg.sparsity(), "biogrn/sigma": reg.sigma}
    if finite:
        values["biogrn/tau"] = sum(finite) / len(finite)
    p = reg.genes.p.float()[:_QUANTILE_SAMPLE]
    quantiles = torch.quantile(p, torch.tensor(EXPRESSION_QUANTILES, device=p.device))
    return values | {f"biogrn/p_q{int(q * 100):02d}": float(v) for q, v in zip(EXPRESSION_QUANTILES, quantiles)}
