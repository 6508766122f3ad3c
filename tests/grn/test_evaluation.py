"""BEELINE's evaluation: `beeline_scores` against the definitions written out from BEELINE's paper
and its BLEval v1.1.0 (a plain reference here, one pair at a time), and `score_edges` against the
file `write_ranked_edges` writes."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from biogrn.grn import beeline_scores, score_edges, write_ranked_edges

GENES = ["a", "b", "c", "d", "e"]


def reference(ranked, truth):
    """BEELINE's definitions, one pair at a time, without scikit-learn."""
    genes = sorted({r[0] for r in truth} | {r[1] for r in truth})
    universe = list(itertools.permutations(genes, 2))
    true = {(r[0], r[1]) for r in truth}
    best = {}
    for a, b, w in ranked:
        if a != b:
            best[a, b] = max(abs(w), best.get((a, b), 0.0))
    score = {pair: best.get(pair, 0.0) for pair in universe}
    positives = sum(pair in true for pair in universe)
    # the precision-recall curve: one point per distinct score, from the highest; then (R 0, P 1)
    points = [(0.0, 1.0)]
    for cut in sorted(set(score.values()), reverse=True):
        chosen = [pair for pair in universe if score[pair] >= cut]
        hits = sum(pair in true for pair in chosen)
        points.append((hits / positives, hits / len(chosen)))
    points.sort(key=lambda point: point[0])
    auprc = sum((r1 - r0) * (p0 + p1) / 2 for (r0, p0), (r1, p1) in zip(points, points[1:]))
    # ROC: the same cuts, (FPR, TPR) from (0, 0)
    negatives = len(universe) - positives
    roc = [(0.0, 0.0)]
    for cut in sorted(set(score.values()), reverse=True):
        chosen = [pair for pair in universe if score[pair] >= cut]
        hits = sum(pair in true for pair in chosen)
        roc.append(((len(chosen) - hits) / negatives, hits / positives))
    auroc = sum((f1 - f0) * (t0 + t1) / 2 for (f0, t0), (f1, t1) in zip(roc, roc[1:]))
    # early precision: k true pairs, the tie at the k-th place in, no zero unless all are zero
    k = len({pair for pair in true if pair[0] != pair[1]})
    ordered = sorted(best.values(), reverse=True)
    positive = [w for w in ordered if w > 0]
    cut = max(min(positive) if positive else 0.0, ordered[min(len(ordered), k) - 1])
    selected = [pair for pair, w in best.items() if w >= cut]
    early = sum(pair in true for pair in selected) / len(selected)
    return {"auprc": auprc, "auroc": auroc, "early_precision_ratio": early / (k / len(universe))}


edges = st.tuples(st.sampled_from(GENES), st.sampled_from(GENES))


@settings(max_examples=150, deadline=None)
@given(
    truth=st.lists(edges, min_size=1, max_size=12).filter(lambda rows: any(a != b for a, b in rows)),
    ranked=st.lists(
        st.tuples(
            st.sampled_from([*GENES, "outside"]), st.sampled_from(GENES), st.sampled_from([0.0, 0.5, 1.0, -2.0, 3.0])
        ),
        min_size=1,
        max_size=25,
    ),
)
def test_beeline_scores_equal_beeline_definitions(truth, ranked):
    """Ties, repeated predictions (largest weight wins), negative weights (|w|), self-loops,
    genes outside the truth, repeated truth rows and missing pairs (score 0)."""
    genes = {g for pair in truth for g in pair}
    if len(genes) < 2 or len(list(itertools.permutations(sorted(genes), 2))) == len({p for p in truth if p[0] != p[1]}):
        return  # AUROC is undefined with one class; BEELINE gives NaN (tested below)
    if not any(a != b for a, b, _ in ranked):
        return
    expected = reference(ranked, truth)
    scores = beeline_scores(ranked, truth)
    for key, value in expected.items():
        assert scores[key] == pytest.approx(value, rel=1e-12, abs=1e-12), key


def test_auprc_is_not_average_precision_and_the_ratio_is_over_the_density():
    truth = [("a", "b"), ("b", "c")]
    ranked = [("a", "b", 1.0), ("b", "c", 0.5), ("a", "c", 0.5)]
    scores = beeline_scores(ranked, truth)
    # by hand: (R, P) = (0, 1), (1/2, 1), (1, 2/3), (1, 1/3): area 1/2 + (1 + 2/3)/4
    assert scores["auprc"] == pytest.approx(0.5 + (5 / 3) / 4)
    assert scores["average_precision"] == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)
    assert scores["random_precision"] == pytest.approx(2 / 6)
    assert scores["auprc_ratio"] == pytest.approx(scores["auprc"] / (2 / 6))
    assert scores["early_precision_ratio"] == pytest.approx((2 / 3) / (2 / 6))  # the tie at k = 2 is in


def test_nan_where_beeline_gives_nan_and_bad_rows_refused():
    assert np.isnan(beeline_scores([("a", "b", 1.0)], [("a", "a")])["auprc"])  # no true pair
    assert np.isnan(beeline_scores([("a", "b", 1.0)], [("a", "b"), ("b", "a")])["auroc"])  # one class
    with pytest.raises(ValueError, match=r"ranked\[0\]: EdgeWeight 'x'"):
        beeline_scores([("a", "b", "x")], [("a", "b")])
    with pytest.raises(ValueError, match=r"ranked\[1\].*not finite"):
        beeline_scores([("a", "b", 1.0), ("b", "a", float("nan"))], [("a", "b")])


def test_score_edges_equals_beeline_on_the_file_write_ranked_edges_writes():
    generator = np.random.default_rng(0)
    weights = torch.as_tensor(generator.normal(size=(6, 6)) * (generator.random((6, 6)) < 0.6))  # [target, source]
    truth = (generator.random((6, 6)) < 0.3).astype(int)  # [source, target]
    truth[0, 1] = 1
    genes = [f"g{i}" for i in range(6)]
    with tempfile.TemporaryDirectory() as folder:
        write_ranked_edges(weights, genes, Path(folder) / "rankedEdges.csv")
        table = pd.read_csv(Path(folder) / "rankedEdges.csv", sep="\t")  # as BEELINE reads it
    ranked = list(zip(table["Gene1"], table["Gene2"], table["EdgeWeight"]))
    source, target = np.nonzero(truth)
    from_file = beeline_scores(ranked, [(genes[a], genes[b]) for a, b in zip(source, target)])
    assert score_edges(weights, truth) == pytest.approx(from_file | {"chance_auprc": from_file["random_precision"]})


def test_beeline_scores_equal_beelines_own_code_on_its_recorded_cases():
    """200 seeded cases scored by BEELINE v1.1.0's own BLEval functions (recorded in
    fixtures/beeline_reference.json by simulations/benchmarks/beeline_reference.py): ties, repeated
    and negative weights, self-loops, repeated truth rows, genes outside the truth."""
    import json

    recorded = json.loads((Path(__file__).parent / "fixtures" / "beeline_reference.json").read_text())
    for number, case in enumerate(recorded["cases"]):
        ours = beeline_scores([tuple(row) for row in case["ranked"]], [tuple(row) for row in case["truth"]])
        for key, value in case["beeline"].items():
            if value is None or np.isnan(value):
                assert np.isnan(ours[key]), (number, key)
            else:
                assert ours[key] == pytest.approx(value, rel=1e-12, abs=1e-12), (number, key, ours[key], value)
