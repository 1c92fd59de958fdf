"""The scorer contract shared by every sentiment model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

#: Label order of every ``predict_proba`` column.
LABELS: tuple[str, str, str] = ("negative", "neutral", "positive")


@runtime_checkable
class SentimentScorer(Protocol):
    """Anything that turns texts into sentiment labels and probabilities."""

    @property
    def version(self) -> str:
        """Model name and version, stored with every score."""
        ...

    def predict(self, texts: Sequence[str]) -> list[str]:
        """Labels from :data:`LABELS`, one per text, in input order."""
        ...

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Array of shape (n_texts, 3), rows summing to 1, columns in :data:`LABELS` order."""
        ...
