"""Schema v2: structured corrections in their own ``feedback`` columns; v1 files migrate.

A v1 workspace kept a correction as JSON in ``feedback.correction``, whoever wrote it; a
customer could shape a message like one. The v2 columns (``audience``, ``target``,
``post_id``, ``label``) are written only by server code from staff turns, and what v1
stored is kept but never learned.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import duckdb
import pytest

from beacon.retrain import (
    StructuredCorrection,
    feedback_row,
    read_corrections,
    sentiment_correction,
    sentiment_corrections,
)
from foundation.exceptions import InputError
from foundation.workspace import Workspace
from foundation.workspace._schema import SCHEMA_VERSION
from tests.workspace.test_concurrency import wait_until

#: The tables of a schema v1 workspace that matter here, exactly as v1 created them.
V1_DDL = """
CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE posts (
    post_id VARCHAR PRIMARY KEY, platform VARCHAR NOT NULL, account VARCHAR NOT NULL,
    text VARCHAR NOT NULL, posted_at TIMESTAMP NOT NULL, followers BIGINT,
    likes BIGINT NOT NULL, comments BIGINT NOT NULL, shares BIGINT NOT NULL, views BIGINT,
    media_type VARCHAR NOT NULL, media_path VARCHAR, campaign_id VARCHAR,
    source VARCHAR NOT NULL, ingested_at TIMESTAMP NOT NULL
);
CREATE TABLE feedback (
    feedback_id VARCHAR PRIMARY KEY,
    created_at TIMESTAMP NOT NULL,
    conversation_id VARCHAR,
    audit_id VARCHAR,
    verdict VARCHAR NOT NULL,
    correction VARCHAR,
    text VARCHAR
);
INSERT INTO meta VALUES ('schema_version', '1');
INSERT INTO posts VALUES ('fb-m000324', 'facebook', 'acct', 'My order is late. Not happy',
    '2026-11-01 10:00:00', NULL, 1, 0, 0, NULL, 'none', NULL, NULL, 'test',
    '2026-11-02 10:00:00');
"""
LEGACY = json.dumps({"target": "sentiment", "post_id": "fb-m000324", "label": "positive"})
V1_COLUMNS = [
    "feedback_id",
    "created_at",
    "conversation_id",
    "audit_id",
    "verdict",
    "correction",
    "text",
]


@pytest.fixture
def v1_file(tmp_path: Path) -> Path:
    """A v1 workspace holding a legacy JSON correction and a thumbs-up."""
    path = tmp_path / "beacon.duckdb"
    con = duckdb.connect(str(path))
    con.execute(V1_DDL)
    con.execute(
        "INSERT INTO feedback VALUES "
        "('f1', '2026-12-01 10:00:00', 'customer:abc', NULL, 'correction', ?, ?), "
        "('f2', '2026-12-01 10:01:00', 'staff-1', NULL, 'up', NULL, 'thanks')",
        [LEGACY, LEGACY],
    )
    con.close()
    return path


def _columns(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [row[1] for row in con.execute("PRAGMA table_info('feedback')").fetchall()]


def test_a_v1_workspace_gets_the_columns_and_keeps_its_rows(
    v1_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        caplog.at_level(logging.INFO, logger="foundation.workspace._store"),
        Workspace(v1_file).connect(),
    ):
        pass  # the first read-write connection migrates
    assert f"upgraded from v1 to v{SCHEMA_VERSION}" in caplog.text
    with Workspace(v1_file).connect(read_only=True) as con:
        columns = _columns(con)
        rows = con.execute(
            "SELECT feedback_id, verdict, correction, audience, target, post_id, label "
            "FROM feedback ORDER BY feedback_id"
        ).fetchall()
        version = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        found = read_corrections(con, "sentiment")
    assert columns == [*V1_COLUMNS, "audience", "target", "post_id", "label"]
    assert rows == [
        ("f1", "correction", LEGACY, None, None, None, None),
        ("f2", "up", None, None, None, None, None),
    ]
    assert version == (str(SCHEMA_VERSION),)
    # Who wrote a v1 correction is unknown (here: a customer), so it is never learned.
    assert found.learned == () and found.skipped == {"legacy": 1}


def test_reading_a_v1_workspace_before_it_is_migrated_finds_no_correction(v1_file: Path) -> None:
    with Workspace(v1_file).connect(read_only=True) as con:
        assert _columns(con) == V1_COLUMNS  # a read never migrates
        found = read_corrections(con, "sentiment")
        assert sentiment_corrections(con) == []
    assert found.skipped == {"legacy": 1}


def test_a_new_workspace_has_the_same_column_order_as_a_migrated_one(tmp_path: Path) -> None:
    with Workspace(tmp_path / "new.duckdb").connect() as con:
        assert _columns(con) == [*V1_COLUMNS, "audience", "target", "post_id", "label"]


def test_old_journal_lines_and_new_rows_both_reach_the_table(v1_file: Path) -> None:
    """A journal line written by a v1 process (7 values) is kept, with no audience."""
    workspace = Workspace(v1_file)
    workspace.journal.directory.mkdir(parents=True, exist_ok=True)
    dead_pid = 2**22 + 11  # above Linux's default pid_max: no process has it
    old_row = ["f3", "2026-12-01T11:00:00", "staff-1", None, "correction", LEGACY, LEGACY]
    (workspace.journal.directory / f"{dead_pid}.jsonl").write_text(
        json.dumps({"table": "feedback", "row": old_row}) + "\n"
    )
    new_row = feedback_row(
        feedback_id="f4",
        conversation_id="staff-1",
        audit_id=None,
        verdict="correction",
        text="fb-m000324 is negative, not positive",
        audience="staff",
        correction=sentiment_correction("fb-m000324", "negative"),
    )
    workspace.keep("feedback", [new_row])  # the writer thread drains both files
    assert wait_until(lambda: not workspace.journal.has_rows())
    with workspace.connect(read_only=True) as con:
        rows = con.execute(
            "SELECT feedback_id, audience, target, post_id, label FROM feedback "
            "WHERE feedback_id IN ('f3', 'f4') ORDER BY 1"
        ).fetchall()
        found = read_corrections(con, "sentiment")
    assert rows == [
        ("f3", None, None, None, None),
        ("f4", "staff", "sentiment", "fb-m000324", "negative"),
    ]
    assert [(c.post_id, c.label) for c in found.learned] == [("fb-m000324", "negative")]
    assert found.skipped == {"legacy": 2}


def test_stored_corrections_that_cannot_be_learned_are_counted_by_reason(
    v1_file: Path,
) -> None:
    workspace = Workspace(v1_file)

    def row(feedback_id: str, audience: str, correction: StructuredCorrection) -> list[object]:
        data = feedback_row(
            feedback_id=feedback_id,
            conversation_id="c",
            audit_id=None,
            verdict="correction",
            text="…",
            audience="staff",
            correction=correction,
        )
        data[7] = audience  # as if written by other code, not the action server
        return data

    workspace.keep(
        "feedback",
        [
            row("g1", "staff", StructuredCorrection("sentiment", "fb-m000324", "angry")),
            row("g2", "customer", StructuredCorrection("sentiment", "fb-m000324", "positive")),
            row("g3", "staff", StructuredCorrection("sentiment", "tw-gone", "negative")),
            row("g4", "staff", StructuredCorrection("sentiment", "fb-m000324", "neutral")),
        ],
    )
    with workspace.connect(read_only=True) as con:
        found = read_corrections(con, "sentiment")
        engagement = read_corrections(con, "engagement")
    assert [(c.post_id, c.label) for c in found.learned] == [("fb-m000324", "neutral")]
    assert found.skipped == {"legacy": 1, "label": 1, "audience": 1, "post": 1}
    assert found.skipped_text().startswith("sentiment: 1 stored before corrections")
    assert "1 with an unknown label" in found.skipped_text()
    assert engagement.learned == () and engagement.skipped == {}


def test_labels_are_checked_and_only_staff_rows_carry_a_correction() -> None:
    with pytest.raises(
        InputError, match=r"label is one of negative, neutral, positive; got 'angry'"
    ):
        sentiment_correction("fb-m000324", "angry")
    with pytest.raises(ValueError, match="only staff corrections teach the models"):
        feedback_row(
            feedback_id="x",
            conversation_id="customer:abc",
            audit_id=None,
            verdict="correction",
            text="fb-m000324 is positive",
            audience="customer",
            correction=sentiment_correction("fb-m000324", "positive"),
        )
