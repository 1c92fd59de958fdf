"""Time-split evaluation: members vs stacked ensemble vs BMC vs the account's trailing median."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analytics.engagement._combine import Calibrator
from analytics.engagement._metrics import (
    Metrics,
    classification_metrics,
    ece_if_calibrated,
    paired_auc_difference,
    reliability_diagram,
)
from analytics.engagement._model import EngagementModel
from analytics.engagement._target import add_context
from analytics.exceptions import AnalysisInputError


@dataclass(frozen=True)
class EvaluationReport:
    """Metrics on the later (test) posts of a time split."""

    n_train: int
    n_test: int
    members: dict[str, Metrics]
    ensemble: Metrics
    combiners: dict[str, Metrics]
    baseline: Metrics
    base_rate: float
    reliability_png: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_train": self.n_train,
            "n_test": self.n_test,
            "base_rate_test": round(self.base_rate, 4),
            "members": {k: v.to_dict() for k, v in self.members.items()},
            "ensemble": self.ensemble.to_dict(),
            "combiners": {k: v.to_dict() for k, v in self.combiners.items()},
            "naive_trailing_median": self.baseline.to_dict(),
            "reliability_png": self.reliability_png,
            **self.extra,
        }


def _naive(train: pd.DataFrame, test: pd.DataFrame) -> np.ndarray:
    """The trailing-median baseline: one logistic on (recent 5-post median − trailing q70)."""
    from sklearn.linear_model import LogisticRegression

    def signal(rows: pd.DataFrame) -> np.ndarray:
        return (rows["recent_median"] - rows["trailing_q70"]).fillna(0).to_numpy()[:, None]

    model = LogisticRegression().fit(signal(train), train["label"].to_numpy())
    return np.asarray(model.predict_proba(signal(test))[:, 1], dtype=float)


def evaluate(
    train: pd.DataFrame,
    test: pd.DataFrame,
    model: EngagementModel | None = None,
    reliability_path: Path | None = None,
    title: str = "engagement",
) -> tuple[EvaluationReport, EngagementModel]:
    """Fit on ``train`` posts, score ``test`` posts (all later in time).

    The account context of a test post uses every earlier post (train or test)
    of its account, as it would in production.

    Raises:
        AnalysisInputError: The test posts start before the training posts end.
    """
    if pd.to_datetime(test["posted_at"]).min() < pd.to_datetime(train["posted_at"]).max():
        raise AnalysisInputError(
            "test posts must all be later than training posts (time-based split); "
            "use --input FILE --test-fraction F to split one file by time"
        )
    both = add_context(
        pd.concat([train.assign(_part="train"), test.assign(_part="test")], ignore_index=True)
    )
    is_test = (both["_part"] == "test").to_numpy()
    model = model or EngagementModel()
    model.fit_prepared(both[~is_test].reset_index(drop=True))
    rows = both[is_test & both["label"].notna().to_numpy()].reset_index(drop=True)
    if len(rows) < 10 or rows["label"].nunique() < 2:
        raise AnalysisInputError(
            f"only {len(rows)} test posts have 5+ earlier posts of their account (or one class); "
            "use a larger test file"
        )
    scores = model.score(model.features(rows))
    y = rows["label"].to_numpy()
    truth = rows["log_engagement"].to_numpy()
    mae = float(np.abs(scores.log_engagement - truth).mean())
    naive_mae = float(np.abs(rows["trailing_median"].to_numpy() - truth).mean())
    members = {k: classification_metrics(y, v) for k, v in scores.members.items()}
    train_rows = both[~is_test & both["label"].notna().to_numpy()]
    naive_p = _naive(train_rows, rows)
    # Test sets of a few hundred posts: say how sure "ensemble beats its best member" is.
    best = max(members, key=lambda name: members[name].roc_auc)
    diff, lower, upper = paired_auc_difference(y, scores.ensemble, scores.members[best])
    versus_best = {
        "member": best,
        "auc_difference": round(diff, 4),
        "ci95": [round(lower, 4), round(upper, 4)],
    }
    # ECE is noisy on small test sets: what a perfectly calibrated model would show here.
    floor_mean, floor_p95 = ece_if_calibrated(scores.ensemble)
    raw = model.stacker_.predict_proba(np.column_stack(list(scores.members.values())))
    # The road not taken: Platt fitted on the stacker's out-of-fold rows.
    platt = Calibrator("platt").fit(model.calibration_scores_, model.calibration_labels_)
    report = EvaluationReport(
        n_train=int(model.n_train_),
        n_test=len(rows),
        members=members,
        ensemble=classification_metrics(y, scores.ensemble, mae_log=mae),
        combiners={
            "stacking_uncalibrated": classification_metrics(y, raw),
            "stacking_platt_on_out_of_fold_rows": classification_metrics(y, platt.transform(raw)),
            "bayesian_model_combination": classification_metrics(y, scores.bmc),
        },
        baseline=classification_metrics(y, naive_p, mae_log=naive_mae),
        base_rate=float(y.mean()),
        reliability_png=str(reliability_path) if reliability_path else None,
        extra={
            "ensemble_vs_best_member": versus_best,
            "ensemble_ece_if_calibrated": {
                "mean": round(floor_mean, 4),
                "p95": round(floor_p95, 4),
            },
        },
    )
    if reliability_path is not None:
        reliability_path.parent.mkdir(parents=True, exist_ok=True)
        curves = {name: (y, p) for name, p in scores.members.items()}
        curves["ensemble"] = (y, scores.ensemble)
        reliability_diagram(curves, str(reliability_path), f"Reliability: {title}")
    return report, model
