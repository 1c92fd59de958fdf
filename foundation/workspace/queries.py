"""The workspace lookups the bot's actions make, in one place.

Each takes an open connection (read-only is enough) and returns plain values, so the
actions hold no SQL and a schema change touches this module, not every action.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

import duckdb

from foundation.workspace._rows import fetch_one
from foundation.workspace._store import get_meta


class AuditEntry(NamedTuple):
    """One audited answer: what :func:`last_audit` returns."""

    audit_id: str
    kind: str
    inputs: str | None  # JSON
    output: str | None  # JSON or text


class OwnPost(NamedTuple):
    """One of the brand's posts, as follow-ups about "that post" need it."""

    post_id: str
    platform: str
    posted_at: datetime
    text: str


class PostOutcome(NamedTuple):
    """A published post and how it did."""

    platform: str
    text: str
    posted_at: datetime
    media_type: str
    engagement: int  # likes + comments + shares
    account: str


def data_version(con: duckdb.DuckDBPyConnection) -> tuple[Any, ...]:
    """A fingerprint of the workspace's analysable data: rows and their latest change.

    Rows are only ever added (or removed by ``beacon forget``), so the tables' counts and
    latest timestamps change whenever anything an answer reads does; the meta table
    holds the brand's settings (own accounts, brand terms).

    One ``UNION ALL`` of small aggregates: DuckDB ran the same ten values as scalar
    subqueries in one ``SELECT`` many times slower, and every cached answer asks for it.
    """
    rows = con.execute(
        """
        SELECT 1 AS part, count(*), max(ingested_at)::VARCHAR FROM posts
        UNION ALL SELECT 2, count(*), max(scored_at)::VARCHAR FROM scores
        UNION ALL SELECT 3, count(*), max(ingested_at)::VARCHAR FROM influencers
        UNION ALL SELECT 4, count(*), NULL FROM experiments
        UNION ALL SELECT 5, count(*), NULL FROM experiment_units
        UNION ALL SELECT 6, count(*), NULL FROM campaigns
        UNION ALL SELECT 7, count(*), md5(string_agg(key || '=' || value, ';' ORDER BY key))
            FROM meta
        ORDER BY part
        """
    ).fetchall()
    return tuple(rows)


def last_audit(
    con: duckdb.DuckDBPyConnection,
    conversation_id: str,
    *,
    kind: str | None = None,
    not_kind: str | None = None,
    collection: str | None = None,
) -> AuditEntry | None:
    """The conversation's latest audited answer, optionally of one ``kind``, not of
    ``not_kind``, or from one document ``collection``."""
    query = "SELECT audit_id, kind, inputs, output FROM audit WHERE conversation_id = ?"
    params: list[Any] = [conversation_id]
    if kind is not None:
        query += " AND kind = ?"
        params.append(kind)
    if not_kind is not None:
        query += " AND kind <> ?"
        params.append(not_kind)
    if collection is not None:
        query += " AND json_extract_string(inputs, '$.collection') = ?"
        params.append(collection)
    row = fetch_one(con, query + " ORDER BY created_at DESC LIMIT 1", params)
    return AuditEntry(*row) if row else None


def known_post_ids(
    con: duckdb.DuckDBPyConnection, ids: Sequence[str], *, own_only: bool = False
) -> list[str]:
    """Which of ``ids`` (matched case-insensitively) are workspace posts; with
    ``own_only``, only the brand's own (``meta.own_accounts``, when set)."""
    query = "SELECT post_id FROM posts WHERE list_contains(?, lower(post_id))"
    params: list[Any] = [[i.lower() for i in ids]]
    accounts = list(get_meta(con, "own_accounts", []) or []) if own_only else []
    if accounts:
        query += " AND list_contains(?, account)"
        params.append(accounts)
    return [str(row[0]) for row in con.execute(query, params).fetchall()]


def media_paths(con: duckdb.DuckDBPyConnection, ids: Sequence[str]) -> dict[str, str | None]:
    """``post_id → media_path`` for those of ``ids`` in the workspace (exact ids)."""
    rows = con.execute(
        "SELECT post_id, media_path FROM posts WHERE list_contains(?, post_id)", [list(ids)]
    ).fetchall()
    return {str(post_id): path for post_id, path in rows}


def feedback_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Feedback rows per verdict (``up``, ``down``, ``correction``)."""
    rows = con.execute("SELECT verdict, count(*) FROM feedback GROUP BY 1").fetchall()
    return {str(verdict): int(n) for verdict, n in rows}


def own_posts(
    con: duckdb.DuckDBPyConnection,
    *,
    platform: str | None,
    day: date | None,
    until: date,
    limit: int,
) -> list[OwnPost]:
    """The brand's posts of one UTC ``day`` (or up to ``until``), latest first.

    Empty when the workspace names no own accounts.
    """
    own = list(get_meta(con, "own_accounts", []) or [])
    if not own:
        return []
    where = [f"account IN ({', '.join('?' * len(own))})"]
    params: list[Any] = [*own]
    if platform:
        where.append("platform = ?")
        params.append(platform)
    if day is not None:
        where.append("CAST(posted_at AS DATE) = ?")
        params.append(day)
    else:
        where.append("CAST(posted_at AS DATE) <= ?")
        params.append(until)
    rows = con.execute(
        f"SELECT post_id, platform, posted_at, text FROM posts WHERE {' AND '.join(where)} "
        "ORDER BY posted_at DESC, post_id LIMIT ?",
        [*params, limit],
    ).fetchall()
    return [OwnPost(str(p), str(pl), at, str(t or "")) for p, pl, at, t in rows]


def post_outcome(con: duckdb.DuckDBPyConnection, post_id: str) -> PostOutcome | None:
    """One post's platform, text, time, media, engagement and account; None if unknown."""
    row = fetch_one(
        con,
        "SELECT platform, text, posted_at, media_type, likes + comments + shares, account "
        "FROM posts WHERE post_id = ?",
        [post_id],
    )
    return PostOutcome(*row) if row else None


def latest_post(
    con: duckdb.DuckDBPyConnection, account: str, platform: str
) -> tuple[str, str, str] | None:
    """``(post_id, text, media_type)`` of an account's latest post on ``platform``."""
    row = fetch_one(
        con,
        "SELECT post_id, text, media_type FROM posts WHERE account = ? AND platform = ? "
        "ORDER BY posted_at DESC LIMIT 1",
        [account, platform],
    )
    return (str(row[0]), str(row[1] or ""), str(row[2])) if row else None


def experiments(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """``(experiment_id, name)`` of every experiment, by name."""
    rows = con.execute("SELECT experiment_id, name FROM experiments ORDER BY name").fetchall()
    return [(str(e), str(n)) for e, n in rows]


def experiment_labels(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """``(experiment_id, name and variant names)`` of every experiment, by name.

    What a user may call a test by: "the banner test", or its variants ("did orange beat
    green?").
    """
    rows = con.execute(
        "SELECT e.experiment_id, e.name, string_agg(DISTINCT u.variant, ' ' ORDER BY u.variant) "
        "FROM experiments e LEFT JOIN experiment_units u USING (experiment_id) "
        "GROUP BY e.experiment_id, e.name ORDER BY e.name"
    ).fetchall()
    return [(str(e), f"{n} {v or ''}".strip()) for e, n, v in rows]


def platforms_by_volume(con: duckdb.DuckDBPyConnection, *, leave_out: str) -> list[str]:
    """Platforms with posts, the busiest first, without ``leave_out``."""
    rows = con.execute(
        "SELECT platform FROM posts WHERE platform <> ? GROUP BY platform ORDER BY count(*) DESC",
        [leave_out],
    ).fetchall()
    return [str(row[0]) for row in rows]


def negative_chances(
    con: duckdb.DuckDBPyConnection, *, platform: str, account: str, model_version: str
) -> list[float]:
    """P(negative) of one account's posts on ``platform`` by ``model_version``, oldest first."""
    rows = con.execute(
        "SELECT s.p_negative FROM posts p JOIN scores s USING (post_id) "
        "WHERE p.platform = ? AND p.account = ? AND s.model_version = ? ORDER BY p.posted_at",
        [platform, account, model_version],
    ).fetchall()
    return [float(row[0]) for row in rows]


class HandoffRecord(NamedTuple):
    """A conversation's latest hand-off to a person: what :func:`latest_handoff` returns."""

    reference: str
    delivered: bool  # any record of it reached the staff channel
    created_at: datetime  # its latest record, naive UTC


def latest_handoff(
    con: duckdb.DuckDBPyConnection, conversation_id: str, *, kind: str, since: datetime
) -> HandoffRecord | None:
    """The conversation's latest hand-off (audit ``kind``) recorded at or after ``since``."""
    row = fetch_one(
        con,
        "SELECT json_extract_string(inputs, '$.reference') AS reference, "
        "bool_or(coalesce(json_extract(inputs, '$.delivered')::BOOLEAN, false)), "
        "max(created_at) FROM audit "
        "WHERE kind = ? AND conversation_id = ? AND created_at >= ? "
        "AND json_extract_string(inputs, '$.reference') IS NOT NULL "
        "GROUP BY reference ORDER BY max(created_at) DESC LIMIT 1",
        [kind, conversation_id, since],
    )
    return HandoffRecord(str(row[0]), bool(row[1]), row[2]) if row else None


def conversation_rating(con: duckdb.DuckDBPyConnection, conversation_id: str) -> int | None:
    """The satisfaction rating (1–5) first kept for the conversation, or None."""
    row = fetch_one(
        con,
        "SELECT rating FROM support_ratings WHERE conversation_id = ? ORDER BY created_at LIMIT 1",
        [conversation_id],
    )
    return int(row[0]) if row else None


@dataclass(frozen=True)
class PinnedTile:
    """A tile on a dashboard board: an answer's question and parameters, not its numbers.

    Attributes:
        tile_id: Its id (short, shown in chat so "unpin" can name it).
        board: The board it is on.
        kind: The answer's kind (``sentiment``, ``experiment``, ...).
        question: What was asked (pseudonymised).
        params: The answer's parameters, to compute it again on current data.
        pinned_at: When it was pinned (naive UTC).
    """

    tile_id: str
    board: str
    kind: str
    question: str
    params: dict[str, Any]
    pinned_at: datetime


def pinned_tiles(con: duckdb.DuckDBPyConnection, board: str) -> list[PinnedTile]:
    """The tiles on ``board`` now (pinned and not unpinned since), oldest first.

    An older workspace without the ``pin_events`` table has none.
    """
    try:
        rows = con.execute(
            """
            SELECT tile_id, board, kind, question, params, created_at FROM (
                SELECT *, row_number() OVER (PARTITION BY tile_id
                                             ORDER BY created_at DESC, action DESC) AS latest
                FROM pin_events WHERE board = ?
            ) WHERE latest = 1 AND action = 'pin'
            ORDER BY created_at, tile_id
            """,
            [board],
        ).fetchall()
    except duckdb.CatalogException:
        return []
    return [
        PinnedTile(
            str(tile_id), str(on), str(kind), str(question or ""), json.loads(params or "{}"), at
        )
        for tile_id, on, kind, question, params, at in rows
    ]


def boards(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every board with a tile on it now, by name."""
    try:
        rows = con.execute("SELECT DISTINCT board FROM pin_events ORDER BY board").fetchall()
    except duckdb.CatalogException:
        return []
    return [str(board) for (board,) in rows if pinned_tiles(con, str(board))]
