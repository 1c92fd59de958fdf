"""Validated ingest of posts: every row is stored or quarantined with its reason.

Readers (:mod:`foundation.workspace._formats`) turn a file into raw dicts with the
canonical column names; :func:`ingest_rows` validates, pseudonymises and stores
them, so every format gets the same checks and read = stored + duplicates +
quarantined always holds.
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb
import pandas as pd

from foundation.workspace._pseudonym import Pseudonymizer
from foundation.workspace._rows import fetch_one
from foundation.workspace._schema import MEDIA_TYPES, PLATFORMS
from foundation.workspace._store import utc_now

POST_COLUMNS = (
    "post_id",
    "platform",
    "account",
    "text",
    "posted_at",
    "followers",
    "likes",
    "comments",
    "shares",
    "views",
    "media_type",
    "media_path",
    "campaign_id",
    "source",
    "ingested_at",
)

MAX_TEXT_CHARS = 20_000


class RowError(ValueError):
    """A row failed validation; the message is the quarantine reason."""


@dataclass(frozen=True)
class IngestReport:
    """What one ingest did.

    ``read == stored + duplicates + quarantined`` always holds; ``stored`` counts
    rows new to the workspace, ``duplicates`` rows it already had.
    """

    source: str
    read: int
    stored: int
    duplicates: int
    quarantined: int
    reasons: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        """One plain line for the terminal."""
        line = (
            f"{self.source}: read {self.read} = stored {self.stored} + already present "
            f"{self.duplicates} + quarantined {self.quarantined}"
        )
        if self.reasons:
            top = ", ".join(f"{reason} ({n})" for reason, n in Counter(self.reasons).most_common(3))
            line += f"; top reasons: {top}"
        return line


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip() == ""


def _count(raw: dict[str, Any], column: str, *, required: bool) -> int | None:
    value = raw.get(column)
    if _blank(value):
        if required:
            raise RowError(f"missing {column}")
        return None
    try:
        number = float(str(value).replace(",", "").strip())
    except ValueError:
        raise RowError(f"{column} must be a whole number (got {str(value)[:20]!r})") from None
    if math.isnan(number) or number < 0 or number != int(number):
        raise RowError(f"{column} must be a whole number >= 0 (got {str(value)[:20]!r})")
    return int(number)


def _timestamp(value: Any) -> datetime:
    if _blank(value):
        raise RowError("missing posted_at")
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise RowError(f"posted_at is not a date/time (got {str(value)[:30]!r})") from None
    if pd.isna(stamp):
        raise RowError(f"posted_at is not a date/time (got {str(value)[:30]!r})")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert(UTC).tz_localize(None)
    result: datetime = stamp.to_pydatetime()
    return result


def validate_post(
    raw: dict[str, Any], *, source: str, pseudonymizer: Pseudonymizer, ingested_at: datetime
) -> dict[str, Any]:
    """Check one raw row and return the canonical, pseudonymised post.

    Raises:
        RowError: The row cannot be stored; the message is the reason.
    """
    platform = str(raw.get("platform") or "").strip().lower()
    if platform not in PLATFORMS:
        raise RowError(f"platform must be one of {', '.join(PLATFORMS)} (got {platform!r})")
    account = str(raw.get("account") or "").strip()
    if not account:
        raise RowError("missing account")
    text = "" if _blank(raw.get("text")) else str(raw["text"])
    media_type = str(raw.get("media_type") or "none").strip().lower()
    if media_type not in MEDIA_TYPES:
        raise RowError(f"media_type must be one of {', '.join(MEDIA_TYPES)} (got {media_type!r})")
    if not text.strip() and media_type == "none":
        raise RowError("empty text and no media")
    if len(text) > MAX_TEXT_CHARS:
        raise RowError(f"text longer than {MAX_TEXT_CHARS} characters")
    posted_at = _timestamp(raw.get("posted_at"))
    post = {
        "platform": platform,
        "account": pseudonymizer.account(account),
        "text": pseudonymizer.text(text),
        "posted_at": posted_at,
        "followers": _count(raw, "followers", required=False),
        "likes": _count(raw, "likes", required=True),
        "comments": _count(raw, "comments", required=True),
        "shares": _count(raw, "shares", required=True),
        "views": _count(raw, "views", required=False),
        "media_type": media_type,
        "media_path": None if _blank(raw.get("media_path")) else str(raw["media_path"]),
        "campaign_id": None if _blank(raw.get("campaign_id")) else str(raw["campaign_id"]).strip(),
        "source": source,
        "ingested_at": ingested_at,
    }
    given_id = raw.get("post_id")
    if _blank(given_id):
        fingerprint = f"{source}|{post['account']}|{posted_at.isoformat()}|{post['text']}"
        post["post_id"] = f"{platform}-{hashlib.sha1(fingerprint.encode()).hexdigest()[:12]}"
    else:
        post["post_id"] = str(given_id).strip()
    return post


def _pseudonymised_raw(raw: dict[str, Any], pseudonymizer: Pseudonymizer) -> str:
    clean: dict[str, Any] = {}
    for key, value in raw.items():
        if _blank(value):
            clean[key] = None
        elif key == "account":
            clean[key] = pseudonymizer.account(str(value))
        elif isinstance(value, str):
            clean[key] = pseudonymizer.text(value)[:2000]
        else:
            clean[key] = value
    return json.dumps(clean, default=str)


def quarantine(
    con: duckdb.DuckDBPyConnection,
    rows: list[tuple[int | None, str, dict[str, Any]]],
    *,
    source: str,
    pseudonymizer: Pseudonymizer,
) -> None:
    """Store rejected rows ``(line_no, reason, raw)`` with their reason."""
    if not rows:
        return
    now = utc_now()
    con.executemany(
        "INSERT INTO quarantine VALUES (?, ?, ?, ?, ?, ?)",
        [
            [
                uuid.uuid4().hex[:16],
                now,
                source,
                line_no,
                reason,
                _pseudonymised_raw(raw, pseudonymizer),
            ]
            for line_no, reason, raw in rows
        ],
    )


@dataclass
class PreparedPosts:
    """Rows validated and pseudonymised, not yet stored (work done outside the lock).

    Attributes:
        accepted: Canonical posts by post id, in first-seen order.
        rejected: ``(line_no, reason, raw)`` of the rows to quarantine.
        read: Rows read.
        duplicates_in_batch: Rows repeating an accepted row exactly.
    """

    accepted: dict[str, dict[str, Any]] = field(default_factory=dict)
    rejected: list[tuple[int | None, str, dict[str, Any]]] = field(default_factory=list)
    read: int = 0
    duplicates_in_batch: int = 0


def prepare_posts(
    rows: Iterable[tuple[int, dict[str, Any]]], *, source: str, pseudonymizer: Pseudonymizer
) -> PreparedPosts:
    """Validate ``(line_no, raw_row)`` pairs without touching the workspace.

    A post id seen twice with different content is rejected; with identical content
    it is a duplicate.
    """
    ingested_at = utc_now()
    prepared = PreparedPosts()
    for line_no, raw in rows:
        prepared.read += 1
        try:
            post = validate_post(
                raw, source=source, pseudonymizer=pseudonymizer, ingested_at=ingested_at
            )
        except RowError as error:
            prepared.rejected.append((line_no, str(error), raw))
            continue
        earlier = prepared.accepted.get(post["post_id"])
        if earlier is not None:
            same = all(earlier[c] == post[c] for c in POST_COLUMNS if c != "ingested_at")
            if same:
                prepared.duplicates_in_batch += 1
            else:
                prepared.rejected.append(
                    (line_no, f"post_id {post['post_id']} repeated with other content", raw)
                )
            continue
        prepared.accepted[post["post_id"]] = post
    return prepared


def store_posts(con: duckdb.DuckDBPyConnection, posts: list[dict[str, Any]]) -> int:
    """Insert canonical posts; those already in the workspace are left untouched.

    Returns:
        How many were new.
    """
    if not posts:
        return 0
    before = _post_count(con)
    frame = pd.DataFrame(posts, columns=list(POST_COLUMNS))
    for column in ("followers", "likes", "comments", "shares", "views"):
        frame[column] = frame[column].astype("Int64")
    con.register("incoming_posts", frame)
    try:
        con.execute(
            f"INSERT OR IGNORE INTO posts SELECT {', '.join(POST_COLUMNS)} FROM incoming_posts"
        )
    finally:
        con.unregister("incoming_posts")
    return _post_count(con) - before


def report_of(prepared: PreparedPosts, *, source: str, stored: int) -> IngestReport:
    """The :class:`IngestReport` of a prepared batch of which ``stored`` rows were new."""
    reasons = Counter(_reason_kind(reason) for _, reason, _ in prepared.rejected)
    return IngestReport(
        source=source,
        read=prepared.read,
        stored=stored,
        duplicates=prepared.duplicates_in_batch + (len(prepared.accepted) - stored),
        quarantined=len(prepared.rejected),
        reasons=dict(reasons),
    )


def ingest_rows(
    con: duckdb.DuckDBPyConnection,
    rows: Iterable[tuple[int, dict[str, Any]]],
    *,
    source: str,
    pseudonymizer: Pseudonymizer,
) -> IngestReport:
    """Validate and store ``(line_no, raw_row)`` pairs as posts through one connection.

    A post id seen twice in one batch with different content is quarantined;
    with identical content it is a duplicate. Posts already in the workspace are
    left untouched (a second ingest of the same file adds nothing).
    """
    prepared = prepare_posts(rows, source=source, pseudonymizer=pseudonymizer)
    stored = store_posts(con, list(prepared.accepted.values()))
    quarantine(con, prepared.rejected, source=source, pseudonymizer=pseudonymizer)
    return report_of(prepared, source=source, stored=stored)


def _reason_kind(reason: str) -> str:
    # Group "likes must be ... (got 'x')" style reasons by their stable prefix.
    return reason.split(" (got")[0]


def _post_count(con: duckdb.DuckDBPyConnection) -> int:
    row = fetch_one(con, "SELECT count(*) FROM posts")
    return int(row[0]) if row else 0
