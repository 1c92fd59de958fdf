"""Posts files → the canonical posts frame, through the same readers and checks as ``beacon ingest``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from analytics.exceptions import AnalysisInputError
from foundation.workspace import Pseudonymizer, RowError, get_reader, validate_post

EVALUATION_KEY = b"beacon-engagement-evaluation"


def read_posts(path: Path, fmt: str, pseudonymizer: Pseudonymizer | None = None) -> pd.DataFrame:
    """Read a posts file with a registered ingest format, validating every row.

    Rows the workspace would quarantine are left out; ``frame.attrs["rejected"]``
    counts them by reason. Handles and e-mails are pseudonymised (a fixed
    evaluation key unless ``pseudonymizer`` is given).

    Raises:
        AnalysisInputError: The file is missing or no row is valid.
    """
    path = Path(path)
    if not path.is_file():
        raise AnalysisInputError(f"no posts file at {path}; give the path of a CSV")
    pseudonymizer = pseudonymizer or Pseudonymizer(EVALUATION_KEY)
    now = datetime.now(UTC).replace(tzinfo=None)
    posts: list[dict[str, object]] = []
    rejected: dict[str, int] = {}
    for _, raw in get_reader(fmt)(path):
        try:
            posts.append(
                validate_post(
                    raw, source=f"{fmt}:{path.name}", pseudonymizer=pseudonymizer, ingested_at=now
                )
            )
        except RowError as error:
            reason = str(error).split(" (got")[0]
            rejected[reason] = rejected.get(reason, 0) + 1
    if not posts:
        raise AnalysisInputError(
            f"{path.name} holds no valid posts in format {fmt!r} (rejected: {rejected})"
        )
    frame = pd.DataFrame(posts).drop_duplicates("post_id").reset_index(drop=True)
    frame.attrs["rejected"] = rejected
    return frame


def time_split(posts: pd.DataFrame, test_fraction: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Earlier posts for training, the latest ``test_fraction`` of them for testing."""
    if not 0.05 <= test_fraction <= 0.8:
        raise ValueError(f"test fraction must be between 0.05 and 0.8 (got {test_fraction})")
    ordered = posts.sort_values("posted_at", kind="stable").reset_index(drop=True)
    cut = round(len(ordered) * (1 - test_fraction))
    return ordered.iloc[:cut].reset_index(drop=True), ordered.iloc[cut:].reset_index(drop=True)
