"""The run figures say what they show without the docs (issue 36): the run in the title, layer
shapes, the first prune marked, quantiles in plain words, tau drawn only where it moves."""

import pytest

from biogrn.runs import run
from biogrn.runs._figures import _expression, _threshold, _training, first_prune_epoch, layer_label, run_title

BASE = {"model": {"hidden": [16]}, "training": {"epochs": 4}}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("figures")
    return {
        "dense": run({**BASE, "pruning": "none"}, root / "dense", quiet=True, figures=False),
        "paper": run({**BASE, "regulator": {"start_epoch": 1}}, root / "paper", quiet=True, figures=False),
        "target": run(
            {**BASE, "regulator": {"policy": "target", "start_epoch": 1, "target_sparsity": 0.8}},
            root / "target",
            quiet=True,
            figures=False,
        ),
    }


def test_titles_name_the_run_and_layers_carry_their_shapes(runs, tmp_path):
    records = runs["paper"]
    title = run_title(records, tmp_path / "my-run")
    assert title.startswith("my-run: ") and "policy paper" in title and "seed 0" in title and "mlp 16" in title
    assert "dense (no pruning)" in run_title(runs["dense"], tmp_path / "d")
    assert layer_label(records, "0.weight") == "0.weight, 16 x 64"
    assert layer_label(records.drop_vars("layer_shape"), "0.weight") == "0.weight"  # records before shapes


def test_the_dense_run_has_no_pruning_panel_and_the_first_prune_is_marked(runs):
    assert len(_training(runs["dense"]).axes) == 2
    figure = _training(runs["paper"])
    assert len(figure.axes) == 3
    assert first_prune_epoch(runs["paper"]) == 2.0  # start_epoch 1: the first update follows epoch 2
    marked = [line for line in figure.axes[0].lines if line.get_label() == "first prune"]
    assert len(marked) == 1 and marked[0].get_xdata()[0] == 2.0
    assert first_prune_epoch(runs["dense"]) is None


def test_quantiles_are_said_in_plain_words(runs):
    figure = _expression(runs["target"])
    labels = {text.get_text() for legend in figure.legends for text in legend.get_texts()}
    assert {"middle 90% of connections", "middle 50% of connections", "median", "first prune"} <= labels


def test_tau_is_drawn_where_it_moves_and_said_in_words_where_it_does_not(runs):
    moving = _threshold(runs["target"])
    assert len(moving.axes) == 2 and "below tau is pruned" in moving.axes[0].get_title()
    fixed = _threshold(runs["paper"])  # the paper policy's tau stays where its first update set it
    assert len(fixed.axes) == 1
    assert any("fixed from its first update on" in text.get_text() for text in fixed.texts)
