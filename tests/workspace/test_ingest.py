"""Canonical ingest: validation, quarantine, pseudonymisation, idempotency, forget."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from foundation.exceptions import InputError, UnknownFormatError
from foundation.workspace import Pseudonymizer, Workspace, forget_account, ingest_file

HEADER = [
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
]
GOOD = [
    ["p1", "twitter", "@Alice", "Love the new shoes @bob, mail me a@b.com", "2026-11-01T10:00:00Z",
     "1000", "10", "2", "1", "", "none"],
    ["p2", "Instagram", "carol", "Sunset run", "2026-11-02 18:30:00+01:00", "", "55", "4", "0", "900", "image"],
    ["", "facebook", "dave", "No id here", "2026-11-03", "10", "1", "0", "0", "", ""],
]  # fmt: skip
BAD = [
    ["p4", "myspace", "erin", "x", "2026-11-01", "1", "1", "1", "1", "", "none"],
    ["p5", "twitter", "", "no account", "2026-11-01", "1", "1", "1", "1", "", "none"],
    ["p6", "twitter", "frank", "bad date", "yesterday-ish", "1", "1", "1", "1", "", "none"],
    ["p7", "twitter", "gina", "negative likes", "2026-11-01", "1", "-3", "1", "1", "", "none"],
    ["p8", "twitter", "hank", "", "2026-11-01", "1", "1", "1", "1", "", "none"],
    ["p9", "twitter", "ivan", "bad media", "2026-11-01", "1", "1", "1", "1", "", "hologram"],
    ["p1", "twitter", "@Alice", "same id, other text", "2026-11-01T10:00:00Z", "1000", "10", "2", "1", "", "none"],
]  # fmt: skip


def write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws.duckdb")


@pytest.fixture
def pseudo() -> Pseudonymizer:
    return Pseudonymizer(b"k")


def test_every_row_is_stored_or_quarantined_with_reason(
    tmp_path: Path, workspace: Workspace, pseudo: Pseudonymizer
) -> None:
    report = ingest_file(
        workspace,
        write_csv(tmp_path / "posts.csv", GOOD + BAD),
        fmt="canonical",
        pseudonymizer=pseudo,
    )
    assert (report.read, report.stored, report.quarantined) == (10, 3, 7)
    assert report.read == report.stored + report.duplicates + report.quarantined
    with workspace.connect() as con:
        reasons = dict(con.execute("SELECT line_no, reason FROM quarantine").fetchall())
    assert reasons[5].startswith("platform must be one of")
    assert reasons[6] == "missing account"
    assert reasons[7].startswith("posted_at is not a date/time")
    assert reasons[8].startswith("likes must be a whole number >= 0")
    assert reasons[9] == "empty text and no media"
    assert reasons[10].startswith("media_type must be one of")
    assert reasons[11] == "post_id p1 repeated with other content"


def test_second_ingest_adds_nothing(
    tmp_path: Path, workspace: Workspace, pseudo: Pseudonymizer
) -> None:
    path = write_csv(tmp_path / "posts.csv", GOOD)
    first = ingest_file(workspace, path, fmt="canonical", pseudonymizer=pseudo)
    second = ingest_file(workspace, path, fmt="canonical", pseudonymizer=pseudo)
    assert (first.stored, second.stored, second.duplicates) == (3, 0, 3)
    with workspace.connect() as con:
        assert con.execute("SELECT count(*) FROM posts").fetchall()[0][0] == 3


def test_personal_data_is_pseudonymised_and_times_are_utc(
    tmp_path: Path, workspace: Workspace, pseudo: Pseudonymizer
) -> None:
    ingest_file(
        workspace, write_csv(tmp_path / "posts.csv", GOOD), fmt="canonical", pseudonymizer=pseudo
    )
    with workspace.connect() as con:
        rows = {
            r[0]: r
            for r in con.execute(
                "SELECT post_id, account, text, posted_at, platform FROM posts"
            ).fetchall()
        }
    _, account, text, _, _ = rows["p1"]
    assert account == pseudo.account("alice") and "alice" not in account.lower()
    assert "@bob" not in text and pseudo.mention("bob") in text
    assert "a@b.com" not in text and "<email_" in text
    assert rows["p2"][3].isoformat() == "2026-11-02T17:30:00"  # +01:00 converted to UTC
    assert rows["p2"][4] == "instagram"
    derived = [pid for pid in rows if pid not in ("p1", "p2")]
    assert len(derived) == 1 and derived[0].startswith("facebook-")


def test_quarantine_keeps_raw_rows_pseudonymised(
    tmp_path: Path, workspace: Workspace, pseudo: Pseudonymizer
) -> None:
    ingest_file(
        workspace, write_csv(tmp_path / "bad.csv", [BAD[0]]), fmt="canonical", pseudonymizer=pseudo
    )
    with workspace.connect() as con:
        raw = json.loads(con.execute("SELECT raw FROM quarantine").fetchall()[0][0])
    assert raw["account"] == pseudo.account("erin")


def test_missing_columns_and_unknown_format_are_one_line_errors(
    tmp_path: Path, workspace: Workspace, pseudo: Pseudonymizer
) -> None:
    path = write_csv(tmp_path / "odd.csv", [["x"]], header=["whatever"])
    with pytest.raises(InputError, match="missing column\\(s\\) platform, account"):
        ingest_file(workspace, path, fmt="canonical", pseudonymizer=pseudo)
    with pytest.raises(UnknownFormatError, match="unknown format 'tiktok-export'; expected one of"):
        ingest_file(workspace, path, fmt="tiktok-export", pseudonymizer=pseudo)
    with pytest.raises(InputError, match="no file at"):
        ingest_file(workspace, tmp_path / "missing.csv", fmt="canonical", pseudonymizer=pseudo)


def test_latin1_file_is_read(tmp_path: Path, workspace: Workspace, pseudo: Pseudonymizer) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes(
        (
            "platform,account,text,posted_at,likes,comments,shares\n"
            "twitter,zoe,Café crème time,2026-11-01,1,0,0\n"
        ).encode("latin-1")
    )
    report = ingest_file(workspace, path, fmt="canonical", pseudonymizer=pseudo)
    assert report.stored == 1
    with workspace.connect() as con:
        assert con.execute("SELECT text FROM posts").fetchall()[0][0] == "Café crème time"


def test_forget_removes_account_everywhere(
    tmp_path: Path, workspace: Workspace, pseudo: Pseudonymizer
) -> None:
    rows = [
        *GOOD,
        ["p10", "twitter", "carol", "hey @alice", "2026-11-04", "1", "1", "0", "0", "", "none"],
    ]
    ingest_file(
        workspace,
        write_csv(tmp_path / "posts.csv", [*rows, [*BAD[0][:2], "alice", *BAD[0][3:]]]),
        fmt="canonical",
        pseudonymizer=pseudo,
    )
    with workspace.connect() as con:
        con.execute(
            "INSERT INTO scores (post_id, model_version, scored_at) VALUES ('p1', 'm', now())"
        )
        counts = forget_account(con, "@alice", pseudo)
        remaining = con.execute("SELECT post_id, text FROM posts ORDER BY post_id").fetchall()
        assert con.execute("SELECT count(*) FROM scores").fetchall()[0][0] == 0
    assert counts["posts"] == 1 and counts["scores"] == 1
    assert counts["quarantine"] == 1 and counts["mentions_redacted"] == 1
    assert "p1" not in [r[0] for r in remaining]
    assert dict(remaining)["p10"] == "hey @[forgotten]"
