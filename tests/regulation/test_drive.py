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
    with pytest.raises(ValueError, match="drive: 'fisher'"):
        connection_drive("fisher", w, grad_sq, 2, active)


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
