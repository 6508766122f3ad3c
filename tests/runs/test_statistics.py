"""Means with t intervals and paired tests: the closed forms and the symmetries."""

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats

from biogrn.runs import adjust, detectable_difference, mean_interval, paired_comparison

values = st.lists(st.floats(-100, 100, allow_nan=False), min_size=2, max_size=12)


@settings(max_examples=100)
@given(values)
def test_the_interval_is_symmetric_about_the_mean_with_the_t_quantile_half_width(x):
    mean, low, high = mean_interval(x)
    assert mean == pytest.approx(np.mean(x), abs=1e-9)
    half = stats.t.ppf(0.975, len(x) - 1) * np.std(x, ddof=1) / math.sqrt(len(x))
    assert high - mean == pytest.approx(half, abs=1e-9) and mean - low == pytest.approx(half, abs=1e-9)


def test_two_values_closed_form():
    # n = 2: s = |a - b| / sqrt 2, half width = t_{1, 0.975} |a - b| / 2 = 12.706 / 2 for |a - b| = 1
    mean, low, high = mean_interval([0.0, 1.0])
    assert high - mean == pytest.approx(12.7062047 / 2, rel=1e-6)


@settings(max_examples=100)
@given(values, st.floats(-50, 50))
def test_swapping_the_methods_negates_the_difference_and_keeps_the_p_values(a, shift):
    rng = np.random.default_rng(len(a))
    b = np.asarray(a) + shift + rng.normal(0, 1, len(a))
    forward, backward = paired_comparison(a, b), paired_comparison(b, a)
    assert forward.mean_difference == pytest.approx(-backward.mean_difference, abs=1e-9)
    assert forward.low == pytest.approx(-backward.high, abs=1e-9)
    np.testing.assert_allclose(forward.t_pvalue, backward.t_pvalue, rtol=1e-9)
    np.testing.assert_allclose(forward.wilcoxon_pvalue, backward.wilcoxon_pvalue, rtol=1e-9)


@settings(max_examples=60)
@given(values, st.floats(-1e3, 1e3))
def test_adding_the_same_amount_to_both_methods_changes_nothing(a, offset):
    rng = np.random.default_rng(0)
    b = np.asarray(a) + rng.normal(0, 1, len(a))
    assume(np.std(np.asarray(a) - b, ddof=1) > 1e-6)
    plain, moved = paired_comparison(a, b), paired_comparison(np.asarray(a) + offset, b + offset)
    assert plain.t_pvalue == pytest.approx(moved.t_pvalue, rel=1e-4, abs=1e-9)
    assert plain.mean_difference == pytest.approx(moved.mean_difference, abs=1e-6)


def test_equal_methods_are_not_called_different_and_a_constant_gap_is_not_tested():
    same = paired_comparison([0.9, 0.8, 0.85], [0.9, 0.8, 0.85])
    assert same.mean_difference == 0 and math.isnan(same.t_pvalue) and math.isnan(same.wilcoxon_pvalue)
    assert not same.significant()
    gap = paired_comparison([0.9, 0.8, 0.85], [0.8, 0.7, 0.75])
    assert gap.mean_difference == pytest.approx(0.1) and math.isnan(gap.t_pvalue)


def test_five_seeds_cannot_reach_wilcoxon_significance_but_the_t_test_can():
    a = np.array([0.91, 0.92, 0.90, 0.93, 0.915])
    result = paired_comparison(a, a - np.array([0.05, 0.06, 0.055, 0.052, 0.058]))
    assert result.wilcoxon_pvalue == pytest.approx(0.0625)
    assert result.t_pvalue < 1e-4 and result.significant()


def test_adjusted_p_values_are_at_least_the_raw_ones_and_nan_stays_nan():
    raw = np.array([0.01, np.nan, 0.04, 0.03, 0.5])
    adjusted = adjust(raw)
    assert math.isnan(adjusted[1])
    tested = ~np.isnan(raw)
    assert (adjusted[tested] >= raw[tested] - 1e-12).all() and (adjusted[tested] <= 1).all()


@pytest.mark.parametrize(
    ("a", "b", "match"),
    [
        ([1.0], [2.0], "two seeds"),
        ([1.0, 2.0], [1.0], "pair per seed"),
        ([1.0, float("nan")], [1.0, 2.0], "not finite"),
    ],
)
def test_bad_inputs_are_refused(a, b, match):
    with pytest.raises(ValueError, match=match):
        paired_comparison(a, b)


@pytest.mark.parametrize("n", [5, 10, 20])
def test_detectable_difference_is_found_with_the_stated_power(n):
    """Monte Carlo: differences with the returned mean are rejected by the paired t-test in 80% of draws."""
    spread = 2.0
    delta = detectable_difference(spread, n)
    rng = np.random.default_rng(n)
    draws = rng.normal(delta, spread, size=(20_000, n))
    rejected = stats.ttest_1samp(draws, 0.0, axis=1).pvalue < 0.05
    assert abs(rejected.mean() - 0.8) < 0.015


def test_detectable_difference_matches_statsmodels():
    power = pytest.importorskip("statsmodels.stats.power")
    for n in (3, 10, 20, 40):
        expected = power.TTestPower().solve_power(nobs=n, alpha=0.05, power=0.8)
        assert detectable_difference(1.0, n) == pytest.approx(expected, rel=1e-6)


@given(st.floats(0.01, 100.0), st.integers(2, 200))
def test_detectable_difference_scales_with_the_spread(spread, n):
    assert detectable_difference(spread, n) == pytest.approx(spread * detectable_difference(1.0, n), rel=1e-6)
    assert detectable_difference(spread, n + 1) <= detectable_difference(spread, n) * (1 + 1e-9)


def test_detectable_difference_refuses_bad_input():
    for spread, n in ((1.0, 1), (-1.0, 5), (float("nan"), 5)):
        with pytest.raises(ValueError):
            detectable_difference(spread, n)


def test_paired_comparison_reports_its_detectable_difference():
    a = np.array([1.0, 2.0, 3.5, 4.0, 5.5])
    b = np.array([0.5, 2.5, 3.0, 3.0, 5.0])
    c = paired_comparison(a, b)
    assert c.detectable == pytest.approx(detectable_difference(float(np.std(a - b, ddof=1)), 5))
