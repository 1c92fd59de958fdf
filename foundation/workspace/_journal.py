"""Rows waiting for the workspace's write lock, kept on disk until they are written.

A turn of the bot must not wait for a batch job's write, and must not lose what it
wanted to keep (an audit row, a customer's support message and its score, a rating,
a correction). So servers append such rows to a journal file next to the workspace
and go on; a writer moves them into DuckDB in one short transaction as soon as the
lock is free. Every journal table has a primary key and is written with
``INSERT OR IGNORE``, so a batch written twice (a crash between commit and truncate,
or two processes draining at once) changes nothing.

Layout: ``<workspace>.pending/<pid>.jsonl``, one JSON object per line::

    {"table": "audit", "row": [...values in the table's column order...]}

Each file is appended to and drained under an exclusive ``flock``; a file whose
process has died is drained by the next process that writes.

With a shared record (``BEACON_DATABASE_URL``, :mod:`foundation.workspace._shared`),
the rows written into DuckDB are copied to a second journal of the same format, the
outbox (``<workspace>.outbox/``), which the writer sends to PostgreSQL.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

import duckdb

logger = logging.getLogger(__name__)

#: Tables a journal may write, with their number of columns. Anything else in a
#: journal file is skipped (and logged): the file never chooses the SQL.
JOURNAL_TABLES: dict[str, int] = {
    "audit": 9,
    "feedback": 11,
    "support_ratings": 4,
    "pin_events": 9,
    "posts": 15,
    "scores": 9,
}
#: Narrower rows a journal written by an older Beacon may still hold, per table: the
#: columns added since go last in the table, so such a row is written with them NULL
#: (a schema v1 ``feedback`` row: no audience, so never a correction the models learn).
OLDER_WIDTHS: dict[str, tuple[int, ...]] = {"feedback": (7,)}


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


class Journal:
    """The pending rows of one workspace.

    Args:
        directory: ``<workspace>.pending``; created on first append.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    @property
    def own_file(self) -> Path:
        return self.directory / f"{os.getpid()}.jsonl"

    def append(self, table: str, rows: Sequence[Sequence[Any]]) -> None:
        """Keep ``rows`` (each in ``table``'s column order) until they are written.

        Raises:
            ValueError: ``table`` is not a journal table or a row has the wrong width.
        """
        width = JOURNAL_TABLES.get(table)
        if width is None:
            raise ValueError(
                f"{table!r} is not a journal table; expected one of {sorted(JOURNAL_TABLES)}"
            )
        lines = []
        for row in rows:
            if len(row) != width:
                raise ValueError(f"a {table} row has {width} values, got {len(row)}")
            lines.append(json.dumps({"table": table, "row": [_json_value(v) for v in row]}))
        if not lines:
            return
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)  # customers' words
        with _locked(self.own_file, "a") as handle:
            handle.write("\n".join(lines) + "\n")
            handle.flush()

    def has_rows(self) -> bool:
        """Whether any journal file (this process's or a dead one's) holds rows."""
        if not self.directory.is_dir():
            return False
        return any(path.stat().st_size > 0 for path in self.directory.glob("*.jsonl"))

    def drain(self, con: duckdb.DuckDBPyConnection, *, then: Journal | None = None) -> int:
        """Write every pending row into the workspace through ``con`` (read-write).

        Each file is written in one transaction and emptied after the commit. Waiting
        for a file's lock is short: its holder is appending a line, or draining it
        through a connection already open (only one process can write at a time).

        Args:
            con: An open read-write workspace connection.
            then: A journal that receives the same rows once they are in the workspace
                (the outbox to the shared record), before this one lets them go.

        Returns:
            The number of rows written (or found already there).
        """

        def write(by_table: dict[str, list[list[Any]]]) -> None:
            insert_rows(con, by_table)
            if then is not None:
                for table, rows in by_table.items():
                    then.append(table, rows)

        return self.drain_to(write)

    def drain_to(self, write: Callable[[dict[str, list[list[Any]]]], None]) -> int:
        """Hand every pending file's rows (by table) to ``write``; empty the file after.

        A file whose ``write`` raises keeps its rows for the next call, and the error
        goes to the caller. Rows may be handed over twice (a crash between ``write``
        and emptying the file), so ``write`` must ignore rows it already has.

        Returns:
            The number of rows handed over.
        """
        if not self.directory.is_dir():
            return 0
        written = 0
        for path in sorted(self.directory.glob("*.jsonl")):
            try:
                handle = path.open("r+", encoding="utf-8")
            except FileNotFoundError:
                continue
            with handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                by_table = _parse(handle.read(), path.name)
                if by_table:
                    write(by_table)
                    written += sum(len(rows) for rows in by_table.values())
                handle.seek(0)
                handle.truncate()
            _forget_if_dead(path)
        return written


def insert_rows(con: duckdb.DuckDBPyConnection, by_table: dict[str, list[list[Any]]]) -> None:
    """``INSERT OR IGNORE`` journal rows (by table) into the workspace, in one transaction."""
    con.execute("BEGIN TRANSACTION")
    try:
        for table, rows in by_table.items():
            marks = ", ".join("?" * JOURNAL_TABLES[table])
            # Table names come from JOURNAL_TABLES, never from a file or a server.
            con.executemany(f"INSERT OR IGNORE INTO {table} VALUES ({marks})", rows)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def _parse(text: str, name: str) -> dict[str, list[list[Any]]]:
    by_table: dict[str, list[list[Any]]] = defaultdict(list)
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            table, row = entry["table"], entry["row"]
        except (ValueError, KeyError, TypeError):
            # A line cut short by a crash mid-append: nothing of it was acknowledged.
            logger.warning("journal %s line %d is not a journal entry; skipped", name, number)
            continue
        width = JOURNAL_TABLES.get(table)
        if isinstance(row, list) and width is not None and len(row) in OLDER_WIDTHS.get(table, ()):
            row = row + [None] * (width - len(row))
        if width != (len(row) if isinstance(row, list) else None):
            logger.warning("journal %s line %d names no journal table; skipped", name, number)
            continue
        by_table[table].append(row)
    return by_table


def _forget_if_dead(path: Path) -> None:
    """Remove an emptied journal file whose process is gone (ours stays in use)."""
    try:
        pid = int(path.stem)
    except ValueError:
        return
    if pid == os.getpid() or _alive(pid):
        return
    try:
        if path.stat().st_size == 0:
            path.unlink()
    except FileNotFoundError:
        pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def _locked(path: Path, mode: str) -> Iterator[IO[str]]:
    with path.open(mode, encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield handle
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
