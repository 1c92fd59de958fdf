"""Uplift learners on real experiments: held-out Qini / AUUC vs random targeting.

Run: ``python -m benchmarks.uplift [--folds 5] [--trees 200]``. Hillstrom (Mens and
Womens e-mail vs no e-mail; outcomes visit and conversion) and Artea (coupon vs none;
outcome any purchase after the test), 5-fold cross-fitting; the random-score baseline
is measured in the same run on the same folds. Also ranks Artea's next-campaign file.
Writes docs/benchmarks/uplift.json and renders docs/benchmarks/uplift.md (``--out``
elsewhere; ``--json`` also prints the results).
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np

from analytics.experiments import (
    ClassTransformationLearner,
    TLearner,
    XLearner,
    artea_features,
    artea_uplift_data,
    evaluate_uplift,
    hillstrom_uplift_data,
    load_artea,
    load_hillstrom,
    rank_targets,
)
from benchmarks._report import Run, add_out_argument


class _Random:
    """Random scores: the baseline every learner must beat."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def fit(self, X: Any, treatment: Any, y: Any) -> _Random:
        return self

    def predict(self, X: Any) -> np.ndarray:
        return np.random.default_rng(self.seed).random(len(X))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--trees", type=int, default=100)
    parser.add_argument("--json", action="store_true", help="also print the results as JSON")
    add_out_argument(parser, "uplift")
    args = parser.parse_args()
    with Run("uplift", out=args.out, packages=("lightgbm", "scikit-learn")) as run:
        run.results = measure(args.folds, args.trees)
        if args.json:
            print(json.dumps(run.results, default=str, indent=1))


def measure(folds: int, trees: int) -> dict[str, Any]:
    """Every learner on every case with the same folds, then the Artea next-campaign plan."""
    learners = {
        "random": lambda: _Random(),
        "class-transformation": lambda: ClassTransformationLearner(),
        "T-learner": lambda: TLearner(n_estimators=trees),
        "X-learner": lambda: XLearner(n_estimators=trees),
    }
    hill = load_hillstrom()
    ab, nxt = load_artea()
    cases = [
        (f"Hillstrom {t} / {o}", hillstrom_uplift_data(hill, t, o))
        for t in ("Mens E-Mail", "Womens E-Mail")
        for o in ("visit", "conversion")
    ]
    cases.append(("Artea coupon / purchased", artea_uplift_data(ab)))
    rows = []
    case_info = []
    for case, data in cases:
        treated = np.asarray(data.treatment).astype(bool)
        y = np.asarray(data.y, dtype=float)
        case_info.append(
            {
                "case": case,
                "n": len(y),
                "treated": int(treated.sum()),
                "outcome_rate_control": float(y[~treated].mean()),
                "outcome_rate_treated": float(y[treated].mean()),
            }
        )
        for name, make in learners.items():
            start = time.perf_counter()
            ev = evaluate_uplift(make, data.X, data.treatment, data.y, n_splits=folds, name=name)
            rows.append(
                {
                    "case": case,
                    "learner": name,
                    "n": len(data.y),
                    "seconds": time.perf_counter() - start,
                    **{k: v for k, v in ev.to_dict().items() if k.endswith(("mean", "sd"))},
                }
            )
            r = rows[-1]
            print(
                f"{case:38s} {name:22s} Qini {r['qini_mean']:+.5f} ± {r['qini_sd']:.5f}  "
                f"AUUC {r['auuc_mean']:+.5f} ± {r['auuc_sd']:.5f}  {r['seconds']:.1f}s",
                flush=True,
            )
    data = artea_uplift_data(ab)
    learner = TLearner(n_estimators=trees)
    model = learner.fit(data.X, data.treatment, data.y)
    plan = rank_targets(model.predict(artea_features(nxt)), nxt["id"].to_numpy())
    print(
        f"Artea next campaign: target {plan.n_targeted} of {len(nxt)} customers, expected "
        f"{plan.expected_incremental:.1f} extra buyers (coupon to everyone: {plan.expected_incremental_all:.1f})"
    )
    summary = plan.to_dict(top=0)
    summary.pop("top", None)
    return {
        "folds": folds,
        "lightgbm": {k: v for k, v in learner.get_params().items() if k != "random_state"},
        "cases": case_info,
        "rows": rows,
        "artea_plan": {"trained_on": len(data.y), **summary},
    }


if __name__ == "__main__":
    main()
