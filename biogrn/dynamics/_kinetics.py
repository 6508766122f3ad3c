r"""Regulatory functions and the transcription terms of Eq. 1.

Eq. 1, per gene $c$:

$$\frac{dm_c}{dt} = f_c(m, p, u) - \gamma_m m_c, \qquad \frac{dp_c}{dt} = g_c(m) - \gamma_p p_c.$$

The transcription rate $f$ is composed of terms: additive ones are summed, multiplicative ones
scale that sum,

$$f = \Big(\sum_{\text{additive}} a_i\Big) \prod_{\text{multiplicative}} r_j ,$$

and translation is linear, $g = k_p m$. Every function works elementwise on tensors of any shape
and keeps the device and dtype of its input. The functions are shared with `biogrn.grn`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = [
    "Basal",
    "DriveActivation",
    "PoolRepression",
    "SelfActivation",
    "SignedDriveActivation",
    "Transcription",
    "hill_activation",
    "hill_repression",
    "shifted_hill",
    "translation",
]


def _nonnegative(x: Tensor, out: Tensor | None = None) -> Tensor:
    # max(x, 0) with -0 made +0: a negative level has no biological meaning, pow of a negative
    # base with fractional n is NaN, and K / -0 = -inf would be one (sqrt(-inf) for n = 1/2).
    return torch.clamp_min(x, 0.0, out=out).add_(0.0) if out is not None else x.clamp_min(0.0) + 0.0


def _ratio_power(x: Tensor, half: float, hill: float) -> Tensor:
    # (x/K)^n
    return (_nonnegative(x) / half) ** hill


def _inverse_ratio_power(x: Tensor, half: float, hill: float) -> Tensor:
    # (K/x)^n: written this way round, overflow goes to inf at x -> 0 (giving H+ = 0) instead of
    # inf / inf = NaN at large x.
    return (half / _nonnegative(x)) ** hill


def hill_activation(x: Tensor, half: float, hill: float, out: Tensor | None = None) -> Tensor:
    r"""Hill activation $H^+(x) = \dfrac{x^n}{K^n + x^n}$, in $[0, 1)$, equal to 1/2 at $x = K$.

    Args:
        x: regulator level, any shape (negative values are treated as 0).
        half: half-saturation constant $K > 0$.
        hill: Hill coefficient $n > 0$.
        out: where to write the result (may be `x` itself): the same operations, in place, with
            no temporary tensors.
    """
    if out is None:
        return 1.0 / (1.0 + _inverse_ratio_power(x, half, hill))
    _nonnegative(x, out=out)
    return out.reciprocal_().mul_(half).pow_(hill).add_(1.0).reciprocal_()


def hill_repression(x: Tensor, half: float, hill: float) -> Tensor:
    r"""Hill repression $H^-(x) = \dfrac{K^n}{K^n + x^n} = 1 - H^+(x)$, in $(0, 1]$."""
    return 1.0 / (1.0 + _ratio_power(x, half, hill))


def shifted_hill(x: Tensor, half: float, hill: float, fold: float) -> Tensor:
    r"""Shifted Hill function of RACIPE (Huang et al. 2017): $H^S = H^-(x) + \lambda H^+(x)$.

    $\lambda > 1$ is an activation by `fold`, $\lambda < 1$ a repression; $H^S(0) = 1$ and
    $H^S(\infty) = \lambda$. Computed as

    $$H^S = \lambda + (1 - \lambda)\,H^-(x), \qquad H^- = \frac{1}{1 + (x/K)^n},$$

    one power per entry instead of two (the power is most of a RACIPE field's cost); exact at both
    ends, $(x/K)^n = \infty$ giving $\lambda$.
    """
    return fold + (1.0 - fold) / (1.0 + _ratio_power(x, half, hill))  # out of place: Jacobians differentiate it


def translation(m: Tensor, k_p: float) -> Tensor:
    r"""Linear translation $g(m) = k_p m$."""
    return k_p * m


@dataclass(frozen=True)
class Basal:
    r"""Basal transcription: the additive constant $a = k_0$."""

    rate: float

    additive = True
    uses_state = False

    def __call__(self, m: Tensor, p: Tensor, u: Tensor, pool: Tensor | None) -> Tensor:
        return torch.full_like(u, self.rate)

    def write(self, u: Tensor, out: Tensor) -> Tensor:
        """The term of drive `u`, written into `out`."""
        return out.fill_(self.rate)

    def write_scaled(self, u: Tensor, out: Tensor) -> float:
        """The term up to its factor $c$: ones into `out`; returns $c = k_0$."""
        out.fill_(1.0)
        return self.rate


@dataclass(frozen=True)
class DriveActivation:
    r"""Transcription activated by the drive: $a = v_u H^+(u; K_u, n_u)$.

    The drive $u$ (a training saliency, normalised per layer) is constant over an integration
    interval, so this term is evaluated once per interval.
    """

    rate: float
    half: float
    hill: float

    additive = True
    uses_state = False

    def __call__(self, m: Tensor, p: Tensor, u: Tensor, pool: Tensor | None) -> Tensor:
        return self.rate * hill_activation(u, self.half, self.hill)

    def write(self, u: Tensor, out: Tensor) -> Tensor:
        """The term of drive `u`, written into `out` with no temporaries."""
        return hill_activation(u, self.half, self.hill, out=out).mul_(self.rate)

    def write_scaled(self, u: Tensor, out: Tensor) -> float:
        r"""The term up to a factor $c$, in four passes; returns $c$ (`out` may be `u`).

        $$\frac{1}{x^{-n} + K^{-n}} = K^n H^+(x), \qquad c = v_u K^{-n},$$

        with $x = \max(u, 0)$: no cancellation, and $x = 0$ gives $x^{-n} = \infty$, hence 0. Where
        $K^{-n}$ is not a normal number of `out`'s dtype, the term itself is written and $c = 1$.
        """
        inverse_half_power = self.half**-self.hill
        info = torch.finfo(out.dtype)
        if not info.tiny <= inverse_half_power <= info.max:
            self.write(u, out)
            return 1.0
        # no `_nonnegative` pass: a -0 gives x^-n = +-inf, and 1 / (+-inf + K^-n) = +-0, a zero either way
        torch.clamp_min(u, 0.0, out=out).pow_(-self.hill).add_(inverse_half_power).reciprocal_()
        return self.rate * inverse_half_power


@dataclass(frozen=True)
class SignedDriveActivation:
    r"""Transcription by a signed drive: $a = v_u\,\sigma(u / K_u) = v_u / (1 + e^{-u/K_u})$.

    For drives that may be negative (`movement`, normalised by the layer's root mean square, 0
    neutral): the rate lies in $(0, v_u)$, so $m, p \ge 0$ for every $u$; it is $v_u/2$, basal,
    at $u = 0$, and rises with $u$ with slope $v_u / (4 K_u)$ there. Constant over an interval.
    """

    rate: float
    half: float
    r"""$K_u$: the drive (in layer RMS units) that moves the rate from $v_u/2$ to $0.73\,v_u$."""

    additive = True
    uses_state = False

    def __call__(self, m: Tensor, p: Tensor, u: Tensor, pool: Tensor | None) -> Tensor:
        return self.rate * torch.sigmoid(u / self.half)

    def write(self, u: Tensor, out: Tensor) -> Tensor:
        """The term of drive `u`, written into `out` (which may be `u`)."""
        return torch.sigmoid(torch.div(u, self.half, out=out), out=out).mul_(self.rate)


@dataclass(frozen=True)
class SelfActivation:
    r"""Positive self-feedback on the gene's own protein: $a = v_p H^+(p; K_p, n_p)$.

    With $n_p > 1$ it makes expression bistable: a gene that was highly expressed stays expressed
    after its drive falls (memory, hysteresis).
    """

    rate: float
    half: float
    hill: float

    additive = True
    uses_state = True

    def __call__(self, m: Tensor, p: Tensor, u: Tensor, pool: Tensor | None) -> Tensor:
        return self.rate * hill_activation(p, self.half, self.hill)


@dataclass(frozen=True)
class PoolRepression:
    r"""Repression by the pooled protein of the gene's unit: $r = H^-(\bar p_{unit}; K, n)$.

    $\bar p_{unit}$ is the mean protein of the genes that share a pool (the fan-in of an output
    unit for connection genes; the layer for unit genes), so that $K$ does not depend on fan-in.
    Genes of a pool compete for a shared resource: homeostasis of the unit's total expression.
    """

    half: float
    hill: float

    additive = False
    uses_state = True

    def __call__(self, m: Tensor, p: Tensor, u: Tensor, pool: Tensor | None) -> Tensor:
        if pool is None:
            raise ValueError("PoolRepression needs the pooled protein; the field passed none")
        return hill_repression(pool, self.half, self.hill)


class Transcription:
    r"""The transcription rate $f = (\sum a_i)\prod r_j$ built from regulatory terms.

    Terms that do not read the state ($m$, $p$) are evaluated once per integration interval by
    `constant_part`; `rate` adds the state-dependent terms at each solver stage.
    """

    def __init__(self, terms: list):
        self.terms = tuple(terms)
        self.constant_additive = tuple(t for t in self.terms if t.additive and not t.uses_state)
        self.state_additive = tuple(t for t in self.terms if t.additive and t.uses_state)
        self.constant_multiplicative = tuple(t for t in self.terms if not t.additive and not t.uses_state)
        self.state_multiplicative = tuple(t for t in self.terms if not t.additive and t.uses_state)

    @property
    def uses_state(self) -> bool:
        return bool(self.state_additive or self.state_multiplicative)

    @property
    def uses_pool(self) -> bool:
        return any(isinstance(t, PoolRepression) for t in self.terms)

    def constant_part(self, u: Tensor) -> tuple[Tensor, Tensor | None]:
        """Sum of state-free additive terms and product of state-free multiplicative ones."""
        zero = torch.zeros_like(u)
        additive = zero
        for term in self.constant_additive:
            additive = additive + term(zero, zero, u, None)
        factor = None
        for term in self.constant_multiplicative:
            r = term(zero, zero, u, None)
            factor = r if factor is None else factor * r
        return additive, factor

    def constant_rate(self, u: Tensor, out: Tensor | None = None) -> Tensor:
        """$f(u)$ of a transcription that reads no state, written into `out` when given.

        Raises:
            ValueError: a term reads the state ($m$, $p$ or the pool).
        """
        if self.uses_state:
            raise ValueError("constant_rate: this transcription reads the state; use rate()")
        f = torch.empty_like(u) if out is None else out
        if not self.constant_additive:
            f.zero_()
        for k, term in enumerate(self.constant_additive):
            if k == 0:
                term.write(u, f)
            else:
                f.add_(term(u, u, u, None))
        for term in self.constant_multiplicative:
            f.mul_(term(u, u, u, None))
        return f

    def scaled_constant_rate(self, u: Tensor, out: Tensor | None = None) -> tuple[Tensor, float]:
        r"""$g$ and $c$ with $f(u) = c\,g$, for a transcription that reads no state; $g$ into `out`.

        A single state-free term that offers `write_scaled` (the default drive activation,
        basal transcription) takes fewer passes than `constant_rate`, since the factor $c$ goes
        into the fused step's coefficients; any other transcription gives $g = f$, $c = 1$.

        Raises:
            ValueError: a term reads the state ($m$, $p$ or the pool).
        """
        if self.uses_state:
            raise ValueError("scaled_constant_rate: this transcription reads the state; use rate()")
        if len(self.constant_additive) == 1 and not self.constant_multiplicative:
            write_scaled = getattr(self.constant_additive[0], "write_scaled", None)
            if write_scaled is not None:
                g = torch.empty_like(u) if out is None else out
                return g, write_scaled(u, g)
        return self.constant_rate(u, out), 1.0

    def rate(
        self, m: Tensor, p: Tensor, u: Tensor, constant: tuple[Tensor, Tensor | None], pool: Tensor | None = None
    ) -> Tensor:
        """$f(m, p, u)$ given the precomputed `constant_part(u)`."""
        additive, factor = constant
        for term in self.state_additive:
            additive = additive + term(m, p, u, pool)
        for term in self.state_multiplicative:
            r = term(m, p, u, pool)
            factor = r if factor is None else factor * r
        return additive if factor is None else additive * factor

    def __repr__(self) -> str:
        return f"Transcription({list(self.terms)!r})"
