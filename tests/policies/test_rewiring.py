import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import chisquare

from biogrn.policies import (
    ConstantSigma,
    ExponentialSigma,
    PaperSigma,
    deficit,
    gumbel_topk,
    make_sigma_schedule,
    mean_distance,
    rewiring_logits,
    rewiring_probabilities,
)

F64 = torch.float64


@given(st.lists(st.floats(0, 10), min_size=1, max_size=50), st.floats(0.05, 5.0), st.integers(0, 2**31 - 1))
def test_probabilities_sum_to_one_over_candidates_and_follow_eq3(deltas, sigma, seed):
    delta = torch.tensor(deltas, dtype=F64)
    gen = torch.Generator().manual_seed(seed)
    candidates = torch.rand(len(deltas), generator=gen) < 0.6
    p = rewiring_probabilities(delta, candidates, sigma)
    if not candidates.any():
        assert (p == 0).all()
        return
    assert float(p.sum()) == pytest.approx(1.0)
    assert (p[~candidates] == 0).all()
    raw = torch.exp(-delta[candidates] / sigma)
    assert torch.allclose(p[candidates], raw / raw.sum())


@given(st.integers(1, 200), st.integers(0, 2**31 - 1), st.data())
def test_gumbel_topk_draws_k_distinct_candidates(n, seed, data):
    gen = torch.Generator().manual_seed(seed)
    candidates = torch.rand(n, generator=gen) < 0.5
    n_candidates = int(candidates.sum())
    k = data.draw(st.integers(0, n_candidates))
    logits = rewiring_logits(torch.rand(n, generator=gen, dtype=F64) * 5, candidates, 0.7)
    drawn = gumbel_topk(logits, k, gen)
    assert drawn.numel() == k and drawn.unique().numel() == k
    assert candidates[drawn].all()


def test_gumbel_topk_refuses_more_than_the_candidates():
    logits = rewiring_logits(torch.zeros(4), torch.tensor([True, False, True, False]), 1.0)
    with pytest.raises(ValueError, match="exceeds the number of candidates"):
        gumbel_topk(logits, 3)
    with pytest.raises(ValueError, match="k: -1"):
        gumbel_topk(logits, -1)


def test_single_draws_follow_the_eq3_probabilities():
    delta = torch.tensor([0.0, 0.5, 1.0, 2.0, 0.2], dtype=F64)
    candidates = torch.tensor([True, True, True, True, False])
    p = rewiring_probabilities(delta, candidates, 0.8)
    logits = rewiring_logits(delta, candidates, 0.8).expand(20000, 5).contiguous()
    gen = torch.Generator().manual_seed(1)
    uniform = torch.rand(logits.shape, generator=gen, dtype=F64)
    first = (logits - torch.log(-torch.log(uniform))).argmax(dim=1)
    counts = torch.bincount(first, minlength=5).numpy()
    assert counts[4] == 0
    _, pvalue = chisquare(counts[:4], 20000 * p[:4].numpy())
    assert pvalue > 1e-3
    # and through the public function, one draw at a time
    hits = np.zeros(5)
    for _ in range(3000):
        hits[int(gumbel_topk(rewiring_logits(delta, candidates, 0.8), 1, gen))] += 1
    _, pvalue = chisquare(hits[:4], 3000 * p[:4].numpy())
    assert pvalue > 1e-3


def test_same_generator_seed_same_draws():
    logits = rewiring_logits(
        torch.rand(100, generator=torch.Generator().manual_seed(0)), torch.ones(100, dtype=torch.bool), 1.0
    )
    a = gumbel_topk(logits, 10, torch.Generator().manual_seed(5))
    b = gumbel_topk(logits, 10, torch.Generator().manual_seed(5))
    assert torch.equal(a.sort().values, b.sort().values)


def test_deficit_and_mean_distance():
    s = torch.tensor([1.0, 2.0, 4.0, 5.0])
    assert deficit(s, 3.0).tolist() == [2.0, 1.0, 0.0, 0.0]
    assert mean_distance(s).tolist() == [2.0, 1.0, 1.0, 2.0]
    with pytest.raises(ValueError, match="sigma"):
        rewiring_logits(s, torch.ones(4, dtype=torch.bool), 0.0)


def test_sigma_schedules():
    paper = PaperSigma(2.0, 0.5)
    assert [paper(t, 0) for t in (0.0, 0.25, 0.5, 0.9, 1.0)] == [2.0, 1.5, 1.0, 0.5, 0.5]
    exp = ExponentialSigma(2.0, 0.5, 0.5)
    assert [exp(0.0, e) for e in (0, 1, 2, 5)] == [2.0, 1.0, 0.5, 0.5]
    assert ConstantSigma(0.7)(0.9, 9) == 0.7
    assert isinstance(make_sigma_schedule("paper", 2, 0.5, 0.9), PaperSigma)
    with pytest.raises(ValueError, match="sigma_schedule"):
        make_sigma_schedule("cosine", 2, 0.5, 0.9)
    assert math.isclose(make_sigma_schedule("exponential", 1, 0.1, 0.9)(0, 1), 0.9)


@given(st.integers(1, 20_000), st.integers(1, 300), st.floats(0.0, 0.99), st.integers(0, 2**16), st.booleans())
def test_the_prefiltered_top_k_is_exactly_topk(n, k, masked, seed, ties):
    from biogrn.policies._rewiring import _largest

    generator = torch.Generator().manual_seed(seed)
    keys = torch.randn(n, generator=generator)
    if ties:
        keys = keys.round()
    keys[torch.rand(n, generator=generator) < masked] = -math.inf
    k = min(k, n)
    values, indices = _largest(keys, k)
    expected = torch.topk(keys, k, sorted=False).values
    assert torch.equal(keys[indices], values)
    assert torch.equal(values.sort().values, expected.sort().values)
    assert indices.unique().numel() == k
