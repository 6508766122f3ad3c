r"""BEELINE's evaluation of an inferred network (Pratapa et al. 2020; BLEval of BEELINE v1.1.0:
`AUPRC.py`, `AUROC.py`, `EarlyPrecision.py`), from a ranked edge list and a ground truth.

- **Universe**: every ordered pair $(a, b)$, $a \ne b$, of the genes the ground truth names
  (self-loops of the ground truth name their gene but are never scored).
- **Labels**: a pair is true when the ground truth lists it (repeated rows count once; the sign
  `Type` is not used).
- **Scores**: $\lvert$EdgeWeight$\rvert$; a predicted pair listed more than once takes its largest
  weight; a pair the prediction leaves out scores 0; predicted self-loops and pairs outside the
  universe are not scored.
- **AUPRC** $= \int P\,dR$ by the trapezoidal rule over scikit-learn's `precision_recall_curve`
  (one point per distinct score, tied pairs entering together, the curve closed at recall 0 with
  precision 1): `auc(recall, precision)`. This is not the average precision,
  $\sum_k (R_k - R_{k-1}) P_k$, which scikit-learn's `average_precision_score` gives and which is
  reported beside it, labelled.
- **AUROC** $=$ `auc(fpr, tpr)` over `roc_curve`.
- **Early precision**: $k$ is the number of true pairs; the predictions (self-loops out, largest
  weight per pair) are ranked by $\lvert w\rvert$, and every prediction with
  $\lvert w\rvert \ge \max(w_{\min>0}, \lvert w\rvert_{(\min(k, n))})$ is selected, the whole tie at
  the $k$-th place and no zero weight unless all are zero. Early precision is the share of the
  selected that are true; the **early precision ratio** divides it by the random precision
  $k / \lvert\text{universe}\rvert$.

The random precision is also the AUPRC of a random ranking (`random_precision`), so AUPRC over it
is BEELINE's "AUPRC ratio".
"""

from __future__ import annotations

import numpy as np

__all__ = ["beeline_scores"]


def _pairs(rows, what: str) -> list[tuple]:
    rows = list(rows)
    for index, row in enumerate(rows):
        if len(row) < 2:
            raise ValueError(f"{what}[{index}]: {row!r} names no (Gene1, Gene2) pair")
    return rows


def beeline_scores(ranked, truth) -> dict[str, float]:
    """BEELINE's AUPRC, AUROC, early precision and early precision ratio of a ranked edge list
    against a ground truth (module docstring), with the average precision beside them.

    Args:
        ranked: `(Gene1, Gene2, EdgeWeight)` rows (a `rankedEdges.csv`'s), in any order.
        truth: `(Gene1, Gene2, ...)` rows (a `refNetwork.csv` / `GroundTruthNetwork.csv`'s).

    Returns:
        `auprc`, `auroc`, `early_precision`, `early_precision_ratio`, `average_precision`,
        `random_precision` and `auprc_ratio` (`auprc / random_precision`); NaN where BEELINE gives
        NaN (no true pair; AUROC also where every pair is true).

    Raises:
        ValueError: a row without two genes, or a weight that is not a finite number.
    """
    from sklearn.metrics import auc, average_precision_score, precision_recall_curve, roc_curve

    truth = _pairs(truth, "truth")
    ranked = _pairs(ranked, "ranked")
    genes = sorted({str(row[0]) for row in truth} | {str(row[1]) for row in truth})
    index = {gene: i for i, gene in enumerate(genes)}
    n = len(genes)
    true = np.zeros((n, n), dtype=bool)
    for row in truth:
        true[index[str(row[0])], index[str(row[1])]] = True
    off_diagonal = ~np.eye(n, dtype=bool)
    true &= off_diagonal
    # every non-self prediction, its largest |weight| per pair (in or out of the universe)
    best: dict[tuple[str, str], float] = {}
    for number, row in enumerate(ranked):
        if len(row) < 3:
            raise ValueError(f"ranked[{number}]: {row!r} has no EdgeWeight")
        try:
            weight = abs(float(row[2]))
        except (TypeError, ValueError):
            raise ValueError(f"ranked[{number}]: EdgeWeight {row[2]!r} is not a number") from None
        if not np.isfinite(weight):
            raise ValueError(f"ranked[{number}]: EdgeWeight {row[2]!r} is not finite")
        pair = (str(row[0]), str(row[1]))
        if pair[0] != pair[1]:
            best[pair] = max(weight, best.get(pair, 0.0))
    scores = np.zeros((n, n))
    for (a, b), weight in best.items():
        if a in index and b in index:
            scores[index[a], index[b]] = weight
    labels, values = true[off_diagonal], scores[off_diagonal]
    positives = int(labels.sum())
    random_precision = positives / labels.size if labels.size else float("nan")
    nan = float("nan")
    if positives == 0:
        auprc = average_precision = nan
    else:
        precision, recall, _ = precision_recall_curve(labels, values)
        auprc = float(auc(recall, precision))
        average_precision = float(average_precision_score(labels, values))
    if 0 < positives < labels.size:
        fpr, tpr, _ = roc_curve(labels, values)
        auroc = float(auc(fpr, tpr))
    else:
        auroc = nan
    early = _early_precision(best, {(genes[a], genes[b]) for a, b in zip(*np.nonzero(true))})
    return {
        "auprc": auprc,
        "auroc": auroc,
        "early_precision": early,
        "early_precision_ratio": early / random_precision if positives else nan,
        "average_precision": average_precision,
        "random_precision": random_precision,
        "auprc_ratio": auprc / random_precision if positives else nan,
    }


def _early_precision(best: dict[tuple[str, str], float], true: set[tuple[str, str]]) -> float:
    """The share of true pairs among the top-k predictions, ties at the k-th place included."""
    if not true:
        return float("nan")
    if not best:
        return 0.0
    weights = np.fromiter(best.values(), dtype=np.float64)
    ranked = np.sort(weights)[::-1]
    kth = ranked[min(len(ranked), len(true)) - 1]
    positive = weights[weights > 0]
    cut = max(float(positive.min()) if len(positive) else 0.0, float(kth))
    selected = [pair for pair, weight in best.items() if weight >= cut]
    return sum(pair in true for pair in selected) / len(selected)
