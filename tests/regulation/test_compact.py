import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from biogrn.models import mlp
from biogrn.regulation import SparseLinear, compact_structured, compact_unstructured, count_parameters, regulate


@given(
    seed=st.integers(0, 10_000),
    dead_in=st.floats(0, 0.6),
    dead_out=st.floats(0, 0.6),
    activation=st.sampled_from(["relu", "tanh", "gelu"]),
)
def test_structured_compaction_keeps_the_function_with_fewer_parameters(seed, dead_in, dead_out, activation):
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = mlp([7, 12, 9, 4], activation=activation).eval()
    with torch.no_grad():
        for first, second in ((model[0], model[2]), (model[2], model[4])):
            no_input = torch.rand(first.out_features, generator=generator) < dead_in
            no_output = torch.rand(first.out_features, generator=generator) < dead_out
            first.weight[no_input] = 0  # the unit outputs phi(bias): folded into the next bias
            second.weight[:, no_output] = 0  # nothing reads the unit
    compact = compact_structured(model)
    x = torch.randn(16, 7, generator=generator)
    assert torch.allclose(compact(x), model(x), atol=1e-5, rtol=1e-5)
    dead = sum(
        int(((a.weight.abs().sum(1) == 0) | (b.weight.abs().sum(0) == 0)).sum())
        for a, b in ((model[0], model[2]), (model[2], model[4]))
    )
    # at least the dead units go; a unit whose only inputs died goes too (it has become constant)
    assert compact[0].out_features + compact[2].out_features <= 12 + 9 - dead
    assert count_parameters(compact) <= count_parameters(model)


def test_unit_genes_prune_to_a_smaller_dense_model():
    torch.manual_seed(0)
    model = mlp([8, 32, 16, 3])
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    reg = regulate(
        model,
        optimizer=optimizer,
        genes="unit",
        policy="target",
        target_sparsity=0.5,
        start_epoch=0,
        end_epoch=2,
        epochs=3,
        layers=("0", "2"),
        rewire=False,
    )
    for _ in range(3):
        for _ in range(5):
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(torch.randn(16, 8)), torch.randint(0, 3, (16,))).backward()
            optimizer.step()
            reg.step()
        reg.epoch_end(0.5)
    plain = reg.remove().eval()
    compact = compact_structured(plain)
    assert (compact[0].out_features, compact[2].out_features) == (16, 8)
    x = torch.randn(64, 8)
    assert torch.allclose(compact(x), plain(x), atol=1e-6)
    assert count_parameters(compact) < 0.6 * count_parameters(plain)


def test_unstructured_compaction_stores_only_the_nonzeros():
    torch.manual_seed(1)
    model = mlp([10, 20, 5]).eval()
    with torch.no_grad():
        for layer in (model[0], model[2]):
            layer.weight[torch.rand(layer.weight.shape) < 0.7] = 0
    compact = compact_unstructured(model)
    assert isinstance(compact[0], SparseLinear) and isinstance(compact[2], SparseLinear)
    x = torch.randn(3, 10)
    assert torch.allclose(compact(x), model(x), atol=1e-6)
    nonzero = sum(int((layer.weight != 0).sum()) + layer.bias.numel() for layer in (model[0], model[2]))
    assert count_parameters(compact) == nonzero
    assert compact(torch.randn(2, 4, 10)).shape == (2, 4, 5)


def test_structured_compaction_refuses_what_it_cannot_keep_exact():
    with pytest.raises(TypeError, match=r"model\[1\]: BatchNorm1d is neither Linear nor element-wise"):
        compact_structured(nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2)))
    with pytest.raises(TypeError, match="takes an nn.Sequential"):
        compact_structured(nn.Linear(3, 4))
