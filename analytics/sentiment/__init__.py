"""Sentiment scoring for social posts.

Every scorer follows the same small contract (:class:`SentimentScorer`): a
``version`` string recorded with each score, ``predict(texts)`` giving labels in
:data:`LABELS`, and ``predict_proba(texts)`` giving an array of shape
(n_texts, 3) whose columns follow :data:`LABELS`.

Beacon's own model is :class:`BeaconSentimentModel` (MiniLM with fine-tuned top layers,
stacked with VADER and tweet-form features, calibrated); the committed copy in
``artifacts/sentiment`` is loaded once per process by :func:`load_default_scorer`.
"""

from __future__ import annotations

from analytics.sentiment._base import LABELS, SentimentScorer
from analytics.sentiment._data import (
    LabelledTexts,
    build_training_set,
    read_2016_test,
    read_semeval,
    read_tweeteval_val,
)
from analytics.sentiment._metrics import SentimentMetrics, score_split
from analytics.sentiment._model import MODEL_VERSION, BeaconSentimentModel
from analytics.sentiment._preprocess import PreprocessConfig, normalize_tweet
from analytics.sentiment._train import (
    TrainingReport,
    default_model_dir,
    evaluate,
    evaluation_splits,
    load_default_scorer,
    train_and_save,
)
from analytics.sentiment._vader import VaderScorer

__all__ = [
    "LABELS",
    "MODEL_VERSION",
    "BeaconSentimentModel",
    "LabelledTexts",
    "PreprocessConfig",
    "SentimentMetrics",
    "SentimentScorer",
    "TrainingReport",
    "VaderScorer",
    "build_training_set",
    "default_model_dir",
    "evaluate",
    "evaluation_splits",
    "load_default_scorer",
    "normalize_tweet",
    "read_2016_test",
    "read_semeval",
    "read_tweeteval_val",
    "score_split",
    "train_and_save",
]
