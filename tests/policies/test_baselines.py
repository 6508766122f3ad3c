"""Baseline policies (magnitude, SET, RigL, the seed listing) against hand-computed updates."""

import copy
import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn
from torch.nn.utils import prune as torch_prune

from biogrn.policies import cubic_sparsity, drop_fraction
from biogrn.regulation import regulate


def single_layer(policy, seed=0, **overrides):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(6, 5))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    settings = dict(policy=policy, epochs=8, start_epoch=0, end_epoch=6, seed=seed)
    settings.update(overrides)
    return model, optimizer, regulate(model, optimizer=optimizer, **settings)


def train_steps(model, optimizer, regulator, n=3):
    for _ in range(n):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(torch.randn(8, 6)), torch.randint(0, 5, (8,))).backward()
        optimizer.step()
        regulator.step()


def weight(regulator):
    return regulator.tensors[0].original


@given(t=st.floats(0, 20), fraction=st.floats(0, 1), end=st.floats(0.1, 20))
def test_drop_fraction_schedules(t, fraction, end):
    cosine = drop_fraction(t, fraction, end, "cosine")
    assert 0 <= cosine <= fraction + 1e-12
    assert drop_fraction(t, fraction, end, "constant") == (fraction if t < end else 0.0)
    if t >= end:
        assert cosine == 0.0
    else:
        assert math.isclose(cosine, fraction / 2 * (1 + math.cos(math.pi * t / end)), abs_tol=1e-12)


@pytest.mark.parametrize("policy", ["set", "rigl"])
def test_sparse_policies_start_at_the_target_inside_the_allow_mask(policy):
    model, optimizer, reg = single_layer(policy, target_sparsity=0.6)
    assert (reg.mask == 0).sum() == round(0.6 * 30)
    assert (weight(reg)[reg.masks()["0.weight"] == 0] == 0).all()

    allow = torch.rand(5, 6, generator=torch.Generator().manual_seed(3)) < 0.7
    model, optimizer, reg = single_layer(policy, target_sparsity=0.5, allow={"0.weight": allow})
    active = reg.masks()["0.weight"]
    assert active.sum() == min(int(allow.sum()), 15) and not (active & ~allow).any()
    for _ in range(4):
        train_steps(model, optimizer, reg)
        reg.epoch_end(0.5)
        assert not (reg.masks()["0.weight"] & ~allow).any()  # never grows outside the allow-mask


def test_magnitude_follows_the_cubic_schedule_and_matches_torch_prune():
    model, optimizer, reg = single_layer("magnitude", target_sparsity=0.8)
    for epoch in range(1, 8):
        train_steps(model, optimizer, reg)
        before = weight(reg).detach().clone() * reg.masks()["0.weight"]
        reg.epoch_end(0.5)
        target = round(cubic_sparsity(epoch, 0.0, 0.8, 0, 6) * 30)
        assert (reg.mask == 0).sum() == target
        reference = nn.Linear(6, 5)
        with torch.no_grad():
            reference.weight.copy_(before)
        torch_prune.l1_unstructured(reference, "weight", amount=target)
        assert torch.equal(reference.weight_mask.bool(), reg.masks()["0.weight"])


def test_set_drops_the_smallest_and_grows_as_many_among_the_inactive():
    model, optimizer, reg = single_layer("set", target_sparsity=0.5, drop_fraction=0.4, drop_schedule="constant")
    for _ in range(5):
        train_steps(model, optimizer, reg)
        active_before = reg.masks()["0.weight"].flatten()
        magnitude = weight(reg).detach().abs().flatten()
        reg.epoch_end(0.5)
        history = reg.history[-1]
        k = math.floor(0.4 * int(active_before.sum()))
        assert history["n_pruned"] == [k] and history["n_regrown"] == [k]
        after = reg.masks()["0.weight"].flatten()
        assert after.sum() == active_before.sum()  # SET keeps the count
        dropped = active_before & ~after
        expected = torch.zeros(30, dtype=torch.bool)
        expected[torch.where(active_before, magnitude, math.inf).argsort()[:k]] = True
        assert torch.equal(dropped, expected)
        grown = after & ~active_before
        assert grown.sum() == k and (weight(reg).detach().flatten()[grown] == 0).all()


def test_rigl_grows_exactly_the_largest_gradient_positions():
    model, optimizer, reg = single_layer("rigl", target_sparsity=0.5, drop_fraction=0.5)
    train_steps(model, optimizer, reg)
    record = reg.records[0]
    active = reg.masks()["0.weight"].flatten()
    magnitude = weight(reg).detach().abs().flatten()
    gradient = torch.randn(30)
    record.last_grad.copy_(gradient.view(5, 6))
    fraction = drop_fraction(reg.epochs_done, 0.5, 6, "cosine")
    k = math.floor(fraction * 15)
    assert k > 0
    reg.update()

    drop = torch.where(active, magnitude, math.inf).argsort()[:k]
    eligible = ~active
    eligible[drop] = True
    grow = torch.where(eligible, gradient.abs(), -math.inf).argsort(descending=True)[:k]
    expected = active.clone()
    expected[drop] = False
    expected[grow] = True
    assert torch.equal(reg.masks()["0.weight"].flatten(), expected)
    assert reg.masks()["0.weight"].sum() == 15
    assert (weight(reg).detach().flatten()[grow] == 0).all()  # regrown weights restart at zero


def listing_reference(weight, grad, mask, candidates, epoch, epochs, alpha=0.5, beta=0.2):
    """The seed listing's dynamic_pruning for one layer, as its loops do it (rewiring off)."""
    scores = np.abs(weight) + alpha * np.abs(grad) + beta * epoch / epochs
    threshold = scores.mean() + 0.5 * scores.std(ddof=1)
    new_mask = (scores >= threshold).astype(float)
    for index in zip(*np.nonzero((mask - new_mask) > 0)):
        candidates.add(index)
    return new_mask, candidates


def test_listing_matches_a_loop_transcription_of_the_seed_listing():
    model, optimizer, reg = single_layer("listing", rewire=False, median_rule="never", start_epoch=1)
    candidates = set()
    for epoch in range(1, 6):
        train_steps(model, optimizer, reg)
        w = weight(reg).detach().numpy().copy()
        masked_grad = (reg.records[0].last_grad * reg.masks()["0.weight"]).numpy()
        old_mask = reg.masks()["0.weight"].numpy().astype(float)
        reg.epoch_end(0.5)
        if epoch > 1:  # the regulator prunes after start_epoch epochs; the listing's epoch index is epoch - 1
            expected, candidates = listing_reference(w, masked_grad, old_mask, candidates, epoch - 1, 8)
            assert np.array_equal(reg.masks()["0.weight"].numpy(), expected.astype(bool))
            got = {tuple(int(v) for v in divmod(int(i), 6)) for i in reg.policy.candidates.nonzero().flatten()}
            assert got == candidates
            assert np.array_equal(weight(reg).detach().numpy(), w)  # the listing never zeroes weights


def test_listing_rewires_at_most_max_regrow_of_its_candidates(monkeypatch):
    model, optimizer, reg = single_layer("listing", max_regrow=2, median_rule="never")
    candidates = torch.zeros(30, dtype=torch.bool)
    for shift in (0.0, 0.3):
        scores = torch.linspace(0, 1, 30).roll(int(shift * 30)) + shift
        monkeypatch.setattr(reg.policy, "scores", lambda reg, scores=scores: scores)
        keep = scores >= scores.mean() + 0.5 * scores.std()
        active = reg.mask > 0
        reg.update()
        pool = candidates | (active & ~keep)
        drawn = pool & ~reg.policy.candidates
        assert drawn.sum() == min(2, int(pool.sum()))  # min(max_reconnections, len(candidates))
        assert torch.equal(reg.mask > 0, keep | drawn)
        assert torch.equal(reg.policy.candidates, pool & ~drawn)
        candidates = reg.policy.candidates.clone()


def test_baselines_do_not_integrate_the_gene_state():
    model, optimizer, reg = single_layer("rigl", integrate_every=1)
    y = reg.genes.y.clone()
    train_steps(model, optimizer, reg, 4)
    reg.epoch_end(0.5)
    assert torch.equal(reg.genes.y, y)
    with pytest.raises(RuntimeError, match="keeps no last gradient"):
        single_layer("set")[2].last_gradient()


@pytest.mark.parametrize("policy", ["magnitude", "movement", "set", "rigl", "listing"])
def test_state_dict_round_trip_continues_identically(policy):
    a_model, a_opt, a = single_layer(policy, target_sparsity=0.5)
    train_steps(a_model, a_opt, a)
    a.epoch_end(0.5)
    b_model, b_opt, b = single_layer(policy, target_sparsity=0.5, seed=0)
    b_model.load_state_dict(copy.deepcopy(a_model.state_dict()))
    b_opt.load_state_dict(copy.deepcopy(a_opt.state_dict()))  # shares tensors with a_opt otherwise
    b.load_state_dict(copy.deepcopy(a.state_dict()))
    torch.manual_seed(5)
    train_steps(a_model, a_opt, a)
    a.epoch_end(0.6)
    torch.manual_seed(5)
    train_steps(b_model, b_opt, b)
    b.epoch_end(0.6)
    assert torch.equal(a.mask, b.mask) and torch.equal(weight(a), weight(b))


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_the_sparse_start_is_independent_of_the_weight_initialisation(seed):
    # regression: a regulator generator seeded like torch's global one replayed the initialiser's
    # uniforms and kept only the smallest (negative) weights
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(64, 128))
    initial = model[0].weight.detach().clone()
    reg = regulate(model, policy="set", target_sparsity=0.5, start_epoch=0, end_epoch=2, epochs=3, seed=seed)
    kept = reg.masks()["0.weight"]
    positive = int((initial[kept] > 0).sum())
    assert abs(positive - 2048) < 5 * math.sqrt(4096 * 0.25)  # a fair coin: within 5 sigma
    assert abs(float(initial[kept].abs().mean() / initial.abs().mean()) - 1) < 0.05


@given(seed=st.integers(0, 2**64), other=st.integers(0, 2**64))
def test_stream_seeds_are_deterministic_distinct_and_in_range(seed, other):
    from biogrn.core import stream_seed

    a, b = stream_seed(seed, "regulator"), stream_seed(seed, "shuffle")
    assert a == stream_seed(seed, "regulator") and a != b and 0 <= a < 2**63
    if other != seed:
        assert stream_seed(other, "regulator") != a


def test_movement_policy_keeps_the_top_of_the_accumulated_score_per_layer_and_lets_pruned_return():
    """Sanh et al.'s hard top-k: each layer keeps round((1 - s) n) by S; the mask is recomputed, so a
    pruned connection whose score climbed back returns, and one outside the allow-mask never does."""
    import torch

    from biogrn.policies import MovementPolicy, PolicyView, ScheduledThreshold

    movement = torch.tensor([5.0, -1.0, 3.0, 0.5, 2.0, 9.0, -4.0, 1.0])
    mask = torch.tensor([1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0])
    allow = torch.tensor([True] * 7 + [False])
    view = PolicyView(
        magnitude=torch.ones(8), expression=torch.ones(8), mask=mask, allow=allow,
        slices=(slice(0, 4), slice(4, 8)), epoch=5, epochs_done=5.0, time=0.5, sigma=1.0,
        generator=torch.Generator(), movement=movement,
    )  # fmt: skip
    decision = MovementPolicy(ScheduledThreshold(0.5, 0.0, 0.0, 1.0)).decide(view)  # s = 0.5 from epoch 1
    keep = (mask.bool() & ~decision.prune) | decision.grow
    assert keep.tolist() == [True, False, True, False, True, True, False, False]
    assert decision.grow.tolist()[2] and not decision.grow[7]  # index 2 returns; 7 is not allowed
    assert decision.tau.tolist() == [3.0, 2.0]


def test_the_movement_policy_keeps_pruned_weights_and_their_score_moving():
    """Pruned weights keep their values under the mask (they take no gradient; the optimizer's
    momentum may still move them, as in Sanh et al.'s training) and their score keeps accumulating
    -w g from the dense gradient, as under the paper's straight-through top-k."""
    model, optimizer, reg = single_layer("movement", target_sparsity=0.6, end_epoch=2)
    for _ in range(3):
        train_steps(model, optimizer, reg)
        reg.epoch_end(0.5)
    stored = model[0].parametrizations.weight.original.detach().clone()
    pruned = ~reg.masks()["0.weight"]
    assert pruned.float().mean() == pytest.approx(0.6, abs=0.05)
    assert (stored[pruned] != 0).all()  # kept, not zeroed
    before = reg.movement_score.clone()
    train_steps(model, optimizer, reg)
    assert (model[0].parametrizations.weight.original.grad[pruned] == 0).all()  # the mask stops their gradient
    reg.epoch_end(0.5)
    moved = (reg.movement_score - before).view(5, 6)[pruned]
    assert (moved != 0).any()  # the dense gradient still moves their score
