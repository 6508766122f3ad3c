import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from biogrn.policies import PaperThreshold, ScheduledThreshold, cubic_sparsity, lowest_active

F64 = torch.float64


def test_cubic_schedule_closed_values():
    assert cubic_sparsity(0.0, 0.0, 0.9, 2.0, 10.0) == 0.0
    assert cubic_sparsity(2.0, 0.1, 0.9, 2.0, 10.0) == pytest.approx(0.1)
    assert cubic_sparsity(6.0, 0.0, 0.8, 2.0, 10.0) == pytest.approx(0.8 - 0.8 * 0.5**3)
    assert cubic_sparsity(10.0, 0.0, 0.8, 2.0, 10.0) == pytest.approx(0.8)
    assert cubic_sparsity(50.0, 0.0, 0.8, 2.0, 10.0) == pytest.approx(0.8)


@given(st.floats(0, 0.5), st.floats(0.5, 0.99), st.lists(st.floats(0, 30), min_size=2, max_size=10))
def test_cubic_schedule_is_monotone_and_bounded(initial, final, epochs):
    values = [cubic_sparsity(e, initial, final, 3.0, 20.0) for e in sorted(epochs)]
    assert all(0.0 <= v <= final + 1e-12 for v in values)
    assert all(b >= a - 1e-12 for a, b in zip(values, values[1:]))


def test_lowest_active_picks_exactly_n_active():
    scores = torch.tensor([0.1, 5.0, 0.2, 3.0, 0.0])
    active = torch.tensor([True, True, True, True, False])
    assert lowest_active(scores, active, 2).tolist() == [True, False, True, False, False]
    assert not lowest_active(scores, active, 0).any()


def test_paper_threshold_starts_at_mean_plus_half_std_then_caps_at_the_median():
    scores = torch.tensor([1.0, 2.0, 3.0, 4.0, 10.0], dtype=F64)
    active = torch.ones(5, dtype=torch.bool)
    policy = PaperThreshold(sigmas=0.5, median_rule="cap")
    prune, tau = policy.select(scores, active, [slice(0, 5)], [0], 1.0)
    expected = scores.mean() + 0.5 * scores.std(unbiased=False)
    assert float(tau[0]) == pytest.approx(float(expected))
    assert prune.tolist() == [True, True, True, True, False]
    # later: remaining scores have a median below tau -> tau moves down to it
    active2 = torch.tensor([False, False, True, True, True])
    scores2 = torch.tensor([0.0, 0.0, 3.0, 6.0, 9.0], dtype=F64)
    prune2, tau2 = policy.select(scores2, active2, [slice(0, 5)], [0], 2.0)
    assert float(tau2[0]) == pytest.approx(min(float(expected), 6.0))
    assert prune2.tolist() == [False, False, True, False, False]


def test_paper_threshold_median_rules():
    scores = torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=F64)
    active = torch.ones(4, dtype=torch.bool)
    for rule, second in (("never", None), ("always", 2.0)):
        policy = PaperThreshold(median_rule=rule)
        _, first = policy.select(scores, active, [slice(0, 4)], [0], 0.0)
        _, tau = policy.select(
            scores * 0 + torch.tensor([5.0, 6.0, 7.0, 8.0], dtype=F64), active, [slice(0, 4)], [0], 1.0
        )
        assert float(tau[0]) == (float(first[0]) if second is None else 6.0)
    with pytest.raises(ValueError, match="median_rule"):
        PaperThreshold(median_rule="sometimes")


def test_paper_threshold_freezes_on_a_plateau_and_stops_moving():
    policy = PaperThreshold(patience=3, tol=0.01)
    for metric in (0.5, 0.7, 0.8, 0.805, 0.81):
        policy.observe(metric)
        assert not policy.frozen
    policy.observe(0.809)
    assert policy.frozen
    scores = torch.tensor([1.0, 2.0, 3.0], dtype=F64)
    active = torch.ones(3, dtype=torch.bool)
    _, tau = policy.select(scores, active, [slice(0, 3)], [0], 0.0)
    _, tau_after = policy.select(scores / 10, active, [slice(0, 3)], [0], 1.0)
    assert torch.equal(tau, tau_after)


def test_paper_threshold_is_per_scope():
    scores = torch.tensor([1.0, 3.0, 10.0, 30.0], dtype=F64)
    policy = PaperThreshold()
    prune, tau = policy.select(scores, torch.ones(4, dtype=torch.bool), [slice(0, 2), slice(2, 4)], [0, 0], 0.0)
    assert tau.tolist() == pytest.approx([2.5, 25.0])
    assert prune.tolist() == [True, False, True, False]


@given(st.integers(1, 400), st.floats(0.0, 0.95), st.integers(0, 50), st.integers(0, 2**31 - 1))
def test_target_threshold_holds_exactly_the_scheduled_count(n, sparsity, regrow, seed):
    gen = torch.Generator().manual_seed(seed)
    scores = torch.rand(n, generator=gen, dtype=F64)
    already = torch.rand(n, generator=gen) < sparsity / 2
    active = ~already
    k = min(regrow, int(already.sum()))
    policy = ScheduledThreshold(final=sparsity, start=0.0, end=1.0)
    prune, tau = policy.select(scores, active, [slice(0, n)], [k], 1.0)
    target = min(round(sparsity * n), n - 1)  # a layer always keeps a connection
    assert not (prune & ~active).any()
    n_pruned_after = int(already.sum() + prune.sum()) - k
    assert n_pruned_after == max(target, int(already.sum()) - k) or int(prune.sum()) == int(active.sum())
    if prune.any() and (active & ~prune).any():
        assert scores[prune].max() <= scores[active & ~prune].min()


@given(st.integers(1, 60), st.integers(0, 2**31 - 1), st.floats(-1.0, 2.0), st.booleans())
def test_cap_rule_equals_min_of_tau_and_the_remaining_median(n, seed, tau0, ties):
    gen = torch.Generator().manual_seed(seed)
    scores = torch.rand(2 * n, generator=gen, dtype=F64)
    if ties:
        scores = (scores * 4).round() / 4
    active = torch.rand(2 * n, generator=gen) < 0.7
    policy = PaperThreshold(median_rule="cap")
    policy.tau = torch.tensor([tau0, tau0], dtype=F64)
    scopes = [slice(0, n), slice(n, 2 * n)]
    _, tau = policy.select(scores, active, scopes, [0, 0], 1.0)
    for i, s in enumerate(scopes):
        remaining = scores[s][active[s]]
        expected = min(tau0, float(remaining.median())) if remaining.numel() else tau0
        assert float(tau[i]) == expected


@given(st.integers(1, 100), st.floats(0.9, 0.99999))
def test_a_target_near_one_keeps_a_connection_in_every_layer(n, sparsity):
    """target_sparsity 0.999 pruned a 48-weight layer to 100% (issue 37): round(s N) is capped at N - 1."""
    policy = ScheduledThreshold(final=sparsity, start=0.0, end=1.0)
    prune, _ = policy.select(torch.rand(n, dtype=F64), torch.ones(n, dtype=torch.bool), [slice(0, n)], [0], 1.0)
    assert int(prune.sum()) == min(round(sparsity * n), n - 1)
