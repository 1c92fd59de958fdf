"""VADER (Hutto & Gilbert 2014): the lexicon baseline, fast and dependency-light."""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import version as package_version
from typing import Any

import numpy as np

from analytics.sentiment._base import LABELS

# VADER's own recommended cut-offs on the compound score.
POSITIVE_THRESHOLD = 0.05
NEGATIVE_THRESHOLD = -0.05


class VaderScorer:
    """Sentiment from the VADER lexicon (the ``vaderSentiment`` package carries it).

    ``predict`` uses VADER's compound score with its published ±0.05 cut-offs.
    ``predict_proba`` returns VADER's lexical proportions (neg, neu, pos); they sum
    to 1 but are not calibrated probabilities.
    """

    def __init__(self) -> None:
        self._analyzer: Any = None

    @property
    def version(self) -> str:
        return f"vader-{package_version('vaderSentiment')}"

    def _polarity(self, text: str) -> dict[str, float]:
        if self._analyzer is None:
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

            self._analyzer = SentimentIntensityAnalyzer()
        scores: dict[str, float] = self._analyzer.polarity_scores(text or "")
        return scores

    def predict(self, texts: Sequence[str]) -> list[str]:
        labels = []
        for text in texts:
            compound = self._polarity(text)["compound"]
            if compound >= POSITIVE_THRESHOLD:
                labels.append(LABELS[2])
            elif compound <= NEGATIVE_THRESHOLD:
                labels.append(LABELS[0])
            else:
                labels.append(LABELS[1])
        return labels

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        rows = []
        for text in texts:
            scores = self._polarity(text)
            row = np.array([scores["neg"], scores["neu"], scores["pos"]], dtype=float)
            total = row.sum()
            rows.append(row / total if total > 0 else np.array([0.0, 1.0, 0.0]))
        return np.vstack(rows) if rows else np.zeros((0, 3))
