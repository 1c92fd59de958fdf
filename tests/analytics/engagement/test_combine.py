"""Stacking (a non-negative log-linear pool), ranking-preserving calibration, AUC intervals."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.engagement._combine import Calibrator, StackingCombiner, fit_logistic, logit, sigmoid
from analytics.engagement._metrics import (
    ece_if_calibrated,
    expected_calibration_error,
    paired_auc_difference,
)


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


def test_stacking_weights_are_never_negative_sum_to_one_and_the_useful_member_dominates() -> None:
    members, y = _members()
    stack = StackingCombiner().fit(members, y)
    assert np.all(stack.coef_ >= 0) and stack.coef_.sum() == pytest.approx(1.0)
    assert stack.coef_[:2].sum() > 5 * stack.coef_[2]
    assert stack.intercept_ == 0.0
    p = stack.predict_proba(members)
    assert p.shape == (len(y),) and np.all((p > 0) & (p < 1))


def test_the_pool_keeps_calibrated_members_calibrated() -> None:
    """Weights summing to one keep a shared probability scale (no slope or shift learnt)."""
    rng = np.random.default_rng(5)
    truth = rng.uniform(0.05, 0.95, 4000)
    y = (rng.random(4000) < truth).astype(float)
    members = np.column_stack([truth, sigmoid(logit(truth) + rng.normal(0, 0.05, 4000))])
    pooled = StackingCombiner().fit(members, y).predict_proba(members)
    assert expected_calibration_error(y, pooled) < 0.03


def test_row_weights_move_the_fit() -> None:
    rng = np.random.default_rng(1)
    n = 1200
    truth = rng.random(n)
    y = (rng.random(n) < truth).astype(float)
    late = np.arange(n) >= n // 2
    # Member 0 knows the truth on early rows only, member 1 on late rows only.
    first = np.where(late, rng.random(n), truth)
    second = np.where(late, truth, rng.random(n))
    members = np.clip(np.column_stack([first, second]), 0.01, 0.99)
    plain = StackingCombiner().fit(members, y)
    later = StackingCombiner().fit(members, y, np.where(late, 5.0, 1.0))
    assert later.coef_[1] > plain.coef_[1] + 0.1


def test_fold_intercepts_keep_a_between_fold_shift_out_of_the_weights() -> None:
    """A member that only knows each fold's base rate gets weight without fold intercepts."""
    rng = np.random.default_rng(6)
    folds = np.repeat(np.arange(4), 3000)
    rate = np.array([0.15, 0.3, 0.45, 0.6])[folds]
    signal = rng.normal(size=len(folds))
    y = (rng.random(len(folds)) < sigmoid(logit(rate) + 1.5 * signal)).astype(float)
    era = sigmoid(logit(rate) + rng.normal(0, 0.5, len(y)))  # within a fold: noise
    members = np.column_stack([sigmoid(1.5 * signal + logit(np.full(len(y), 0.35))), era])
    shared = StackingCombiner().fit(members, y)
    per_fold = StackingCombiner().fit(members, y, groups=folds)
    assert shared.coef_[1] > 0.2
    assert per_fold.coef_[1] < 0.1 < 0.9 < per_fold.coef_[0]


def test_no_useful_member_means_equal_weights() -> None:
    rng = np.random.default_rng(7)
    y = (rng.random(300) < 0.3).astype(float)
    members = rng.uniform(0.6, 0.9, size=(300, 3)) * (1 - y[:, None] * 0.3)  # anti-correlated
    stack = StackingCombiner().fit(members, y)
    assert stack.raw_coef_ == pytest.approx(np.zeros(3), abs=1e-6)
    assert stack.coef_ == pytest.approx(np.full(3, 1 / 3))


def test_no_calibration_is_the_identity_and_bad_methods_say_which_exist() -> None:
    p = np.array([0.0, 0.2, 0.7, 1.0])
    cal = Calibrator("none").fit(p, np.array([1.0, 0.0, 0.0, 1.0]))
    assert cal.method_ == "none" and cal.transform(p)[1:3] == pytest.approx([0.2, 0.7])
    assert cal.transform(p)[0] > 0 and cal.transform(p)[-1] < 1
    with pytest.raises(ValueError, match=r"none, platt, isotonic, auto.*got 'sigmoid'"):
        Calibrator("sigmoid").fit(p, p)


def test_ece_if_calibrated_shrinks_with_the_test_set() -> None:
    rng = np.random.default_rng(8)
    small, large = ece_if_calibrated(rng.random(100)), ece_if_calibrated(rng.random(5000))
    assert small[0] > 3 * large[0] and small[0] < small[1]
    assert 0.05 < small[0] < 0.2


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
