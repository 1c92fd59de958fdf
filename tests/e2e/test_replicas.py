"""Two Beacon replicas serving the same conversations: PostgreSQL and Redis shared.

Two Rasa servers and two action servers, each pair with its own ``BEACON_HOME`` and a
copy of one demo workspace, share a real PostgreSQL (the tracker store in one database,
the operational record in another) and a real Redis (the lock store, the customer
limits, the Slack replay cache), all on loopback. One conversation alternates between
them: its slots survive, its turns stay in order, a "why?" on one replica finds the
answer the other gave, audit and feedback from both land in PostgreSQL, a chart drawn
by one is served by the other, a Slack retry sent to the other replica is not answered
twice, and a customer's limit holds across both.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pytest

from beacon.stack import Stack, StackConfig, ensure_model, free_port
from foundation.settings import Settings, get_settings
from tests.conftest import DemoWorkspace, copy_demo
from tests.e2e.conftest import E2E, SlackE2E
from tests.e2e.test_slack import MARKETER, TEAM, SlackDriver, _channel, _ts
from tests.servers import (
    Server,
    postgres_server,
    psql_rows,
    redis_server,
    skip_without_postgres,
    skip_without_redis,
)

pytestmark = pytest.mark.e2e


@dataclass
class Replicas:
    first: E2E
    second: E2E
    postgres: Server
    #: The operational record (BEACON_DATABASE_URL), a second database on the server.
    record: Server


@pytest.fixture(scope="module")
def replicas(
    tmp_path_factory: pytest.TempPathFactory, slack: SlackE2E, today_demo: DemoWorkspace
) -> Iterator[Replicas]:
    skip_without_postgres()
    skip_without_redis()
    model, _ = ensure_model(get_settings())
    root = tmp_path_factory.mktemp("replicas")
    staff_token = secrets.token_hex(16)
    slack.fake.add_user(MARKETER, TEAM)
    with (
        postgres_server("rasa") as postgres,
        redis_server(root / "redis") as redis,
        pytest.MonkeyPatch.context() as env,
    ):
        # What every replica must share: the key of the stored conversations and Redis.
        env.setenv("BEACON_TRACKER_KEY", secrets.token_hex(32))
        env.setenv("BEACON_REDIS_URL", redis.url.replace("/0", "/1"))
        # A burst of 2 messages per customer session, to see it hold across replicas.
        env.setenv("BEACON_CUSTOMER_MESSAGES_PER_MINUTE", "4")
        psql_rows(postgres, "CREATE DATABASE operations")
        record = Server(postgres.url.rsplit("/", 1)[0] + "/operations", postgres.port)
        first_home, second_home = root / "first", root / "second"
        demo = copy_demo(today_demo, first_home)
        copy_demo(today_demo, second_home)
        stacks: list[Stack] = []
        try:
            for home in (first_home, second_home):
                settings = Settings(
                    home=home,
                    workspace_path=home / "beacon.duckdb",
                    data_dir=None,
                    staff_token=staff_token,
                    action_timeout_s=15.0,
                    tracker_url=postgres.url,
                    lock_store_url=redis.url,
                    database_url=record.url,
                )
                config = StackConfig(
                    settings=settings,
                    bot_port=free_port(),
                    action_port=free_port(),
                    log_dir=home / "logs",
                )
                stacks.append(Stack(config, model))
            # Side by side, as replicas are deployed: both Rasa servers race to create the
            # tracker tables in the empty database (bot/tracker_store.py lets either win).
            with ThreadPoolExecutor(len(stacks)) as pool:
                list(pool.map(Stack.start, stacks))
            pair = [E2E(stack=stack, demo=demo, staff_token=staff_token) for stack in stacks]
            yield Replicas(pair[0], pair[1], postgres, record)
        finally:
            for stack in stacks:
                stack.stop()


def test_a_conversation_alternating_between_replicas_keeps_its_context(
    replicas: Replicas,
) -> None:
    sender = f"rep-{uuid.uuid4().hex[:8]}"
    first = replicas.first.ask("how is sentiment on twitter this month?", sender)
    assert "Twitter/X" in first and "% positive" in first, first
    # The second replica reads the conversation (and its last answer) from PostgreSQL.
    second = replicas.second.ask("and on instagram?", sender)
    assert "Instagram" in second and "% positive" in second, second
    third = replicas.first.ask("and what about facebook?", sender)
    assert "Facebook" in third and "% positive" in third, third


def _eventually(rows: Callable[[], list[list[str]]], limit_s: float = 20.0) -> list[list[str]]:
    """``rows()`` once it returns some (a replica sends its records within a second)."""
    deadline = time.monotonic() + limit_s
    while True:
        found = rows()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_both_replicas_record_into_postgresql_and_read_each_others_records(
    replicas: Replicas,
) -> None:
    sender = f"rep-{uuid.uuid4().hex[:8]}"
    with replicas.first.client() as client:
        messages = client.send(sender, "how is sentiment on twitter this month?")
    assert any("% positive" in (m.get("text") or "") for m in messages), messages
    audit = _eventually(
        lambda: psql_rows(
            replicas.record,
            f"SELECT audit_id, kind FROM audit WHERE conversation_id = '{sender}'",
        )
    )
    assert [kind for _, kind in audit] == ["sentiment_summary"], audit
    time.sleep(1.0)  # a replica pulls at most every half second
    # The second replica finds the first one's answer (its audit row) to attach the
    # correction to, and records the correction into PostgreSQL too.
    correction = replicas.second.ask("that's wrong, it should be negative", sender)
    assert "correction" in correction.lower(), correction
    feedback = _eventually(
        lambda: psql_rows(
            replicas.record,
            f"SELECT verdict, audit_id FROM feedback WHERE conversation_id = '{sender}'",
        )
    )
    assert feedback == [["correction", audit[0][0]]], (feedback, audit)
    # Audit rows from both replicas: the first one's answer, the second one's feedback.
    kinds = _eventually(
        lambda: [
            row
            for row in psql_rows(
                replicas.record,
                f"SELECT kind FROM audit WHERE conversation_id = '{sender}' ORDER BY created_at",
            )
            if len(row) and row[0] == "feedback"
        ]
    )
    assert kinds == [["feedback"]], kinds
    # A chart the first replica drew is served by the second.
    (chart_url,) = [m["image"] for m in messages if m.get("image")]
    name = chart_url.rsplit("/", 1)[-1]
    served = httpx.get(f"{replicas.second.stack.config.action_url}/charts/{name}", timeout=30)
    assert served.status_code == 200 and served.content.startswith(b"\x89PNG"), served


def test_turns_sent_to_both_replicas_at_once_are_handled_one_after_the_other(
    replicas: Replicas,
) -> None:
    sender = f"rep-{uuid.uuid4().hex[:8]}"
    questions = [
        (replicas.first, "how is sentiment on facebook this month?"),
        (replicas.second, "anything unusual on twitter in the last 6 weeks?"),
        (replicas.first, "thanks!"),
        (replicas.second, "how is sentiment on instagram this month?"),
    ]
    with ThreadPoolExecutor(max_workers=len(questions)) as pool:
        replies = list(pool.map(lambda q: q[0].ask(q[1], sender), questions))
    assert all(reply.strip() for reply in replies), replies  # every turn answered
    rows = psql_rows(
        replicas.postgres,
        f"SELECT type_name, action_name FROM events WHERE sender_id = '{sender}' ORDER BY id",
    )
    kinds = [type_name for type_name, _ in rows]
    assert kinds.count("user") == len(questions), kinds
    # Under the shared lock each message is handled to the end (back to listening)
    # before the next one starts: never two user messages without a listen between.
    since_user: list[str] = []
    for type_name, action_name in rows:
        if type_name == "user":
            assert not since_user or "action_listen" in since_user, (
                "two turns of one conversation interleaved across the replicas"
            )
            since_user = []
        elif type_name == "action":
            since_user.append(action_name)


def test_a_customer_limit_holds_across_replicas(replicas: Replicas) -> None:
    session = f"rep-{uuid.uuid4().hex[:8]}"

    def say(replica: E2E) -> int:
        reply = httpx.post(
            f"{replica.stack.config.bot_url}/webhooks/rest/webhook",
            json={"sender": session, "message": "hello there"},
            timeout=60,
        )
        return reply.status_code

    # A burst of 2 per session: one on each replica, then the third is refused.
    assert [say(replicas.first), say(replicas.second), say(replicas.first)] == [200, 200, 429]


def test_a_slack_retry_sent_to_the_other_replica_is_not_answered_twice(
    replicas: Replicas, slack: SlackE2E
) -> None:
    first, second = SlackDriver(replicas.first, slack), SlackDriver(replicas.second, slack)
    channel, ts = _channel(), _ts()
    body = first.event_body("how is sentiment on instagram last week?", channel, ts)
    assert first.send_event(body).status_code == 200
    retry = second.send_event(body, headers={"X-Slack-Retry-Num": "1"})
    assert retry.status_code == 200 and retry.headers.get("X-Slack-No-Retry") == "1"
    first.wait(channel, ts)
    # The retry had every chance to answer once a later message in the channel is answered.
    later = _ts()
    second.send_event(second.event_body("thanks", channel, later))
    second.wait(channel, later)
    assert len(first.answers(channel, ts)) == 1
