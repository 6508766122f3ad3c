"""Published circuits with their published parameters: the toggle switch and the repressilator."""

from __future__ import annotations

import torch
from torch import Tensor

from biogrn.grn._forms import ShiftedHill, TwoStage
from biogrn.grn._network import Network

__all__ = ["repressilator", "toggle_switch"]


def toggle_switch(members: int = 1, iptg: float | Tensor = 0.0, dtype: torch.dtype = torch.float64) -> ShiftedHill:
    r"""The genetic toggle switch of Gardner, Cantor & Collins (2000), their fitted pTAK parameters:

    $\dot u = \alpha_1 / (1 + v^\beta) - u$, $\dot v = \alpha_2 / (1 + (u / (1 + [\mathrm{IPTG}]/K)^\eta)^\gamma) - v$,
    $\alpha_1 = 156.25$, $\alpha_2 = 15.6$, $\beta = 2.5$, $\gamma = 1$, $\eta = 2.0015$,
    $K = 2.9618 \times 10^{-5}$ M. Bistable without IPTG; enough IPTG (about $2 \times 10^{-5}$ M and
    more) leaves one state. In shifted-Hill form: pure repression ($\lambda = 0$), threshold 1,
    the inducer scaling the u -> v threshold by $(1 + [\mathrm{IPTG}]/K)^\eta$.
    """
    network = Network.from_edges(("u", "v"), [("v", "u", -1), ("u", "v", -1)])
    iptg = torch.as_tensor(iptg, dtype=dtype).expand(members)
    ones = torch.ones(members, 1, dtype=dtype)
    production = torch.cat([156.25 * ones, 15.6 * ones], dim=1)
    threshold = torch.cat([ones, ((1 + iptg / 2.9618e-5) ** 2.0015).unsqueeze(1)], dim=1)
    hill = torch.cat([2.5 * ones, 1.0 * ones], dim=1)
    return ShiftedHill(
        network, production, torch.ones(members, 2, dtype=dtype), threshold, hill, torch.zeros(members, 2, dtype=dtype)
    )


def repressilator(members: int = 1, hill: float | Tensor = 2.0, dtype: torch.dtype = torch.float64) -> TwoStage:
    r"""The repressilator of Elowitz & Leibler (2000), Box 1 (BioModels BIOMD0000000012):

    $\dot m_i = \alpha_0 + \alpha / (1 + p_j^n) - m_i$, $\dot p_i = \beta (m_i - p_i)$,
    lacI <- cI, tetR <- lacI, cI <- tetR; $\alpha_0 = 0.2164$, $\alpha = 216.404$, $\beta = 0.2$,
    $n = 2$. Oscillates with these; with $n = 1$ the symmetric steady state is stable.
    """
    network = Network.from_edges(("lacI", "tetR", "cI"), [("cI", "lacI", -1), ("lacI", "tetR", -1), ("tetR", "cI", -1)])
    hill = torch.as_tensor(hill, dtype=dtype).expand(members).unsqueeze(1).expand(members, 3)
    full = lambda value: torch.full((members, 3), value, dtype=dtype)
    return TwoStage(
        network,
        basal=full(0.2164),
        rate=full(216.404),
        gamma_m=full(1.0),
        translation=full(0.2),
        gamma_p=full(0.2),
        threshold=full(1.0),
        hill=hill.clone(),
    )
