"""The DuckDB workspace: posts, scores, experiments, influencers, audit, quarantine.

Public surface:

- :class:`Workspace` — open the file (``with ws.connect() as con: ...``).
- :func:`ingest_file` — validated ingest of a posts file in a named format.
- :func:`forget_account` — remove one account's data everywhere.
- :func:`record_audit`, :func:`get_meta`, :func:`set_meta`, :func:`fetch_one`.
- :data:`PLATFORMS` with their display names (:func:`platform_name`).
- :func:`get_reader`, :func:`validate_post`, :class:`RowError` — for code that reads
  dataset files without storing them (the engagement benchmarks).
- :class:`Pseudonymizer` — keyed hashing of handles, e-mails and phone numbers.
"""

from __future__ import annotations

from pathlib import Path

from foundation.exceptions import InputError
from foundation.workspace._forget import forget_account
from foundation.workspace._formats import READERS, get_reader
from foundation.workspace._ingest import (
    IngestReport,
    RowError,
    ingest_rows,
    quarantine,
    validate_post,
)
from foundation.workspace._pseudonym import Pseudonymizer
from foundation.workspace._schema import MEDIA_TYPES, PLATFORM_NAMES, PLATFORMS, platform_name
from foundation.workspace._store import (
    Workspace,
    fetch_one,
    get_meta,
    record_audit,
    set_meta,
    utc_now,
)


def ingest_file(
    workspace: Workspace, path: Path, *, fmt: str, pseudonymizer: Pseudonymizer
) -> IngestReport:
    """Read ``path`` with the ``fmt`` reader and ingest every row.

    Raises:
        InputError: The file is missing or is not of the named format.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"no file at {path}; give the path of a CSV to ingest")
    reader = get_reader(fmt)
    with workspace.connect() as con:
        return ingest_rows(
            con, reader(path), source=f"{fmt}:{path.name}", pseudonymizer=pseudonymizer
        )


__all__ = [
    "MEDIA_TYPES",
    "PLATFORMS",
    "PLATFORM_NAMES",
    "READERS",
    "IngestReport",
    "Pseudonymizer",
    "RowError",
    "Workspace",
    "fetch_one",
    "forget_account",
    "get_meta",
    "get_reader",
    "ingest_file",
    "ingest_rows",
    "platform_name",
    "quarantine",
    "record_audit",
    "set_meta",
    "utc_now",
    "validate_post",
]
