"""Rasa's SQL tracker store, chosen by a URL and encrypted at rest.

Runs under Rasa's Python 3.10 (``.venv-bot``); ``endpoints.yml`` names it as the
tracker store, with ``url: ${BEACON_TRACKER_URL}`` (``beacon serve`` fills it: the
SQLite file under the home folder by default, ``postgresql://…`` when set).

Every event a conversation stores holds free text: what the customer typed, the
slots filled from it, the bot's replies quoting it. Rasa's own SQL store writes each
event as clear JSON, so a copy of the database file was a copy of every chat. This
store encrypts each event's JSON (Fernet: AES-128-CBC with an HMAC-SHA256 tag) with
a key derived from ``BEACON_TRACKER_KEY``; the columns Rasa queries by (sender,
event type, timestamp, intent and action names) stay readable, so ``beacon forget``
and ``beacon purge`` delete by sender and age without the key. Rows written before
this store existed (clear JSON) are still read, and leave with the retention purge.

Starting it also makes Rasa check the action server's replies with one validator per
process (:mod:`bot._action_responses`), instead of re-checking its own reply schema on
every action call.

It also replaces Rasa's start-up loop, which retries an unreachable database every
5 s for ever, with a bounded wait and one clear error; and it refuses to start with
a key that cannot read the stored events, instead of failing on every turn later.
Replicas started at the same moment on an empty database all start: the one whose
``CREATE TABLE`` loses the race finds the tables the other made.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore, create_engine_kwargs
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException

from bot._action_responses import use_one_validator
from bot._startup import env_seconds, first_line, keep_trying

KEY_ENV = "BEACON_TRACKER_KEY"
CONNECT_TIMEOUT_ENV = "BEACON_TRACKER_CONNECT_TIMEOUT"
#: Seconds to keep trying a database that is still starting before giving up.
DEFAULT_CONNECT_TIMEOUT_S = 30.0
#: Shortest key accepted (the same rule as every Beacon secret).
MIN_KEY_CHARS = 32
#: Every Fernet token starts with its version byte 0x80, which base64 writes as "gAAAAA".
_TOKEN_PREFIX = "gAAAAA"
_KEY_INFO = b"beacon tracker store events v1"


class TrackerStoreError(RasaException):
    """The tracker store cannot start: a missing or wrong key, or an unreachable database."""


def event_cipher(secret: str) -> Fernet:
    """The cipher for stored events, derived from ``secret`` (at least 32 characters).

    Raises:
        TrackerStoreError: ``secret`` is too short to be a key.
    """
    if len(secret) < MIN_KEY_CHARS:
        raise TrackerStoreError(
            f"{KEY_ENV} must be at least {MIN_KEY_CHARS} characters (got {len(secret)}); "
            'make one with: python -c "import secrets; print(secrets.token_hex(32))"'
        )
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_INFO).derive(
        secret.encode()
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def _safe_url(url: sa.engine.URL) -> str:
    """The database URL without its password, for messages."""
    return url.render_as_string(hide_password=True)


class EncryptedSQLTrackerStore(SQLTrackerStore):
    """An SQL tracker store (SQLite or PostgreSQL) whose event data is encrypted at rest.

    Args:
        domain: The bot's domain (Rasa passes it).
        host: The database URL (``url`` in ``endpoints.yml``), e.g.
            ``sqlite:////srv/beacon/var/rasa-tracker.db`` or
            ``postgresql://beacon:…@db.internal:5432/rasa``.
        event_broker: Rasa's event broker, if any.
        key: The encryption secret; ``BEACON_TRACKER_KEY`` when None.
        connect_timeout_s: Longest wait for the database at start-up;
            ``BEACON_TRACKER_CONNECT_TIMEOUT`` or 30 s when None.
        **kwargs: Rasa's other tracker store options (``retrieve_events_from_previous_conversation_sessions``).

    Raises:
        TrackerStoreError: No URL or key, a key that cannot read the stored events,
            or a database that does not answer within ``connect_timeout_s``.
    """

    def __init__(
        self,
        domain: Domain | None = None,
        host: str | None = None,
        event_broker: Any = None,
        key: str | None = None,
        connect_timeout_s: float | None = None,
        **kwargs: Any,
    ) -> None:
        if not host:
            raise TrackerStoreError(
                "the tracker store has no database URL: set BEACON_TRACKER_URL "
                "(e.g. sqlite:///var/rasa-tracker.db or postgresql://user:pass@host/db)"
            )
        secret = key if key is not None else os.environ.get(KEY_ENV, "")
        if not secret:
            raise TrackerStoreError(
                f"{KEY_ENV} is not set: the tracker store encrypts every conversation and "
                "needs a key (`beacon serve` passes one; see .env.example)"
            )
        self._cipher = event_cipher(secret)
        url = sa.engine.make_url(host)
        self.engine = sa.create_engine(url, **_engine_kwargs(url))
        if connect_timeout_s is None:
            connect_timeout_s = env_seconds(CONNECT_TIMEOUT_ENV, DEFAULT_CONNECT_TIMEOUT_S)
        self._create_tables(url, connect_timeout_s)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        self._check_key(url)
        # The SQL store's own __init__ is skipped on purpose (it loops for ever on an
        # unreachable database); the base store's sets the domain and options.
        TrackerStore.__init__(self, domain, event_broker, **kwargs)
        # Every Beacon Rasa server starts this store: the process-wide set-up goes here.
        use_one_validator()

    # -- start-up ------------------------------------------------------------
    def _create_tables(self, url: sa.engine.URL, timeout_s: float) -> None:
        """Create the events table, retrying a database that is still starting."""
        try:
            keep_trying(
                self._create_all,
                timeout_s=timeout_s,
                retry_on=(sa.exc.OperationalError, sa.exc.InterfaceError),
                what=_safe_url(url),
                pause_s=2.0,
            )
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as error:
            raise TrackerStoreError(
                f"cannot reach the tracker store at {_safe_url(url)} after {timeout_s:g} s "
                f"({first_line(error)}); check BEACON_TRACKER_URL and that the database "
                "server is running"
            ) from None

    def _create_all(self) -> None:
        """Create the tables that are missing. Replicas started together on an empty
        database race to create them: PostgreSQL then fails the slower ``CREATE TABLE``
        (the table, or its row type, already exists), so that replica looks again and
        finds the tables the other one made."""
        try:
            self.Base.metadata.create_all(self.engine)
        except (sa.exc.IntegrityError, sa.exc.ProgrammingError) as error:
            if not _created_meanwhile(error):
                raise
            self.Base.metadata.create_all(self.engine)

    def _check_key(self, url: sa.engine.URL) -> None:
        """Refuse a key that cannot read the newest encrypted event."""
        with self.session_scope() as session:
            newest = (
                session.query(self.SQLEvent.data)
                .filter(self.SQLEvent.data.like(f"{_TOKEN_PREFIX}%"))
                .order_by(self.SQLEvent.id.desc())
                .first()
            )
        if newest is None:
            return
        try:
            self._cipher.decrypt(newest[0].encode())
        except InvalidToken:
            raise TrackerStoreError(
                f"{KEY_ENV} cannot read the conversations stored at {_safe_url(url)}: they "
                "were written with another key. Restore that key, or point "
                "BEACON_TRACKER_URL at a new database"
            ) from None

    # -- events ----------------------------------------------------------------
    def _seal(self, data: dict[str, Any]) -> str:
        return self._cipher.encrypt(json.dumps(data).encode()).decode()

    def _open(self, stored: str) -> dict[str, Any]:
        if stored.startswith("{"):  # written before encryption: clear JSON
            return json.loads(stored)
        return json.loads(self._cipher.decrypt(stored.encode()))

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the events of ``tracker`` that are not stored yet, encrypted."""
        await self.stream_events(tracker)
        with self.session_scope() as session:
            for event in self._additional_events(session, tracker):
                data = event.as_dict()
                session.add(
                    self.SQLEvent(
                        sender_id=tracker.sender_id,
                        type_name=event.type_name,
                        timestamp=data.get("timestamp"),
                        intent_name=data.get("parse_data", {}).get("intent", {}).get("name"),
                        action_name=data.get("name"),
                        data=self._seal(data),
                    )
                )
            session.commit()

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        with self.session_scope() as session:
            rows = self._event_query(
                session, sender_id, fetch_events_from_all_sessions=fetch_events_from_all_sessions
            ).all()
            events = [self._open(row.data) for row in rows]
        if not self.domain or not events:
            return None
        return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)


def _created_meanwhile(error: sa.exc.DBAPIError) -> bool:
    """``error`` is another server's ``CREATE TABLE`` of the same table winning the race."""
    text = str(error.orig)
    return "already exists" in text or "pg_type_typname_nsp_index" in text


def _engine_kwargs(url: sa.engine.URL) -> dict[str, Any]:
    """Rasa's engine options, plus a connect timeout so a dead server fails fast."""
    kwargs = create_engine_kwargs(url)
    connect_args = dict(kwargs.get("connect_args", {}))
    if url.get_backend_name() == "postgresql":
        connect_args.setdefault("connect_timeout", 5)
    elif url.get_backend_name() == "sqlite":
        connect_args.setdefault("timeout", 10)  # seconds to wait for a writer's lock
    kwargs["connect_args"] = connect_args
    return kwargs
