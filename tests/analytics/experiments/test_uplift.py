"""Uplift learners, Qini/AUUC and targeting on synthetic and real experiments."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analytics.exceptions import AnalysisInputError, NotFittedError
from analytics.experiments import (
    ClassTransformationLearner,
    TLearner,
    XLearner,
    artea_features,
    artea_uplift_data,
    auuc_score,
    evaluate_uplift,
    hillstrom_uplift_data,
    load_artea,
    load_hillstrom,
    qini_coefficient,
    qini_curve,
    rank_targets,
    uplift_by_segment,
)


def _synthetic(
    n: int = 8000, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Treatment helps only units with x0 > 0.5 (+15 points), none elsewhere."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, 3))
    t = rng.integers(0, 2, n)
    true = np.where(X[:, 0] > 0.5, 0.15, 0.0)
    y = (rng.random(n) < 0.1 + 0.1 * X[:, 1] + t * true).astype(float)
    return X, t, y, true


def _qini_brute(y: np.ndarray, t: np.ndarray, u: np.ndarray) -> np.ndarray:
    order = np.argsort(-u)
    out = [0.0]
    for k in range(1, len(y) + 1):
        idx = order[:k]
        yt, yc = y[idx][t[idx] == 1].sum(), y[idx][t[idx] == 0].sum()
        nt, nc = (t[idx] == 1).sum(), (t[idx] == 0).sum()
        out.append((yt - (yc * nt / nc if nc else 0.0)) / len(y))
    return np.array(out)


def test_qini_curve_matches_a_brute_force_loop() -> None:
    rng = np.random.default_rng(1)
    y = (rng.random(300) < 0.3).astype(float)
    t = rng.integers(0, 2, 300)
    u = rng.normal(size=300)
    curve = qini_curve(y, t, u)
    np.testing.assert_allclose(curve.gain, _qini_brute(y, t, u), atol=1e-12)
    np.testing.assert_allclose(curve.fraction, np.arange(301) / 300)


def test_oracle_beats_random_and_random_is_near_zero() -> None:
    _X, t, y, true = _synthetic(20000)
    rng = np.random.default_rng(2)
    assert qini_coefficient(y, t, true + rng.normal(0, 1e-6, len(y))) > 0.006
    assert auuc_score(y, t, true + rng.normal(0, 1e-6, len(y))) > 0.012
    assert abs(qini_coefficient(y, t, rng.random(len(y)))) < 0.003
    assert qini_coefficient(y, t, -true + rng.normal(0, 1e-6, len(y))) < -0.006


@pytest.mark.parametrize(
    "make",
    [
        lambda: TLearner(n_estimators=60, min_child_samples=50),
        lambda: XLearner(n_estimators=60, min_child_samples=50),
        lambda: ClassTransformationLearner(),
    ],
    ids=["T", "X", "class-transformation"],
)
def test_learners_find_the_responsive_segment(make: Callable[[], Any]) -> None:
    X, t, y, true = _synthetic()
    ev = evaluate_uplift(make, X, t, y, n_splits=3)
    assert ev.qini_mean > 0.005
    assert len(ev.qini) == 3 and ev.oof_uplift.shape == (len(y),)
    high, low = ev.oof_uplift[true > 0].mean(), ev.oof_uplift[true == 0].mean()
    assert high - low > 0.05


def test_learner_errors() -> None:
    X, t, y, _ = _synthetic(500)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        TLearner().predict(X)
    with pytest.raises(AnalysisInputError, match="treatment must be 0/1"):
        TLearner().fit(X, t + 1, y)
    with pytest.raises(AnalysisInputError, match="needs a 0/1 outcome"):
        ClassTransformationLearner().fit(X, t, y * 3.5)
    with pytest.raises(AnalysisInputError, match="same length"):
        XLearner().fit(X[:10], t, y)
    assert TLearner(n_estimators=7).get_params()["n_estimators"] == 7


def test_rank_targets_picks_positive_uplift_within_budget() -> None:
    plan = rank_targets(
        [0.02, -0.01, 0.05, 0.001],
        ids=["a", "b", "c", "d"],
        cost_per_unit=0.0015,
        value_per_outcome=1.0,
    )
    assert list(plan.ranking["id"]) == ["c", "a", "d", "b"]
    assert plan.n_targeted == 2 and plan.expected_incremental == pytest.approx(0.07)
    assert rank_targets([0.02, 0.05, 0.03], budget=1).n_targeted == 1


@pytest.mark.shared_data
def test_hillstrom_uplift_on_held_out_folds(shared_data_dir: Path) -> None:
    data = hillstrom_uplift_data(load_hillstrom(shared_data_dir), "Mens E-Mail", "visit")
    rng = np.random.default_rng(0)
    idx = rng.choice(len(data.y), 16000, replace=False)
    X, t, y = data.X.to_numpy()[idx], data.treatment[idx], data.y[idx]
    for make in (lambda: TLearner(n_estimators=60), lambda: ClassTransformationLearner()):
        ev = evaluate_uplift(make, X, t, y, n_splits=3)
        assert ev.qini_mean > 0.0, ev.to_dict()
    # Observed uplift per segment equals a Welch difference computed with scipy.
    segs = uplift_by_segment(data.segments["channel"], data.treatment, data.y)
    for seg in segs:
        m = (data.segments["channel"] == seg.segment).to_numpy()
        yt, yc = data.y[m & (data.treatment == 1)], data.y[m & (data.treatment == 0)]
        ref = stats.ttest_ind(yt, yc, equal_var=False)
        assert seg.uplift == pytest.approx(yt.mean() - yc.mean())
        assert seg.p_value == pytest.approx(ref.pvalue, rel=1e-6)
        assert seg.uplift_ci == pytest.approx(tuple(ref.confidence_interval(0.95)), rel=1e-6)


@pytest.mark.shared_data
def test_artea_next_campaign_ranking(shared_data_dir: Path) -> None:
    ab, nxt = load_artea(shared_data_dir)
    data = artea_uplift_data(ab)
    model = TLearner(n_estimators=80).fit(data.X, data.treatment, data.y)
    uplift = model.predict(artea_features(nxt))
    plan = rank_targets(uplift, nxt["id"].to_numpy())
    assert len(plan.ranking) == len(nxt) == 6000
    assert 0 < plan.n_targeted < 6000
    assert plan.expected_incremental == pytest.approx(uplift[uplift > 0].sum())
    assert plan.ranking["uplift"].is_monotonic_decreasing
    assert set(plan.ranking["id"]) == set(nxt["id"])
    by_cart = uplift_by_segment(data.segments["shopping_cart"], data.treatment, data.y)
    assert {s.segment for s in by_cart} == {"nothing", "something"}


@pytest.mark.slow
@pytest.mark.shared_data
def test_hillstrom_full_uplift_all_learners(shared_data_dir: Path) -> None:
    hill = load_hillstrom(shared_data_dir)
    for treatment in ("Mens E-Mail", "Womens E-Mail"):
        data = hillstrom_uplift_data(hill, treatment, "visit")
        for make in (lambda: TLearner(), lambda: XLearner(), lambda: ClassTransformationLearner()):
            ev = evaluate_uplift(make, data.X, data.treatment, data.y, n_splits=5)
            assert ev.qini_mean > 0.0, (treatment, ev.to_dict())
    assert isinstance(data.X, pd.DataFrame)
