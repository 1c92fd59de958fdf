"""The DuckDB workspace: posts, scores, experiments, influencers, audit, quarantine.

Public surface:

- :class:`Workspace` — open the file (``with ws.connect() as con: ...``).
- :func:`ingest_file` — validated ingest of a posts file in a named format.
- :func:`forget_account` — remove one account's data everywhere;
  :func:`conversation_ids` and :func:`forget_conversation` — one chat's data;
  :func:`purge_older_than` — conversation data past the retention period;
  :func:`forget_tracker_events`, :func:`purge_tracker_events` — the same in Rasa's
  SQLite tracker store.
- :func:`insert_scores_from_parquet` — scores computed elsewhere (Spark), in one statement.
- :func:`record_audit`, :func:`get_meta`, :func:`set_meta`, :func:`fetch_one`.
- :data:`PLATFORMS` with their display names (:func:`platform_name`).
- :func:`get_reader`, :func:`validate_post`, :class:`RowError` — for code that reads
  dataset files without storing them (the engagement benchmarks).
- :class:`SharedRecord` (:func:`shared_record`) — the PostgreSQL record several
  replicas share (``BEACON_DATABASE_URL``); :class:`Workspace` sends to it and pulls
  from it by itself.
- :class:`Pseudonymizer` — keyed hashing of handles, e-mails and phone numbers;
  :func:`workspace_pseudonymizer` builds one after checking the workspace's key.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from foundation.exceptions import InputError
from foundation.workspace._forget import (
    conversation_ids,
    forget_account,
    forget_conversation,
    forget_tracker_events,
    purge_older_than,
    purge_tracker_events,
)
from foundation.workspace._formats import READERS, get_reader
from foundation.workspace._ingest import (
    POST_COLUMNS,
    IngestReport,
    PreparedPosts,
    RowError,
    ingest_rows,
    prepare_posts,
    quarantine,
    report_of,
    store_posts,
    validate_post,
)
from foundation.workspace._keys import key_fingerprint, workspace_pseudonymizer
from foundation.workspace._pseudonym import Pseudonymizer
from foundation.workspace._rows import fetch_one
from foundation.workspace._schema import MEDIA_TYPES, PLATFORM_NAMES, PLATFORMS, platform_name
from foundation.workspace._score_files import insert_scores_from_parquet
from foundation.workspace._shared import (
    SharedRecord,
    SharedRecordError,
    SharedRecordUnavailable,
    shared_record,
)
from foundation.workspace._store import (
    BATCH_LOCK_WAIT_SECONDS,
    TURN_LOCK_WAIT_SECONDS,
    Workspace,
    audit_row,
    default_pseudonymizer,
    get_meta,
    record_audit,
    set_meta,
    utc_now,
)

#: Posts written per short write transaction by :func:`ingest_file`.
INGEST_BATCH_ROWS = 2_000


def ingest_file(
    workspace: Workspace,
    path: Path,
    *,
    fmt: str,
    pseudonymizer: Pseudonymizer,
    on_batch: Callable[[int], None] | None = None,
) -> IngestReport:
    """Read ``path`` with the ``fmt`` reader and ingest every row.

    Args:
        workspace: Where the posts go.
        path: The file.
        fmt: A reader name from :data:`READERS`.
        pseudonymizer: Hashes handles, e-mails and phone numbers.
        on_batch: Called with the number of posts after each written batch.

    Raises:
        InputError: The file is missing or is not of the named format.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"no file at {path}; give the path of a CSV to ingest")
    reader = get_reader(fmt)
    source = f"{fmt}:{path.name}"
    # Read and validate outside the lock; write in short batches, so the bot keeps
    # reading the workspace while a large file goes in.
    prepared = prepare_posts(reader(path), source=source, pseudonymizer=pseudonymizer)
    posts = list(prepared.accepted.values())
    stored = 0
    for start in range(0, max(len(posts), 1), INGEST_BATCH_ROWS):
        with workspace.connect(wait=BATCH_LOCK_WAIT_SECONDS) as con:
            stored += store_posts(con, posts[start : start + INGEST_BATCH_ROWS])
            if start == 0:
                quarantine(con, prepared.rejected, source=source, pseudonymizer=pseudonymizer)
        if on_batch is not None:
            on_batch(min(INGEST_BATCH_ROWS, len(posts) - start))
    return report_of(prepared, source=source, stored=stored)


__all__ = [
    "BATCH_LOCK_WAIT_SECONDS",
    "MEDIA_TYPES",
    "PLATFORMS",
    "PLATFORM_NAMES",
    "POST_COLUMNS",
    "READERS",
    "TURN_LOCK_WAIT_SECONDS",
    "IngestReport",
    "PreparedPosts",
    "Pseudonymizer",
    "RowError",
    "SharedRecord",
    "SharedRecordError",
    "SharedRecordUnavailable",
    "Workspace",
    "audit_row",
    "conversation_ids",
    "default_pseudonymizer",
    "fetch_one",
    "forget_account",
    "forget_conversation",
    "forget_tracker_events",
    "get_meta",
    "get_reader",
    "ingest_file",
    "ingest_rows",
    "insert_scores_from_parquet",
    "key_fingerprint",
    "platform_name",
    "prepare_posts",
    "purge_older_than",
    "purge_tracker_events",
    "quarantine",
    "record_audit",
    "report_of",
    "set_meta",
    "shared_record",
    "store_posts",
    "utc_now",
    "validate_post",
    "workspace_pseudonymizer",
]
