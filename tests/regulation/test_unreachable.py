"""Settings that cannot do what they ask are said when the regulator attaches (issue 36): pruning
that never starts, a schedule that ends after the run."""

import warnings

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from biogrn.core import ConfigError
from biogrn.regulation import UnreachableSettingWarning, regulate
from biogrn.runs import parse_run_config


def attach(**overrides):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        regulator = regulate(model, optimizer=optimizer, integrate_every=2, **overrides)
    said = [w for w in caught if issubclass(w.category, UnreachableSettingWarning)]
    return model, optimizer, regulator, said


def updates_in_a_whole_run(model, optimizer, regulator, epochs):
    x, y = torch.randn(16, 6), torch.randint(0, 3, (16,))
    for _ in range(epochs):
        for _ in range(2):
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
            regulator.step()
        regulator.epoch_end(0.5)
    return len(regulator.history)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 6), st.integers(0, 8), st.sampled_from(["paper", "target", "magnitude"]))
def test_the_warning_is_said_exactly_when_no_update_ever_comes(epochs, start_epoch, policy):
    model, optimizer, regulator, said = attach(epochs=epochs, start_epoch=start_epoch, policy=policy)
    never = start_epoch >= epochs
    assert bool(said) == never
    if never:
        assert f"start_epoch: {start_epoch} is not below the training's {epochs} epochs" in str(said[0].message)
    assert (updates_in_a_whole_run(model, optimizer, regulator, epochs) == 0) == never


def test_a_schedule_ending_after_the_run_is_said():
    *_, said = attach(epochs=10, start_epoch=1, end_epoch=15, policy="target", target_sparsity=0.8)
    assert len(said) == 1 and "reaches target_sparsity 0.8 at epoch 15, after the last of epochs = 10" in str(
        said[0].message
    )
    *_, said = attach(epochs=10, start_epoch=1, end_epoch=15, policy="paper")  # paper has no schedule
    assert not said


def test_a_run_config_whose_pruning_never_starts_is_refused_naming_the_field():
    with pytest.raises(ConfigError, match=r"regulator\.start_epoch: 5 is not below the training's 3 epochs"):
        parse_run_config({"training": {"epochs": 3}})
    parse_run_config({"training": {"epochs": 3}, "pruning": "none"})  # a dense run has nothing to start
    parse_run_config({"training": {"epochs": 3}, "regulator": {"start_epoch": 1}})


def test_epoch_end_past_the_configured_epochs_is_said_once():
    model, optimizer, regulator, _ = attach(epochs=2, start_epoch=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        updates_in_a_whole_run(model, optimizer, regulator, 4)
    said = [w for w in caught if issubclass(w.category, UnreachableSettingWarning)]
    assert len(said) == 1 and "epoch_end for epoch 3 of a Regulator set for epochs = 2" in str(said[0].message)


def test_converting_the_model_after_attaching_is_named_at_the_next_step():
    """model.double() after regulate failed deep inside epoch_end (issue 37)."""
    model, optimizer, regulator, _ = attach(epochs=4, start_epoch=1)
    model.double()
    with pytest.raises(RuntimeError, match=r"now torch.float64 on cpu, but this Regulator attached to torch.float32"):
        regulator.step()
