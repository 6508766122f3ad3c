import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from biogrn.regulation import connection_drive, reduce_to_units

F64 = torch.float64


def test_taylor_drive_is_weight_times_rms_gradient_with_dense_drive_for_pruned():
    w = torch.tensor([[2.0, -1.0], [0.0, 4.0]], dtype=F64)
    grads = [torch.tensor([[1.0, 3.0], [2.0, 0.0]], dtype=F64), torch.tensor([[1.0, -1.0], [-2.0, 2.0]], dtype=F64)]
    grad_sq = sum(g * g for g in grads)
    active = torch.tensor([[True, True], [False, True]])
    u = connection_drive("taylor", w, grad_sq, 2, active)
    rms = torch.tensor([[1.0, 5.0**0.5], [2.0, 2.0**0.5]], dtype=F64)
    mean_active = (2.0 + 1.0 + 4.0) / 3
    expected = torch.tensor([[2.0, 1.0], [mean_active, 4.0]], dtype=F64) * rms
    assert torch.allclose(u, expected)


def test_grad_and_magnitude_drives():
    w = torch.tensor([3.0, -2.0], dtype=F64)
    grad_sq = torch.tensor([8.0, 2.0], dtype=F64)
    active = torch.tensor([True, False])
    assert torch.allclose(connection_drive("grad", w, grad_sq, 2, active), torch.tensor([2.0, 1.0], dtype=F64))
    assert torch.equal(connection_drive("magnitude", w, grad_sq, 2, active), w.abs())
    assert torch.equal(connection_drive("taylor", w, grad_sq, 0, active), torch.zeros(2, dtype=F64))
    with pytest.raises(ValueError, match="drive: 'hessian' is unknown"):
        connection_drive("hessian", w, grad_sq, 2, active)


@given(
    st.lists(st.floats(-5, 5), min_size=4, max_size=4),
    st.lists(st.floats(0, 10), min_size=4, max_size=4),
    st.integers(1, 5),
    st.lists(st.booleans(), min_size=4, max_size=4),
)
def test_drives_are_non_negative(w, g2, n, active):
    w, g2 = torch.tensor(w, dtype=F64), torch.tensor(g2, dtype=F64)
    for kind in ("taylor", "grad", "magnitude"):
        assert (connection_drive(kind, w, g2, n, torch.tensor(active)) >= 0).all()


def test_unit_reduction_is_the_fan_in_mean():
    x = torch.arange(24, dtype=F64).reshape(2, 3, 4)
    assert torch.equal(reduce_to_units(x), torch.tensor([5.5, 17.5], dtype=F64))
    assert torch.equal(reduce_to_units(torch.tensor([1.0, 2.0])), torch.tensor([1.0, 2.0]))


@given(
    st.lists(st.tuples(st.floats(-1e30, 1e30), st.floats(0, 1e30), st.booleans()), min_size=1, max_size=40),
    st.integers(1, 50),
    st.sampled_from([torch.float32, torch.float64]),
)
def test_taylor_drive_reads_a_float_mask_exactly_as_the_boolean_one(entries, n, dtype):
    """The regulator passes its 0/1 mask; the result equals the boolean selection bit for bit."""
    w = torch.tensor([0.0 if not keep else x for x, _, keep in entries], dtype=dtype)  # pruned weights are zero
    g2 = torch.tensor([g for _, g, _ in entries], dtype=dtype)
    active = torch.tensor([keep for _, _, keep in entries])
    reference = w.abs().sum() / active.sum().clamp_min(1)
    expected = (g2 / n).sqrt() * torch.where(active, w.abs(), reference)
    by_mask = connection_drive("taylor", w, g2, n, active.to(dtype))
    assert torch.equal(connection_drive("taylor", w, g2, n, active), by_mask)
    assert torch.equal(by_mask, expected)


@given(
    st.lists(st.tuples(st.floats(-5, 5), st.floats(0, 10), st.booleans()), min_size=1, max_size=12),
    st.integers(1, 6),
)
def test_fisher_drive_is_w_squared_times_mean_g_squared(entries, n):
    """Active: w^2 * (sum g^2) / T; pruned (w = 0): the layer's mean active |w|, squared, times it."""
    w = torch.tensor([x if keep else 0.0 for x, _, keep in entries], dtype=F64)
    g2 = torch.tensor([g for _, g, _ in entries], dtype=F64)
    active = torch.tensor([keep for *_, keep in entries])
    reference = w.abs().sum() / max(int(active.sum()), 1)
    expected = torch.where(active, w**2, reference**2) * g2 / n
    torch.testing.assert_close(connection_drive("fisher", w, g2, n, active), expected, rtol=1e-12, atol=1e-300)


@given(
    st.lists(st.tuples(st.floats(-5, 5), st.floats(-5, 5), st.floats(0, 10), st.booleans()), min_size=1, max_size=12),
    st.integers(1, 6),
)
def test_movement_drive_is_minus_the_mean_of_w_g_and_reach_for_pruned(entries, n):
    """Active: -(sum_t w_t g_t) / T (signed); pruned: taylor's drive for a pruned connection (>= 0)."""
    w = torch.tensor([x if keep else 0.0 for x, _, _, keep in entries], dtype=F64)
    wg = torch.tensor([m for _, m, _, _ in entries], dtype=F64)
    g2 = torch.tensor([g for _, _, g, _ in entries], dtype=F64)
    active = torch.tensor([keep for *_, keep in entries])
    u = connection_drive("movement", w, g2, n, active, movement=wg, n_movement=n)
    reference = w.abs().sum() / max(int(active.sum()), 1)
    expected = torch.where(active, -wg / n, reference * (g2 / n).sqrt())
    torch.testing.assert_close(u, expected, rtol=1e-12, atol=1e-300)
    with pytest.raises(ValueError, match="movement.*needs the interval's sum of w g"):
        connection_drive("movement", w, g2, n, active)


def test_every_drive_is_one_registry_entry():
    from biogrn.regulation import DRIVE_KINDS, DRIVES

    assert DRIVES == tuple(DRIVE_KINDS) == ("taylor", "grad", "magnitude", "fisher", "movement")
    assert [k for k, kind in DRIVE_KINDS.items() if kind.signed] == ["movement"]


def _movement_run(gate: str, steps: int, seed: int, attached: bool = True):
    """A regulated MLP trained `steps` steps with the movement drive, and -sum_t w_t g_t by hand."""
    from torch import nn

    import biogrn

    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 3)).double()
    optimizer = torch.optim.SGD(model.parameters(), 0.1, momentum=0.9)
    reg = biogrn.regulate(
        model,
        optimizer=optimizer if attached else None,
        drive="movement",
        policy="target",
        gate=gate,
        integrate_every=50,
        epochs=2,
        start_epoch=1,
    )
    x, y = torch.randn(steps, 16, 5, dtype=F64), torch.randint(0, 3, (steps, 16))
    layers = (model[0], model[2])
    stored = [biogrn.core.stored_parameter(layer, "weight") for layer in layers]
    by_hand = [torch.zeros_like(w) for w in stored]
    for t in range(steps):
        optimizer.zero_grad()
        weights = [w.detach().clone() for w in stored]  # w_t, the forward pass's
        # the gradient of the effective weight: the stored one's, divided by the gate's factor
        factors = [layer.parametrizations.weight[0].factor() if gate == "hill" else 1.0 for layer in layers]
        torch.nn.functional.cross_entropy(model(x[t]), y[t]).backward()
        for k, w in enumerate(stored):
            by_hand[k] += weights[k] * (w.grad / factors[k])
        optimizer.step()
        reg.step()
    return reg, by_hand


@given(st.sampled_from(["mask", "hill"]), st.integers(1, 6), st.integers(0, 2**16), st.booleans())
def test_the_movement_record_sums_w_g_with_the_forward_passes_weight(gate, steps, seed, attached):
    """The mask path records in the optimizer's pre-step hook (w is still w_t there), or, with no
    optimizer attached, from the weight the regulator last left (the next forward's); a gate reads it
    at its backward pass: each way the record is sum_t w_t g_t exactly (the optimizer has moved w by
    the time the regulator steps)."""
    reg, by_hand = _movement_run(gate, steps, seed, attached)
    direct = gate == "mask"
    assert all(r.by_hook == (direct and attached) for r in reg.records)
    for record, expected in zip(reg.records, by_hand):
        assert record.n_movement == steps
        torch.testing.assert_close(record.movement, expected, rtol=1e-10, atol=1e-14)
