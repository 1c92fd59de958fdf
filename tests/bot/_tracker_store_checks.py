"""Checks of bot/tracker_store.py under Rasa's Python: run by test_tracker_store.py.

A real SQLite file, real Rasa events and trackers, and the project's own
``endpoints.yml`` read the way ``rasa run`` reads it. Run as a script
(``.venv-bot/bin/python tests/bot/_tracker_store_checks.py``) with the repository
root on ``PYTHONPATH``; prints ``all checks passed`` or fails on an assert.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any, TypeVar

KEY = "k" * 40
_E = TypeVar("_E", bound=Exception)
CARD = "4111 1111 1111 1111"
MAIL = "ann.example@example.com"
DOMAIN_YAML = """
version: "3.1"
intents: [greet, ask_knowledge]
slots:
  draft_text:
    type: text
    mappings: [{type: custom}]
responses:
  utter_greet: [{text: hi}]
"""


def _domain():  # Rasa types are imported late, like every Rasa import here
    from rasa.shared.core.domain import Domain

    return Domain.from_yaml(DOMAIN_YAML)


def _tracker(sender: str):
    from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    domain = _domain()
    tracker = DialogueStateTracker(sender, domain.slots)
    text = f"my card is {CARD}, mail me at {MAIL}"
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(UserUttered(text, {"name": "ask_knowledge", "confidence": 0.9}))
    tracker.update(SlotSet("draft_text", text))
    tracker.update(BotUttered(f"You said {MAIL}"))
    return tracker


def _store(url: str, key: str = KEY, connect_timeout_s: float | None = None):
    from bot.tracker_store import EncryptedSQLTrackerStore

    return EncryptedSQLTrackerStore(
        domain=_domain(), host=url, key=key, connect_timeout_s=connect_timeout_s
    )


async def check_events_are_encrypted_and_read_back(folder: Path) -> None:
    db = folder / "tracker.db"
    store = _store(f"sqlite:///{db}")
    tracker = _tracker("customer:abc")
    await store.save(tracker)
    raw = db.read_bytes()
    for secret in (CARD.encode(), MAIL.encode(), b"ask_knowledge is", b"You said"):
        assert secret not in raw, secret
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT sender_id, type_name, intent_name, data FROM events").fetchall()
    # What forget/purge and Rasa's queries need stays readable; the data does not.
    assert [r[1] for r in rows] == ["action", "user", "slot", "bot"], rows
    assert rows[1][2] == "ask_knowledge" and rows[0][0] == "customer:abc"
    assert all(r[3].startswith("gAAAAA") for r in rows), rows
    again = await _store(f"sqlite:///{db}").retrieve("customer:abc")
    assert again is not None
    assert [e.as_dict() for e in again.events] == [e.as_dict() for e in tracker.events]
    assert again.get_slot("draft_text") == f"my card is {CARD}, mail me at {MAIL}"
    # Saving again adds only the new events (Rasa counts the stored ones).
    from rasa.shared.core.events import UserUttered

    again.update(UserUttered("thanks", {"name": "greet", "confidence": 1.0}))
    await store.save(again)
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 5


async def check_rows_from_before_encryption_are_read(folder: Path) -> None:
    db = folder / "legacy.db"
    store = _store(f"sqlite:///{db}")
    old = {"event": "user", "timestamp": 1.0, "text": "hello from before", "parse_data": {}}
    with sqlite3.connect(db) as con:
        con.execute(
            "INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data)"
            " VALUES ('customer:old', 'user', 1.0, NULL, NULL, ?)",
            (json.dumps(old),),
        )
    tracker = await store.retrieve("customer:old")
    assert tracker is not None and tracker.latest_message.text == "hello from before"
    assert await store.retrieve("customer:nobody") is None


async def check_a_wrong_missing_or_short_key_is_refused(folder: Path) -> None:
    from bot.tracker_store import KEY_ENV, TrackerStoreError

    db = folder / "keyed.db"
    await _store(f"sqlite:///{db}").save(_tracker("customer:k"))
    for key, expected in (
        ("z" * 40, "written with another key"),
        ("short", "at least 32 characters (got 5)"),
    ):
        try:
            _store(f"sqlite:///{db}", key=key)
        except TrackerStoreError as error:
            assert expected in str(error), error
        else:
            raise AssertionError(f"key {key!r} was accepted")
    os.environ.pop(KEY_ENV, None)
    try:
        from bot.tracker_store import EncryptedSQLTrackerStore

        EncryptedSQLTrackerStore(domain=_domain(), host=f"sqlite:///{db}")
    except TrackerStoreError as error:
        assert f"{KEY_ENV} is not set" in str(error), error
    else:
        raise AssertionError("a store without a key started")


def check_an_unreachable_database_fails_fast_without_the_password() -> None:
    from bot.tracker_store import TrackerStoreError

    started = time.monotonic()
    try:
        # Port 1 on loopback: nothing listens there, so the connection is refused.
        _store("postgresql://beacon:hunter2@127.0.0.1:1/rasa", connect_timeout_s=0)
    except TrackerStoreError as error:
        message = str(error)
        assert message.startswith("cannot reach the tracker store at postgresql://beacon:***@"), (
            message
        )
        assert "hunter2" not in message and "\n" not in message, message
    else:
        raise AssertionError("an unreachable database was accepted")
    assert time.monotonic() - started < 60


async def check_endpoints_yml_chooses_this_store(folder: Path) -> None:
    from rasa.core.tracker_store import create_tracker_store
    from rasa.core.utils import read_endpoints_from_path

    from bot.tracker_store import EncryptedSQLTrackerStore

    db = folder / "from-endpoints.db"
    os.environ.update(
        {
            "BEACON_TRACKER_URL": f"sqlite:///{db}",
            "BEACON_TRACKER_KEY": KEY,
            "BEACON_LOCK_STORE_URL": "",
            "BEACON_ACTION_URL": "http://127.0.0.1:5055/webhook",
            "BEACON_ACTION_TOKEN": "t" * 32,
        }
    )
    endpoints = read_endpoints_from_path(Path(__file__).resolve().parents[2] / "endpoints.yml")
    store = create_tracker_store(endpoints.tracker_store, _domain())
    # Rasa falls back to an in-memory store when a custom class fails to import.
    assert isinstance(store, EncryptedSQLTrackerStore), type(store)
    await store.save(_tracker("customer:e"))
    assert MAIL.encode() not in db.read_bytes()


def check_replicas_starting_together_on_an_empty_database(url: str) -> None:
    """Replicas started at the same moment on a database with no tables yet all start:
    one creates the tables, and another's CREATE TABLE racing it is not an error."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import sqlalchemy as sa

    replicas = 4
    together = threading.Barrier(replicas)
    domain = _domain()

    def start(_: int) -> Any:
        from bot.tracker_store import EncryptedSQLTrackerStore

        together.wait()
        return EncryptedSQLTrackerStore(domain=domain, host=url, key=KEY)

    with ThreadPoolExecutor(replicas) as pool:
        started = list(pool.map(start, range(replicas)))
    assert len(started) == replicas
    with sa.create_engine(url).connect() as con:
        tables = con.execute(
            sa.text("SELECT count(*) FROM pg_tables WHERE tablename = 'events'")
        ).scalar()
    assert tables == 1, tables


async def check_postgresql_shared_by_two_replicas(url: str) -> None:
    """Two stores on one PostgreSQL database, as two Rasa replicas: one conversation."""
    from rasa.shared.core.events import UserUttered

    first, second = _store(url), _store(url)
    tracker = _tracker("customer:pg")
    await first.save(tracker)
    seen = await second.retrieve("customer:pg")
    assert seen is not None
    assert [e.as_dict() for e in seen.events] == [e.as_dict() for e in tracker.events]
    seen.update(UserUttered("and the second replica answers", {"name": "greet", "confidence": 1}))
    await second.save(seen)
    again = await first.retrieve("customer:pg")
    assert again is not None and again.latest_message.text == "and the second replica answers"
    import sqlalchemy as sa

    with sa.create_engine(url).connect() as con:
        rows = [row[0] for row in con.execute(sa.text("SELECT data FROM events"))]
    assert len(rows) == 5 and all(row.startswith("gAAAAA") for row in rows)
    assert not any(MAIL in row or CARD in row for row in rows)


def check_action_replies_are_validated_as_rasa_does_with_one_validator(folder: Path) -> None:
    """Starting the store makes Rasa check action replies with a validator built once."""
    from unittest import mock

    import jsonschema
    from rasa.core.actions.action import RemoteAction

    _store(f"sqlite:///{folder / 'validator.db'}")
    action = RemoteAction("action_x", None)
    schema = action.action_response_format_spec()
    good = {"events": [{"event": "slot", "name": "x", "value": 1}], "responses": [{"text": "hi"}]}
    bad = {"events": [{"event": "slot", "name": 3}], "responses": "hi"}
    rasa_error = _raised(jsonschema.ValidationError, jsonschema.validate, bad, schema)
    meta = jsonschema.validators.validator_for(schema)
    with mock.patch.object(meta, "check_schema", wraps=meta.check_schema) as schema_checks:
        for _ in range(5):
            assert action._validate_action_result(good) is True
        our_error = _raised(jsonschema.ValidationError, action._validate_action_result, bad)
    # Rasa's own check validates the schema on every reply; this one at most once.
    assert schema_checks.call_count <= 1, schema_checks.call_count
    assert our_error.message.startswith(rasa_error.message + ". Failed to validate Action")
    assert list(our_error.path) == list(rasa_error.path)


def _raised(kind: type[_E], call: Any, *args: Any) -> _E:
    """The ``kind`` error that ``call(*args)`` raises (fails when it raises none)."""
    try:
        call(*args)
    except kind as error:
        return error
    raise AssertionError(f"{call} raised no {kind.__name__}")


def main() -> None:
    postgres_url = os.environ.get("TEST_POSTGRES_URL")
    if postgres_url:  # the PostgreSQL test runs only these, on a new database
        check_replicas_starting_together_on_an_empty_database(postgres_url)
        asyncio.run(check_postgresql_shared_by_two_replicas(postgres_url))
        print("all checks passed")
        return
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        asyncio.run(check_events_are_encrypted_and_read_back(folder))
        asyncio.run(check_rows_from_before_encryption_are_read(folder))
        asyncio.run(check_a_wrong_missing_or_short_key_is_refused(folder))
        check_an_unreachable_database_fails_fast_without_the_password()
        asyncio.run(check_endpoints_yml_chooses_this_store(folder))
        check_action_replies_are_validated_as_rasa_does_with_one_validator(folder)
    print("all checks passed")


if __name__ == "__main__":
    main()
