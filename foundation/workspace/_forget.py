"""``beacon forget`` and ``beacon purge``: remove personal data on request or with age.

- :func:`forget_account` — one account's posts, scores, influencer and quarantined
  rows, and its mentions in other people's posts.
- :func:`forget_conversation` — one chat's support posts (and their scores), audit
  rows, feedback and ratings.
- :func:`purge_older_than` — support posts, conversation audit rows, feedback and
  ratings older than a cut-off (the retention setting).
- :func:`forget_tracker_events`, :func:`purge_tracker_events` — the same in Rasa's
  SQLite tracker store, which keeps every message of every conversation.

Each workspace function runs in one transaction and returns the rows affected per
table; with ``dry_run`` it counts them and changes nothing.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from foundation.workspace._pseudonym import Pseudonymizer
from foundation.workspace._rows import fetch_one

FORGOTTEN_MENTION = "@[forgotten]"
#: The platform and id prefix of customers' support messages (beacon.support).
SUPPORT_PLATFORM = "support"
#: How the REST channel namespaces a customer's conversation id (bot/channels.py).
CUSTOMER_PREFIX = "customer:"
#: How long a tracker store write waits for Rasa's own write to finish.
TRACKER_TIMEOUT_S = 10.0


def forget_account(
    con: duckdb.DuckDBPyConnection, handle: str, pseudonymizer: Pseudonymizer
) -> dict[str, int]:
    """Delete an account's posts (and their scores), influencer rows and quarantined
    rows, and redact its mentions in other people's posts.

    Args:
        con: An open read-write workspace connection.
        handle: The account's real handle (``@name`` or ``name``) or its pseudonym.
        pseudonymizer: The installation's pseudonymizer.

    Returns:
        Rows affected per table (zero counts included).
    """
    account = pseudonymizer.account(handle)
    mention = pseudonymizer.mention(handle) if not handle.startswith("acct_") else None
    counts: dict[str, int] = {}

    def run(table: str, sql: str, params: list[object]) -> None:
        counts[table] = counts.get(table, 0) + _changed(con, sql, params)

    with _transaction(con, dry_run=False):
        run(
            "scores",
            "DELETE FROM scores WHERE post_id IN (SELECT post_id FROM posts WHERE account = ?)",
            [account],
        )
        run("posts", "DELETE FROM posts WHERE account = ?", [account])
        run("influencers", "DELETE FROM influencers WHERE handle = ?", [account])
        run("quarantine", "DELETE FROM quarantine WHERE contains(raw, ?)", [account])
        if mention:
            run("quarantine", "DELETE FROM quarantine WHERE contains(raw, ?)", [mention])
            counts["mentions_redacted"] = _changed(
                con,
                "UPDATE posts SET text = replace(text, ?, ?) WHERE contains(text, ?)",
                [mention, FORGOTTEN_MENTION, mention],
            )
    return counts


def conversation_ids(con: duckdb.DuckDBPyConnection, given: str) -> list[str]:
    """The stored conversation ids that ``given`` names.

    ``given`` may be the id as stored (``customer:abc``, a Slack or staff sender id),
    the id a customer's widget sent (``abc``: its ``customer:`` form is included), or
    the hand-off reference the customer was given (``H-1A2B3C``).
    """
    given = given.strip()
    if not given:
        return []
    reference = fetch_one(
        con,
        "SELECT conversation_id FROM audit WHERE kind = 'handoff' "
        "AND json_extract_string(inputs, '$.reference') = ? AND conversation_id IS NOT NULL",
        [given.upper()],
    )
    if reference is not None:
        return [str(reference[0])]
    if given.startswith(CUSTOMER_PREFIX):
        return [given]
    return [given, CUSTOMER_PREFIX + given]


def forget_conversation(
    con: duckdb.DuckDBPyConnection,
    ids: Sequence[str],
    pseudonymizer: Pseudonymizer,
    *,
    dry_run: bool = False,
) -> dict[str, int]:
    """Delete what the workspace keeps of the conversations ``ids``.

    Their support posts (the account of a support post is the pseudonymised
    conversation id) and those posts' scores, their audit rows (answers, refusals,
    hand-offs), feedback and ratings.

    Args:
        con: An open read-write workspace connection.
        ids: Stored conversation ids (:func:`conversation_ids`).
        pseudonymizer: The installation's pseudonymizer.
        dry_run: Count the rows and change nothing.

    Returns:
        Rows removed (or, with ``dry_run``, to remove) per table.
    """
    ids = list(ids)
    accounts = [pseudonymizer.account(conversation_id) for conversation_id in ids]
    support_posts = "SELECT post_id FROM posts WHERE platform = ? AND list_contains(?, account)"
    statements: list[tuple[str, str, list[object]]] = [
        ("scores", f"DELETE FROM scores WHERE post_id IN ({support_posts})", [SUPPORT_PLATFORM, accounts]),
        ("posts", "DELETE FROM posts WHERE platform = ? AND list_contains(?, account)", [SUPPORT_PLATFORM, accounts]),
        ("audit", "DELETE FROM audit WHERE list_contains(?, conversation_id)", [ids]),
        ("feedback", "DELETE FROM feedback WHERE list_contains(?, conversation_id)", [ids]),
        ("support_ratings", "DELETE FROM support_ratings WHERE list_contains(?, conversation_id)", [ids]),
        ("pin_events", "DELETE FROM pin_events WHERE list_contains(?, conversation_id)", [ids]),
    ]  # fmt: skip
    with _transaction(con, dry_run=dry_run):
        return {table: _changed(con, sql, params) for table, sql, params in statements}


def purge_older_than(
    con: duckdb.DuckDBPyConnection, cutoff: datetime, *, dry_run: bool = False
) -> dict[str, int]:
    """Delete conversation data older than ``cutoff`` (naive UTC).

    Support posts (and their scores), audit rows of conversations (a batch job's
    records, such as a retrain or a posted digest, have no conversation and stay),
    feedback and ratings. Social posts, campaigns and experiments are the team's
    analytics data and are not touched.

    Returns:
        Rows removed (or, with ``dry_run``, to remove) per table.
    """
    old_support = "SELECT post_id FROM posts WHERE platform = ? AND posted_at < ?"
    statements: list[tuple[str, str, list[object]]] = [
        ("scores", f"DELETE FROM scores WHERE post_id IN ({old_support})", [SUPPORT_PLATFORM, cutoff]),
        ("posts", "DELETE FROM posts WHERE platform = ? AND posted_at < ?", [SUPPORT_PLATFORM, cutoff]),
        ("audit", "DELETE FROM audit WHERE conversation_id IS NOT NULL AND created_at < ?", [cutoff]),
        ("feedback", "DELETE FROM feedback WHERE created_at < ?", [cutoff]),
        ("support_ratings", "DELETE FROM support_ratings WHERE created_at < ?", [cutoff]),
    ]  # fmt: skip
    with _transaction(con, dry_run=dry_run):
        return {table: _changed(con, sql, params) for table, sql, params in statements}


def forget_tracker_events(db: Path, sender_ids: Sequence[str], *, dry_run: bool = False) -> int:
    """Delete the events of the conversations ``sender_ids`` from Rasa's SQLite tracker store.

    Args:
        db: The tracker store's SQLite file; a missing file has nothing to forget.
        sender_ids: Conversation ids as Rasa stores them (``customer:`` prefix included).
        dry_run: Count the events and delete nothing.

    Returns:
        The number of events deleted (or, with ``dry_run``, to delete).
    """
    marks = ", ".join("?" * len(sender_ids))
    if not marks:
        return 0
    return _tracker_delete(db, f"sender_id IN ({marks})", list(sender_ids), dry_run=dry_run)


def purge_tracker_events(db: Path, cutoff: datetime, *, dry_run: bool = False) -> int:
    """Delete tracker events older than ``cutoff`` (naive UTC) from Rasa's SQLite store.

    Returns:
        The number of events deleted (or, with ``dry_run``, to delete).
    """
    seconds = cutoff.replace(tzinfo=UTC).timestamp()
    return _tracker_delete(db, "timestamp < ?", [seconds], dry_run=dry_run)


def _tracker_delete(db: Path, where: str, params: list[object], *, dry_run: bool) -> int:
    if not Path(db).is_file():
        return 0
    # `where` is one of the two fixed conditions above; values are always parameters.
    with contextlib.closing(sqlite3.connect(db, timeout=TRACKER_TIMEOUT_S)) as tracker:
        known = tracker.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'"
        ).fetchone()
        if known is None:  # Rasa has not stored a conversation yet
            return 0
        if dry_run:
            (count,) = tracker.execute(
                f"SELECT count(*) FROM events WHERE {where}", params
            ).fetchone()
            return int(count)
        with tracker:  # one transaction, committed on success
            deleted = tracker.execute(f"DELETE FROM events WHERE {where}", params).rowcount
        return int(deleted)


@contextlib.contextmanager
def _transaction(con: duckdb.DuckDBPyConnection, *, dry_run: bool) -> Iterator[None]:
    """One transaction: committed, or rolled back on an error or for a dry run."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except Exception:
        con.execute("ROLLBACK")
        raise
    con.execute("ROLLBACK" if dry_run else "COMMIT")


def _changed(con: duckdb.DuckDBPyConnection, sql: str, params: list[object]) -> int:
    row = fetch_one(con, sql, params)
    return int(row[0]) if row else 0
