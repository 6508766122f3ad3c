"""A checkpoint whose state is damaged inside a readable file (issue 37, goal 1): every part is
checked or loaded, and a refusal leaves the Trainer exactly as it was."""

from __future__ import annotations

import copy
import functools

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from biogrn.core import CheckpointError
from biogrn.runs import Trainer, load_checkpoint, load_run_config

from .test_trainer import tiny_config


@functools.cache
def trained(tmp_root) -> tuple[Trainer, dict]:
    """A Trainer three epochs into a tiny gene-regulated run, and its checkpoint."""
    tmp_root.mkdir(parents=True, exist_ok=True)
    config = load_run_config(tiny_config(tmp_root, epochs=3))
    trainer = Trainer(config, tmp_root / "run")
    with trainer.holding_directory(create=True):
        trainer.train(quiet=True, figures=False)
    return Trainer(config, tmp_root / "run"), load_checkpoint(tmp_root / "run" / "checkpoint.pt")


def leaves(value, path=()):
    """Every (path, leaf) of a nested dict / list / tuple."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, (*path, key))
    elif isinstance(value, (list, tuple)) and value:
        for index, item in enumerate(value):
            yield from leaves(item, (*path, index))
    else:
        yield path, value


def replaced(state, path, new):
    state = copy.deepcopy(state)
    holder = state
    for key in path[:-1]:
        if isinstance(holder[key], tuple):
            holder[key] = list(holder[key])
        holder = holder[key]
    holder[path[-1]] = new
    return state


def same(a, b) -> bool:
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.shape == b.shape and torch.equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b or (a != a and b != b)  # NaN equals NaN here


def damaged(leaf):
    """Values a damaged or edited checkpoint could hold in place of `leaf`."""
    options = [st.none(), st.text(max_size=3), st.floats(allow_nan=True), st.integers(-(2**40), 2**40), st.just([])]
    if isinstance(leaf, torch.Tensor):
        options += [
            st.just(leaf.flatten()[:-1] if leaf.numel() > 1 else leaf.reshape(-1).repeat(2)),
            st.just(leaf.double() if leaf.is_floating_point() else leaf.float()),
            st.just(
                torch.full_like(leaf, float("nan"))
                if leaf.is_floating_point()
                else ~leaf
                if leaf.dtype == torch.bool
                else leaf - 7
            ),
        ]
    return st.one_of(options)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_damaged_part_is_refused_whole_or_loads(tmp_path_factory, data):
    trainer, checkpoint = trained(tmp_path_factory.getbasetemp() / "checkpoint-states")
    places = [path for path, _ in leaves(checkpoint) if path[0] not in ("version",)]
    path = data.draw(st.sampled_from(places), label="path")
    leaf = dict(leaves(checkpoint))[path]
    state = replaced(checkpoint, path, data.draw(damaged(leaf), label="value"))
    before = copy.deepcopy(trainer.state_dict())
    try:
        trainer.load_state_dict(state)
    except CheckpointError as error:
        assert "\n" not in str(error) and str(error).startswith(str(trainer.out / "checkpoint.pt")), error
        after = trainer.state_dict()
        for part in ("model", "optimizer", "regulator", "trace", "records", "rng", "epoch", "step"):
            assert same(before[part], after[part]), part
    finally:
        trainer.load_state_dict(checkpoint)  # the next example starts from the true state


def test_the_true_checkpoint_loads(tmp_path):
    trainer, checkpoint = trained(tmp_path)
    trainer.load_state_dict(checkpoint)
    assert same(trainer.state_dict()["model"], checkpoint["model"])
    weights = dict(checkpoint["model"])
    name = next(iter(weights))
    weights[name] = torch.full_like(weights[name], float("nan"))
    with pytest.raises(CheckpointError, match=rf"model weight {name} holds a non-finite value"):
        trainer.load_state_dict(dict(checkpoint, model=weights))
    rows = copy.deepcopy(checkpoint["records"]["rows"])
    del rows[0]["tau"]  # a row that lost a field builds no records
    with pytest.raises(CheckpointError, match=r"does not fit this run \(KeyError: 'tau'\)"):
        trainer.load_state_dict(dict(checkpoint, records=dict(checkpoint["records"], rows=rows)))
    with pytest.raises(CheckpointError, match="lacks model"):
        trainer.load_state_dict({k: v for k, v in checkpoint.items() if k != "model"})
