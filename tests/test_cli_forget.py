"""`beacon forget --conversation/--account` and `beacon purge` through the real CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from foundation.settings import get_settings
from foundation.workspace import Pseudonymizer, Workspace, audit_row, ingest_rows, set_meta
from tests.conftest import CLI_KEY
from tests.conftest import invoke_cli as invoke
from tests.workspace.test_forget import make_tracker, support_post, tracker_senders

NOW = datetime.now(UTC).replace(tzinfo=None)
OLD = NOW - timedelta(days=120)


@pytest.fixture
def home(cli_home: Path) -> Path:
    return cli_home


def chats(home: Path) -> Workspace:
    """An old and a new customer chat: support posts, scores, audit, feedback, a rating,
    and their events in the tracker store that `beacon serve` gives Rasa."""
    pseudo = Pseudonymizer(CLI_KEY.encode())
    workspace = Workspace(home / "beacon.duckdb", pseudonymizer=pseudo)
    with workspace.connect() as con:
        for conversation, when in (("customer:old", OLD), ("customer:new", NOW)):
            post = support_post(pseudo, conversation, 1, when)
            con.execute(f"INSERT INTO posts VALUES ({', '.join('?' * len(post))})", post)
            con.execute(
                "INSERT INTO scores (post_id, model_version, scored_at) VALUES (?, 'm', ?)",
                [post[0], when],
            )
            con.execute(
                "INSERT INTO support_ratings VALUES (?, ?, ?, 2)",
                [f"r{conversation}", when, conversation],
            )
            row = audit_row(kind="handoff", inputs={}, output="x", conversation_id=conversation,
                            pseudonymizer=pseudo)  # fmt: skip
            row[1] = when
            con.execute(f"INSERT INTO audit VALUES ({', '.join('?' * len(row))})", row)
    make_tracker(home / "rasa-tracker.db", [("customer:old", OLD), ("customer:new", NOW)])
    return workspace


def table_counts(workspace: Workspace) -> dict[str, int]:
    tables = ("posts", "scores", "audit", "support_ratings")
    with workspace.connect(read_only=True) as con:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in tables}


def test_forget_a_conversation_everywhere_including_the_tracker(home: Path) -> None:
    workspace = chats(home)
    code, out, err = invoke("forget", "--conversation", "old", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["conversation"] == ["old", "customer:old"]
    assert result["removed"] == {
        "scores": 1, "posts": 1, "audit": 1, "feedback": 0, "support_ratings": 1,
        "pin_events": 0, "tracker_events": 1,
    }  # fmt: skip
    assert table_counts(workspace) == {"posts": 1, "scores": 1, "audit": 1, "support_ratings": 1}
    assert tracker_senders(home / "rasa-tracker.db") == ["customer:new"]


def test_forget_needs_one_of_account_or_conversation(home: Path) -> None:
    for args in ((), ("--account", "ann", "--conversation", "abc")):
        code, out, err = invoke("forget", *args)
        assert code == 2 and out == ""
        assert err.strip() == (
            "error: give either --account HANDLE or --conversation ID (one of them, not both)"
        )


def test_a_tracker_store_that_is_not_sqlite_is_said_in_one_line(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chats(home)
    monkeypatch.setenv("BEACON_TRACKER_URL", "postgresql://beacon:hunter2@db.internal/rasa")
    get_settings.cache_clear()
    code, out, err = invoke("forget", "--conversation", "customer:old", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["removed"]["posts"] == 1 and result["removed"]["tracker_events"] == 0
    assert result["notes"] == [
        "the tracker store (BEACON_TRACKER_URL) is postgresql, not SQLite: delete these "
        "events there (table events, by sender_id and timestamp)"
    ]
    assert "hunter2" not in out + err
    assert tracker_senders(home / "rasa-tracker.db") == ["customer:old", "customer:new"]


def test_purge_dry_run_then_purge_past_the_retention(home: Path) -> None:
    workspace = chats(home)
    code, out, err = invoke("purge", "--dry-run", "--json")
    assert code == 0, err
    planned = json.loads(out)
    assert planned["older_than_days"] == 90  # the default retention
    assert planned["removed"] == {
        "scores": 1, "posts": 1, "audit": 1, "feedback": 0, "support_ratings": 1,
        "tracker_events": 1,
    }  # fmt: skip
    assert table_counts(workspace) == {"posts": 2, "scores": 2, "audit": 2, "support_ratings": 2}
    code, out, err = invoke("purge")
    assert code == 0, err
    assert err.startswith("purged data older than 90 days (before ")
    assert table_counts(workspace) == {"posts": 1, "scores": 1, "audit": 1, "support_ratings": 1}
    assert tracker_senders(home / "rasa-tracker.db") == ["customer:new"]
    code, out, _ = invoke("purge", "--older-than", "1", "--json")
    assert json.loads(out)["removed"]["posts"] == 0  # the new chat is from now


def test_purge_with_retention_off_keeps_everything(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = chats(home)
    monkeypatch.setenv("BEACON_RETENTION_DAYS", "off")
    get_settings.cache_clear()
    code, _, err = invoke("purge")
    assert code == 0 and err.strip() == "retention is off (BEACON_RETENTION_DAYS=0): nothing purged"
    assert table_counts(workspace)["posts"] == 2
    monkeypatch.setenv("BEACON_RETENTION_DAYS", "ninety")
    get_settings.cache_clear()
    code, _, err = invoke("purge")
    assert code == 2 and err.startswith("error: BEACON_RETENTION_DAYS must be a whole number")


def test_forget_an_account_refreshes_the_similar_posts_index(home: Path) -> None:
    from knowledge import PostIndex

    pseudo = Pseudonymizer(CLI_KEY.encode())
    workspace = Workspace(home / "beacon.duckdb", pseudonymizer=pseudo)
    rows = [
        {"post_id": f"tw-{n}", "platform": "twitter", "account": account, "text": text,
         "posted_at": f"2026-11-{n:02d}T09:00:00+00:00", "likes": 10 + n, "comments": 1,
         "shares": 0, "followers": 1000}
        for n, (account, text) in enumerate(
            [("trailbird", "New trail shoes are in"), ("trailbird", "Sunrise run today"),
             ("trailbird_uk", "Rain jackets restocked"), ("trailbird_uk", "Race day tips")],
            start=1,
        )
    ]  # fmt: skip
    with workspace.connect() as con:
        ingest_rows(con, enumerate(rows, start=1), source="test", pseudonymizer=pseudo)
        set_meta(con, "own_accounts", [pseudo.account("trailbird"), pseudo.account("trailbird_uk")])
    index_dir = Path(PostIndex.update(workspace).index_dir)
    assert "tw-3" in PostIndex.open(index_dir)
    code, out, err = invoke("forget", "--account", "trailbird_uk", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["removed"]["posts"] == 2
    assert result["notes"] == ["similar-posts index refreshed: 2 post(s) removed from it"]
    index = PostIndex.open(index_dir)
    assert index.size == 2 and "tw-3" not in index and "tw-1" in index


def test_the_weekly_schedule_purges_even_when_the_digest_fails(home: Path) -> None:
    workspace = chats(home)  # no scored posts: the digest itself fails
    code, _, err = invoke("schedule", "--once-now", "--out-dir", str(home / "d"), "--no-model")
    assert code == 2 and "score the workspace first" in err
    assert "purged data older than 90 days" in err
    assert table_counts(workspace)["posts"] == 1
    assert tracker_senders(home / "rasa-tracker.db") == ["customer:new"]
