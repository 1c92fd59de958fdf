"""Scores computed elsewhere (Spark executors) and handed over as Parquet files."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import duckdb

#: The columns each Parquet file must hold (the rest of a ``scores`` row comes from the caller).
PARQUET_SCORE_COLUMNS = ("post_id", "sentiment_label", "p_negative", "p_neutral", "p_positive")


def insert_scores_from_parquet(
    con: duckdb.DuckDBPyConnection,
    files: Sequence[str],
    *,
    model_version: str,
    scored_at: datetime,
) -> int:
    """Insert the scores in ``files`` with one ``INSERT … SELECT … FROM read_parquet``.

    One statement is one short write transaction, however many files there are. Posts
    that already have a score from ``model_version`` keep it (as ``beacon score`` does).

    Args:
        con: A read-write connection.
        files: Parquet files (or glob patterns) with :data:`PARQUET_SCORE_COLUMNS`.
        model_version: The model that computed the scores.
        scored_at: When they were computed (naive UTC).

    Returns:
        How many rows were inserted.
    """
    if not files:
        return 0
    row = con.execute(
        """
        INSERT OR IGNORE INTO scores
        SELECT post_id, ?, sentiment_label, p_negative, p_neutral, p_positive, NULL, NULL, ?
        FROM read_parquet(?)
        """,
        [model_version, scored_at, list(files)],
    ).fetchone()
    return int(row[0]) if row else 0
