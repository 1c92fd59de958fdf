"""The shared operational record: PostgreSQL behind several replicas (``BEACON_DATABASE_URL``).

One host keeps what its servers record (audit rows, feedback and corrections, customers'
support messages and their scores, hand-offs, ratings, posted-digest markers) in its own
DuckDB workspace, through the journal (:mod:`foundation.workspace._journal`). With
several replicas, each has its own workspace, so what one records the others must see:
the hand-off a customer already has, the answer a "why?" on the other replica points
at, the week a digest was already posted. With ``BEACON_DATABASE_URL`` set:

- **out**: rows written to the local workspace are also put in an outbox
  (``<workspace>.outbox/``, the journal's format) and sent to PostgreSQL by the same
  writer thread, ``INSERT … ON CONFLICT DO NOTHING``. While PostgreSQL is down they
  wait there; nothing is lost and no turn waits for it.
- **in**: before a workspace connection is handed out, rows other replicas recorded
  since the last look are copied in (``INSERT OR IGNORE``; at most every
  :data:`PULL_INTERVAL_S`, never waiting for the lock), so every read of the
  workspace (the same SQL as on one host) sees them.
- **forget**: ``beacon forget --conversation`` deletes the conversation in PostgreSQL
  too and leaves a tombstone, which every replica applies to its own workspace when it
  next looks. ``beacon purge`` deletes by age in PostgreSQL and in the workspace it
  runs on (run it on every host, as the systemd timer does).
- **charts**: chart images are stored here too, so any replica serves any chart.
- **hand-offs**: whether a conversation's hand-off is already open, and whether the
  per-minute cap on hand-off posts is reached, is decided here for all replicas at once
  (:meth:`SharedRecord.claim_handoff`).

PostgreSQL holds the operational tables only (``posts`` and ``scores`` there are the
customers' support messages); the analytics data stays in each host's DuckDB, which
batch jobs refresh. Connections time out (:data:`CONNECT_TIMEOUT_S`, statements
:data:`STATEMENT_TIMEOUT_MS`); the password never appears in a message.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from foundation.exceptions import WorkspaceError
from foundation.workspace._journal import JOURNAL_TABLES
from foundation.workspace._schema import DDL, table_columns

if TYPE_CHECKING:
    import psycopg

logger = logging.getLogger(__name__)

#: Seconds to wait for PostgreSQL to accept a connection.
CONNECT_TIMEOUT_S = 5
#: Longest statement; also bounds how long a transaction can stay uncommitted.
STATEMENT_TIMEOUT_MS = 5000
#: A pull reads again the rows recorded this long before the previous pull's end: a
#: row's ``recorded_at`` is taken when its INSERT runs, and its transaction may commit
#: up to a statement timeout later.
PULL_OVERLAP = timedelta(seconds=10)
#: Most rows one pull copies per table; the next pull goes on from there.
PULL_LIMIT = 20_000
#: Least time between two pulls of one workspace in one process.
PULL_INTERVAL_S = 0.5
#: Connections kept open between uses (threads beyond this open their own for a while).
MAX_IDLE_CONNECTIONS = 4
#: Least time between two warnings that the shared record is unreachable.
WARN_INTERVAL_S = 60.0

_TYPES = {"VARCHAR": "TEXT", "DOUBLE": "DOUBLE PRECISION"}


class SharedRecordError(WorkspaceError):
    """``BEACON_DATABASE_URL`` is not a PostgreSQL URL."""


class SharedRecordUnavailable(WorkspaceError):
    """PostgreSQL did not answer or refused: rows wait in the outbox meanwhile."""


def safe_url(url: str) -> str:
    """``url`` without user or password: ``postgresql://host:port/db``."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def _primary_key(table: str) -> list[str]:
    block = re.search(rf"CREATE TABLE IF NOT EXISTS {table} \((.*?)\n\);", DDL, re.DOTALL)
    text = block.group(1) if block else ""
    composite = re.search(r"PRIMARY KEY \(([^)]*)\)", text)
    if composite:
        return [name.strip() for name in composite.group(1).split(",")]
    return [line.split()[0] for line in text.splitlines() if "PRIMARY KEY" in line]


def postgres_ddl() -> str:
    """The shared record's tables: the journal tables' columns, a ``recorded_at`` to pull
    by, and the tombstones and charts."""
    statements = []
    for table in JOURNAL_TABLES:
        columns = [f"{name} {_TYPES.get(kind, kind)}" for name, kind in table_columns(table)]
        columns.append("recorded_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()")
        columns.append(f"PRIMARY KEY ({', '.join(_primary_key(table))})")
        statements.append(f"CREATE TABLE IF NOT EXISTS {table} ({', '.join(columns)})")
        statements.append(
            f"CREATE INDEX IF NOT EXISTS {table}_recorded_at ON {table} (recorded_at)"
        )
    statements += [
        "CREATE TABLE IF NOT EXISTS forgotten (conversation_id TEXT NOT NULL, "
        "recorded_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp())",
        "CREATE INDEX IF NOT EXISTS forgotten_recorded_at ON forgotten (recorded_at)",
        "CREATE TABLE IF NOT EXISTS charts (name TEXT PRIMARY KEY, png BYTEA NOT NULL, "
        "created_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp())",
        # Each conversation's open hand-off, decided here so that replicas share the
        # one-per-conversation rule and the per-minute cap (beacon/support.py).
        "CREATE TABLE IF NOT EXISTS handoff_claims (conversation_id TEXT PRIMARY KEY, "
        "reference TEXT NOT NULL, posted BOOLEAN NOT NULL, since TIMESTAMPTZ NOT NULL, "
        "posted_at TIMESTAMPTZ)",
        "CREATE INDEX IF NOT EXISTS handoff_claims_posted_at ON handoff_claims (posted_at)",
    ]
    return ";\n".join(statements)


class Pulled:
    """What one pull brought: rows by table, forgotten conversations, and the next cursor."""

    def __init__(
        self, rows: dict[str, list[tuple[Any, ...]]], forgotten: list[str], cursor: datetime
    ) -> None:
        self.rows = rows
        self.forgotten = forgotten
        self.cursor = cursor


class SharedRecord:
    """The PostgreSQL database several replicas record into.

    Connections are pooled (at most :data:`MAX_IDLE_CONNECTIONS` kept idle), opened on
    demand and dropped after a failure; the tables are created on the first connection
    of the process.

    Args:
        url: ``postgresql://user:password@host:port/db`` (``postgres://`` too).

    Raises:
        SharedRecordError: ``url`` is not a PostgreSQL URL.
    """

    def __init__(self, url: str) -> None:
        scheme = url.split("://", 1)[0] if "://" in url else ""
        if scheme not in ("postgresql", "postgres"):
            raise SharedRecordError(
                "BEACON_DATABASE_URL must be a postgresql:// URL "
                f"(got {scheme + '://…' if scheme else 'no scheme'}); leave it unset to keep "
                "the operational record in the local workspace only"
            )
        self.url = url
        self.where = safe_url(url)
        self._idle: list[psycopg.Connection[Any]] = []
        self._pool_lock = threading.Lock()
        self._closed = False
        self._schema_ready = False
        self._schema_lock = threading.Lock()
        self._last_warning = 0.0

    # -- connections ---------------------------------------------------------------

    def _open(self) -> psycopg.Connection[Any]:
        import psycopg

        try:
            con = psycopg.connect(
                self.url,
                connect_timeout=CONNECT_TIMEOUT_S,
                options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
            )
        except psycopg.Error as error:
            raise self._unavailable(error) from None
        if not self._schema_ready:
            with self._schema_lock:
                if not self._schema_ready:
                    try:
                        self._create_tables(con)
                    except BaseException:
                        con.close()
                        raise
                    self._schema_ready = True
        return con

    def _create_tables(self, con: psycopg.Connection[Any]) -> None:
        import psycopg

        try:
            with con.transaction():
                # Two processes creating the same tables at once would conflict.
                con.execute("SELECT pg_advisory_xact_lock(7412001)")
                for statement in postgres_ddl().split(";\n"):
                    con.execute(statement)  # from the DDL only
        except psycopg.Error as error:
            raise self._unavailable(error) from None

    @contextmanager
    def _transaction(self) -> Iterator[psycopg.Connection[Any]]:
        """A transaction on a pooled connection; a failure closes that connection and
        raises :class:`SharedRecordUnavailable`."""
        import psycopg

        with self._pool_lock:
            con = self._idle.pop() if self._idle else None
        if con is None or con.closed:
            con = self._open()
        try:
            with con.transaction():
                yield con
        except psycopg.Error as error:
            con.close()
            raise self._unavailable(error) from None
        except BaseException:
            con.close()
            raise
        with self._pool_lock:
            if len(self._idle) < MAX_IDLE_CONNECTIONS and not self._closed:
                self._idle.append(con)
                return
        con.close()

    def close(self) -> None:
        """Close the idle connections (those in use close when their work ends)."""
        with self._pool_lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for con in idle:
            con.close()

    def _unavailable(self, error: Exception) -> SharedRecordUnavailable:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        reason = reason.replace(self.url, self.where)
        return SharedRecordUnavailable(
            f"the shared record at {self.where} did not answer: {reason}"
        )

    def warn(self, error: Exception) -> None:
        """Log that the record is unreachable, at most once a :data:`WARN_INTERVAL_S`."""
        now = time.monotonic()
        if now - self._last_warning >= WARN_INTERVAL_S:
            self._last_warning = now
            logger.warning("%s; rows wait in the outbox until it answers", error)

    def check(self) -> None:
        """Connect once (creating the tables).

        Raises:
            SharedRecordUnavailable: PostgreSQL did not answer or refused.
        """
        with self._transaction() as con:
            con.execute("SELECT 1")

    # -- out: rows recorded here ---------------------------------------------------

    def insert(self, by_table: dict[str, list[list[Any]]]) -> None:
        """Record journal rows (by table, in the workspace's column order); rows already
        there (the same primary key) are left as they are."""
        with self._transaction() as con:
            for table, rows in by_table.items():
                names = ", ".join(name for name, _ in table_columns(table))
                marks = ", ".join(["%s"] * JOURNAL_TABLES[table])
                with con.cursor() as cursor:
                    cursor.executemany(
                        # Table and column names come from the workspace DDL only.
                        f"INSERT INTO {table} ({names}) VALUES ({marks}) ON CONFLICT DO NOTHING",
                        rows,
                    )

    # -- in: rows recorded anywhere ------------------------------------------------

    def pull(self, cursor: datetime | None) -> Pulled:
        """Rows and tombstones recorded after ``cursor`` (None: everything).

        Returns:
            The rows by table (workspace column order), the forgotten conversation ids,
            and the cursor for the next pull (a little before this pull's end, so rows
            whose transaction commits late are read again rather than missed).
        """
        since = cursor or datetime(1970, 1, 1, tzinfo=UTC)
        rows: dict[str, list[tuple[Any, ...]]] = {}
        with self._transaction() as con:
            now = con.execute("SELECT clock_timestamp()").fetchone()
            assert now is not None
            next_cursor: datetime = now[0] - PULL_OVERLAP
            for table in JOURNAL_TABLES:
                names = ", ".join(name for name, _ in table_columns(table))
                fetched = con.execute(
                    f"SELECT {names}, recorded_at FROM {table} "
                    "WHERE recorded_at > %s ORDER BY recorded_at LIMIT %s",
                    [since, PULL_LIMIT],
                ).fetchall()
                if fetched:
                    rows[table] = [row[:-1] for row in fetched]
                if len(fetched) == PULL_LIMIT:  # more to come: go on from the last one
                    next_cursor = min(next_cursor, fetched[-1][-1])
            forgotten = [
                str(row[0])
                for row in con.execute(
                    "SELECT DISTINCT conversation_id FROM forgotten WHERE recorded_at > %s",
                    [since],
                ).fetchall()
            ]
        return Pulled(rows, forgotten, max(next_cursor, since))

    # -- forget and purge ----------------------------------------------------------

    def forget(self, conversation_ids: Sequence[str], support_accounts: Sequence[str]) -> int:
        """Delete the conversations' rows and leave tombstones for the other replicas.

        Args:
            conversation_ids: Stored conversation ids.
            support_accounts: Their pseudonymised accounts (the ``account`` of their
                support posts).

        Returns:
            Rows deleted.
        """
        ids, accounts = list(conversation_ids), list(support_accounts)
        deleted = 0
        with self._transaction() as con:
            support = "SELECT post_id FROM posts WHERE platform = 'support' AND account = ANY(%s)"
            for sql, params in (
                (f"DELETE FROM scores WHERE post_id IN ({support})", [accounts]),
                ("DELETE FROM posts WHERE platform = 'support' AND account = ANY(%s)", [accounts]),
                ("DELETE FROM audit WHERE conversation_id = ANY(%s)", [ids]),
                ("DELETE FROM feedback WHERE conversation_id = ANY(%s)", [ids]),
                ("DELETE FROM support_ratings WHERE conversation_id = ANY(%s)", [ids]),
                ("DELETE FROM pin_events WHERE conversation_id = ANY(%s)", [ids]),
                ("DELETE FROM handoff_claims WHERE conversation_id = ANY(%s)", [ids]),
            ):
                deleted += con.execute(sql, params).rowcount
            with con.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO forgotten (conversation_id) VALUES (%s)", [[i] for i in ids]
                )
        return deleted

    def purge(self, cutoff: datetime) -> int:
        """Delete conversation data older than ``cutoff`` (naive UTC); rows deleted."""
        deleted = 0
        with self._transaction() as con:
            old = "SELECT post_id FROM posts WHERE platform = 'support' AND posted_at < %s"
            for sql in (
                f"DELETE FROM scores WHERE post_id IN ({old})",
                "DELETE FROM posts WHERE platform = 'support' AND posted_at < %s",
                "DELETE FROM audit WHERE conversation_id IS NOT NULL AND created_at < %s",
                "DELETE FROM feedback WHERE created_at < %s",
                "DELETE FROM support_ratings WHERE created_at < %s",
                "DELETE FROM charts WHERE created_at < %s::timestamp AT TIME ZONE 'UTC'",
                "DELETE FROM forgotten WHERE recorded_at < %s::timestamp AT TIME ZONE 'UTC'",
                "DELETE FROM handoff_claims WHERE since < %s::timestamp AT TIME ZONE 'UTC'",
            ):
                deleted += con.execute(sql, [cutoff]).rowcount
        return deleted

    # -- hand-offs -----------------------------------------------------------------

    def claim_handoff(
        self,
        conversation_id: str,
        new_reference: str,
        *,
        open_for: timedelta,
        max_per_minute: int,
        post: bool,
    ) -> tuple[str, bool | None]:
        """Claim the conversation's hand-off for all replicas at once.

        Args:
            conversation_id: The customer's conversation.
            new_reference: The reference to give a hand-off that is not open yet.
            open_for: How long a hand-off stays open after it was made.
            max_per_minute: Hand-off posts per minute, across every replica.
            post: Whether the caller can post at all (False: Slack is not configured).

        Returns:
            The conversation's reference, and None when its open hand-off was posted
            before (nothing to do), True when the caller posts it now, False when it
            must not post it (over the cap, or ``post`` is False).
        """
        with self._transaction() as con:
            # One claim at a time: the count and the claim must not interleave.
            con.execute("SELECT pg_advisory_xact_lock(7412002)")
            row = con.execute(
                "SELECT reference, posted FROM handoff_claims WHERE conversation_id = %s "
                "AND since > clock_timestamp() - %s",
                [conversation_id, open_for],
            ).fetchone()
            if row is not None and row[1]:
                return str(row[0]), None
            reference = str(row[0]) if row is not None else new_reference
            allowed = False
            if post:
                recent = con.execute(
                    "SELECT count(*) FROM handoff_claims "
                    "WHERE posted_at > clock_timestamp() - interval '1 minute'"
                ).fetchone()
                allowed = recent is not None and int(recent[0]) < max_per_minute
            con.execute(
                "INSERT INTO handoff_claims AS c (conversation_id, reference, posted, since, "
                "posted_at) VALUES (%s, %s, %s, clock_timestamp(), "
                "CASE WHEN %s THEN clock_timestamp() END) "
                "ON CONFLICT (conversation_id) DO UPDATE SET reference = excluded.reference, "
                "posted = excluded.posted, posted_at = coalesce(excluded.posted_at, c.posted_at), "
                "since = CASE WHEN c.reference = excluded.reference THEN c.since "
                "ELSE excluded.since END",
                [conversation_id, reference, allowed, allowed],
            )
            return reference, allowed

    def settle_handoff(self, conversation_id: str, delivered: bool) -> None:
        """Note whether the claimed post reached Slack (False: the next request posts it)."""
        with self._transaction() as con:
            con.execute(
                "UPDATE handoff_claims SET posted = %s WHERE conversation_id = %s",
                [delivered, conversation_id],
            )

    # -- charts --------------------------------------------------------------------

    def put_chart(self, name: str, png: bytes) -> None:
        """Keep a chart image under its (random) name."""
        with self._transaction() as con:
            con.execute(
                "INSERT INTO charts (name, png) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                [name, png],
            )

    def chart(self, name: str) -> bytes | None:
        """A chart image by name, or None when there is none."""
        with self._transaction() as con:
            row = con.execute("SELECT png FROM charts WHERE name = %s", [name]).fetchone()
        return bytes(row[0]) if row else None


_records: dict[str, SharedRecord] = {}
_records_lock = threading.Lock()


def shared_record(url: str | None) -> SharedRecord | None:
    """The process's :class:`SharedRecord` for ``url`` (one per URL), or None when unset.

    Raises:
        SharedRecordError: ``url`` is not a PostgreSQL URL.
    """
    if not url:
        return None
    with _records_lock:
        record = _records.get(url)
        if record is None:
            record = _records[url] = SharedRecord(url)
        return record
