import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from biogrn.policies import importance, normalize_per_layer

F64 = torch.float64


def test_normalisation_per_layer():
    x = torch.tensor([1.0, 3.0, 0.0, 5.0, 10.0, 0.0, 0.0], dtype=F64)
    layer = [slice(0, 3), slice(3, 5), slice(5, 7)]
    assert torch.allclose(
        normalize_per_layer(x, layer, "mean"), torch.tensor([0.75, 2.25, 0.0, 2 / 3, 4 / 3, 0.0, 0.0], dtype=F64)
    )
    assert torch.allclose(
        normalize_per_layer(x, layer, "max"), torch.tensor([1 / 3, 1.0, 0.0, 0.5, 1.0, 0.0, 0.0], dtype=F64)
    )
    assert torch.equal(normalize_per_layer(x, layer, "none"), x)
    with pytest.raises(ValueError, match="normalization"):
        normalize_per_layer(x, layer, "zscore")


@given(st.floats(0, 2), st.floats(0, 2), st.floats(0, 1))
def test_importance_is_eq2_on_normalised_terms(alpha, beta, time):
    w = torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=F64)
    p = torch.tensor([0.5, 0.5, 2.0, 0.0], dtype=F64)
    s = importance(w, p, [slice(0, 2), slice(2, 4)], alpha, beta, time, "mean")
    expected = (
        torch.tensor([2 / 3, 4 / 3, 6 / 7, 8 / 7], dtype=F64)
        + alpha * torch.tensor([1, 1, 2, 0], dtype=F64)
        + beta * time
    )
    assert torch.allclose(s, expected)
