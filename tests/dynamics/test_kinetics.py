import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from biogrn.dynamics import (
    Basal,
    DriveActivation,
    PoolRepression,
    SelfActivation,
    Transcription,
    hill_activation,
    hill_repression,
    shifted_hill,
    translation,
)

levels = st.floats(0.0, 1e3, allow_nan=False)
halves = st.floats(1e-2, 1e2)
hills = st.floats(0.5, 8.0)


@given(levels, halves, hills)
def test_hill_activation_and_repression_are_complementary_and_bounded(x, half, n):
    x = torch.tensor(x, dtype=torch.float64)
    up, down = hill_activation(x, half, n), hill_repression(x, half, n)
    assert 0.0 <= up <= 1.0 and 0.0 <= down <= 1.0
    assert float(up + down) == pytest.approx(1.0, abs=1e-12)
    assert float(up) == pytest.approx(float(x) ** n / (half**n + float(x) ** n) if x > 0 else 0.0, rel=1e-9, abs=1e-12)


@given(halves, hills)
def test_hill_is_half_at_its_constant(half, n):
    assert float(hill_activation(torch.tensor(half, dtype=torch.float64), half, n)) == pytest.approx(0.5)


@given(st.lists(levels, min_size=2, max_size=10), halves, hills)
def test_hill_activation_is_monotone(xs, half, n):
    x = torch.tensor(sorted(xs), dtype=torch.float64)
    assert (hill_activation(x, half, n).diff() >= -1e-15).all()


@pytest.mark.parametrize("n", [0.5, 1.0, 2.5, 3.0])
def test_hill_treats_negative_levels_and_minus_zero_as_zero(n):
    x = torch.tensor([-3.0, -0.0, 0.0])  # -0: K / -0 = -inf, and sqrt(-inf) (n = 1/2) is NaN
    assert torch.equal(hill_activation(x, 1.0, n), torch.zeros(3))
    assert torch.equal(hill_activation(x, 1.0, n, out=torch.empty(3)), torch.zeros(3))
    assert torch.equal(hill_repression(x, 1.0, n), torch.ones(3))
    assert torch.equal(shifted_hill(x, 1.0, n, 3.0), torch.ones(3))


@given(levels, halves, hills, st.floats(0.0, 20.0))
def test_shifted_hill_matches_racipe_form(x, half, n, fold):
    xt = torch.tensor(x, dtype=torch.float64)
    minus = 1.0 / (1.0 + (x / half) ** n)
    assert float(shifted_hill(xt, half, n, fold)) == pytest.approx(minus + fold * (1 - minus), rel=1e-9, abs=1e-12)


def test_shifted_hill_limits():
    assert float(shifted_hill(torch.tensor(0.0), 1.0, 2.0, 5.0)) == 1.0
    assert float(shifted_hill(torch.tensor(1e9, dtype=torch.float64), 1.0, 2.0, 5.0)) == pytest.approx(5.0)


@given(
    st.lists(st.tuples(levels, halves, hills, st.floats(0.0, 100.0)), min_size=1, max_size=12),
    st.sampled_from([torch.float32, torch.float64]),
)
def test_shifted_hill_with_a_parameter_per_entry_is_the_two_term_form(entries, dtype):
    """RACIPE's members each carry their own K, n and lambda; the one-power form equals the two-term one."""
    x, half, n, fold = (torch.tensor(column, dtype=dtype) for column in zip(*entries))
    two_terms = hill_repression(x, half, n) + fold * hill_activation(x, half, n)
    tolerance = 1e-12 if dtype == torch.float64 else 1e-5
    torch.testing.assert_close(shifted_hill(x, half, n, fold), two_terms, rtol=tolerance, atol=tolerance)
    overflowing = torch.full_like(x, torch.finfo(dtype).max)  # (x/K)^n = inf for K < 1 or n > 1
    assert torch.equal(shifted_hill(overflowing, 0.5, 2.0, fold), fold)


def test_translation_is_linear():
    m = torch.tensor([0.0, 1.0, 2.5])
    assert torch.equal(translation(m, 0.4), 0.4 * m)


def test_transcription_composes_sum_times_product():
    u = torch.tensor([0.0, 1.0, 3.0], dtype=torch.float64)
    p = torch.tensor([0.2, 0.5, 2.0], dtype=torch.float64)
    pool = torch.tensor([0.1, 1.0, 4.0], dtype=torch.float64)
    terms = [Basal(0.1), DriveActivation(2.0, 1.0, 2.0), SelfActivation(0.5, 0.5, 4.0), PoolRepression(1.0, 3.0)]
    tx = Transcription(terms)
    f = tx.rate(torch.zeros_like(p), p, u, tx.constant_part(u), pool)
    expected = []
    for ui, pi, qi in zip(u.tolist(), p.tolist(), pool.tolist()):
        additive = 0.1 + 2.0 * ui**2 / (1 + ui**2) + 0.5 * pi**4 / (0.5**4 + pi**4)
        expected.append(additive / (1 + qi**3))
    assert torch.allclose(f, torch.tensor(expected, dtype=torch.float64), rtol=1e-12)
    assert tx.uses_state and tx.uses_pool


def test_transcription_without_state_terms_is_constant():
    tx = Transcription([Basal(0.3), DriveActivation(1.0, 1.0, 1.0)])
    u = torch.tensor([1.0, 3.0])
    c = tx.constant_part(u)
    f1 = tx.rate(torch.zeros(2), torch.zeros(2), u, c)
    f2 = tx.rate(torch.ones(2) * 7, torch.ones(2) * 9, u, c)
    assert torch.equal(f1, f2)
    assert torch.allclose(f1, torch.tensor([0.3 + 0.5, 0.3 + 0.75]))
    assert not tx.uses_state


def test_pool_repression_needs_a_pool():
    with pytest.raises(ValueError, match="pooled protein"):
        PoolRepression(1.0, 2.0)(torch.zeros(1), torch.zeros(1), torch.zeros(1), None)


def test_hill_keeps_device_and_dtype():
    x = torch.rand(4, dtype=torch.float64)
    assert hill_activation(x, 1.0, 2.0).dtype == torch.float64
    assert math.isfinite(float(hill_activation(torch.tensor(1e30), 1.0, 8.0)))


@given(
    st.lists(st.floats(-10.0, 1e4, allow_nan=False), min_size=1, max_size=40),
    halves,
    hills,
    st.floats(1e-3, 10.0),
    st.sampled_from([torch.float32, torch.float64]),
)
def test_the_scaled_drive_activation_times_its_factor_is_the_term(xs, half, n, rate, dtype):
    u = torch.tensor(xs + [0.0], dtype=dtype)  # 0 included: x^-n is infinite there, the term 0
    term = DriveActivation(rate, half, n)
    expected = term.write(u, torch.empty_like(u)).double()
    g = torch.empty_like(u)
    factor = term.write_scaled(u, g)
    tolerance = 1e-12 if dtype == torch.float64 else 4e-6
    assert torch.allclose(factor * g.double(), expected, rtol=tolerance, atol=rate * tolerance)
    assert torch.all(g >= 0) and float(g[-1]) == 0.0
    in_place = u.clone()
    assert term.write_scaled(in_place, in_place) == factor and torch.equal(in_place, g)  # `out` may be `u`


def test_a_half_constant_whose_power_leaves_the_dtype_writes_the_term_itself():
    u = torch.tensor([0.0, 1e-25, 3e-20, 1.0])
    term = DriveActivation(0.5, 1e-20, 2.0)  # K^-n = 1e40 overflows float32
    g = torch.empty_like(u)
    assert term.write_scaled(u, g) == 1.0
    assert torch.equal(g, term.write(u, torch.empty_like(u)))


def test_scaled_constant_rate_folds_one_term_and_returns_any_other_sum_as_it_is():
    u = torch.rand(50, dtype=torch.float64) * 3
    single = Transcription([DriveActivation(0.3, 1.5, 2.0)])
    g, factor = single.scaled_constant_rate(u)
    assert factor == pytest.approx(0.3 * 1.5**-2.0)
    assert torch.allclose(factor * g, single.constant_rate(u), rtol=1e-12)
    basal = Transcription([Basal(0.2)])
    g, factor = basal.scaled_constant_rate(u)
    assert factor == 0.2 and torch.equal(g, torch.ones_like(u))
    both = Transcription([DriveActivation(0.3, 1.5, 2.0), Basal(0.2)])
    g, factor = both.scaled_constant_rate(u)
    assert factor == 1.0 and torch.equal(g, both.constant_rate(u))
    with pytest.raises(ValueError, match="reads the state"):
        Transcription([SelfActivation(0.1, 1.0, 2.0)]).scaled_constant_rate(u)


@given(
    st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=30),
    st.floats(1e-3, 10.0),
    st.floats(1e-3, 10.0),
    st.sampled_from([torch.float32, torch.float64]),
)
def test_signed_drive_activation_is_v_sigmoid_and_keeps_rates_in_0_v(values, rate, half, dtype):
    """a = v / (1 + exp(-u / K)): in [0, v] for any u, v/2 (basal) at u = 0; write equals call."""
    from biogrn.dynamics import SignedDriveActivation

    term = SignedDriveActivation(rate, half)
    u = torch.tensor(values, dtype=dtype)
    a = term(u, u, u, None)
    expected = torch.tensor([rate / (1 + math.exp(min(-x / half, 700))) for x in values], dtype=dtype)
    torch.testing.assert_close(a, expected, rtol=1e-5 if dtype == torch.float32 else 1e-12, atol=1e-30)
    assert ((a >= 0) & (a <= rate * (1 + 1e-6))).all()
    assert float(term(torch.zeros(1), None, torch.zeros(1), None)) == pytest.approx(rate / 2)
    out = torch.empty_like(u)
    torch.testing.assert_close(term.write(u, out), a)
