"""File readers for ``beacon ingest --format NAME``.

A reader turns a file into ``(line_no, raw_row)`` pairs whose keys are the
canonical post columns; validation happens once, in :mod:`._ingest`. To add a
dataset, write a reader and register it in :data:`READERS`.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from foundation.exceptions import InputError, UnknownFormatError
from foundation.workspace._datasets import DATASET_READERS
from foundation.workspace._textio import open_text

RawRows = Iterator[tuple[int, dict[str, Any]]]
Reader = Callable[[Path], RawRows]

CANONICAL_REQUIRED = ("platform", "account", "text", "posted_at", "likes", "comments", "shares")


def read_canonical(path: Path) -> RawRows:
    """The canonical CSV: one post per row with the ``posts`` column names.

    Required columns: platform, account, text, posted_at, likes, comments, shares;
    optional: post_id, followers, views, media_type, media_path, campaign_id.
    """
    with open_text(path) as handle:
        reader = csv.DictReader(handle)
        header = [name.strip() for name in (reader.fieldnames or [])]
        missing = [column for column in CANONICAL_REQUIRED if column not in header]
        if missing:
            raise InputError(
                f"{path.name} is not a canonical posts CSV: missing column(s) {', '.join(missing)} "
                f"(found {', '.join(header) or 'no header'}); see `beacon ingest --help`"
            )
        reader.fieldnames = header
        # Line numbers are 1-based file lines; the header is line 1.
        for row in reader:
            yield reader.line_num, {key: value for key, value in row.items() if key is not None}


READERS: dict[str, Reader] = {"canonical": read_canonical, **DATASET_READERS}


def get_reader(name: str) -> Reader:
    """The reader registered as ``name``."""
    try:
        return READERS[name]
    except KeyError:
        raise UnknownFormatError(
            f"unknown format {name!r}; expected one of: {', '.join(sorted(READERS))}"
        ) from None
