"""Opening the DuckDB workspace: schema on first use, short-lived connections.

DuckDB lets one process write a file at a time, and the action server, the CLI
and the digest all use the same file; so every piece of work opens a connection,
does its work and closes it, retrying briefly while another process holds the lock.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from foundation.exceptions import WorkspaceError
from foundation.workspace._schema import DDL, SCHEMA_VERSION

LOCK_RETRY_SECONDS = 10.0


def utc_now() -> datetime:
    """Current time as a naive UTC datetime (the workspace's convention)."""
    return datetime.now(UTC).replace(tzinfo=None)


class Workspace:
    """The DuckDB workspace file.

    Args:
        path: The ``.duckdb`` file; created with every table on first :meth:`connect`.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection for one unit of work, closed afterwards.

        Raises:
            WorkspaceError: The file stays locked by another process for longer
                than ``LOCK_RETRY_SECONDS`` or is not a DuckDB database.
        """
        if read_only and not self.path.exists():
            raise WorkspaceError(
                f"workspace {self.path} does not exist yet; run `beacon demo` or `beacon ingest` first"
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = self._open(read_only)
        try:
            if not read_only:
                con.execute(DDL)
                con.execute(
                    "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)]
                )
            yield con
        finally:
            con.close()

    def _open(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        deadline = time.monotonic() + LOCK_RETRY_SECONDS
        delay = 0.05
        while True:
            try:
                return duckdb.connect(str(self.path), read_only=read_only)
            except duckdb.IOException as error:
                if "lock" not in str(error).lower() or time.monotonic() > deadline:
                    raise WorkspaceError(
                        f"cannot open workspace {self.path}: {error}".splitlines()[0]
                    ) from error
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
            except duckdb.Error as error:
                raise WorkspaceError(
                    f"cannot open workspace {self.path}: {error}; is it a DuckDB file?".splitlines()[
                        0
                    ]
                ) from error


def fetch_one(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None
) -> tuple[Any, ...] | None:
    """First row of a query, or None; fetches to the end so the connection stays usable."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None


def get_meta(con: duckdb.DuckDBPyConnection, key: str, default: Any = None) -> Any:
    """A JSON value from the ``meta`` table, or ``default``."""
    row = fetch_one(con, "SELECT value FROM meta WHERE key = ?", [key])
    return json.loads(row[0]) if row else default


def set_meta(con: duckdb.DuckDBPyConnection, key: str, value: Any) -> None:
    """Store a JSON value in the ``meta`` table."""
    con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, json.dumps(value)])


def record_audit(
    con: duckdb.DuckDBPyConnection,
    *,
    kind: str,
    inputs: dict[str, Any],
    output: Any,
    sources: list[str] | None = None,
    model_version: str | None = None,
    conversation_id: str | None = None,
) -> str:
    """Append one prediction or answer to the ``audit`` table and return its id."""
    inputs_json = json.dumps(inputs, sort_keys=True, default=str)
    audit_id = uuid.uuid4().hex[:16]
    con.execute(
        "INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            audit_id,
            utc_now(),
            kind,
            model_version,
            hashlib.sha256(inputs_json.encode()).hexdigest()[:16],
            inputs_json,
            json.dumps(sources or []),
            output if isinstance(output, str) else json.dumps(output, default=str),
            conversation_id,
        ],
    )
    return audit_id
