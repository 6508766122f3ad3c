"""Structural allow-masks, Dale's law and synaptic noise."""

import networkx as nx
import numpy as np
import pytest
import scipy.sparse
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import biogrn
from biogrn.biology import (
    apply_dale,
    apply_noise,
    dale_signs,
    distance_mask,
    laminar_mask,
    mask_from_edge_list,
    mask_from_graph,
    mask_from_sparse,
    random_mask,
)
from biogrn.core import DataError


def test_masks_from_every_format_agree(tmp_path):
    truth = random_mask(7, 5, 0.4, torch.Generator().manual_seed(0))  # (post 5, pre 7)
    post, pre = torch.nonzero(truth, as_tuple=True)
    (tmp_path / "edges.csv").write_text(
        "pre,post\n" + "\n".join(f"{a},{b}" for a, b in zip(pre.tolist(), post.tolist()))
    )
    scipy.sparse.save_npz(tmp_path / "adjacency.npz", scipy.sparse.csr_matrix(truth.T.numpy().astype(np.int8)))
    graph = nx.DiGraph()
    graph.add_nodes_from([f"in{i}" for i in range(7)] + [f"out{j}" for j in range(5)])
    graph.add_edges_from((f"in{a}", f"out{b}") for a, b in zip(pre.tolist(), post.tolist()))
    named = tmp_path / "named.csv"
    named.write_text("pre,post\n" + "\n".join(f"in{a},out{b}" for a, b in zip(pre.tolist(), post.tolist())))
    masks = [
        mask_from_edge_list(tmp_path / "edges.csv", 7, 5),
        mask_from_sparse(tmp_path / "adjacency.npz", 7, 5),
        mask_from_graph(graph, [f"in{i}" for i in range(7)], [f"out{j}" for j in range(5)]),
        mask_from_edge_list(named, 7, 5, [f"in{i}" for i in range(7)], [f"out{j}" for j in range(5)]),
    ]
    for mask in masks:
        assert torch.equal(mask, truth)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("pre,post\n0,1\n9,1\n", r"line 3: pre index 9 is out of range for 7 pre units"),
        ("pre,post\n0,1\n-1,1\n", r"line 3: pre index -1 is negative"),
        ("pre,post\n0,x\n", r"line 2: post 'x' is not an integer index"),
        ("source,target\n0,1\n", r"missing column\(s\) \['pre', 'post'\]"),
    ],
)
def test_bad_edge_lists_are_refused_with_file_and_line(tmp_path, text, message):
    path = tmp_path / "edges.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=message) as raised:
        mask_from_edge_list(path, 7, 5)
    assert "edges.csv" in str(raised.value)


def test_unknown_nodes_and_wrong_shapes(tmp_path):
    path = tmp_path / "edges.csv"
    path.write_text("pre,post\nin0,out9\n")
    with pytest.raises(DataError, match=r"line 2: post node 'out9' is unknown"):
        mask_from_edge_list(path, 1, 1, ["in0"], ["out0"])
    scipy.sparse.save_npz(tmp_path / "a.npz", scipy.sparse.csr_matrix(np.ones((3, 4))))
    with pytest.raises(DataError, match=r"shape \(3, 4\), expected \(pre, post\) = \(4, 3\)"):
        mask_from_sparse(tmp_path / "a.npz", 4, 3)
    with pytest.raises(DataError, match="node 'ghost' is not in the graph"):
        mask_from_graph(nx.DiGraph([("a", "b")]), ["a", "ghost"], ["b"])


def test_generated_masks():
    g = torch.Generator().manual_seed(0)
    assert int(random_mask(30, 20, 0.25, g).sum()) == 150
    layers = {"L4": 40, "L23": 60}
    mask = laminar_mask(layers, layers, {"L4": {"L23": 1.0}, "L23": {"L23": 0.3}}, g)
    assert mask[40:, :40].all() and not mask[:40, :].any()  # L4 -> L23 always, nothing into L4
    assert abs(float(mask[40:, 40:].float().mean()) - 0.3) < 0.05
    with pytest.raises(ValueError, match=r"probability\['L4'\]: 'L5' is not a postsynaptic layer"):
        laminar_mask(layers, layers, {"L4": {"L5": 0.1}})
    near = distance_mask(torch.zeros(500, 2), torch.zeros(1, 2), length=1.0, generator=g)
    far = distance_mask(torch.full((500, 2), 3.0), torch.zeros(1, 2), length=1.0, generator=g)
    assert near.all() and far.float().mean() < 0.05


@settings(max_examples=10, deadline=None)
@given(
    seed=st.integers(0, 1000),
    policy=st.sampled_from(["paper", "target", "set", "rigl", "listing"]),
    density=st.floats(0.2, 0.9),
)
def test_pruning_and_rewiring_never_leave_the_allow_mask(seed, policy, density):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))
    allow = {"0.weight": random_mask(6, 8, density, torch.Generator().manual_seed(seed))}
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    reg = biogrn.regulate(
        model,
        optimizer=optimizer,
        allow=allow,
        policy=policy,
        epochs=6,
        start_epoch=0,
        end_epoch=4,
        target_sparsity=0.3,
        integrate_every=2,
        max_regrow_fraction=1.0,
    )
    for _ in range(5):
        for _ in range(3):
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(torch.randn(4, 6)), torch.randint(0, 3, (4,))).backward()
            optimizer.step()
            reg.step()
        reg.epoch_end(0.5)
        assert not (reg.masks()["0.weight"] & ~allow["0.weight"]).any()
        assert (model[0].weight[~allow["0.weight"]] == 0).all()


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 1000), fraction=st.floats(0, 1), gain=st.floats(0.1, 4))
def test_dale_signs_hold_after_many_steps_with_random_gradients(seed, fraction, gain):
    torch.manual_seed(seed)
    layer = nn.Linear(10, 6)
    dale = apply_dale(layer, fraction, gain, torch.Generator().manual_seed(seed))
    optimizer = torch.optim.SGD(layer.parameters(), lr=0.5)
    for _ in range(20):
        optimizer.zero_grad()
        (layer.weight * torch.randn(6, 10)).sum().backward()
        optimizer.step()
    w = layer.weight.detach()
    assert (w[:, dale.excitatory] >= 0).all() and (w[:, ~dale.excitatory] <= 0).all()
    assert torch.allclose(
        w[:, ~dale.excitatory].abs(), gain * layer.parametrizations.weight.original[:, ~dale.excitatory].abs()
    )


def test_dale_under_the_regulator_and_its_sign_count():
    assert int((dale_signs(50, 0.2, torch.Generator().manual_seed(0)) < 0).sum()) == 10
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 2))
    dale = apply_dale(model[0], 0.4)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    reg = biogrn.regulate(model, optimizer=optimizer, start_epoch=0, epochs=3)
    for _ in range(3):
        for _ in range(10):
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(torch.randn(8, 5)), torch.randint(0, 2, (8,))).backward()
            optimizer.step()
            reg.step()
        reg.epoch_end(0.5)
    w = model[0].weight.detach()
    assert (w[:, dale.excitatory] >= 0).all() and (w[:, ~dale.excitatory] <= 0).all()
    assert (w[~reg.masks()["0.weight"]] == 0).all()


def test_synaptic_noise_only_in_training():
    torch.manual_seed(0)
    layer = nn.Linear(4, 3)
    apply_noise(layer, additive=0.1, multiplicative=0.2)
    x = torch.randn(2, 4)
    layer.eval()
    assert torch.equal(layer(x), layer(x))
    layer.train()
    assert not torch.equal(layer(x), layer(x))
    quiet = nn.Linear(4, 3)
    reference = quiet(x)
    apply_noise(quiet)
    assert torch.equal(quiet(x), reference)
    with pytest.raises(ValueError, match="must be >= 0"):
        apply_noise(nn.Linear(2, 2), additive=-1)
