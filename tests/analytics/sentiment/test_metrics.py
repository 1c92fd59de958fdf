"""Macro recall, macro F1, accuracy, confusion matrix and calibration error."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.exceptions import AnalysisInputError
from analytics.sentiment import score_split
from analytics.sentiment._metrics import expected_calibration_error


def test_score_split_matches_hand_computation() -> None:
    gold = ["negative", "negative", "neutral", "positive", "positive", "positive"]
    pred = ["negative", "neutral", "neutral", "positive", "neutral", "positive"]
    result = score_split("toy", gold, pred)
    # recalls: negative 1/2, neutral 1/1, positive 2/3
    assert result.macro_recall == pytest.approx((0.5 + 1.0 + 2 / 3) / 3)
    assert result.accuracy == pytest.approx(4 / 6)
    assert result.confusion == ((1, 1, 0), (0, 1, 0), (0, 1, 2))
    assert result.ece is None
    assert result.as_dict()["n"] == 6


def test_ece_is_zero_when_confidence_equals_accuracy() -> None:
    proba = np.array([[0.5, 0.25, 0.25]] * 4)
    assert expected_calibration_error(proba, np.array([0, 0, 1, 2])) == pytest.approx(0.0)
    assert expected_calibration_error(proba, np.array([1, 1, 1, 1])) == pytest.approx(0.5)


def test_score_split_rejects_mismatched_lengths() -> None:
    with pytest.raises(AnalysisInputError, match="equally long"):
        score_split("bad", ["negative"], ["negative", "neutral"])
