r"""Closed-form solutions that the integrators are checked against."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["linear_cascade"]


def linear_cascade(
    t: Tensor, m0: float, p0: float, k_m: float, gamma_m: float, k_p: float, gamma_p: float
) -> tuple[Tensor, Tensor]:
    r"""Exact solution of $\dot m = k_m - \gamma_m m$, $\dot p = k_p m - \gamma_p p$.

    With $m^* = k_m/\gamma_m$, $p^* = k_p m^*/\gamma_p$, $A = m_0 - m^*$:

    $$m(t) = m^* + A e^{-\gamma_m t},$$
    $$p(t) = p^* + (p_0 - p^* - D) e^{-\gamma_p t} + D e^{-\gamma_m t},\quad
      D = \frac{k_p A}{\gamma_p - \gamma_m},$$

    and, when $\gamma_m = \gamma_p = \gamma$, $p(t) = p^* + (p_0 - p^*) e^{-\gamma t} + k_p A t e^{-\gamma t}$.
    """
    m_star = k_m / gamma_m
    p_star = k_p * m_star / gamma_p
    a = m0 - m_star
    m = m_star + a * torch.exp(-gamma_m * t)
    gap = gamma_p - gamma_m
    if abs(gap) < 1e-9 * max(gamma_m, gamma_p):
        p = p_star + (p0 - p_star) * torch.exp(-gamma_p * t) + k_p * a * t * torch.exp(-gamma_p * t)
    else:
        d = k_p * a / gap
        p = p_star + (p0 - p_star - d) * torch.exp(-gamma_p * t) + d * torch.exp(-gamma_m * t)
    return m, p
