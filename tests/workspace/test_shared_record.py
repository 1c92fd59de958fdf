"""The shared operational record on a real PostgreSQL server (``BEACON_DATABASE_URL``).

Two workspaces in two folders stand in for two replicas' hosts; one PostgreSQL server on
loopback is their shared record. What one records reaches the record and the other's
workspace; a forget reaches both; rows wait in the outbox while the record is down and
arrive when it answers; a chart drawn on one replica is served by the other; a
conversation's hand-off and the per-minute cap on hand-offs hold across replicas.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import cast

import pytest

from actions.services import ChartStore
from analytics.support import HandoffSummary
from beacon.digest import SlackPoster
from beacon.support import ALREADY_OPEN, HELD, POSTED, Handoff, SupportDesk, hand_off
from foundation.workspace import (
    Pseudonymizer,
    SharedRecord,
    SharedRecordError,
    SharedRecordUnavailable,
    Workspace,
    utc_now,
)
from foundation.workspace._shared import PULL_INTERVAL_S, postgres_ddl
from tests.conftest import CLI_KEY, invoke_cli
from tests.servers import Server, postgres_server, psql_rows

PSEUDONYMIZER = Pseudonymizer(CLI_KEY.encode())


@pytest.fixture(scope="module")
def postgres() -> Iterator[Server]:
    with postgres_server("operations") as server:
        yield server


@pytest.fixture
def record(postgres: Server) -> Iterator[SharedRecord]:
    shared = SharedRecord(postgres.url)
    shared.check()  # its tables, so that the checks below can count from the start
    yield shared
    shared.close()


def _replica(folder: Path, record: SharedRecord) -> Workspace:
    workspace = Workspace(folder / "beacon.duckdb", pseudonymizer=PSEUDONYMIZER, shared=record)
    with workspace.connect():  # the file and its tables, as `beacon demo` would make them
        pass
    return workspace


def _until(condition: Callable[[], bool], limit_s: float = 20.0) -> bool:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def _local_count(workspace: Workspace, sql: str, params: list[object]) -> int:
    with workspace.connect(read_only=True) as con:
        row = con.execute(sql, params).fetchone()
    return int(row[0]) if row else 0


def _has_one(workspace: Workspace, sql: str, conversation: str) -> bool:
    return _local_count(workspace, sql, [conversation]) == 1


def _record_count(postgres: Server, sql: str) -> int:
    return int(psql_rows(postgres, sql)[0][0])


def _feedback_row(conversation: str) -> list[object]:
    """A staff thumbs-up (feedback's columns: id, time, conversation, audit id, verdict,
    correction, text, audience, target, post id, label)."""
    row_id, now = secrets.token_hex(8), utc_now()
    return [row_id, now, conversation, None, "up", None, "great, thanks", "staff", None, None, None]


def test_what_one_replica_records_reaches_the_record_and_the_other_replica(
    tmp_path: Path, record: SharedRecord, postgres: Server
) -> None:
    first, second = _replica(tmp_path / "a", record), _replica(tmp_path / "b", record)
    conversation = f"c-{secrets.token_hex(4)}"
    audit_id = first.record_audit(
        kind="sentiment_summary",
        inputs={"platform": "twitter"},
        output="62% positive",
        conversation_id=conversation,
    )
    first.keep("feedback", [_feedback_row(conversation)])
    first.keep("support_ratings", [[secrets.token_hex(8), utc_now(), conversation, 5]])
    in_record = f"SELECT count(*) FROM audit WHERE audit_id = '{audit_id}'"
    assert _until(lambda: _record_count(postgres, in_record) == 1)
    assert _until(
        lambda: (
            _record_count(
                postgres, f"SELECT count(*) FROM feedback WHERE conversation_id = '{conversation}'"
            )
            == 1
        )
    )
    # The other replica sees all three after its next connection pulls them in.
    for table in ("audit", "feedback", "support_ratings"):
        sql = f"SELECT count(*) FROM {table} WHERE conversation_id = ?"
        assert _until(partial(_has_one, second, sql, conversation)), table
    with second.connect(read_only=True) as con:
        output = con.execute("SELECT output FROM audit WHERE audit_id = ?", [audit_id]).fetchone()
    assert output == ("62% positive",)
    assert not first.outbox.has_rows()  # acknowledged, so nothing is sent twice


def test_a_pull_is_throttled_and_copies_each_row_once(tmp_path: Path, record: SharedRecord) -> None:
    first, second = _replica(tmp_path / "a", record), _replica(tmp_path / "b", record)
    conversation = f"c-{secrets.token_hex(4)}"
    first.keep("support_ratings", [[secrets.token_hex(8), utc_now(), conversation, 4]])
    assert _until(lambda: not first.outbox.has_rows() and not first.journal.has_rows())
    time.sleep(PULL_INTERVAL_S)
    assert second.pull(wait=5.0) >= 1
    assert second.pull(wait=5.0) == 0  # too soon: not even asked
    time.sleep(PULL_INTERVAL_S)
    second.pull(wait=5.0)  # the overlap reads recent rows again: they are ignored
    count = "SELECT count(*) FROM support_ratings WHERE conversation_id = ?"
    assert _local_count(second, count, [conversation]) == 1


def test_a_forget_on_one_replica_reaches_the_record_and_the_other(
    tmp_path: Path, record: SharedRecord, postgres: Server
) -> None:
    first, second = _replica(tmp_path / "a", record), _replica(tmp_path / "b", record)
    conversation = f"customer:{secrets.token_hex(4)}"
    first.record_audit(kind="handoff", inputs={}, output="x", conversation_id=conversation)
    by_conversation = "SELECT count(*) FROM audit WHERE conversation_id = ?"
    assert _until(lambda: _local_count(second, by_conversation, [conversation]) == 1)

    deleted = record.forget([conversation], [PSEUDONYMIZER.account(conversation)])

    assert deleted == 1
    in_record = f"SELECT count(*) FROM audit WHERE conversation_id = '{conversation}'"
    assert _record_count(postgres, in_record) == 0
    # Both replicas apply the tombstone on their next pull.
    assert _until(lambda: _local_count(second, by_conversation, [conversation]) == 0)
    assert _until(lambda: _local_count(first, by_conversation, [conversation]) == 0)


def test_beacon_forget_deletes_in_the_shared_record_too(
    cli_home: Path, postgres: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BEACON_DATABASE_URL", postgres.url)
    workspace = Workspace(cli_home / "beacon.duckdb")
    assert workspace.shared is not None
    with workspace.connect():
        pass
    conversation = f"customer:{secrets.token_hex(4)}"
    workspace.keep("support_ratings", [[secrets.token_hex(8), utc_now(), conversation, 2]])
    workspace.flush(wait=5.0)  # in the workspace and the outbox; not yet in the record

    try:
        code, out, err = invoke_cli("forget", "--conversation", conversation, "--json")
    finally:
        workspace.shared.close()

    assert code == 0, err
    assert '"shared_record": 1' in out, out  # the outbox went first, then the delete
    ratings = f"SELECT count(*) FROM support_ratings WHERE conversation_id = '{conversation}'"
    assert _record_count(postgres, ratings) == 0
    forgotten = f"SELECT count(*) FROM forgotten WHERE conversation_id = '{conversation}'"
    assert _record_count(postgres, forgotten) == 1


def test_rows_wait_in_the_outbox_while_the_record_is_down_and_arrive_later(
    tmp_path: Path, postgres: Server, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "beacon.duckdb"
    down = SharedRecord("postgresql://beacon:hunter2@127.0.0.1:1/operations")
    workspace = _replica(tmp_path, down)
    conversation = f"c-{secrets.token_hex(4)}"
    with caplog.at_level(logging.WARNING):
        workspace.keep("support_ratings", [[secrets.token_hex(8), utc_now(), conversation, 3]])
        workspace.flush(wait=5.0)
        assert workspace.push() == 0
    count = "SELECT count(*) FROM support_ratings WHERE conversation_id = ?"
    assert _local_count(workspace, count, [conversation]) == 1  # this host reads it meanwhile
    assert workspace.outbox.has_rows()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("rows wait in the outbox" in w for w in warnings), warnings
    assert not any("hunter2" in w for w in warnings), warnings

    # The same host, its record back (here: the right address), sends what waited.
    back = SharedRecord(postgres.url)
    again = Workspace(path, pseudonymizer=PSEUDONYMIZER, shared=back)
    try:
        assert again.push() == 1
    finally:
        back.close()
    assert not again.outbox.has_rows()
    in_record = f"SELECT count(*) FROM support_ratings WHERE conversation_id = '{conversation}'"
    assert _record_count(postgres, in_record) == 1


def test_a_turn_never_waits_on_a_record_that_is_down(tmp_path: Path) -> None:
    workspace = _replica(tmp_path, SharedRecord("postgresql://beacon@127.0.0.1:1/operations"))
    started = time.monotonic()
    for _ in range(5):  # the first pull fails fast (refused); the next ones are not tried
        with workspace.connect(read_only=True) as con:
            con.execute("SELECT 1").fetchall()
    assert workspace.pull(wait=0.0) == 0
    assert time.monotonic() - started < 10  # generous: one refused connection at most


def test_a_chart_drawn_on_one_replica_is_served_by_the_other(
    tmp_path: Path, record: SharedRecord
) -> None:
    first = ChartStore(tmp_path / "a", "http://first:5055", shared=record)
    second = ChartStore(tmp_path / "b", "http://second:5055", shared=record)
    path, url = first.new_chart()
    png = b"\x89PNG\r\n\x1a\n" + secrets.token_bytes(64)
    path.write_bytes(png)
    first.share_sent([{"text": "Sentiment ..."}, {"image": url}])

    served = second.path_of(path.name)

    assert served is not None and served.read_bytes() == png
    assert second.path_of("0" * 32 + ".png") is None  # unknown
    assert second.path_of("../etc/passwd") is None  # never a path


def test_purge_deletes_old_rows_in_the_record(
    tmp_path: Path, record: SharedRecord, postgres: Server
) -> None:
    workspace = _replica(tmp_path, record)
    conversation = f"c-{secrets.token_hex(4)}"
    old = utc_now() - timedelta(days=200)
    workspace.keep("support_ratings", [[secrets.token_hex(8), old, conversation, 1]])
    workspace.keep("support_ratings", [[secrets.token_hex(8), utc_now(), conversation, 5]])
    by_conversation = (
        f"SELECT count(*) FROM support_ratings WHERE conversation_id = '{conversation}'"
    )
    assert _until(lambda: _record_count(postgres, by_conversation) == 2)

    assert record.purge(utc_now() - timedelta(days=90)) >= 1

    assert psql_rows(postgres, by_conversation.replace("count(*)", "rating")) == [["5"]]


def test_a_url_that_is_not_postgresql_is_refused_in_one_line() -> None:
    with pytest.raises(SharedRecordError) as refused:
        SharedRecord("mysql://root:hunter2@db:3306/beacon")
    message = str(refused.value)
    assert message.startswith("BEACON_DATABASE_URL must be a postgresql:// URL (got mysql://…)")
    assert "hunter2" not in message and "\n" not in message


def test_an_unreachable_record_says_where_without_the_password() -> None:
    with pytest.raises(SharedRecordUnavailable) as failed:
        SharedRecord("postgresql://beacon:hunter2@127.0.0.1:1/operations").check()
    message = str(failed.value)
    assert message.startswith("the shared record at postgresql://127.0.0.1:1/operations did not")
    assert "hunter2" not in message and "\n" not in message


def test_the_record_has_the_workspace_columns_of_every_journal_table() -> None:
    ddl = postgres_ddl()
    for table in ("audit", "feedback", "support_ratings", "posts", "scores"):
        assert f"CREATE TABLE IF NOT EXISTS {table} (" in ddl
    assert "label TEXT" in ddl and "audience TEXT" in ddl  # feedback's v2 columns too
    assert "PRIMARY KEY (post_id, model_version)" in ddl


class _Slack:
    """A staff channel that keeps what was posted to it (only the references are read)."""

    def __init__(self) -> None:
        self.posts: list[str] = []

    def post_message(self, channel: str, text: str, blocks: object = None) -> None:
        self.posts.append(text)


def test_replicas_share_one_open_hand_off_per_conversation_and_one_cap(
    tmp_path: Path, record: SharedRecord, postgres: Server
) -> None:
    psql_rows(postgres, "DELETE FROM handoff_claims")  # the cap counts every conversation
    first = _replica(tmp_path / "a", record)
    second = _replica(tmp_path / "b", record)
    desks = [SupportDesk(max_per_minute=2), SupportDesk(max_per_minute=2)]
    slack = _Slack()
    summary = HandoffSummary("where is my order?", 1, "calm", 0.1, 0.1, ())

    def ask(replica: int, conversation: str) -> Handoff:
        return hand_off(
            (first, second)[replica],
            conversation_id=conversation,
            summary=summary,
            channel="support",
            poster=cast(SlackPoster, slack),  # only post_message is called
            desk=desks[replica],
        )

    opened = ask(0, "c-one")
    # Asked again on the other replica at once, before any row could be pulled there.
    again = ask(1, "c-one")
    assert (opened.status, again.status) == (POSTED, ALREADY_OPEN)
    assert again.reference == opened.reference and len(slack.posts) == 1
    # The cap holds across replicas: 2 a minute in all, not 2 on each.
    assert ask(1, "c-two").status == POSTED
    held = ask(0, "c-three")
    assert held.status == HELD and len(slack.posts) == 2
    assert psql_rows(
        postgres, "SELECT posted FROM handoff_claims WHERE conversation_id = 'c-three'"
    ) == [["f"]]
    record.forget(["c-one"], [])
    assert psql_rows(
        postgres, "SELECT count(*) FROM handoff_claims WHERE conversation_id = 'c-one'"
    ) == [["0"]]


def test_a_hand_off_slack_refused_is_posted_by_the_next_request_on_any_replica(
    record: SharedRecord, postgres: Server
) -> None:
    psql_rows(postgres, "DELETE FROM handoff_claims")
    one, other = SupportDesk(max_per_minute=5), SupportDesk(max_per_minute=5)
    reference, decision = one.claim_handoff("c-down", None, post=True, shared=record)
    assert decision == POSTED
    one.settle_handoff("c-down", delivered=False, shared=record)  # Slack did not answer
    again, retry = other.claim_handoff("c-down", None, post=True, shared=record)
    assert (again, retry) == (reference, POSTED)  # the same reference, posted now
    other.settle_handoff("c-down", delivered=True, shared=record)
    assert one.claim_handoff("c-down", None, post=True, shared=record) == (
        reference,
        ALREADY_OPEN,
    )


def test_while_the_record_is_down_each_replica_decides_alone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    down = SharedRecord("postgresql://beacon:hunter2@127.0.0.1:1/operations")
    desk = SupportDesk(max_per_minute=1)
    with caplog.at_level(logging.WARNING):
        _, first = desk.claim_handoff("c-1", None, post=True, shared=down)
        _, second = desk.claim_handoff("c-2", None, post=True, shared=down)
    assert (first, second) == (POSTED, HELD)  # this replica's own cap still holds
    assert "decided by this replica alone" in caplog.text and "hunter2" not in caplog.text
