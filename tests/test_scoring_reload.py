"""beacon/scoring.py ReloadingScorer: a retrained sentiment model answers without a restart."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from analytics.exceptions import ModelLoadError
from analytics.sentiment import LABELS
from beacon.scoring import ReloadingScorer


class _Fixed:
    """A model that gives every text one label; its version is its folder's."""

    def __init__(self, version: str, label: str) -> None:
        self.version, self._label = version, label

    def predict(self, texts: Sequence[str]) -> list[str]:
        return [self._label] * len(texts)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        row = np.eye(len(LABELS))[LABELS.index(self._label)]
        return np.tile(row, (len(texts), 1))


def _save(folder: Path, version: str, label: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "beacon-sentiment.json").write_text(json.dumps({"v": version, "label": label}))


def _load(folder: Path) -> _Fixed:
    meta = json.loads((folder / "beacon-sentiment.json").read_text())
    if meta["label"] not in LABELS:
        raise ModelLoadError(f"unknown label {meta['label']}")
    return _Fixed(meta["v"], meta["label"])


def test_an_adopted_model_answers_from_the_next_prediction(tmp_path: Path) -> None:
    folder = tmp_path / "models" / "sentiment"
    _save(folder, "v1", "positive")
    loads: list[str] = []

    def load(path: Path) -> _Fixed:
        loads.append(path.name)
        return _load(path)

    scorer = ReloadingScorer(folder_of=lambda: folder, load=load)
    assert scorer.version == "v1" and scorer.predict(["a", "b"]) == ["positive"] * 2
    assert scorer.predict_proba(["a"]).shape == (1, len(LABELS))
    assert len(loads) == 1  # loaded once while nothing changes

    _save(folder, "v2-retrained", "negative")  # `beacon retrain` swapped the folder
    os.utime(folder / "beacon-sentiment.json", ns=(1, 2))  # a different stamp, surely

    assert scorer.version == "v2-retrained" and scorer.predict(["a"]) == ["negative"]
    assert len(loads) == 2


def test_a_model_that_fails_to_load_leaves_the_one_in_use(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "sentiment"
    _save(folder, "v1", "neutral")
    scorer = ReloadingScorer(folder_of=lambda: folder, load=_load)
    assert scorer.version == "v1"
    _save(folder, "v2", "not-a-label")
    os.utime(folder / "beacon-sentiment.json", ns=(3, 4))
    with caplog.at_level(logging.ERROR):
        assert scorer.version == "v1" and scorer.predict(["a"]) == ["neutral"]
    assert "kept sentiment model v1" in caplog.text


def test_no_model_at_all_is_an_error_not_a_silent_default(tmp_path: Path) -> None:
    scorer = ReloadingScorer(folder_of=lambda: tmp_path / "missing", load=_load)
    with pytest.raises(OSError):
        scorer.predict(["a"])
