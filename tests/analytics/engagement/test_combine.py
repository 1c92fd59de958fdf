"""Stacking with non-negative weights, ranking-preserving calibration, the paired AUC interval."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.engagement._combine import Calibrator, StackingCombiner, fit_logistic
from analytics.engagement._metrics import paired_auc_difference


def _members(n: int = 3000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = rng.random(n)
    y = (rng.random(n) < truth).astype(float)
    good = np.clip(truth + rng.normal(0, 0.1, n), 0.01, 0.99)
    # A near-copy of the good member: unconstrained stacking would trade the two off
    # with a large positive and a negative weight.
    twin = np.clip(good + rng.normal(0, 0.02, n), 0.01, 0.99)
    noise = rng.random(n)
    return np.column_stack([good, twin, noise]), y


def test_stacking_weights_are_never_negative_and_the_useful_member_dominates() -> None:
    members, y = _members()
    stack = StackingCombiner().fit(members, y)
    assert np.all(stack.coef_ >= 0)
    assert stack.coef_[:2].sum() > 5 * stack.coef_[2]
    p = stack.predict_proba(members)
    assert p.shape == (len(y),) and np.all((p > 0) & (p < 1))


def test_row_weights_move_the_fit() -> None:
    members, y = _members(600, seed=1)
    plain = StackingCombiner().fit(members, y)
    # Rows of one class weighted up raise the intercept.
    tilted = StackingCombiner().fit(members, y, np.where(y == 1, 5.0, 1.0))
    assert tilted.intercept_ > plain.intercept_


def test_fit_logistic_matches_unconstrained_sklearn_when_the_bound_is_inactive() -> None:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(2)
    X = rng.normal(size=(800, 2))
    y = (rng.random(800) < 1 / (1 + np.exp(-(1.5 * X[:, 0] + 0.5 * X[:, 1])))).astype(float)
    coef, intercept = fit_logistic(X, y, l2=0.0)
    reference = LogisticRegression(C=1e6).fit(X, y)
    assert coef == pytest.approx(reference.coef_.ravel(), abs=0.02)
    assert intercept == pytest.approx(reference.intercept_[0], abs=0.02)


def test_platt_never_reverses_a_ranking() -> None:
    rng = np.random.default_rng(3)
    p = rng.random(500)
    y = (rng.random(500) < 1 - p).astype(float)  # the score is anti-correlated with the label
    cal = Calibrator("platt").fit(p, y)
    assert cal.a_ == pytest.approx(0.0, abs=1e-6)
    out = cal.transform(np.linspace(0.01, 0.99, 20))
    assert np.all(np.diff(out) >= -1e-12)
    assert out.mean() == pytest.approx(y.mean(), abs=0.02)  # flat: the base rate


def test_auto_calibration_picks_by_held_out_log_loss() -> None:
    rng = np.random.default_rng(4)
    n = 2000
    truth = rng.random(n)
    y = (rng.random(n) < truth).astype(float)
    groups = np.repeat(np.arange(4), n // 4)
    # A logistic distortion is what Platt models exactly.
    squashed = 1 / (1 + np.exp(-(0.4 * np.log(truth / (1 - truth)) + 0.3)))
    assert Calibrator("auto").fit(squashed, y, groups=groups).method_ == "platt"
    # A step-shaped score that Platt cannot follow.
    stepped = np.where(truth > 0.5, 0.51, 0.49) + 0.001 * truth
    assert Calibrator("auto").fit(stepped, y, groups=groups).method_ == "isotonic"
    # Without folds the size rule applies.
    assert Calibrator("auto").fit(squashed[:500], y[:500]).method_ == "platt"


def test_paired_auc_difference_interval() -> None:
    members, y = _members(1000, seed=5)
    diff, lower, upper = paired_auc_difference(y, members[:, 0], members[:, 2], n_boot=300)
    assert lower <= diff <= upper and lower > 0.2
    same, low, high = paired_auc_difference(y, members[:, 0], members[:, 0], n_boot=50)
    assert same == 0.0 and low == 0.0 and high == 0.0
    nan = paired_auc_difference(np.ones(10), members[:10, 0], members[:10, 1])
    assert all(np.isnan(v) for v in nan)
