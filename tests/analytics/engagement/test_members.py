"""Ensemble members on their own: the registry, the seed-bagged network, the level-shifted trees."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from analytics.engagement._combine import sigmoid
from analytics.engagement._features import Features
from analytics.engagement._members import (
    LGBM_PARAMS,
    MEMBERS,
    LightGBMMember,
    NeuralMember,
    member_type,
)
from analytics.engagement._target import LEVEL_COLUMNS


def _features(n: int, seed: int = 0) -> tuple[Features, np.ndarray]:
    rng = np.random.default_rng(seed)
    tabular = pd.DataFrame({"hashtags": rng.poisson(2, n).astype(float), "hour": rng.random(n)})
    embedding = rng.normal(size=(n, 384)).astype(np.float32)
    embedding /= np.linalg.norm(embedding, axis=1, keepdims=True)
    y = (rng.random(n) < sigmoid(2.0 * (tabular["hashtags"].to_numpy() - 2.0))).astype(float)
    return Features(tabular, embedding), y


def test_every_registered_member_builds_fits_saves_and_loads_by_name(tmp_path: Path) -> None:
    features, y = _features(120)
    test, _ = _features(20, seed=1)
    for name, registered in MEMBERS.items():
        assert registered.name == name
        member = member_type(name).for_ensemble(random_state=3)
        assert type(member) is registered
        assert getattr(member, "random_state", 3) == 3
        assert not [k for k in vars(member) if k.endswith("_")]  # nothing fitted yet
        p = member.fit(features, y).predict_proba(test)
        assert p.shape == (20,) and ((p > 0) & (p < 1)).all()
        (tmp_path / name).mkdir()
        member.save(tmp_path / name)
        loaded = member_type(name).load(tmp_path / name)
        assert type(loaded) is registered
        np.testing.assert_allclose(loaded.predict_proba(test), p, rtol=1e-6)


def test_an_unknown_member_name_says_which_exist() -> None:
    with pytest.raises(
        ValueError, match=r"unknown member 'forest'; expected neural, lightgbm or logistic"
    ):
        member_type("forest")


def test_neural_member_averages_nets_of_different_seeds(tmp_path: Path) -> None:
    features, y = _features(300)
    member = NeuralMember(epochs=8, n_networks=3).fit(features, y)
    assert len(member.nets_) == 3
    first = member.nets_[0][1].weight.detach().numpy()
    assert not np.allclose(first, member.nets_[1][1].weight.detach().numpy())
    test, _ = _features(50, seed=1)
    single = []
    for net in member.nets_:
        member_of_one = NeuralMember(n_networks=1)
        member_of_one.pre_, member_of_one.nets_ = member.pre_, [net]
        single.append(member_of_one.predict_proba(test))
    np.testing.assert_allclose(member.predict_proba(test), np.mean(single, axis=0), rtol=1e-6)
    member.save(tmp_path)
    loaded = NeuralMember.load(tmp_path)
    assert len(loaded.nets_) == 3
    np.testing.assert_allclose(loaded.predict_proba(test), member.predict_proba(test), rtol=1e-6)


def test_neural_member_learns_the_planted_signal() -> None:
    features, y = _features(600)
    member = NeuralMember(n_networks=2).fit(features, y)
    test, y_test = _features(400, seed=2)
    p = member.predict_proba(test)
    assert p.shape == (400,)
    assert roc_auc_score(y_test, p) > 0.7  # 384 noise dimensions and 600 rows: not the 0.90 oracle
    assert p.mean() == pytest.approx(y_test.mean(), abs=0.1)


def _drifting_account(n: int, seed: int) -> tuple[Features, np.ndarray]:
    """Hits follow the recent level against the account's median, at any absolute level.

    Trees split each column at absolute thresholds, so even here, where the level
    itself says nothing, a plain fit leans on where the levels happen to lie.
    """
    rng = np.random.default_rng(seed)
    level = rng.uniform(2.0, 6.0, n)
    q70 = level + 0.5 + rng.normal(0, 0.1, n)
    recent = level + rng.normal(0, 0.5, n)
    logit = 3.0 * (recent - level)
    y = (rng.random(n) < sigmoid(logit)).astype(float)
    tabular = pd.DataFrame(
        {
            "trailing_median": level,
            "trailing_q70": q70,
            "recent_median": recent,
            "hashtags": rng.poisson(2, n).astype(float),
        }
    )
    tabular.loc[:9, list(LEVEL_COLUMNS)] = np.nan  # no history yet
    embedding = rng.normal(size=(n, 384)).astype(np.float32)
    return Features(tabular, embedding), y


def _moved(features: Features, shift: float) -> Features:
    tabular = features.tabular.copy()
    tabular[list(LEVEL_COLUMNS)] += shift
    return Features(tabular, features.embedding)


def test_lightgbm_level_shift_reads_the_level_columns_relative_to_each_other(
    tmp_path: Path,
) -> None:
    features, y = _drifting_account(1500, seed=0)
    before = features.tabular.copy()
    plain = LightGBMMember(n_estimators=150, level_shift=0.0).fit(features, y)
    shifted = LightGBMMember(n_estimators=150, level_shift=2.0).fit(features, y)
    pd.testing.assert_frame_equal(features.tabular, before)  # the caller's rows are not touched
    # Two spreads of recent_median - trailing_median (planted: 0.5 log units).
    assert shifted.level_shift_ == pytest.approx(1.0, abs=0.1)
    assert plain.level_shift_ == 0.0
    # Three copies of each row: a leaf still needs as many real posts as before.
    assert shifted.booster_.params["min_data_in_leaf"] == 3 * LGBM_PARAMS["min_data_in_leaf"]
    assert plain.booster_.params["min_data_in_leaf"] == LGBM_PARAMS["min_data_in_leaf"]

    test, y_test = _drifting_account(600, seed=1)
    # A whole account one log unit up (every count x2.7): the labels would not change.
    drift = {
        name: np.abs(m.predict_proba(_moved(test, 1.0)) - m.predict_proba(test)).mean()
        for name, m in (("plain", plain), ("shifted", shifted))
    }
    assert drift["shifted"] < 0.6 * drift["plain"], drift
    relative = test.tabular["recent_median"] - test.tabular["trailing_median"]
    assert roc_auc_score(y_test, shifted.predict_proba(test)) > 0.75
    assert np.corrcoef(relative.fillna(0), shifted.predict_proba(test))[0, 1] > 0.5

    shifted.save(tmp_path)
    loaded = LightGBMMember.load(tmp_path)
    assert (loaded.level_shift, loaded.level_shift_) == (2.0, shifted.level_shift_)
    np.testing.assert_allclose(loaded.predict_proba(test), shifted.predict_proba(test))


def test_lightgbm_level_shift_is_a_no_op_without_level_columns() -> None:
    features, y = _features(300)
    plain = LightGBMMember(n_estimators=50, level_shift=0.0).fit(features, y)
    shifted = LightGBMMember(n_estimators=50, level_shift=1.0).fit(features, y)
    test, _ = _features(50, seed=1)
    np.testing.assert_array_equal(plain.predict_proba(test), shifted.predict_proba(test))
