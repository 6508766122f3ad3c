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


def test_hill_treats_negative_levels_as_zero():
    assert float(hill_activation(torch.tensor(-3.0), 1.0, 2.5)) == 0.0
    assert float(hill_repression(torch.tensor(-3.0), 1.0, 2.5)) == 1.0


@given(levels, halves, hills, st.floats(0.0, 20.0))
def test_shifted_hill_matches_racipe_form(x, half, n, fold):
    xt = torch.tensor(x, dtype=torch.float64)
    minus = 1.0 / (1.0 + (x / half) ** n)
    assert float(shifted_hill(xt, half, n, fold)) == pytest.approx(minus + fold * (1 - minus), rel=1e-9, abs=1e-12)


def test_shifted_hill_limits():
    assert float(shifted_hill(torch.tensor(0.0), 1.0, 2.0, 5.0)) == 1.0
    assert float(shifted_hill(torch.tensor(1e9, dtype=torch.float64), 1.0, 2.0, 5.0)) == pytest.approx(5.0)


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
