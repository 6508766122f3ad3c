"""BEELINE's own scores of a set of ranked edge lists, recorded as a fixture (BEELINE stays out of CI).

    python simulations/benchmarks/beeline_reference.py --beeline PATH/TO/Beeline \\
        --out tests/grn/fixtures/beeline_reference.json

`PATH/TO/Beeline` is a checkout of BEELINE (v1.1.0: `BLEval/AUPRC.py`, `AUROC.py`,
`EarlyPrecision.py`). Its scoring functions (`_compute_auprc`, `_compute_auroc`,
`_build_edge_universe` and `_compute_early_precision` with `tf_edges=False`, as `BLEvaluator`
calls them) are loaded from those files, with the package's evaluator and data classes stubbed
(the scores do not use them), and run on seeded ground truths and ranked lists drawn with ties,
repeated and negative weights, self-loops, repeated truth rows and genes outside the truth. The
fixture holds each case's rows and BEELINE's three numbers; `tests/grn/test_evaluation.py` checks
`beeline_scores` against them.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import types
from pathlib import Path

import numpy as np
import pandas as pd


def load_bleval(root: Path) -> dict:
    """BEELINE's scoring modules, their package imports stubbed."""
    package = types.ModuleType("BLEval")
    evaluator, data = types.ModuleType("BLEval.evaluator"), types.ModuleType("BLEval.data")
    evaluator.Evaluator, data.EvaluationData = type("Evaluator", (), {}), type("EvaluationData", (), {})
    sys.modules.update({"BLEval": package, "BLEval.evaluator": evaluator, "BLEval.data": data})
    modules = {}
    for name in ("AUPRC", "AUROC", "EarlyPrecision"):
        spec = importlib.util.spec_from_file_location(f"BLEval.{name}", root / "BLEval" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        modules[name] = module
    return modules


def case(rng: np.random.Generator) -> tuple[list, list]:
    genes = [f"g{i}" for i in range(int(rng.integers(3, 8)))]
    truth = [[str(rng.choice(genes)), str(rng.choice(genes))] for _ in range(int(rng.integers(2, 2 * len(genes) + 1)))]
    weights = [0.0, 0.5, 1.0, -2.0, 3.0, float(rng.normal())]
    pool = [*genes, "outside"]
    ranked = [
        [str(rng.choice(pool)), str(rng.choice(genes)), float(rng.choice(weights))]
        for _ in range(int(rng.integers(1, 3 * len(genes))))
    ]
    return truth, ranked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--beeline", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    bleval = load_bleval(args.beeline)
    rng = np.random.default_rng(args.seed)
    cases = []
    while len(cases) < args.cases:
        truth, ranked = case(rng)
        gt = pd.DataFrame(truth, columns=["Gene1", "Gene2"])
        pred = pd.DataFrame(ranked, columns=["Gene1", "Gene2", "EdgeWeight"])
        possible, true = bleval["EarlyPrecision"]._build_edge_universe(gt, tf_edges=False)
        scores = {
            "auprc": bleval["AUPRC"]._compute_auprc(pred, gt),
            "auroc": bleval["AUROC"]._compute_auroc(pred, gt),
            "early_precision_ratio": bleval["EarlyPrecision"]._compute_early_precision(pred, true, possible, False),
        }
        cases.append({"truth": truth, "ranked": ranked, "beeline": scores})
    args.out.write_text(json.dumps({"beeline": "v1.1.0 BLEval", "cases": cases}, allow_nan=True) + "\n")
    print(f"wrote {args.out}: {len(cases)} cases", file=sys.stderr)


if __name__ == "__main__":
    main()
