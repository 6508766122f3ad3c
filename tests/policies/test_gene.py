"""`GenePolicy.decide`: the same decision whichever way its counts and exclusions are found."""

import dataclasses

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from biogrn.policies import GenePolicy, PaperThreshold, PolicyView


def view(seed: int, sizes: list[int], pruned: float, allow_share: float) -> PolicyView:
    generator = torch.Generator().manual_seed(seed)
    n = sum(sizes)
    allow = torch.rand(n, generator=generator) < allow_share
    mask = ((torch.rand(n, generator=generator) > pruned) & allow).float()
    starts = [sum(sizes[:i]) for i in range(len(sizes))]
    return PolicyView(
        magnitude=torch.rand(n, generator=generator) * mask,
        expression=torch.rand(n, generator=generator),
        mask=mask,
        allow=allow,
        slices=tuple(slice(a, a + s) for a, s in zip(starts, sizes)),
        epoch=3,
        epochs_done=3.0,
        time=0.3,
        sigma=0.4,
        generator=torch.Generator().manual_seed(seed + 1),
    )


def decide(v: PolicyView, first_tau: bool) -> tuple:
    policy = GenePolicy(PaperThreshold(), max_regrow=20, max_regrow_fraction=0.5)
    if not first_tau:  # a later update: tau is kept, and capped at the median
        policy.threshold.tau = torch.full((len(v.slices),), 1.2)
    v.generator.manual_seed(7)
    decision = policy.decide(v)
    return decision.prune, decision.grow, decision.tau


@settings(max_examples=40, deadline=None)
@given(
    st.integers(0, 2**20),
    st.lists(st.integers(1, 900), min_size=1, max_size=3),
    st.floats(0.05, 0.9),
    st.sampled_from([1.0, 0.7]),
    st.booleans(),
)
def test_the_regulators_counts_give_the_decision_the_policy_would_count(seed, sizes, pruned, allow_share, first):
    v = view(seed, sizes, pruned, allow_share)
    n_active = tuple(int(v.mask[s].sum()) for s in v.slices)
    counted = decide(v, first)
    given_counts = decide(dataclasses.replace(v, n_active=n_active), first)
    for a, b in zip(counted, given_counts):
        assert torch.equal(a, b)
    prune, grow, _ = counted
    active = v.mask > 0
    assert not (prune & ~active).any() and not (grow & (active | ~v.allow)).any()
    assert torch.equal(v.active, active)
