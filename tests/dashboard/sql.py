"""Brand talk counted with SQL written for the tests, not with :mod:`analytics.scope`."""

from __future__ import annotations

from datetime import date

import duckdb

from foundation.workspace import get_meta


def brand_label_counts(
    con: duckdb.DuckDBPyConnection,
    version: str,
    start: date,
    end: date,
    *,
    platform: str | None = None,
    topic: str | None = None,
) -> dict[str, int]:
    """Posts per sentiment label that mention the brand, not by its own accounts."""
    own = get_meta(con, "own_accounts", [])
    terms = [term.lower() for term in get_meta(con, "brand_terms") or []]
    extra, params = "", []
    if platform:
        extra += " AND p.platform = ?"
        params.append(platform)
    if topic:
        extra += " AND (lower(p.text) LIKE ? OR lower(coalesce(p.campaign_id, '')) = ?)"
        params += [f"%{topic.lower()}%", topic.lower().replace(" ", "-")]
    rows = con.execute(
        f"""SELECT s.sentiment_label, p.text, p.platform
            FROM posts p JOIN scores s USING (post_id)
            WHERE s.model_version = ? AND CAST(p.posted_at AS DATE) BETWEEN ? AND ?
              AND p.account NOT IN (SELECT unnest(?)) {extra}""",
        [version, start, end, own, *params],
    ).fetchall()
    counts = {"negative": 0, "neutral": 0, "positive": 0}
    for label, text, where in rows:
        if not terms or where == "support" or any(term in text.lower() for term in terms):
            counts[label] += 1
    return counts
