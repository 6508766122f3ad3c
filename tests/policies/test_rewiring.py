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
    draw_weighted,
    draw_without_replacement,
    gumbel_topk,
    make_sigma_schedule,
    mean_distance,
    rewiring_logits,
    rewiring_probabilities,
    rewiring_weights,
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


def _pair_probabilities(logits: torch.Tensor) -> dict[tuple[int, int], float]:
    """Exact law of the unordered pair drawn without replacement: P{i, j} = p_i p_j/(1 - p_i) + p_j p_i/(1 - p_j)."""
    p = torch.softmax(logits.double(), 0)
    drawable = torch.isfinite(logits).nonzero().squeeze(1).tolist()
    return {
        (i, j): float(p[i] * p[j] / (1 - p[i]) + p[j] * p[i] / (1 - p[j]))
        for a, i in enumerate(drawable)
        for j in drawable[a + 1 :]
    }


def _pair_law_pvalue(draw, logits: torch.Tensor, n: int = 12_000) -> float:
    law = _pair_probabilities(logits)
    cells = {pair: c for c, pair in enumerate(law)}
    counts = np.zeros(len(law))
    generator = torch.Generator().manual_seed(11)
    for _ in range(n):
        i, j = sorted(draw(logits, 2, generator).tolist())
        counts[cells[(i, j)]] += 1
    return chisquare(counts, n * np.array(list(law.values())))[1]


# 21 drawable entries: their weights sum to 16.5 >= 8k, so successive sampling draws (no hand-over)
PAIR_LOGITS = torch.cat([torch.linspace(0.0, -0.5, 21), torch.full((3,), -math.inf)])[
    torch.randperm(24, generator=torch.Generator().manual_seed(0))
]


def test_successive_draws_have_the_law_of_sampling_without_replacement(monkeypatch):
    from biogrn.policies import _rewiring

    handed_over = []
    monkeypatch.setattr(_rewiring, "gumbel_topk", lambda *a: handed_over.append(a) or gumbel_topk(*a))
    assert _pair_law_pvalue(draw_without_replacement, PAIR_LOGITS) > 1e-3
    assert not handed_over  # the successive path drew every pair


def test_the_hand_over_to_gumbel_keys_keeps_the_law(monkeypatch):
    from biogrn.policies import _rewiring

    # keep only the first new entry of each round (still successive sampling), so that one round
    # leaves the second pick to the Gumbel hand-over over the entries not yet kept
    first_only = _rewiring._first_occurrences
    monkeypatch.setattr(_rewiring, "_first_occurrences", lambda index: first_only(index)[:1])
    handed_over = []
    monkeypatch.setattr(_rewiring, "gumbel_topk", lambda *a: handed_over.append(a) or gumbel_topk(*a))
    draw = lambda logits, k, generator: draw_without_replacement(logits, k, generator, rounds=1)
    assert _pair_law_pvalue(draw, PAIR_LOGITS, n=6000) > 1e-3
    assert len(handed_over) == 6000 and all(a[1] == 1 for a in handed_over)


def test_gumbel_keys_have_the_same_pair_law():
    assert _pair_law_pvalue(gumbel_topk, PAIR_LOGITS, n=6000) > 1e-3


@given(st.integers(1, 3000), st.integers(0, 2**31 - 1), st.floats(0.01, 0.99), st.floats(0.05, 50.0), st.data())
def test_draw_without_replacement_returns_k_distinct_drawable_entries(n, seed, share, spread, data):
    gen = torch.Generator().manual_seed(seed)
    candidates = torch.rand(n, generator=gen) < share
    n_candidates = int(candidates.sum())
    k = data.draw(st.integers(0, n_candidates))
    logits = rewiring_logits(torch.rand(n, generator=gen) * spread, candidates, 1.0)
    drawn = draw_without_replacement(logits, k, torch.Generator().manual_seed(seed))
    assert drawn.numel() == k and drawn.unique().numel() == k
    assert candidates[drawn].all()
    again = draw_without_replacement(logits, k, torch.Generator().manual_seed(seed))
    assert torch.equal(drawn, again)  # a seed gives the same draw


def test_draw_without_replacement_refuses_more_than_the_candidates():
    logits = rewiring_logits(torch.zeros(40), torch.arange(40) < 20, 1.0)
    with pytest.raises(ValueError, match="exceeds the number of candidates"):
        draw_without_replacement(logits, 21)
    with pytest.raises(ValueError, match="k: -1"):
        draw_without_replacement(logits, -1)
    with pytest.raises(ValueError, match="exceeds the number of candidates"):
        draw_without_replacement(torch.full((5,), -math.inf), 1)


def test_draw_without_replacement_into_kept_buffers_equals_fresh_ones():
    from biogrn.core import Scratch

    logits = rewiring_logits(torch.rand(5000), torch.rand(5000) < 0.5, 0.3)
    scratch = Scratch()
    for seed in range(3):
        fresh = draw_without_replacement(logits, 50, torch.Generator().manual_seed(seed))
        kept = draw_without_replacement(logits, 50, torch.Generator().manual_seed(seed), scratch=scratch)
        assert torch.equal(fresh, kept)
    assert scratch.nbytes == 5000 * (4 + 8)  # one float32 weight and its float64 copy per entry, reused


def test_draws_spread_over_many_blocks_keep_the_law():
    # the 21 drawable entries of PAIR_LOGITS placed far apart among 3000 excluded ones, so that the
    # two-level inverse picks blocks first (and the last, partial block holds one of them)
    from biogrn.policies._rewiring import _BLOCK

    logits = torch.full((3000,), -math.inf)
    spots = torch.cat([torch.arange(20) * 140 + 7, torch.tensor([2999])])
    assert (spots // _BLOCK).unique().numel() > 8 and 3000 % _BLOCK
    logits[spots] = PAIR_LOGITS[torch.isfinite(PAIR_LOGITS)]
    assert _pair_law_pvalue(draw_without_replacement, logits, n=6000) > 1e-3


@given(
    st.lists(st.integers(0, 6), min_size=1, max_size=1500),
    st.lists(st.floats(0.0, 1.0, exclude_max=True), min_size=1, max_size=40),
)
def test_the_two_level_inverse_equals_the_inverse_of_the_whole_cumulative_sum(counts, u):
    # small integer weights sum exactly in any order, so both inverses must agree exactly
    from biogrn.policies._rewiring import _block_sums, _inverse_cdf

    weights = torch.tensor(counts, dtype=torch.float64)
    if weights.sum() == 0:
        return
    draws = torch.tensor(u, dtype=torch.float64)
    cumulative = weights.cumsum(0)
    expected = torch.searchsorted(cumulative, draws * cumulative[-1], right=True)
    got = _inverse_cdf(weights, _block_sums(weights).cumsum(0), draws.clone())
    assert torch.equal(got, expected)
    assert (weights[got] > 0).all()


@given(
    st.integers(1, 700),
    st.floats(0.01, 0.99),
    st.floats(0.01, 20.0),
    st.floats(0.01, 300.0),
    st.integers(0, 2**31 - 1),
)
def test_rewiring_weights_are_eq3_shifted_to_the_best_candidate(n, share, sigma, spread, seed):
    generator = torch.Generator().manual_seed(seed)
    delta = torch.rand(n, generator=generator, dtype=F64) * spread
    candidates = torch.rand(n, generator=generator) < share
    excluded = (~candidates).to(F64)
    weights = rewiring_weights(delta.clone(), excluded, sigma)
    assert (weights[~candidates] == 0).all()
    if not candidates.any():
        return
    exponent = -(delta[candidates] - delta[candidates].min()) / sigma
    assert torch.allclose(weights[candidates], exponent.clamp_min(-87.0).exp(), rtol=1e-9, atol=0)
    assert float(weights.max()) == 1.0 and float(weights[candidates].min()) >= math.exp(-87.0) * (1 - 1e-12)
    in_place = delta.clone()
    assert rewiring_weights(in_place, excluded, sigma, out=in_place) is in_place
    assert torch.equal(in_place, weights)


def test_weighted_draws_have_the_law_of_sampling_without_replacement():
    delta = torch.linspace(0.0, 0.5, 24)[torch.randperm(24, generator=torch.Generator().manual_seed(1))]
    excluded = torch.zeros(24)
    excluded[[3, 11, 17]] = 1.0
    weights = rewiring_weights(delta, excluded, 1.0)
    logits = torch.where(excluded > 0, -math.inf, -delta)
    assert _pair_law_pvalue(lambda _, k, generator: draw_weighted(weights, k, generator), logits) > 1e-3


def test_draw_weighted_leaves_its_weights_unchanged_and_refuses_too_few():
    weights = torch.rand(1000)
    before = weights.clone()
    drawn = draw_weighted(weights, 300, torch.Generator().manual_seed(0), rounds=1)
    assert drawn.unique().numel() == 300 and torch.equal(weights, before)
    with pytest.raises(ValueError, match="exceeds the number of candidates"):
        draw_weighted(torch.tensor([1.0, 0.0, 0.5]), 3)
