"""2:4-sparse linear layers onto the semi-structured format: the pattern checked first, by name."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import biogrn
from biogrn.integrations.semi_structured import first_group_over, to_semi_structured
from biogrn.policies import semi_structured_keep

cuda = pytest.mark.skipif(
    not torch.cuda.is_available() or torch.cuda.get_device_capability() < (8, 0),
    reason="needs a CUDA device of compute capability 8.0 or newer",
)


def first_group_over_by_loops(weight: np.ndarray) -> tuple[int, int] | None:
    for row in range(weight.shape[0]):
        for column in range(0, weight.shape[1], 4):
            if np.count_nonzero(weight[row, column : column + 4]) > 2:
                return row, column
    return None


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**31), st.integers(1, 6), st.integers(1, 6), st.floats(0.0, 0.3), st.booleans())
def test_the_first_group_over_two_nonzeros_is_found_as_a_loop_finds_it(seed, rows, groups, spoil, pruned_first):
    generator = torch.Generator().manual_seed(seed)
    weight = torch.randn(rows, groups * 4, generator=generator)
    if pruned_first:  # start from an exact 2:4 pattern, as policy "nm" leaves it
        everywhere = torch.ones(weight.numel(), dtype=torch.bool)
        keep = semi_structured_keep(torch.rand(weight.numel(), generator=generator), everywhere, 2, 4)
        weight = weight * keep.view_as(weight)
        assert first_group_over(weight) is None
    spoiled = torch.rand(weight.shape, generator=generator) < spoil
    weight = torch.where(spoiled, 1.0, weight)
    assert first_group_over(weight) == first_group_over_by_loops(weight.numpy())


def test_shapes_the_pattern_cannot_have_are_refused():
    with pytest.raises(ValueError, match="6 inputs do not split into groups of 4"):
        first_group_over(torch.zeros(2, 6))
    with pytest.raises(ValueError, match="3-D weight"):
        first_group_over(torch.zeros(2, 4, 4))


def nm_model(width=64):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(width, width), nn.ReLU(), nn.Linear(width, 10))
    reg = biogrn.regulate(model, policy="nm", start_epoch=0, layers=["0"])
    reg.update()
    return reg.remove()


def test_a_layer_not_2_to_4_is_named_with_its_row_and_inputs():
    model = nm_model()
    with torch.no_grad():
        model[0].weight[5, 8:12] = 1.0
    with pytest.raises(ValueError, match=r"layers: '0' .* not 2:4: row 5, inputs 8 to 11"):
        to_semi_structured(model, layers=["0"])
    assert isinstance(model[0].weight, nn.Parameter) and model[0].weight.layout == torch.strided


def test_without_names_every_layer_left_dense_is_reported_with_its_reason():
    model = nm_model()
    report = to_semi_structured(model)
    if not torch.cuda.is_available():  # this model is on the CPU: the format refuses every layer
        assert report.converted == []
        assert "CUDA" in report.dense["0"]
    assert report.dense["2"].startswith("not 2:4")  # the dense head, left out of regulation


def test_unknown_layers_and_gated_models_are_refused():
    model = nm_model()
    with pytest.raises(ValueError, match=r"layers: '1', 'head' are not nn.Linear modules"):
        to_semi_structured(model, layers=["0", "1", "head"])
    gated = nn.Sequential(nn.Linear(8, 8))
    biogrn.regulate(gated, gate="hill")
    with pytest.raises(ValueError, match="still carry a gene gate"):
        to_semi_structured(gated)


@cuda
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_converted_layers_compute_what_the_dense_ones_do(dtype):
    from torch.sparse import SparseSemiStructuredTensor

    model = nm_model(width=128).to("cuda", dtype)
    x = torch.randn(64, 128, device="cuda", dtype=dtype)
    with torch.no_grad():
        expected = model(x)
        report = to_semi_structured(model)
        got = model(x)
    assert report.converted == ["0"] and "2" in report.dense
    assert isinstance(model[0].weight, SparseSemiStructuredTensor)
    torch.testing.assert_close(got, expected, rtol=2e-2, atol=2e-2)
