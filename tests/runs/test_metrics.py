import numpy as np
import pytest

from biogrn.runs import group_metrics


def test_group_metrics_against_hand_computed_values():
    labels = [0, 1, 2, 0, 1, 0, 0, 1]
    predictions = [0, 1, 1, 0, 0, 0, 1, 1]
    groups = ["a", "a", "a", "a", "b", "b", "b", "b"]
    result = group_metrics(labels, predictions, groups, 3, ["x", "y", "z"])
    # group a: 3 of 4 right; classes 0: tp 2 (F1 1), 1: tp 1 fp 1 (F1 2/3), 2: fn 1 (F1 0) -> 5/9
    # group b: 2 of 4 right; classes 0 and 1 each tp 1, fp 1, fn 1 (F1 1/2) -> 1/2
    assert result["accuracy"].sel(group="a") == 0.75 and result["accuracy"].sel(group="b") == 0.5
    assert np.isclose(result["macro_f1"].sel(group="a"), 5 / 9)
    assert np.isclose(result["macro_f1"].sel(group="b"), 1 / 2)
    assert float(result["worst_group_accuracy"]) == 0.5 and float(result["largest_gap"]) == 0.25
    assert float(result["overall_accuracy"]) == 5 / 8
    assert result["confusion"].sel(group="a", true="z", predicted="y") == 1
    assert int(result["confusion"].sel(group="b").sum()) == 4 and list(result["count"].values) == [4, 4]


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="lengths 2, 2, 1 differ"):
        group_metrics([0, 1], [0, 1], ["a"], 2)
    with pytest.raises(ValueError, match="predictions: 5 is outside 0..2"):
        group_metrics([0, 1], [0, 5], ["a", "a"], 3)
