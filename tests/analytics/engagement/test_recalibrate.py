"""Calibrator refits with row weights, and the checks recalibration is judged by."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.engagement import EngagementModel, calibration_check
from analytics.engagement._combine import Calibrator
from analytics.engagement._recalibrate import calibrator_id, recalibrate


def _rows(n: int = 600, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.02, 0.98, n)
    return p, (rng.uniform(size=n) < p).astype(float)


@pytest.mark.parametrize("method", ["platt", "isotonic"])
def test_a_weighted_row_pulls_the_calibrated_probability_its_way(method: str) -> None:
    p, y = _rows()
    base = Calibrator(method).fit(p, y)
    at = np.array([0.9])
    x, labels = np.append(p, 0.9), np.append(y, 0.0)
    light = Calibrator(method).fit(x, labels, np.append(np.ones(len(p)), 1.0))
    heavy = Calibrator(method).fit(x, labels, np.append(np.ones(len(p)), 30.0))
    assert heavy.transform(at)[0] < light.transform(at)[0] <= base.transform(at)[0]
    ranked = heavy.transform(np.linspace(0.01, 0.99, 50))
    assert np.all(np.diff(ranked) >= 0)  # still monotone, so the ranking (AUC) is kept


def test_unit_weights_equal_no_weights_and_ids_follow_the_fit() -> None:
    p, y = _rows()
    plain, weighted = Calibrator("platt").fit(p, y), Calibrator("platt").fit(p, y, np.ones(len(p)))
    assert calibrator_id(plain) == calibrator_id(weighted)
    other = Calibrator("platt").fit(p, 1 - y)
    assert calibrator_id(other) != calibrator_id(plain)


def test_calibration_check_scores_good_and_bad_probabilities() -> None:
    p, y = _rows(4000, seed=1)
    good = calibration_check(y, p)
    bad = calibration_check(y, np.clip(p + 0.25, 0, 1))
    assert good.rows == 4000 and good.ece < 0.03 < bad.ece
    assert good.brier < bad.brier and good.log_loss < bad.log_loss
    assert good.roc_auc == pytest.approx(bad.roc_auc, abs=0.01)  # shift keeps the ranking
    assert np.isnan(calibration_check(np.ones(3), np.full(3, 0.5)).roc_auc)  # one class


def _uncalibrated_model(scores: np.ndarray, labels: np.ndarray) -> EngagementModel:
    """A model trained with ``calibration="none"``; recalibration touches only the calibrator."""
    model = EngagementModel()
    model.members_ = {}
    model.calibrator_ = Calibrator(model.calibration).fit(scores, labels)
    model.calibration_scores_, model.calibration_labels_ = scores, labels
    model.recalibration_ = None
    return model


def test_a_model_without_a_calibrator_keeps_its_own_scale_until_outcomes_disagree() -> None:
    from analytics.engagement._combine import logit, sigmoid

    rng = np.random.default_rng(9)
    truth = rng.uniform(0.05, 0.95, 800)
    # Out-of-fold scores are flatter than the final model: their own labels would steepen it.
    stored = sigmoid(0.5 * logit(truth))
    labels = (rng.random(800) < truth).astype(float)
    model = _uncalibrated_model(stored, labels)
    assert model.calibration == "none"
    assert Calibrator("platt").fit(stored, labels).a_ > 1.6

    agreeing = rng.uniform(0.05, 0.95, 400)
    outcome = (rng.random(400) < agreeing).astype(float)
    kept = recalibrate(model, agreeing, outcome, np.zeros(0), np.zeros(0)).model.calibrator_
    assert kept.method_ == "platt"
    assert kept.a_ == pytest.approx(1.0, abs=0.15) and kept.b_ == pytest.approx(0.0, abs=0.15)

    # Published posts did worse than the model said: the map moves down, about halfway.
    worse = (rng.random(800) < agreeing.repeat(2) / 2).astype(float)
    moved = recalibrate(model, agreeing.repeat(2), worse, np.zeros(0), np.zeros(0))
    assert 0.3 < float(moved.model.calibrator_.transform(np.array([0.5]))[0]) < 0.45
