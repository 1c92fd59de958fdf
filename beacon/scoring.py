"""``beacon score``: score each workspace post once per model version.

Scoring is incremental and idempotent: only posts without a row in ``scores``
for the current model version are read, scored in batches and written.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from analytics.exceptions import ModelLoadError
from analytics.sentiment import LABELS, SentimentScorer, load_default_scorer
from foundation.workspace import BATCH_LOCK_WAIT_SECONDS, Workspace, utc_now

logger = logging.getLogger(__name__)

SCORE_COLUMNS = (
    "post_id",
    "model_version",
    "sentiment_label",
    "p_negative",
    "p_neutral",
    "p_positive",
    "predicted_engagement",
    "explanation",
    "scored_at",
)


def current_model_dir() -> Path:
    """The folder of the sentiment model Beacon uses everywhere.

    The model retrained from people's corrections (``beacon retrain``, saved in
    ``<home>/models/sentiment``) when there is one, else the committed model in
    artifacts/sentiment. :func:`current_scorer` loads it; Spark executors load it
    from the same folder (:mod:`beacon.spark_scoring`).
    """
    from analytics.sentiment import default_model_dir
    from beacon.retrain import sentiment_model_dir
    from foundation.settings import get_settings

    retrained = sentiment_model_dir(get_settings())
    if (retrained / "beacon-sentiment.json").is_file():
        return retrained
    return default_model_dir()


def current_model_version() -> str:
    """The version of the model in :func:`current_model_dir`, read from its card, not loaded.

    For readers that only select scores by version (the dashboard), so they need not
    load the encoder. Falls back to loading the model when the card has no version.
    """
    try:
        card = json.loads((current_model_dir() / "beacon-sentiment.json").read_text("utf-8"))
        return str(card["version"])
    except (OSError, ValueError, KeyError):
        return current_scorer().version


@functools.cache
def current_scorer() -> SentimentScorer:
    """The sentiment model Beacon uses everywhere (loaded once per process).

    The model in :func:`current_model_dir`: fine-tuned MiniLM + VADER, stacked and
    calibrated, retrained from people's corrections when ``beacon retrain`` made one.
    Its version is recorded with every score.
    """
    return _load_scorer(current_model_dir())


class ReloadingScorer:
    """The sentiment model in use, loaded again when another one is adopted.

    For long-running servers: ``beacon retrain`` swaps the model folder on this host (or
    a deployment copies a retrained model to every replica's ``$BEACON_HOME/models``),
    and the next prediction uses it, with no restart. A model that cannot be loaded is
    logged and the one in use stays.

    Args:
        folder_of: The folder of the model to use (default :func:`current_model_dir`).
        load: Loads a model from a folder (default: the committed model for its own
            folder, else :meth:`BeaconSentimentModel.load`).
    """

    def __init__(
        self,
        folder_of: Callable[[], Path] | None = None,
        load: Callable[[Path], SentimentScorer] | None = None,
    ) -> None:
        self._folder_of = folder_of or current_model_dir
        self._load = load or _load_scorer
        self._lock = threading.Lock()
        self._stamp: tuple[str, int, int] | None = None
        self._model: SentimentScorer | None = None

    def _current(self) -> SentimentScorer:
        folder = self._folder_of()
        try:
            info = (folder / "beacon-sentiment.json").stat()
            stamp = (str(folder), info.st_mtime_ns, info.st_size)
        except OSError:
            stamp = (str(folder), 0, 0)  # the committed model's files are not ours to watch
        if stamp == self._stamp and self._model is not None:
            return self._model
        with self._lock:
            if stamp != self._stamp or self._model is None:
                try:
                    model = self._load(folder)
                except (ModelLoadError, OSError, ValueError, KeyError) as error:
                    if self._model is None:
                        raise
                    logger.error(
                        "kept sentiment model %s: the new one failed to load: %s",
                        self._model.version,
                        error,
                    )
                    self._stamp = stamp  # not again until it changes
                    return self._model
                if self._model is not None:
                    logger.info(
                        "sentiment model %s now answers (was %s)",
                        model.version,
                        self._model.version,
                    )
                self._model, self._stamp = model, stamp
            return self._model

    @property
    def version(self) -> str:
        """The version of the model in use."""
        return self._current().version

    def predict(self, texts: Sequence[str]) -> list[str]:
        """Labels of ``texts`` by the model in use."""
        return self._current().predict(texts)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities of ``texts``, shape (n_texts, 3), by the model in use."""
        return self._current().predict_proba(texts)


def _load_scorer(folder: Path) -> SentimentScorer:
    from analytics.sentiment import BeaconSentimentModel, default_model_dir

    if folder == default_model_dir():
        return load_default_scorer()
    return BeaconSentimentModel.load(folder)


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

    The model runs outside the workspace lock; each batch is written in its own short
    transaction, so the bot keeps reading the workspace while a large scoring runs.

    Args:
        workspace: The workspace to read posts from and write scores to.
        scorer: The sentiment model.
        batch_size: Posts per model call.
        on_batch: Called with the number of posts after each batch (progress bars).
    """
    version = scorer.version
    pending, total = pending_posts(workspace, version)
    for start in range(0, len(pending), batch_size):
        batch = pending[start : start + batch_size]
        labels, proba = score_with_labels(scorer, [text for _, text in batch])
        rows = score_rows(version, [post_id for post_id, _ in batch], labels, proba)
        with workspace.connect(wait=BATCH_LOCK_WAIT_SECONDS) as con:
            store_scores(con, rows)
        if on_batch:
            on_batch(len(batch))
    return ScoreReport(model_version=version, scored=len(pending), already_scored=total)


def pending_posts(workspace: Workspace, model_version: str) -> tuple[list[tuple[str, str]], int]:
    """The posts without a score from ``model_version``, and how many have one.

    Returns:
        ``(post_id, text)`` pairs ordered by post id, and the number of posts already
        scored by ``model_version``.
    """
    with workspace.connect(read_only=True, wait=BATCH_LOCK_WAIT_SECONDS) as con:
        pending = con.execute(
            """
            SELECT p.post_id, p.text FROM posts p
            WHERE NOT EXISTS (SELECT 1 FROM scores s WHERE s.post_id = p.post_id AND s.model_version = ?)
            ORDER BY p.post_id
            """,
            [model_version],
        ).fetchall()
        total = con.execute(
            "SELECT count(*) FROM scores WHERE model_version = ?", [model_version]
        ).fetchall()[0][0]
    return [(str(post_id), str(text)) for post_id, text in pending], int(total)


def score_with_labels(
    scorer: SentimentScorer, texts: Sequence[str]
) -> tuple[list[str], np.ndarray]:
    """Labels and probabilities of ``texts`` with one pass of the model where it can.

    Returns:
        The labels, and the probabilities of shape ``(len(texts), 3)``, columns in
        ``LABELS`` order.
    """
    proba = scorer.predict_proba(texts)
    from_proba = getattr(scorer, "labels_from_proba", None)
    labels = from_proba(proba) if from_proba is not None else scorer.predict(texts)
    return list(labels), proba


def score_rows(
    model_version: str, post_ids: Sequence[str], labels: Sequence[str], proba: np.ndarray
) -> list[list[Any]]:
    """``scores`` rows, in the table's column order, for scored posts."""
    now = utc_now()
    negative, neutral, positive = (
        LABELS.index(name) for name in ("negative", "neutral", "positive")
    )
    return [
        [
            post_id,
            model_version,
            label,
            float(row[negative]),
            float(row[neutral]),
            float(row[positive]),
            None,  # predicted_engagement
            None,  # explanation
            now,
        ]
        for post_id, label, row in zip(post_ids, labels, proba, strict=True)
    ]


def store_scores(con: duckdb.DuckDBPyConnection, rows: list[list[Any]]) -> None:
    """Insert ``scores`` rows; posts that already have a score from the version keep it."""
    if not rows:
        return
    frame = pd.DataFrame(rows, columns=list(SCORE_COLUMNS))
    frame["predicted_engagement"] = frame["predicted_engagement"].astype("float64")
    frame["explanation"] = frame["explanation"].astype("object")
    con.register("new_scores", frame)
    try:
        con.execute("INSERT OR IGNORE INTO scores SELECT * FROM new_scores")
    finally:
        con.unregister("new_scores")
