"""``beacon forget``: remove one account's data from every table."""

from __future__ import annotations

import duckdb

from foundation.workspace._pseudonym import Pseudonymizer
from foundation.workspace._store import fetch_one

FORGOTTEN_MENTION = "@[forgotten]"


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

    con.execute("BEGIN TRANSACTION")
    try:
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
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return counts


def _changed(con: duckdb.DuckDBPyConnection, sql: str, params: list[object]) -> int:
    row = fetch_one(con, sql, params)
    return int(row[0]) if row else 0
