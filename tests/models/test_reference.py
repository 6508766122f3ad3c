"""The reference models: the MNIST-1D paper's CNN and residual MLP, counted and built from config."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from biogrn.models import Residual, cnn1d, cnn1d_length, mlp
from biogrn.runs import build_model, parameter_count, parse_run_config


def test_the_papers_models_have_the_papers_parameter_counts():
    assert sum(p.numel() for p in cnn1d(40, 10).parameters()) == 5210  # ConvBase
    residual = mlp([40, 100, 100, 10], residual=True)
    assert sum(p.numel() for p in residual.parameters()) == 15210  # MLPBase
    assert isinstance(residual[2], Residual)
    x = torch.randn(3, 100)
    assert torch.allclose(residual[2](x), x + residual[2].block(x))


@settings(max_examples=40, deadline=None)
@given(
    st.integers(8, 80), st.lists(st.integers(1, 8), min_size=1, max_size=3), st.lists(st.integers(1, 16), max_size=2)
)
def test_cnn1d_output_shape_and_parameter_count_match_the_config_arithmetic(length, channels, hidden):
    if cnn1d_length(length, tuple(channels)) < 1:
        with pytest.raises(ValueError, match="channels"):
            cnn1d(length, 10, tuple(channels), tuple(hidden))
        return
    config = parse_run_config({"model": {"name": "cnn1d", "channels": channels, "hidden": hidden}})
    model = build_model(config.model, length, 7)
    assert model(torch.randn(2, length)).shape == (2, 7)
    assert sum(p.numel() for p in model.parameters()) == parameter_count(config.model, length, 7, None)


def test_hidden_defaults_per_model():
    assert parse_run_config({"model": {"name": "cnn1d"}}).model.hidden == ()
    assert parse_run_config({}).model.hidden == (128, 64)
    assert parse_run_config({"model": {"name": "cnn1d", "hidden": [32]}}).model.hidden == (32,)
