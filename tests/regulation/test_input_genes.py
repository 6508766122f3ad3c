"""Input genes: one gene per input feature of the first regulated layer; pruning one removes the
feature's whole column, so the network's kept genes are the data's kept features (issue 38)."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import biogrn
from biogrn.regulation import RegulatedTensor

POLICIES = ["paper", "target", "hysteresis", "magnitude", "movement", "set", "rigl"]
DRIVES = ["taylor", "fisher", "movement", "grad", "magnitude"]


def trained(policy="target", drive="taylor", gate="mask", seed=0, features=12, epochs=4):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(features, 16), nn.ReLU(), nn.Linear(16, 3))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    reg = biogrn.regulate(
        model,
        optimizer=optimizer,
        genes="input",
        policy=policy,
        drive=drive,
        gate=gate,
        epochs=epochs,
        start_epoch=1,
        target_sparsity=0.5,
        integrate_every=3,
        seed=seed,
    )
    x, y = torch.randn(64, features), torch.randint(0, 3, (64,))
    for _ in range(epochs):
        for _ in range(4):
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
            reg.step()
        reg.epoch_end(0.5)
    return model, reg


@pytest.mark.parametrize("gate", ["mask", "hill"])
@pytest.mark.parametrize("policy", POLICIES)
def test_every_policy_prunes_whole_columns_of_the_first_layer_only(policy, gate):
    model, reg = trained(policy, gate=gate)
    assert [t.name for t in reg.tensors] == ["0.weight"]
    mask = reg.masks()["0.weight"]
    assert (mask.all(dim=0) | (~mask).all(dim=0)).all()  # each column wholly kept or wholly pruned
    pruned = ~mask.any(dim=0)
    assert pruned.any() and reg.expression()["0.weight"].shape == (12,)
    if gate == "mask":
        assert torch.equal(model[0].weight[:, pruned], torch.zeros_like(model[0].weight[:, pruned]))
    # a pruned feature no longer reaches the output
    x = torch.randn(8, 12)
    changed = x.clone()
    changed[:, pruned] += 100.0
    model.eval()
    torch.testing.assert_close(model(changed), model(x))


@pytest.mark.parametrize("drive", DRIVES)
def test_every_drive_runs_on_input_genes_and_the_target_is_exact(drive):
    _, reg = trained("target", drive=drive)
    assert int((~reg.masks()["0.weight"].any(dim=0)).sum()) == 6  # round(0.5 * 12)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.integers(1, 5), min_size=2, max_size=4),
    st.sampled_from(["connection", "unit", "input"]),
)
def test_gene_of_each_position_agrees_with_the_broadcast_gene_layout(shape, genes):
    """`gene_of` (flat weight position -> gene) is the layout `gene_view_shape` broadcasts, and
    `per_gene(..., 'sum')` adds each gene's entries."""
    weight = torch.zeros(shape)
    tensor = RegulatedTensor("w", nn.Module(), "weight", weight.shape, genes)
    ids = torch.arange(tensor.n_genes, dtype=torch.float64).view(tensor.gene_view_shape).expand(weight.shape)
    positions = torch.arange(weight.numel())
    assert torch.equal(tensor.gene_of(positions), ids.reshape(-1).long())
    values = torch.rand(shape, dtype=torch.float64)
    by_hand = torch.zeros(tensor.n_genes, dtype=torch.float64).index_add_(
        0, tensor.gene_of(positions), values.reshape(-1)
    )
    torch.testing.assert_close(tensor.per_gene(values, reduce="sum"), by_hand)
    torch.testing.assert_close(tensor.per_gene(values), by_hand / tensor.connections_per_gene)


def test_input_genes_of_a_convolution_are_its_input_channels():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv1d(4, 6, 3), nn.ReLU(), nn.Flatten(), nn.Linear(6 * 8, 2))
    reg = biogrn.regulate(model, genes="input", policy="magnitude", target_sparsity=0.5, epochs=2, start_epoch=0)
    reg.epoch_end()
    mask = reg.masks()["0.weight"]
    assert reg.genes.n_genes == 4 and mask.shape == (6, 4, 3)
    kept = mask.any(dim=(0, 2))
    assert int(kept.sum()) == 2 and (mask.all(dim=(0, 2)) == kept).all()


def test_the_state_round_trips():
    model, reg = trained("target")
    state = reg.state_dict()
    other_model, other = trained("target", seed=1)
    other.load_state_dict(state)
    assert torch.equal(other.masks()["0.weight"], reg.masks()["0.weight"])
    assert torch.equal(other.genes.y, reg.genes.y)
