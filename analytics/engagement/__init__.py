"""Engagement ensemble: how a draft will do, why, and what would help.

The target is whether a post lands in the top 30% of its own account's
trailing history (:mod:`._target`), from features known before publishing
(:mod:`._features`: MiniLM embedding, text form, tone, timing, account
context, media). Members (MLP, LightGBM, logistic) are pooled with weights
stacked on time-ordered out-of-fold predictions (:mod:`._combine`); a
LightGBM head gives the expected engagement with an 80% interval.

Public surface::

    model = EngagementModel(cache_dir=Path("var/cache/engagement")).fit(posts)
    model.predict([Draft("New trail shoe!", media_type="image")])  # -> list[Prediction]
    model.explain(draft).text()                                    # plain language
    model.recommend(draft, now)                                    # -> list[Recommendation]
    model.save(folder); EngagementModel.load(folder)
    train_on_workspace(con)                                        # the brand's own posts
    with_workspace_posts(model, con)                               # context from the latest posts
    recalibrate(model, outcome_scores, outcome_labels, corr_scores, corr_labels)  # calibrator only
"""

from __future__ import annotations

from analytics.engagement._data import read_posts, time_split
from analytics.engagement._evaluate import EvaluationReport, evaluate
from analytics.engagement._features import FeatureBlock, FeaturePipeline, Features, default_blocks
from analytics.engagement._metrics import (
    Metrics,
    classification_metrics,
    expected_calibration_error,
)
from analytics.engagement._model import MODEL_VERSION, EngagementModel
from analytics.engagement._recalibrate import (
    CalibrationCheck,
    Recalibration,
    calibration_check,
    recalibrate,
)
from analytics.engagement._target import add_context
from analytics.engagement._types import (
    Draft,
    Explanation,
    Prediction,
    Reason,
    Recommendation,
    WordEffect,
)
from analytics.engagement._workspace import (
    keyed_posts,
    own_account_key,
    posts_fingerprint,
    train_on_workspace,
    with_workspace_posts,
    workspace_posts,
)

__all__ = [
    "MODEL_VERSION",
    "CalibrationCheck",
    "Draft",
    "EngagementModel",
    "EvaluationReport",
    "Explanation",
    "FeatureBlock",
    "FeaturePipeline",
    "Features",
    "Metrics",
    "Prediction",
    "Reason",
    "Recalibration",
    "Recommendation",
    "WordEffect",
    "add_context",
    "calibration_check",
    "classification_metrics",
    "default_blocks",
    "evaluate",
    "expected_calibration_error",
    "keyed_posts",
    "own_account_key",
    "posts_fingerprint",
    "read_posts",
    "recalibrate",
    "time_split",
    "train_on_workspace",
    "with_workspace_posts",
    "workspace_posts",
]
