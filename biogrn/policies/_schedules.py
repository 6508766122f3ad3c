r"""Schedules over training time: $\sigma_r$ of Eq. 3, the cubic sparsity, the drop fraction.

Each takes the clock (progress $\mathrm{Time} \in [0, 1]$, epochs done) and returns a number.
"""

from __future__ import annotations

import math

__all__ = ["ConstantSigma", "ExponentialSigma", "PaperSigma", "cubic_sparsity", "drop_fraction", "make_sigma_schedule"]


def cubic_sparsity(epoch: float, initial: float, final: float, start: float, end: float) -> float:
    r"""Zhu & Gupta (2017): $s(t) = s_f + (s_i - s_f)\,(1 - \frac{t - t_0}{t_1 - t_0})^3$ on $[t_0, t_1]$.

    0 before $t_0$ (dense training), $s_f$ after $t_1$.
    """
    if epoch < start:
        return 0.0
    fraction = min(1.0, (epoch - start) / (end - start))
    return final + (initial - final) * (1.0 - fraction) ** 3


def drop_fraction(epochs_done: float, fraction: float, end: float, schedule: str) -> float:
    r"""Fraction of active connections a drop/grow update replaces.

    `cosine` (RigL): $f(t) = \frac{\zeta}{2}\,(1 + \cos(\pi t / T_{\text{end}}))$;
    `constant` (SET): $f = \zeta$; both 0 from $T_{\text{end}}$ on.
    """
    if epochs_done >= end:
        return 0.0
    if schedule == "cosine":
        return fraction / 2 * (1 + math.cos(math.pi * epochs_done / end))
    if schedule == "constant":
        return fraction
    raise ValueError(f"drop_schedule: {schedule!r} is unknown; choose 'cosine' or 'constant'")


class PaperSigma:
    r"""The listing's schedule $\sigma_r = \max(\sigma_{min}, \sigma_0 (1 - \mathrm{Time}))$."""

    def __init__(self, sigma0: float = 2.0, sigma_min: float = 0.5):
        self.sigma0, self.sigma_min = float(sigma0), float(sigma_min)

    def __call__(self, time: float, epoch: int) -> float:
        return max(self.sigma_min, self.sigma0 * (1.0 - time))


class ExponentialSigma:
    r"""$\sigma_r = \max(\sigma_{min}, \sigma_0 \lambda^{\mathrm{epoch}})$."""

    def __init__(self, sigma0: float = 2.0, sigma_min: float = 0.5, decay: float = 0.9):
        self.sigma0, self.sigma_min, self.decay = float(sigma0), float(sigma_min), float(decay)

    def __call__(self, time: float, epoch: int) -> float:
        return max(self.sigma_min, self.sigma0 * self.decay**epoch)


class ConstantSigma:
    r"""$\sigma_r = \sigma_0$."""

    def __init__(self, sigma0: float = 1.0):
        self.sigma0 = float(sigma0)

    def __call__(self, time: float, epoch: int) -> float:
        return self.sigma0


def make_sigma_schedule(name: str, sigma0: float, sigma_min: float, decay: float):
    """The schedule called `name` (`paper`, `exponential`, `constant`).

    Raises:
        ValueError: an unknown name.
    """
    if name == "paper":
        return PaperSigma(sigma0, sigma_min)
    if name == "exponential":
        return ExponentialSigma(sigma0, sigma_min, decay)
    if name == "constant":
        return ConstantSigma(sigma0)
    raise ValueError(f"sigma_schedule: {name!r} is unknown; choose 'paper', 'exponential' or 'constant'")
