"""Trust boundaries on the running stack: staff tokens, the action server's interface, body sizes."""

from __future__ import annotations

import sqlite3
import uuid

import httpx

from foundation.staff_tokens import StaffTokenStore
from tests.e2e.conftest import E2E, ScannedBotClient

STAFF_QUESTION = "what was the brief for the summer sprint campaign?"


def _ask(e2e: E2E, token: str | None) -> str:
    with ScannedBotClient(e2e.stack.config.bot_url, staff_token=token, timeout_s=120) as client:
        messages = client.send(f"sec-{uuid.uuid4().hex[:8]}", STAFF_QUESTION)
    return "\n".join(m.get("text") or "" for m in messages)


def test_a_per_person_staff_token_works_until_it_is_revoked(e2e: E2E) -> None:
    store = StaffTokenStore(e2e.stack.config.settings.staff_tokens_path)
    token, record = store.create("e2e-alice", days=1)
    assert "internal/" in _ask(e2e, token)  # staff: the internal brief
    store.revoke(record.token_id)
    assert "internal/" not in _ask(e2e, token)  # now a customer, no restart needed


def test_the_action_server_listens_on_loopback_only(e2e: E2E) -> None:
    assert e2e.stack.config.action_host == "127.0.0.1"
    assert e2e.stack.config.action_url.startswith("http://127.0.0.1:")


def test_an_oversized_body_is_refused_before_parsing(e2e: E2E) -> None:
    body = b'{"sender": "big", "message": "' + b"x" * 300_000 + b'"}'
    reply = httpx.post(
        f"{e2e.stack.config.bot_url}/webhooks/rest/webhook",
        content=body,
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert reply.status_code == 413
    # And the bot still answers.
    assert "public/" in e2e.ask("what is your return policy?", staff=False)


def test_the_tracker_store_keeps_no_customer_text_in_clear(e2e: E2E) -> None:
    sender = f"sec-{uuid.uuid4().hex[:8]}"
    mail = f"{sender}@example.com"
    with ScannedBotClient(e2e.stack.config.bot_url, timeout_s=120) as client:
        client.send(sender, f"hi, I'm {mail}, what is your return policy?")
        # A second turn reads the conversation back from the store.
        follow_up = client.send(sender, "how many days do I have to return shoes?")
    assert "public/" in "\n".join(m.get("text") or "" for m in follow_up)
    tracker_db = e2e.stack.config.settings.tracker_db
    with sqlite3.connect(tracker_db) as con:
        senders = {row[0] for row in con.execute("SELECT DISTINCT sender_id FROM events")}
    assert any(sender in stored for stored in senders)  # the conversation is there...
    assert mail.encode() not in tracker_db.read_bytes()  # ...but not its words
    assert b"return policy" not in tracker_db.read_bytes()
