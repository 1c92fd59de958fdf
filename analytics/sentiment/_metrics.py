"""Sentiment evaluation: TweetEval's metric (macro-averaged recall) and friends."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, recall_score

from analytics.exceptions import AnalysisInputError
from analytics.sentiment._base import LABELS


@dataclass(frozen=True)
class SentimentMetrics:
    """Scores of one model on one labelled split.

    Attributes:
        split: The split's name.
        n: Texts scored.
        macro_recall: Recall averaged over the three classes (TweetEval's metric).
        macro_f1: F1 averaged over the three classes.
        accuracy: Share of texts labelled correctly.
        confusion: Counts, rows = gold, columns = predicted, both in :data:`LABELS` order.
        ece: Expected calibration error of the top-label confidence (15 equal-width bins);
            None when no probabilities were given.
    """

    split: str
    n: int
    macro_recall: float
    macro_f1: float
    accuracy: float
    confusion: tuple[tuple[int, int, int], ...]
    ece: float | None = None

    def as_dict(self) -> dict[str, object]:
        """A JSON-able copy."""
        return {
            "split": self.split,
            "n": self.n,
            "macro_recall": round(self.macro_recall, 4),
            "macro_f1": round(self.macro_f1, 4),
            "accuracy": round(self.accuracy, 4),
            "confusion": [list(row) for row in self.confusion],
            "ece": None if self.ece is None else round(self.ece, 4),
        }


def expected_calibration_error(proba: np.ndarray, gold: np.ndarray, bins: int = 15) -> float:
    """Top-label ECE: |accuracy − confidence| averaged over confidence bins, weighted by size.

    Args:
        proba: Probabilities, shape (n_samples, n_classes).
        gold: True class indices, shape (n_samples,).
        bins: Number of equal-width confidence bins.
    """
    confidence = proba.max(axis=1)
    correct = proba.argmax(axis=1) == gold
    edges = np.linspace(0.0, 1.0, bins + 1)
    total = 0.0
    for low, high in itertools.pairwise(edges):
        inside = (confidence > low) & (confidence <= high)
        if inside.any():
            total += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(total)


def score_split(
    split: str,
    gold: Sequence[str],
    predicted: Sequence[str],
    proba: np.ndarray | None = None,
) -> SentimentMetrics:
    """Compare predicted labels (and optionally probabilities) with gold labels.

    Args:
        split: Name to report.
        gold: True labels from :data:`LABELS`, shape (n_samples,).
        predicted: Predicted labels from :data:`LABELS`, shape (n_samples,).
        proba: Probabilities in :data:`LABELS` order, shape (n_samples, 3), or None.

    Raises:
        AnalysisInputError: The lengths differ or the split is empty.
    """
    if len(gold) != len(predicted) or not gold:
        raise AnalysisInputError(
            f"gold and predicted must be non-empty and equally long, got {len(gold)} and "
            f"{len(predicted)}"
        )
    labels = list(LABELS)
    matrix = confusion_matrix(gold, predicted, labels=labels)
    ece = None
    if proba is not None:
        ece = expected_calibration_error(proba, np.array([LABELS.index(g) for g in gold]))
    return SentimentMetrics(
        split=split,
        n=len(gold),
        macro_recall=float(
            recall_score(gold, predicted, labels=labels, average="macro", zero_division=0)
        ),
        macro_f1=float(f1_score(gold, predicted, labels=labels, average="macro", zero_division=0)),
        accuracy=float(accuracy_score(gold, predicted)),
        confusion=tuple(tuple(int(v) for v in row) for row in matrix),  # type: ignore[misc]
        ece=ece,
    )
