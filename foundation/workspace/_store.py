"""Opening the DuckDB workspace: short-lived connections, one schema set-up, a journal.

DuckDB lets one process write a file at a time, and while it writes no other process
may even read it; the action server, the CLI, batch jobs and the digest all use the
same file. So (DESIGN.md, "Workspace data model"):

- reads use read-only connections, opened for one unit of work and closed;
- batch jobs compute outside the lock and write each batch in its own short
  read-write connection (``beacon score``, ``ingest``, ``demo``, ``retrain``);
- servers never write on a turn's path: :meth:`Workspace.record_audit` and
  :meth:`Workspace.keep` put rows in the :class:`~foundation.workspace._journal.Journal`,
  and a writer thread moves them in as soon as the lock is free;
- a caller waits at most ``lock_wait`` seconds for another process's lock, then gets
  :class:`WorkspaceBusy`, whose message is one plain sentence with no path.

Inside one process DuckDB refuses read-only and read-write connections to the same
file at once, so a per-file gate lets either kind in, never both.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from foundation.exceptions import WorkspaceBusy, WorkspaceError
from foundation.settings import get_settings
from foundation.workspace._forget import forget_conversation
from foundation.workspace._journal import Journal, insert_rows
from foundation.workspace._pseudonym import Pseudonymizer
from foundation.workspace._rows import fetch_one
from foundation.workspace._schema import DDL, SCHEMA_VERSION, table_columns
from foundation.workspace._shared import (
    PULL_INTERVAL_S,
    SharedRecord,
    SharedRecordUnavailable,
    shared_record,
)

logger = logging.getLogger(__name__)

#: How long a caller waits for another process's lock by default (the CLI, tests).
LOCK_WAIT_SECONDS = 10.0
#: How long a bot turn waits: a batch job writes in batches far shorter than this.
TURN_LOCK_WAIT_SECONDS = 1.0
#: How long a batch job waits to write one batch while servers read.
BATCH_LOCK_WAIT_SECONDS = 120.0
#: How often the journal writer retries while another process holds the lock.
JOURNAL_RETRY_SECONDS = 0.5
#: How long the journal writer waits before sending the outbox again after the shared
#: record did not answer.
PUSH_RETRY_SECONDS = 5.0
#: How long no pull is tried after the shared record did not answer (a turn must not
#: wait for a connection timeout again and again).
PULL_BACKOFF_S = 30.0
#: Where the last pull from the shared record ended, in ``meta``.
SHARED_CURSOR_KEY = "shared_record_pulled_until"

#: Columns of the journal tables that hold what people wrote: pseudonymised by
#: :meth:`Workspace.keep` before the row is kept (``audit`` rows by :func:`audit_row`).
FREE_TEXT_COLUMNS: dict[str, tuple[str, ...]] = {
    "feedback": ("correction", "text"),
    "pin_events": ("question",),
}

BUSY_MESSAGE = (
    "The workspace is busy with another job right now, so I couldn't read it; "
    "please ask again in a moment."
)


def utc_now() -> datetime:
    """Current time as a naive UTC datetime (the workspace's convention)."""
    return datetime.now(UTC).replace(tzinfo=None)


class _Gate:
    """Lets read-only or read-write connections of one process in, never both at once."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._open = {True: 0, False: 0}  # read_only -> open connections
        self._held = threading.local()

    def held_here(self) -> bool:
        return getattr(self._held, "count", 0) > 0

    def enter(self, read_only: bool, deadline: float) -> None:
        with self._changed:
            while self._open[not read_only] and not self.held_here():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise WorkspaceBusy(BUSY_MESSAGE)
                self._changed.wait(remaining)
            self._open[read_only] += 1
        self._held.count = getattr(self._held, "count", 0) + 1

    def leave(self, read_only: bool) -> None:
        with self._changed:
            self._open[read_only] -= 1
            self._changed.notify_all()
        self._held.count -= 1


_gates: dict[Path, _Gate] = {}


@dataclass
class _PullState:
    """One workspace file's pulls in this process."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    cursor: datetime | None = None
    next_pull: float = 0.0


_pull_states: dict[Path, _PullState] = {}
_registry_lock = threading.Lock()
_schema_lock = threading.Lock()


def _gate(path: Path) -> _Gate:
    with _registry_lock:
        return _gates.setdefault(path, _Gate())


def _pull_state(path: Path) -> _PullState:
    with _registry_lock:
        return _pull_states.setdefault(path, _PullState())


class Workspace:
    """The DuckDB workspace file.

    Args:
        path: The ``.duckdb`` file; created with every table on first read-write
            :meth:`connect`.
        lock_wait: Seconds to wait for another process's lock before
            :class:`WorkspaceBusy` (``TURN_LOCK_WAIT_SECONDS`` in the action server,
            ``BATCH_LOCK_WAIT_SECONDS`` for a batch job's writes).
        pseudonymizer: Pseudonymises the free text of audit and feedback rows
            (default: the installation's, from the settings, made on first use).
        shared: The shared operational record several replicas use
            (:mod:`foundation.workspace._shared`); default: the one
            ``BEACON_DATABASE_URL`` names, if any.
    """

    def __init__(
        self,
        path: Path,
        *,
        lock_wait: float = LOCK_WAIT_SECONDS,
        pseudonymizer: Pseudonymizer | None = None,
        shared: SharedRecord | None = None,
    ) -> None:
        self.path = Path(path)
        self.lock_wait = lock_wait
        self.journal = Journal(self.path.with_name(self.path.name + ".pending"))
        #: Rows in the workspace that the shared record has not acknowledged yet.
        self.outbox = Journal(self.path.with_name(self.path.name + ".outbox"))
        self._pseudonymizer = pseudonymizer
        self._shared = shared
        self._shared_resolved = shared is not None

    @property
    def shared(self) -> SharedRecord | None:
        """The shared operational record, or None on a single host."""
        if not self._shared_resolved:
            self._shared = shared_record(get_settings().database_url)
            self._shared_resolved = True
        return self._shared

    @property
    def pseudonymizer(self) -> Pseudonymizer:
        """What pseudonymises the free text this workspace keeps."""
        if self._pseudonymizer is None:
            self._pseudonymizer = default_pseudonymizer()
        return self._pseudonymizer

    @contextmanager
    def connect(
        self, read_only: bool = False, *, wait: float | None = None
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection for one unit of work, closed afterwards.

        Rows waiting in the journal are written first when the lock is free at once
        (never waiting for it), so a read usually sees the process's own writes.

        Args:
            read_only: Open for reading only; many processes may read at once.
            wait: Seconds to wait for another process's lock (default ``lock_wait``).

        Raises:
            WorkspaceBusy: Another process keeps the file locked for longer than ``wait``.
            WorkspaceError: The file does not exist yet (read-only) or is not a
                DuckDB database.
        """
        if read_only and not self.path.exists():
            raise WorkspaceError(
                "the workspace has no data yet; run `beacon demo` or `beacon ingest` first"
            )
        wait = self.lock_wait if wait is None else wait
        gate = _gate(self.path.resolve())
        if not gate.held_here():
            if self.journal.has_rows():
                self.flush(wait=0.0)
            if self.shared is not None and self.path.exists():
                self.pull(wait=0.0)
        with self._connection(read_only, wait) as con:
            yield con

    @contextmanager
    def _connection(self, read_only: bool, wait: float) -> Iterator[duckdb.DuckDBPyConnection]:
        gate = _gate(self.path.resolve())
        deadline = time.monotonic() + wait
        gate.enter(read_only, deadline)
        try:
            if not read_only:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            con = self._open(read_only, deadline)
            try:
                if not read_only:
                    self._ensure_schema(con)
                yield con
            finally:
                con.close()
        finally:
            gate.leave(read_only)

    def _ensure_schema(self, con: duckdb.DuckDBPyConnection) -> None:
        """Create the tables when the file has none yet (one cheap look otherwise)."""
        with _schema_lock:  # two threads creating the same tables conflict in DuckDB
            self._create_tables_if_missing(con)

    @staticmethod
    def _create_tables_if_missing(con: duckdb.DuckDBPyConnection) -> None:
        try:
            row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
        except duckdb.CatalogException:
            row = []
        if not row or row[0][0] != str(SCHEMA_VERSION):
            con.execute(DDL)  # idempotent: creates what is missing, migrates older files
            if row:
                logger.info("workspace schema upgraded from v%s to v%s", row[0][0], SCHEMA_VERSION)
            con.execute(
                "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)]
            )

    def _open(self, read_only: bool, deadline: float) -> duckdb.DuckDBPyConnection:
        delay = 0.02
        while True:
            try:
                return duckdb.connect(str(self.path), read_only=read_only)
            except duckdb.IOException as error:
                if "lock" not in str(error).lower():
                    logger.error("cannot open workspace %s: %s", self.path, error)
                    raise WorkspaceError(_unusable(error)) from error
                if time.monotonic() + delay > deadline:
                    logger.debug("workspace %s stayed locked: %s", self.path, error)
                    raise WorkspaceBusy(BUSY_MESSAGE) from error
                time.sleep(delay)
                delay = min(delay * 2, 0.2)
            except duckdb.Error as error:
                logger.error("cannot open workspace %s: %s", self.path, error)
                raise WorkspaceError(_unusable(error)) from error

    # -- the journal: rows kept without waiting for the lock ------------------------

    def keep(self, table: str, rows: Sequence[Sequence[Any]]) -> None:
        """Write ``rows`` to ``table`` without waiting: journal now, workspace soon.

        For servers, whose turns must not wait for a batch job. The rows reach the
        table within about ``JOURNAL_RETRY_SECONDS`` of the lock coming free, and
        before this process's next :meth:`connect`. What people wrote
        (:data:`FREE_TEXT_COLUMNS`) is pseudonymised first, so no caller can forget to.
        """
        positions = _free_text_positions(table)
        if positions:
            rows = [
                [
                    self.pseudonymizer.text(value)
                    if index in positions and isinstance(value, str)
                    else value
                    for index, value in enumerate(row)
                ]
                for row in rows
            ]
        self.journal.append(table, rows)
        _writer_for(self).wake()

    def record_audit(
        self,
        *,
        kind: str,
        inputs: dict[str, Any],
        output: Any,
        sources: list[str] | None = None,
        model_version: str | None = None,
        conversation_id: str | None = None,
    ) -> str:
        """Keep one prediction or answer in ``audit`` (through the journal); its id.

        Its inputs and output are pseudonymised (:func:`audit_row`).
        """
        row = audit_row(
            kind=kind,
            inputs=inputs,
            output=output,
            sources=sources,
            model_version=model_version,
            conversation_id=conversation_id,
            pseudonymizer=self.pseudonymizer,
        )
        self.keep("audit", [row])
        return str(row[0])

    def flush(self, *, wait: float | None = None) -> int:
        """Write the journal's rows now; the number written (0 when the lock stayed busy).

        With a shared record, the rows also go to the outbox, which :meth:`push` sends.
        """
        if not self.journal.has_rows():
            return 0
        outbox = self.outbox if self.shared is not None else None
        try:
            with self._connection(False, self.lock_wait if wait is None else wait) as con:
                return self.journal.drain(con, then=outbox)
        except WorkspaceBusy:
            return 0

    # -- the shared record: rows out to the other replicas, and theirs in ----------

    def push(self) -> int:
        """Send the outbox to the shared record; rows sent (0 when it did not answer).

        Called by the journal's writer thread, never on a turn's path.
        """
        shared = self.shared
        if shared is None or not self.outbox.has_rows():
            return 0
        try:
            return self.outbox.drain_to(shared.insert)
        except SharedRecordUnavailable as error:
            shared.warn(error)
            return 0

    def pull(self, *, wait: float | None = None) -> int:
        """Copy in what other replicas recorded since the last pull, and apply their
        forgets; rows copied (0 when it is not time yet, the shared record did not
        answer or the workspace lock stayed busy).

        At most once a ``PULL_INTERVAL_S`` per process (another thread pulling counts);
        after the shared record failed, not again for ``PULL_BACKOFF_S``.
        """
        shared = self.shared
        if shared is None:
            return 0
        state = _pull_state(self.path.resolve())
        if time.monotonic() < state.next_pull or not state.lock.acquire(blocking=False):
            return 0
        try:
            if state.cursor is None:
                state.cursor = self._stored_cursor()
            try:
                pulled = shared.pull(state.cursor)
            except SharedRecordUnavailable as error:
                shared.warn(error)
                state.next_pull = time.monotonic() + PULL_BACKOFF_S
                return 0
            state.next_pull = time.monotonic() + PULL_INTERVAL_S
            if not pulled.rows and not pulled.forgotten:
                state.cursor = pulled.cursor
                return 0
            try:
                with self._connection(False, self.lock_wait if wait is None else wait) as con:
                    insert_rows(
                        con,
                        {table: [list(row) for row in rows] for table, rows in pulled.rows.items()},
                    )
                    if pulled.forgotten:
                        forget_conversation(con, pulled.forgotten, self.pseudonymizer)
                    set_meta(con, SHARED_CURSOR_KEY, pulled.cursor.isoformat())
            except WorkspaceBusy:
                return 0  # the same rows come again next time
            state.cursor = pulled.cursor
            return sum(len(rows) for rows in pulled.rows.values())
        finally:
            state.lock.release()

    def _stored_cursor(self) -> datetime | None:
        """Where the last pull into this file ended (None: never pulled)."""
        try:
            with self._connection(True, 0.0) as con:
                value = get_meta(con, SHARED_CURSOR_KEY)
        except (WorkspaceBusy, duckdb.Error):
            return None
        return datetime.fromisoformat(value) if isinstance(value, str) else None


def _unusable(error: duckdb.Error) -> str:
    """The one-line reason a workspace file can't be used; the path stays in the log."""
    if "not a valid DuckDB database" in str(error):
        return (
            "the workspace file is not a DuckDB database; "
            "point BEACON_WORKSPACE at a workspace or run `beacon demo`"
        )
    return "the workspace file cannot be opened (the log says why)"


class _JournalWriter:
    """A daemon thread that drains one workspace's journal once the lock is free.

    It ends when the journal is empty and :meth:`Workspace.keep` starts a new one, so
    a process with many workspaces (the tests) keeps no idle threads.
    """

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = Workspace(
            workspace.path,
            lock_wait=TURN_LOCK_WAIT_SECONDS,
            pseudonymizer=workspace._pseudonymizer,
        )
        # The same shared record as the workspace that wrote (None included).
        self.workspace._shared, self.workspace._shared_resolved = workspace.shared, True
        self._key = workspace.path.resolve()
        self._wake = threading.Event()
        self._wake.set()
        self._thread = threading.Thread(
            target=self._run, name=f"journal-{workspace.path.name}", daemon=True
        )
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        wait = JOURNAL_RETRY_SECONDS
        while True:
            self._wake.wait(wait)
            self._wake.clear()
            wait = JOURNAL_RETRY_SECONDS
            try:
                self.workspace.flush()
                if self.workspace.outbox.has_rows() and not self.workspace.push():
                    wait = PUSH_RETRY_SECONDS  # the shared record did not answer
            except Exception:  # never let the writer die silently; the rows stay kept
                logger.exception("could not write the journal of %s", self.workspace.path)
            with _registry_lock:
                if not self.workspace.journal.has_rows() and not self.workspace.outbox.has_rows():
                    del _writers[self._key]
                    return


_writers: dict[Path, _JournalWriter] = {}


def _writer_for(workspace: Workspace) -> _JournalWriter:
    key = workspace.path.resolve()
    with _registry_lock:
        writer = _writers.get(key)
        if writer is None:
            if not _writers_at_exit:
                atexit.register(_flush_at_exit)
                _writers_at_exit.append(True)
            writer = _writers[key] = _JournalWriter(workspace)
        return writer


_writers_at_exit: list[bool] = []


def _flush_at_exit() -> None:
    with _registry_lock:
        workspaces = [writer.workspace for writer in _writers.values()]
    for workspace in workspaces:
        try:
            workspace.flush(wait=2.0)
        except Exception:
            logger.exception("rows left in the journal of %s", workspace.path)


def get_meta(con: duckdb.DuckDBPyConnection, key: str, default: Any = None) -> Any:
    """A JSON value from the ``meta`` table, or ``default``."""
    row = fetch_one(con, "SELECT value FROM meta WHERE key = ?", [key])
    return json.loads(row[0]) if row else default


def set_meta(con: duckdb.DuckDBPyConnection, key: str, value: Any) -> None:
    """Store a JSON value in the ``meta`` table."""
    con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, json.dumps(value)])


def default_pseudonymizer() -> Pseudonymizer:
    """The installation's pseudonymizer: key and phone region from the settings."""
    return Pseudonymizer.from_settings(get_settings())


def _identifier_key(key: str) -> bool:
    """Whether an audit field holds an identifier, kept as it is (post ids, Slack ts)."""
    return key in _IDENTIFIER_KEYS or key.endswith(("_id", "_ids"))


_IDENTIFIER_KEYS = frozenset({"id", "ids", "ts", "thread_ts", "channel", "week"})


@functools.cache
def _free_text_positions(table: str) -> frozenset[int]:
    """Positions of ``table``'s :data:`FREE_TEXT_COLUMNS` in its column order (the DDL's)."""
    names = FREE_TEXT_COLUMNS.get(table)
    if not names:
        return frozenset()
    columns = [name for name, _ in table_columns(table)]
    missing = [name for name in names if name not in columns]
    if missing:  # a renamed column must not silently stop being pseudonymised
        raise RuntimeError(f"{table} has no column(s) {', '.join(missing)} to pseudonymise")
    return frozenset(columns.index(name) for name in names)


def audit_row(
    *,
    kind: str,
    inputs: dict[str, Any],
    output: Any,
    sources: list[str] | None = None,
    model_version: str | None = None,
    conversation_id: str | None = None,
    pseudonymizer: Pseudonymizer | None = None,
) -> list[Any]:
    """One ``audit`` row (a fresh id first), in the table's column order.

    Every string of ``inputs`` and ``output`` is pseudonymised (e-mails, phone, card
    and IBAN numbers, @mentions: :meth:`Pseudonymizer.text`), except identifiers
    (fields named ``*_id``, ``*_ids``, ``ts``, ``channel``, ``week``), so a refusal, a
    question or a hand-off summary keeps no customer's contact or payment details.

    Args:
        pseudonymizer: Default: the installation's (:func:`default_pseudonymizer`).
    """
    pseudonymizer = pseudonymizer or default_pseudonymizer()
    # Through JSON first, so every value that becomes a string is pseudonymised too.
    plain_inputs = json.loads(json.dumps(inputs, default=str))
    inputs_json = json.dumps(
        pseudonymizer.value(plain_inputs, keep=_identifier_key), sort_keys=True
    )
    if isinstance(output, str):
        output_text = pseudonymizer.text(output)
    else:
        plain_output = json.loads(json.dumps(output, default=str))
        output_text = json.dumps(pseudonymizer.value(plain_output, keep=_identifier_key))
    return [
        uuid.uuid4().hex[:16],
        utc_now(),
        kind,
        model_version,
        hashlib.sha256(inputs_json.encode()).hexdigest()[:16],
        inputs_json,
        json.dumps(sources or []),
        output_text,
        conversation_id,
    ]


def record_audit(
    con: duckdb.DuckDBPyConnection,
    *,
    kind: str,
    inputs: dict[str, Any],
    output: Any,
    sources: list[str] | None = None,
    model_version: str | None = None,
    conversation_id: str | None = None,
    pseudonymizer: Pseudonymizer | None = None,
) -> str:
    """Append one prediction or answer to ``audit`` through a read-write ``con``; its id.

    Batch jobs use this inside their own write; servers use
    :meth:`Workspace.record_audit`, which does not wait for the lock. Inputs and output
    are pseudonymised like :func:`audit_row`'s.
    """
    row = audit_row(
        kind=kind,
        inputs=inputs,
        output=output,
        sources=sources,
        model_version=model_version,
        conversation_id=conversation_id,
        pseudonymizer=pseudonymizer,
    )
    con.execute("INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
    return str(row[0])
