"""Forgetting a conversation and purging old conversation data (workspace and tracker)."""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from foundation.workspace import (
    POST_COLUMNS,
    Pseudonymizer,
    Workspace,
    conversation_ids,
    forget_conversation,
    forget_tracker_events,
    purge_older_than,
    purge_tracker_events,
    utc_now,
    validate_post,
)

KEY = b"forget-test-key-" + b"0" * 32
NOW = datetime(2026, 11, 30, 12, 0)
OLD = NOW - timedelta(days=100)

# Rasa 3.6's SQLTrackerStore table (rasa/core/tracker_store.py, SQLEvent).
TRACKER_DDL = """
CREATE TABLE events (
    id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, type_name VARCHAR(255) NOT NULL,
    timestamp FLOAT, intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT
)
"""


def make_tracker(path: Path, events: list[tuple[str, datetime]]) -> Path:
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute(TRACKER_DDL)
        db.executemany(
            "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, 'user', ?, '{}')",
            [(sender, (when - datetime(1970, 1, 1)).total_seconds()) for sender, when in events],
        )
    return path


def tracker_senders(path: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return [row[0] for row in db.execute("SELECT sender_id FROM events ORDER BY id")]


def support_post(pseudo: Pseudonymizer, conversation: str, n: int, when: datetime) -> list[object]:
    raw = {
        "post_id": f"support-{conversation[-3:]}{n}",
        "platform": "support",
        "account": conversation,
        "text": f"message {n}",
        "posted_at": when,
        "likes": 0,
        "comments": 0,
        "shares": 0,
        "media_type": "none",
    }
    post = validate_post(raw, source="support-widget", pseudonymizer=pseudo, ingested_at=when)
    return [post[column] for column in POST_COLUMNS]


@pytest.fixture
def pseudo() -> Pseudonymizer:
    return Pseudonymizer(KEY)


@pytest.fixture
def workspace(tmp_path: Path, pseudo: Pseudonymizer) -> Workspace:
    """Two customer chats (``customer:abc`` a hundred days old, ``customer:xyz`` new)
    and a staff conversation, with posts, scores, audit, feedback and ratings."""
    workspace = Workspace(tmp_path / "ws.duckdb", pseudonymizer=pseudo)
    chats = {"customer:abc": OLD, "customer:xyz": NOW, "U0STAFF": NOW}
    with workspace.connect() as con:
        for conversation, when in chats.items():
            if conversation.startswith("customer:"):
                for n in (1, 2):
                    post = support_post(pseudo, conversation, n, when)
                    marks = ", ".join("?" * len(post))
                    con.execute(f"INSERT INTO posts VALUES ({marks})", post)
                    con.execute(
                        "INSERT INTO scores (post_id, model_version, scored_at) VALUES (?, 'm', ?)",
                        [post[0], when],
                    )
                con.execute(
                    "INSERT INTO support_ratings VALUES (?, ?, ?, 4)",
                    [f"r-{conversation}", when, conversation],
                )
            con.execute(
                "INSERT INTO audit (audit_id, created_at, kind, inputs_hash, inputs, conversation_id)"
                " VALUES (?, ?, 'handoff', 'h', ?, ?)",
                [f"a-{conversation}", when, f'{{"reference": "H-{conversation[-3:].upper()}"}}', conversation],
            )  # fmt: skip
            con.execute(
                "INSERT INTO feedback (feedback_id, created_at, conversation_id, verdict, text)"
                " VALUES (?, ?, ?, 'down', 'meh')",
                [f"f-{conversation}", when, conversation],
            )
        con.execute(  # a staff member's pinned tile, from the conversation "abc"
            "INSERT INTO pin_events VALUES ('p1', ?, 'abc', 'team', 't1', 'pin', 'sentiment',"
            " 'how is sentiment?', '{}')",
            [NOW],
        )
        con.execute(  # a batch job's record: no conversation, kept by the purge
            "INSERT INTO audit (audit_id, created_at, kind, inputs_hash) "
            "VALUES ('retrain', ?, 'retrain', 'h')",
            [OLD],
        )
    return workspace


def counts_in(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    tables = ("posts", "scores", "audit", "feedback", "support_ratings", "pin_events")
    return {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in tables}


def counts(workspace: Workspace) -> dict[str, int]:
    with workspace.connect(read_only=True) as con:
        return counts_in(con)


def test_conversation_ids_accept_the_widget_id_the_stored_id_and_a_reference(
    workspace: Workspace,
) -> None:
    with workspace.connect(read_only=True) as con:
        assert conversation_ids(con, "abc") == ["abc", "customer:abc"]
        assert conversation_ids(con, "customer:abc") == ["customer:abc"]
        assert conversation_ids(con, "h-abc") == ["customer:abc"]


def test_forget_conversation_removes_its_rows_everywhere(
    workspace: Workspace, pseudo: Pseudonymizer, tmp_path: Path
) -> None:
    before = counts(workspace)
    with workspace.connect() as con:
        ids = conversation_ids(con, "abc")
        assert forget_conversation(con, ids, pseudo, dry_run=True)["posts"] == 2
        assert counts_in(con) == before  # a dry run changes nothing
        removed = forget_conversation(con, ids, pseudo)
    assert removed == {
        "scores": 2, "posts": 2, "audit": 1, "feedback": 1, "support_ratings": 1, "pin_events": 1,
    }  # fmt: skip
    after = counts(workspace)
    assert after == {table: before[table] - removed[table] for table in before}
    with workspace.connect(read_only=True) as con:
        left = {r[0] for r in con.execute("SELECT conversation_id FROM audit").fetchall()}
    assert "customer:abc" not in left and "customer:xyz" in left

    tracker = make_tracker(
        tmp_path / "tracker.db",
        [("customer:abc", NOW), ("customer:xyz", NOW), ("customer:abc", OLD)],
    )
    assert forget_tracker_events(tracker, ids, dry_run=True) == 2
    assert forget_tracker_events(tracker, ids) == 2
    assert tracker_senders(tracker) == ["customer:xyz"]
    assert forget_tracker_events(tmp_path / "missing.db", ids) == 0


def test_purge_deletes_conversation_data_older_than_the_cutoff(
    workspace: Workspace, tmp_path: Path
) -> None:
    cutoff = NOW - timedelta(days=90)
    before = counts(workspace)
    with workspace.connect() as con:
        planned = purge_older_than(con, cutoff, dry_run=True)
    assert counts(workspace) == before
    with workspace.connect() as con:
        removed = purge_older_than(con, cutoff)
    assert removed == planned == {
        "scores": 2, "posts": 2, "audit": 1, "feedback": 1, "support_ratings": 1,
    }  # fmt: skip
    assert counts(workspace)["pin_events"] == 1  # a board stays until unpinned
    with workspace.connect(read_only=True) as con:
        audit = {r[0] for r in con.execute("SELECT audit_id FROM audit").fetchall()}
        posts = con.execute("SELECT min(posted_at) FROM posts").fetchall()[0][0]
    assert audit == {"a-customer:xyz", "a-U0STAFF", "retrain"} and posts >= cutoff

    tracker = make_tracker(tmp_path / "tracker.db", [("customer:abc", OLD), ("U0STAFF", NOW)])
    assert purge_tracker_events(tracker, cutoff, dry_run=True) == 1
    assert purge_tracker_events(tracker, cutoff) == 1
    assert tracker_senders(tracker) == ["U0STAFF"]


def test_a_tracker_without_events_has_nothing_to_purge(tmp_path: Path) -> None:
    with contextlib.closing(sqlite3.connect(tmp_path / "empty.db")):
        pass
    assert purge_tracker_events(tmp_path / "empty.db", utc_now()) == 0
