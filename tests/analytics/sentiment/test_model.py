"""The committed sentiment artifact: loading, contract, sensible output, load errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from analytics.exceptions import AnalysisInputError, ModelLoadError, NotFittedError
from analytics.sentiment import (
    LABELS,
    BeaconSentimentModel,
    SentimentScorer,
    default_model_dir,
    load_default_scorer,
)
from analytics.sentiment._model import METADATA_FILE, WEIGHTS_FILE

ARTIFACT_LIMIT_BYTES = 20 * 1024 * 1024


def test_artifact_is_committed_small_and_documented() -> None:
    folder = default_model_dir()
    files = {path.name: path.stat().st_size for path in folder.iterdir()}
    assert {WEIGHTS_FILE, METADATA_FILE, "MODEL_CARD.md"} <= set(files)
    assert sum(files.values()) < ARTIFACT_LIMIT_BYTES
    metadata = json.loads((folder / METADATA_FILE).read_text())
    assert metadata["labels"] == list(LABELS)
    assert metadata["command"].startswith("beacon sentiment train")
    assert set(metadata["metrics"]) == {"tweeteval-val", "twitter-2016test-A.tsv"}
    card = (folder / "MODEL_CARD.md").read_text()
    assert metadata["version"] in card and "macro recall" in card


def test_loaded_once_per_process(scorer: BeaconSentimentModel) -> None:
    assert load_default_scorer() is scorer
    assert isinstance(scorer, SentimentScorer)
    assert scorer.version.startswith("beacon-sentiment-")


def test_obvious_texts_get_obvious_labels(scorer: BeaconSentimentModel) -> None:
    texts = [
        "I absolutely love this, best day ever! 😍",
        "This is the worst service I have ever had. Never again.",
        "The store opens at 9am on Monday.",
    ]
    assert scorer.predict(texts) == ["positive", "negative", "neutral"]


def test_probabilities_rows_sum_to_one_in_label_order(scorer: BeaconSentimentModel) -> None:
    texts = ["great stuff", "terrible", "ok", "", "😂😂😂", "x" * 5000]
    proba = scorer.predict_proba(texts)
    assert proba.shape == (len(texts), 3)
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert np.all((proba >= 0) & (proba <= 1))
    assert scorer.predict(texts) == [LABELS[i] for i in proba.argmax(axis=1)]
    assert proba[0, LABELS.index("positive")] > 0.5
    assert proba[1, LABELS.index("negative")] > 0.5


def test_order_is_kept_whatever_the_batch(scorer: BeaconSentimentModel) -> None:
    texts = ["short", "a much longer text about how much I hate waiting in line", "love it"]
    together = scorer.predict_proba(texts)
    one_by_one = np.vstack([scorer.predict_proba([text]) for text in texts])
    assert np.allclose(together, one_by_one, atol=1e-5)


def test_truncation_is_reported(scorer: BeaconSentimentModel) -> None:
    assert scorer.truncated(["short text", "word " * 400]) == [False, True]


def test_empty_input_gives_empty_output(scorer: BeaconSentimentModel) -> None:
    assert scorer.predict_proba([]).shape == (0, 3)
    assert scorer.predict([]) == []


def test_bad_input_is_rejected(scorer: BeaconSentimentModel) -> None:
    with pytest.raises(AnalysisInputError, match="single str"):
        scorer.predict("just one string")
    with pytest.raises(AnalysisInputError, match="only str"):
        scorer.predict_proba(["fine", 3])  # type: ignore[list-item]


def test_unfitted_model_says_how_to_fix() -> None:
    with pytest.raises(NotFittedError, match="not fitted yet"):
        BeaconSentimentModel().predict(["hello"])


def test_fit_rejects_unknown_labels() -> None:
    with pytest.raises(AnalysisInputError, match="labels must be in"):
        BeaconSentimentModel().fit(["a", "b"], ["good", "bad"])


def _copy_artifact(tmp_path: Path) -> Path:
    target = tmp_path / "model"
    shutil.copytree(default_model_dir(), target)
    return target


def test_missing_artifact_raises_model_load_error(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="beacon sentiment train"):
        BeaconSentimentModel.load(tmp_path / "nowhere")


def test_damaged_weights_are_detected(tmp_path: Path) -> None:
    folder = _copy_artifact(tmp_path)
    with (folder / WEIGHTS_FILE).open("r+b") as handle:
        handle.seek(1000)
        handle.write(b"\x00\x01\x02\x03")
    with pytest.raises(ModelLoadError, match="does not match the SHA-256"):
        BeaconSentimentModel.load(folder)


def test_other_base_model_is_refused(tmp_path: Path) -> None:
    folder = _copy_artifact(tmp_path)
    metadata = json.loads((folder / METADATA_FILE).read_text())
    metadata["base_model"]["sha256"] = "0" * 64
    (folder / METADATA_FILE).write_text(json.dumps(metadata))
    with pytest.raises(ModelLoadError, match="tuned on base weights"):
        BeaconSentimentModel.load(folder)


def test_other_label_order_is_refused(tmp_path: Path) -> None:
    folder = _copy_artifact(tmp_path)
    metadata = json.loads((folder / METADATA_FILE).read_text())
    metadata["labels"] = ["positive", "neutral", "negative"]
    (folder / METADATA_FILE).write_text(json.dumps(metadata))
    with pytest.raises(ModelLoadError, match="expected \\['negative', 'neutral', 'positive'\\]"):
        BeaconSentimentModel.load(folder)
