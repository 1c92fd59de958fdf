"""Everything that touches the DuckDB workspace: loading creators, ingesting the Top-200 file.

Creators are rows of ``influencers``; their posts are the rows of ``posts``
whose ``account`` equals the influencer's (pseudonymised) ``handle``; their
audience is the posts of other accounts that mention them (``@u_<digest>``, the
form the pseudonymiser gives a mentioned handle with the same key).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb

from analytics.influencers._parse import InfluencerRowError, parse_top200_row, read_top200
from analytics.influencers._types import CreatorPost, CreatorProfile
from foundation.workspace import IngestReport, Pseudonymizer, quarantine, utc_now

MAX_POSTS_PER_CREATOR = 400
MAX_AUDIENCE_PER_CREATOR = 400


def _mention_token(handle: str) -> str | None:
    if handle.startswith("acct_") and len(handle) == 17:
        return "@u_" + handle[5:]
    return None


def load_creators_from_workspace(
    con: duckdb.DuckDBPyConnection, *, platform: str | None = None
) -> list[CreatorProfile]:
    """Creators in the workspace with their recent posts and audience texts.

    Creators without posts are returned too (their profile numbers are used).

    Args:
        con: An open workspace connection (read-only is enough).
        platform: Only creators on this platform.
    """
    where, params = ("WHERE lower(platform) = ?", [platform.lower()]) if platform else ("", [])
    rows = con.execute(
        f"""SELECT influencer_id, handle, platform, followers, posts, avg_likes, engagement_rate,
                   country, topics, cost_per_post, source
            FROM influencers {where} ORDER BY influencer_id""",
        params,
    ).fetchall()
    if not rows:
        return []
    handles = sorted({str(r[1]) for r in rows})
    posts: dict[str, list[CreatorPost]] = {h: [] for h in handles}
    post_rows = con.execute(
        """SELECT account, post_id, posted_at, text, followers, likes, comments, shares FROM (
               SELECT *, row_number() OVER (PARTITION BY account ORDER BY posted_at DESC) AS k
               FROM posts WHERE list_contains(?, account))
           WHERE k <= ? ORDER BY account, posted_at""",
        [handles, MAX_POSTS_PER_CREATOR],
    ).fetchall()
    for account, post_id, posted_at, text, followers, likes, comments, shares in post_rows:
        posts[str(account)].append(
            CreatorPost(
                post_id=str(post_id),
                posted_at=posted_at,
                text=str(text),
                followers=None if followers is None else int(followers),
                likes=int(likes),
                comments=int(comments),
                shares=int(shares),
            )
        )
    tokens = {t: h for h in handles if (t := _mention_token(h))}
    audience: dict[str, list[str]] = {h: [] for h in handles}
    if tokens:
        con.register("creator_tokens", _token_frame(tokens))
        try:
            mention_rows = con.execute(
                """SELECT handle, text FROM (
                       SELECT t.handle, p.text, row_number() OVER (
                           PARTITION BY t.handle ORDER BY p.posted_at DESC) AS k
                       FROM posts p JOIN creator_tokens t
                         ON contains(p.text, t.token) AND p.account <> t.handle)
                   WHERE k <= ? ORDER BY handle""",
                [MAX_AUDIENCE_PER_CREATOR],
            ).fetchall()
        finally:
            con.unregister("creator_tokens")
        for handle, text in mention_rows:
            audience[str(handle)].append(str(text))
    creators = []
    for r in rows:
        handle = str(r[1])
        creators.append(
            CreatorProfile(
                creator_id=str(r[0]),
                handle=handle,
                platform=str(r[2]),
                followers=None if r[3] is None else int(r[3]),
                posts_count=None if r[4] is None else int(r[4]),
                avg_likes=None if r[5] is None else float(r[5]),
                engagement_rate=None if r[6] is None else float(r[6]),
                country=r[7],
                topics=r[8],
                cost_per_post=None if r[9] is None else float(r[9]),
                posts=tuple(posts.get(handle, ())),
                audience_texts=tuple(audience.get(handle, ())),
                source=str(r[10]),
            )
        )
    return creators


def _token_frame(tokens: dict[str, str]) -> Any:
    import pandas as pd

    return pd.DataFrame({"token": list(tokens), "handle": list(tokens.values())})


def load_top200(
    path: Path,
) -> tuple[list[CreatorProfile], list[tuple[int, str, dict[str, str]]]]:
    """Parse a Top-200 file without a workspace: (valid creators, rejected rows).

    Rejected rows are ``(line_no, reason, raw)``; a handle seen twice keeps its first row.
    """
    creators: list[CreatorProfile] = []
    rejected: list[tuple[int, str, dict[str, str]]] = []
    seen: set[str] = set()
    source = f"top200:{Path(path).name}"
    for line_no, raw in read_top200(path):
        try:
            creator = parse_top200_row(raw, source=source)
        except InfluencerRowError as error:
            rejected.append((line_no, str(error), raw))
            continue
        if creator.handle.lower() in seen:
            rejected.append((line_no, f"channel_info {creator.handle!r} repeated", raw))
            continue
        seen.add(creator.handle.lower())
        creators.append(creator)
    return creators, rejected


def ingest_top200(
    con: duckdb.DuckDBPyConnection, path: Path, *, pseudonymizer: Pseudonymizer
) -> IngestReport:
    """Store a Top-200 file's rows in ``influencers``; bad rows go to ``quarantine``.

    Handles are pseudonymised; the id is ``inf-<pseudonym>``. Rows already in the
    workspace are left as they are (a second ingest adds nothing), so
    ``read = stored + duplicates + quarantined``.
    """
    creators, rejected = load_top200(path)
    source = f"top200:{Path(path).name}"
    read = len(creators) + len(rejected)
    now = utc_now()
    before = _count(con)
    rows: Iterable[list[Any]] = [
        [
            f"inf-{pseudonymizer.account(c.handle)}",
            pseudonymizer.account(c.handle),
            c.platform,
            c.followers,
            c.posts_count,
            c.avg_likes,
            c.engagement_rate,
            c.country,
            c.topics,
            c.cost_per_post,
            source,
            now,
        ]
        for c in creators
    ]
    rows = list(rows)
    if rows:
        con.executemany(
            "INSERT OR IGNORE INTO influencers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
        )
    stored = _count(con) - before
    quarantine(
        con,
        [
            (line, reason, _pseudonymise_handle(raw, pseudonymizer))
            for line, reason, raw in rejected
        ],
        source=source,
        pseudonymizer=pseudonymizer,
    )
    reasons = Counter(reason.split(" (got")[0] for _, reason, _ in rejected)
    return IngestReport(
        source=source,
        read=read,
        stored=stored,
        duplicates=len(creators) - stored,
        quarantined=len(rejected),
        reasons=dict(reasons),
    )


def _pseudonymise_handle(raw: dict[str, str], pseudonymizer: Pseudonymizer) -> dict[str, Any]:
    clean: dict[str, Any] = dict(raw)
    handle = str(raw.get("channel_info") or "").strip()
    if handle:
        clean["channel_info"] = pseudonymizer.account(handle)
    return clean


def _count(con: duckdb.DuckDBPyConnection) -> int:
    return int(con.execute("SELECT count(*) FROM influencers").fetchall()[0][0])
