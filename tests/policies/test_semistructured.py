"""N:M semi-structured sparsity by gene score (policy `nm`)."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import biogrn
from biogrn.core import ConfigError
from biogrn.policies import semi_structured_keep


@settings(max_examples=60)
@given(
    st.integers(0, 2**31),
    st.sampled_from([(1, 2), (2, 4), (1, 4), (4, 8), (3, 4)]),
    st.integers(1, 12),
    st.floats(0.0, 1.0),
)
def test_each_group_keeps_its_n_best_allowed_genes(seed, nm, groups, disallowed):
    n, m = nm
    generator = torch.Generator().manual_seed(seed)
    scores = torch.rand(groups * m, generator=generator)
    allow = torch.rand(groups * m, generator=generator) >= disallowed
    keep = semi_structured_keep(scores, allow, n, m).view(groups, m)
    grouped, allowed = scores.view(groups, m), allow.view(groups, m)
    assert (keep <= allowed).all()
    assert torch.equal(keep.sum(1), allowed.sum(1).clamp(max=n))
    for g in range(groups):  # no kept gene scores below an allowed gene left out
        kept, dropped = grouped[g][keep[g]], grouped[g][allowed[g] & ~keep[g]]
        assert kept.numel() == 0 or dropped.numel() == 0 or kept.min() >= dropped.max()


def two_to_four(weight: torch.Tensor) -> bool:
    return bool(((weight.reshape(weight.shape[0], -1, 4) != 0).sum(-1) <= 2).all())


def test_training_ends_every_update_at_exactly_2_of_4_and_the_pattern_moves_with_expression():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    reg = biogrn.regulate(model, optimizer=optimizer, policy="nm", start_epoch=1, epochs=5, integrate_every=5)
    x, y = torch.randn(128, 16), torch.randint(0, 4, (128,))
    for _ in range(5):
        for batch in range(8):
            optimizer.zero_grad()
            nn.functional.cross_entropy(
                model(x[batch * 16 : (batch + 1) * 16]), y[batch * 16 : (batch + 1) * 16]
            ).backward()
            optimizer.step()
            reg.step()
        reg.epoch_end(0.5)
        if reg.history:
            assert reg.sparsity() == pytest.approx(0.5)
            assert two_to_four(model[0].weight) and two_to_four(model[2].weight)


def test_a_pruned_connection_whose_expression_rises_displaces_the_weakest_kept_one():
    from biogrn.policies import PolicyView, SemiStructuredPolicy

    magnitude = torch.tensor([0.9, 0.5, 0.0, 0.0, 0.3, 0.4, 0.35, 0.1])  # genes 2, 3, 6, 7 pruned
    expression = torch.tensor([1.0, 1.0, 10.0, 0.1, 1.0, 1.0, 1.0, 1.0])  # gene 2's expression has risen
    mask = torch.tensor([1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0])  # (gene 6 kept its weight: a gated tensor)
    view = PolicyView(
        magnitude,
        expression,
        mask,
        torch.ones(8, dtype=torch.bool),
        (slice(0, 8),),
        3,
        3.0,
        0.5,
        1.0,
        torch.Generator(),
    )
    decision = SemiStructuredPolicy(2, 4, alpha=0.5, beta=0.2).decide(view)
    assert decision.grow.nonzero().flatten().tolist() == [2, 6]
    assert decision.prune.nonzero().flatten().tolist() == [1, 4]
    assert decision.tau is None


def test_settings_the_pattern_cannot_take_are_refused():
    with pytest.raises(ValueError, match="layers: 0.weight has rows of 6 connections, which do not split"):
        biogrn.regulate(nn.Sequential(nn.Linear(6, 4)), policy="nm")
    biogrn.regulate(nn.Sequential(nn.Linear(6, 4), nn.Linear(4, 8)), policy="nm", layers=["1"])
    with pytest.raises(ConfigError, match="nm_n: 4 must be below nm_m = 4"):
        biogrn.regulate(nn.Sequential(nn.Linear(8, 4)), policy="nm", nm_n=4)
    with pytest.raises(ConfigError, match="it needs genes = 'connection'"):
        biogrn.regulate(nn.Sequential(nn.Linear(8, 4)), policy="nm", genes="unit")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_2_to_4_weight_converts_to_the_semi_structured_format():
    from torch.sparse import to_sparse_semi_structured

    model = nn.Sequential(nn.Linear(128, 128)).half().cuda()
    reg = biogrn.regulate(model, policy="nm", start_epoch=0)
    reg.update()
    weight = reg.remove()[0].weight.detach()
    sparse = to_sparse_semi_structured(weight)
    x = torch.randn(128, 64, dtype=torch.half, device="cuda")
    torch.testing.assert_close(sparse @ x, weight @ x, rtol=1e-2, atol=1e-2)
