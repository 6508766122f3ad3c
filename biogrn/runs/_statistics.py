r"""What a study may say about its seeds: means with intervals, and paired tests of two methods.

Two methods run on the same seeds share the data split, the initial weights and the batch order,
so their results are paired: the test is on the per-seed differences $d_i = a_i - b_i$.

- `mean_interval`: $\bar x \pm t_{n-1,\,0.975}\, s/\sqrt n$ (Student's t interval).
- `paired_comparison`: the mean difference with its t interval, the paired t-test
  ($t = \bar d / (s_d/\sqrt n)$, `scipy.stats.ttest_rel`) and the Wilcoxon signed-rank test
  (`scipy.stats.wilcoxon`, exact for small $n$; with 5 seeds its smallest two-sided p-value is
  $2/2^5 = 0.0625$, so it can never reach 0.05: the t-test is the one the tables use).
- `detectable_difference`: the smallest mean difference a paired t-test on $n$ seeds with this
  spread finds with probability `power` (0.8) at level `alpha` (0.05): the $\delta$ with
  $P(|T'| > t_{n-1,\,1-\alpha/2}) = $ power, $T'$ noncentral t with $n-1$ degrees of freedom and
  noncentrality $\delta\sqrt n / s_d$ (`scipy.stats.nct`); about $2.9\, s_d/\sqrt n$ for 20 seeds.
- `adjust`: Benjamini-Hochberg adjusted p-values over a table's comparisons
  (`scipy.stats.false_discovery_control`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

__all__ = ["PairedComparison", "adjust", "detectable_difference", "mean_interval", "paired_comparison"]


def mean_interval(values, confidence: float = 0.95) -> tuple[float, float, float]:
    """`(mean, low, high)`: Student's t interval of the mean; the bounds are NaN for one value.

    Raises:
        ValueError: no value, a non-finite value, or `confidence` outside (0, 1).
    """
    x = _finite(values, "values")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence: {confidence} must lie in (0, 1)")
    mean = float(x.mean())
    if len(x) < 2:
        return mean, math.nan, math.nan
    half = float(stats.t.ppf(0.5 + confidence / 2, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x)))
    return mean, mean - half, mean + half


@dataclass(frozen=True)
class PairedComparison:
    """Method a against method b on the same seeds."""

    n: int
    mean_difference: float
    """$\\bar d$, a minus b."""
    low: float
    high: float
    """The t interval of $\\bar d$."""
    t_pvalue: float
    """Two-sided paired t-test; NaN when every difference is equal (no spread to test against)."""
    wilcoxon_pvalue: float
    """Two-sided exact Wilcoxon signed-rank test; NaN when every difference is zero."""
    detectable: float = math.nan
    """`detectable_difference` of these differences: the smallest effect this comparison could see."""

    def significant(self, level: float = 0.05, pvalue: float | None = None) -> bool:
        """Whether the t-test (or the given, e.g. adjusted, p-value) rejects equality at `level`."""
        p = self.t_pvalue if pvalue is None else pvalue
        return bool(p < level)


def paired_comparison(a, b, confidence: float = 0.95) -> PairedComparison:
    """Paired statistics of `a - b` (per-seed results of two methods, in the same seed order).

    Raises:
        ValueError: the lengths differ, fewer than two pairs, or a value is not finite.
    """
    x, y = _finite(a, "a"), _finite(b, "b")
    if len(x) != len(y):
        raise ValueError(f"a and b: {len(x)} and {len(y)} values; a paired test needs one pair per seed")
    if len(x) < 2:
        raise ValueError("a and b: a paired test needs at least two seeds")
    d = x - y
    mean, low, high = mean_interval(d, confidence)
    # differences equal to rounding (0.9 - 0.8 and 0.8 - 0.7 differ in the 17th digit) count as equal
    tolerance = 1e-12 * max(1.0, float(np.abs(d).max()))
    if float(np.ptp(d)) > tolerance:
        t_pvalue = float(stats.ttest_rel(x, y).pvalue)
    else:
        # every pair differs by the same amount: no noise estimate, so no test (0 would claim certainty)
        t_pvalue = math.nan
    if float(np.abs(d).max()) > tolerance:
        wilcoxon_pvalue = float(stats.wilcoxon(x, y, zero_method="wilcox", method="auto").pvalue)
    else:
        wilcoxon_pvalue = math.nan
    detectable = detectable_difference(float(d.std(ddof=1)), len(d))
    return PairedComparison(len(d), mean, low, high, t_pvalue, wilcoxon_pvalue, detectable)


def detectable_difference(spread: float, n: int, alpha: float = 0.05, power: float = 0.8) -> float:
    """The smallest true mean difference a two-sided paired t-test at `alpha` detects with
    probability `power`, for `n` pairs whose differences have standard deviation `spread`.

    Raises:
        ValueError: fewer than two pairs, a negative or non-finite spread, or `alpha`, `power`
            outside (0, 1).
    """
    if n < 2:
        raise ValueError(f"n: {n} pairs; a paired test needs at least two")
    if not (math.isfinite(spread) and spread >= 0.0):
        raise ValueError(f"spread: {spread} must be finite and non-negative")
    if not (0.0 < alpha < 1.0 and 0.0 < power < 1.0):
        raise ValueError(f"alpha {alpha} and power {power} must lie in (0, 1)")
    if spread == 0.0:
        return 0.0
    df = n - 1
    critical = float(stats.t.ppf(1.0 - alpha / 2.0, df))

    def shortfall(shift: float) -> float:  # shift: the noncentrality delta * sqrt(n) / spread
        # the far tail is below 1e-20 where the power is near `power`; nct returns NaN for it far out
        far_tail = float(np.nan_to_num(stats.nct.cdf(-critical, df, shift)))
        return float(stats.nct.sf(critical, df, shift)) + far_tail - power

    high = critical + 1.0
    while shortfall(high) < 0.0:  # the power grows with the shift: widen the bracket until it is reached
        high *= 2.0
    shift = optimize.brentq(shortfall, 0.0, high, xtol=1e-10)
    return shift * spread / math.sqrt(n)


def adjust(pvalues) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (the false discovery rate over a table); NaN stays NaN."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full_like(p, np.nan)
    tested = ~np.isnan(p)
    if tested.any():
        out[tested] = stats.false_discovery_control(p[tested], method="bh")
    return out


def _finite(values, name: str) -> np.ndarray:
    x = np.asarray(values, dtype=float).ravel()
    if x.size == 0:
        raise ValueError(f"{name}: no values")
    if not np.isfinite(x).all():
        raise ValueError(f"{name}: value {x[~np.isfinite(x)][0]} is not finite")
    return x
