"""The `hysteresis` policy (each gene's own on/off switch) and the `track` rule of `paper`."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import biogrn
from biogrn.core import ConfigError
from biogrn.policies import HysteresisPolicy, PaperThreshold, PolicyView, expression_quantile


def view(expression, mask, magnitude=None, allow=None, slices=None, epochs_done=10.0):
    n = expression.numel()
    return PolicyView(
        magnitude=torch.rand(n) if magnitude is None else magnitude,
        expression=expression,
        mask=mask.float(),
        allow=torch.ones(n, dtype=torch.bool) if allow is None else allow,
        slices=(slice(0, n),) if slices is None else slices,
        epoch=int(epochs_done),
        epochs_done=epochs_done,
        time=0.5,
        sigma=1.0,
        generator=torch.Generator().manual_seed(0),
    )


@settings(max_examples=80)
@given(st.integers(1, 200), st.floats(0.0, 1.0), st.integers(0, 2**31))
def test_the_expression_quantile_leaves_floor_qn_allowed_genes_strictly_below(n, q, seed):
    generator = torch.Generator().manual_seed(seed)
    p = torch.randperm(10 * n, generator=generator)[:n].double()  # distinct values
    allow = torch.rand(n, generator=generator) < 0.8
    theta = expression_quantile(p, allow, q)
    allowed = p[allow].numpy()
    if allowed.size == 0 or q == 0.0:
        assert theta == -math.inf
    elif q == 1.0:
        assert theta == math.inf
    else:
        assert int((allowed < float(theta)).sum()) == min(math.floor(q * allowed.size), allowed.size - 1)


@settings(max_examples=60)
@given(st.integers(20, 300), st.floats(0.05, 0.9), st.floats(0.0, 0.3), st.integers(0, 2**31))
def test_sparsity_lands_in_the_band_and_a_second_update_on_the_same_expression_changes_nothing(n, s, band, seed):
    generator = torch.Generator().manual_seed(seed)
    p = torch.rand(n, generator=generator, dtype=torch.float64)
    mask = torch.rand(n, generator=generator) < 0.5
    policy = HysteresisPolicy(final=s, band=band, start=0.0, end=1.0, max_regrow_fraction=10.0)  # no cap
    decision = policy.decide(view(p, mask))
    after = (mask & ~decision.prune) | decision.grow
    pruned = n - int(after.sum())
    upper = s + band * (1 - s)
    assert math.floor(s * n) <= pruned <= max(math.floor(upper * n) + 1, math.floor(s * n))
    again = policy.decide(view(p, after))
    assert not again.prune.any() and not again.grow.any()  # no flapping: the state is a fixed point


@settings(max_examples=40)
@given(st.integers(10, 200), st.integers(0, 2**31))
def test_only_expression_decides_not_the_weight_magnitude(n, seed):
    generator = torch.Generator().manual_seed(seed)
    p, mask = torch.rand(n, generator=generator), torch.rand(n, generator=generator) < 0.6
    policy = HysteresisPolicy(final=0.5, band=0.1, max_regrow_fraction=1.0)
    first = policy.decide(view(p, mask, magnitude=torch.rand(n, generator=generator)))
    second = policy.decide(view(p, mask, magnitude=100 * torch.rand(n, generator=generator)))
    assert torch.equal(first.prune, second.prune) and torch.equal(first.grow, second.grow)


def test_regrowth_is_capped_and_takes_the_highest_expressed_first():
    p = torch.arange(100, dtype=torch.float32)
    mask = torch.zeros(100, dtype=torch.bool)
    mask[:50] = True  # the 50 least expressed are active: everything should flip
    decision = HysteresisPolicy(final=0.5, band=0.0, max_regrow_fraction=0.1).decide(view(p, mask))
    assert decision.prune.sum() == 50
    assert torch.equal(torch.nonzero(decision.grow).ravel(), torch.arange(95, 100))  # 10% of 50, the top five


def test_genes_switch_on_and_off_during_training_and_the_sparsity_follows_the_band():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    reg = biogrn.regulate(
        model,
        optimizer=optimizer,
        policy="hysteresis",
        target_sparsity=0.6,
        hysteresis_band=0.1,
        start_epoch=1,
        end_epoch=3,
        epochs=8,
        integrate_every=4,
        max_regrow_fraction=0.5,
    )
    x, y = torch.randn(128, 16), torch.randint(0, 4, (128,))
    for _ in range(8):
        for batch in range(8):
            optimizer.zero_grad()
            rows = slice(batch * 16, (batch + 1) * 16)
            nn.functional.cross_entropy(model(x[rows]), y[rows]).backward()
            optimizer.step()
            reg.step()
        reg.epoch_end(0.5)
    assert 0.6 - 1e-6 <= reg.sparsity() <= 0.64 + 0.05
    assert sum(sum(event["n_regrown"]) for event in reg.history) > 0


def test_listing_refuses_the_track_rule():
    with pytest.raises(ConfigError, match="median_rule"):
        biogrn.regulation.make_config(policy="listing", median_rule="track")


@settings(max_examples=60)
@given(st.integers(20, 400), st.floats(0.1, 10.0), st.integers(0, 2**31))
def test_track_keeps_tau_at_its_ratio_to_the_median_so_rescaled_scores_prune_nothing_new(n, scale, seed):
    generator = torch.Generator().manual_seed(seed)
    scores = torch.rand(n, generator=generator, dtype=torch.float64) + 0.1
    active = torch.ones(n, dtype=torch.bool)
    threshold = PaperThreshold(sigmas=0.0, median_rule="track")
    prune, tau = threshold.select(scores, active, [slice(0, n)], [0], 6.0)
    survivors = active & ~prune
    ratio = float(tau[0]) / float(scores[survivors].median())
    assert 0 < ratio <= 1
    prune2, tau2 = threshold.select(scale * scores, survivors, [slice(0, n)], [0], 7.0)
    assert float(tau2[0]) == pytest.approx(scale * float(tau[0]), rel=1e-9)
    assert not prune2.any()
    # a survivor that falls behind the others is pruned, whatever the scale
    fallen = scores.clone()
    fallen[torch.nonzero(survivors)[0]] = 0.0
    prune3, _ = threshold.select(scale * fallen, survivors, [slice(0, n)], [0], 8.0)
    assert int(prune3.sum()) >= 1


def test_when_the_remaining_scores_grow_cap_leaves_tau_behind_and_track_follows():
    # after a prune at sparsity s the survivors' mean-normalised magnitudes grow as 1 / (1 - s)
    scores = torch.linspace(0.0, 1.0, 101, dtype=torch.float64)
    active = torch.ones(101, dtype=torch.bool)
    results = {}
    for rule in ("cap", "track"):
        threshold = PaperThreshold(sigmas=0.0, median_rule=rule)
        prune, tau = threshold.select(scores, active, [slice(0, 101)], [0], 6.0)
        _, tau2 = threshold.select(2.0 * scores, active & ~prune, [slice(0, 101)], [0], 7.0)
        results[rule] = (float(tau[0]), float(tau2[0]))
    assert results["cap"][1] == results["cap"][0]  # every survivor is above tau: cap never moves again
    assert results["track"][1] == pytest.approx(2 * results["track"][0])


def test_a_checkpoint_without_the_track_ratio_still_loads():
    threshold = PaperThreshold(median_rule="track")
    state = {"tau": torch.tensor([0.5]), "frozen": False, "history": [0.1]}
    threshold.load_state_dict(state)
    assert threshold.ratio is None and np.isclose(float(threshold.tau[0]), 0.5)
