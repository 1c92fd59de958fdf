"""Real training runs of the same code: a small one by default, the full recipe when slow."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from analytics.sentiment import LABELS, BeaconSentimentModel, train_and_save


@pytest.mark.shared_data
def test_small_real_training_run_saves_reloads_and_learns(
    shared_data_dir: Path, tmp_path: Path
) -> None:
    model = BeaconSentimentModel(n_tuned_layers=1, epochs=2, batch_size=16, random_state=3)
    report = train_and_save(
        shared_data_dir, tmp_path, model=model, train_sample=600, eval_sample=150
    )
    assert report.n_train == 600
    metadata = json.loads(report.metadata_path.read_text())
    assert metadata["training_data"]["n_texts"] == 600
    assert metadata["weights_sha256"] and metadata["base_model"]["sha256"]
    assert (tmp_path / "MODEL_CARD.md").is_file()
    # One tuned layer in float16 plus the head and the stacker.
    assert (tmp_path / "beacon-sentiment.npz").stat().st_size < 5 * 1024 * 1024
    for metrics in report.metrics:
        assert metrics.n == 150
        # Chance is 1/3; even 600 tweets and one tuned layer do clearly better.
        assert metrics.macro_recall > 0.40, metrics
    # The reloaded model predicts exactly what the trained one predicts (float16 aside).
    texts = ["I love it", "I hate it", "it is Tuesday"]
    assert np.allclose(report.model.predict_proba(texts), model.predict_proba(texts), atol=0.02)
    assert report.model.version.startswith("beacon-sentiment-")
    assert set(report.model.predict(texts)) <= set(LABELS)


@pytest.mark.slow
@pytest.mark.shared_data
def test_full_training_recipe_reaches_its_documented_level(
    shared_data_dir: Path, tmp_path: Path
) -> None:
    report = train_and_save(shared_data_dir, tmp_path)
    by_split = {m.split: m for m in report.metrics}
    # The default recipe without a cap (2 layers x 2 epochs) reached 0.702 / 0.688; under
    # the default 600 s cap a loaded 2-core CPU gets through less of an epoch (0.679 / 0.677 at
    # 0.23 epochs), so the floor is set by that.
    assert by_split["tweeteval-val"].macro_recall > 0.65
    assert by_split["twitter-2016test-A.tsv"].macro_recall > 0.64
    assert all(m.ece is not None and m.ece < 0.05 for m in report.metrics)
