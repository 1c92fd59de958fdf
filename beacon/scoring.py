"""``beacon score``: score each workspace post once per model version.

Scoring is incremental and idempotent: only posts without a row in ``scores``
for the current model version are read, scored in batches and written.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from analytics.sentiment import LABELS, SentimentScorer, load_default_scorer
from foundation.workspace import Workspace, utc_now


@functools.cache
def current_scorer() -> SentimentScorer:
    """The sentiment model Beacon uses everywhere (loaded once per process).

    The model retrained from people's corrections (``beacon retrain``, saved in
    ``<home>/models/sentiment``) when there is one, else the committed model in
    artifacts/sentiment (fine-tuned MiniLM + VADER, stacked and calibrated). Its version
    is recorded with every score.
    """
    from analytics.sentiment import BeaconSentimentModel
    from beacon.retrain import sentiment_model_dir
    from foundation.settings import get_settings

    retrained = sentiment_model_dir(get_settings())
    if (retrained / "beacon-sentiment.json").is_file():
        return BeaconSentimentModel.load(retrained)
    return load_default_scorer()


@dataclass(frozen=True)
class ScoreReport:
    """What one scoring run did."""

    model_version: str
    scored: int
    already_scored: int


def score_posts(
    workspace: Workspace,
    scorer: SentimentScorer,
    *,
    batch_size: int = 512,
    on_batch: Callable[[int], None] | None = None,
) -> ScoreReport:
    """Score every post that has no score from ``scorer.version`` yet.

    Args:
        workspace: The workspace to read posts from and write scores to.
        scorer: The sentiment model.
        batch_size: Posts per model call.
        on_batch: Called with the number of posts after each batch (progress bars).
    """
    version = scorer.version
    with workspace.connect() as con:
        pending = con.execute(
            """
            SELECT p.post_id, p.text FROM posts p
            WHERE NOT EXISTS (SELECT 1 FROM scores s WHERE s.post_id = p.post_id AND s.model_version = ?)
            ORDER BY p.post_id
            """,
            [version],
        ).fetchall()
        total = con.execute(
            "SELECT count(*) FROM scores WHERE model_version = ?", [version]
        ).fetchall()[0][0]
        for start in range(0, len(pending), batch_size):
            batch = pending[start : start + batch_size]
            score_texts(con, scorer, batch)
            if on_batch:
                on_batch(len(batch))
    return ScoreReport(model_version=version, scored=len(pending), already_scored=int(total))


def score_texts(
    con: duckdb.DuckDBPyConnection, scorer: SentimentScorer, posts: Sequence[tuple[str, str]]
) -> np.ndarray:
    """Score ``(post_id, text)`` pairs with ``scorer`` and store them in ``scores``.

    Posts that already have a score from this model version keep it.

    Returns:
        The probabilities, shape ``(len(posts), 3)``, columns in ``LABELS`` order.
    """
    texts = [text for _, text in posts]
    proba = scorer.predict_proba(texts)
    labels = scorer.predict(texts)
    frame = pd.DataFrame(
        {
            "post_id": [post_id for post_id, _ in posts],
            "model_version": scorer.version,
            "sentiment_label": labels,
            "p_negative": proba[:, LABELS.index("negative")],
            "p_neutral": proba[:, LABELS.index("neutral")],
            "p_positive": proba[:, LABELS.index("positive")],
            "predicted_engagement": None,
            "explanation": None,
            "scored_at": utc_now(),
        }
    )
    frame["predicted_engagement"] = frame["predicted_engagement"].astype("float64")
    frame["explanation"] = frame["explanation"].astype("object")
    con.register("new_scores", frame)
    try:
        con.execute("INSERT OR IGNORE INTO scores SELECT * FROM new_scores")
    finally:
        con.unregister("new_scores")
    return proba
