"""Ensemble members on their own: the seed-bagged network."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from analytics.engagement._features import Features
from analytics.engagement._members import NeuralMember, _sigmoid


def _features(n: int, seed: int = 0) -> tuple[Features, np.ndarray]:
    rng = np.random.default_rng(seed)
    tabular = pd.DataFrame({"hashtags": rng.poisson(2, n).astype(float), "hour": rng.random(n)})
    embedding = rng.normal(size=(n, 384)).astype(np.float32)
    embedding /= np.linalg.norm(embedding, axis=1, keepdims=True)
    y = (rng.random(n) < _sigmoid(2.0 * (tabular["hashtags"].to_numpy() - 2.0))).astype(float)
    return Features(tabular, embedding), y


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
