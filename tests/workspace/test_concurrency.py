"""Many processes on one workspace: short locks, the journal, and friendly busy errors.

A helper process (``python -c``) stands in for a batch job or a second reader, so the
DuckDB file lock is the real one between processes.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from analytics.sentiment import LABELS
from beacon.scoring import score_posts
from foundation.exceptions import WorkspaceBusy, WorkspaceError
from foundation.workspace import Pseudonymizer, Workspace, ingest_file
from tests.fakes.batch_job import lock_held_by_another_process
from tests.leaks import leaks

KEY = b"k" * 32


def read_in_another_process(path: Path, sql: str) -> object:
    """Run one read-only query in a fresh process (fails if the file stays locked)."""
    code = (
        "import duckdb, json, sys\n"
        f"con = duckdb.connect({str(path)!r}, read_only=True)\n"
        f"print(json.dumps(con.execute({sql!r}).fetchall()[0][0]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr[-500:]
    return json.loads(done.stdout)


def wait_until(condition: object, limit_s: float = 20.0) -> bool:
    """Poll ``condition`` (a callable) until it holds or ``limit_s`` passes."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    ws = Workspace(tmp_path / "beacon.duckdb", lock_wait=0.3)
    with ws.connect():
        pass  # create the tables
    return ws


def audit_kinds(workspace: Workspace) -> list[str]:
    with workspace.connect(read_only=True) as con:
        return [row[0] for row in con.execute("SELECT kind FROM audit ORDER BY kind").fetchall()]


def test_rows_kept_while_another_process_writes_reach_the_workspace_after_it(
    workspace: Workspace,
) -> None:
    with lock_held_by_another_process(workspace.path):
        audit_id = workspace.record_audit(kind="answer", inputs={"q": 1}, output="42")
        workspace.keep("support_ratings", [["r1", "2026-12-01T10:00:00", "conv", 4]])
        assert workspace.journal.has_rows()
        with pytest.raises(WorkspaceBusy):
            audit_kinds(workspace)
    assert wait_until(lambda: not workspace.journal.has_rows())
    with workspace.connect(read_only=True) as con:
        assert con.execute("SELECT audit_id FROM audit").fetchall() == [(audit_id,)]
        assert con.execute("SELECT rating FROM support_ratings").fetchall() == [(4,)]


def test_a_busy_workspace_says_so_in_one_sentence_without_a_path(workspace: Workspace) -> None:
    with (
        lock_held_by_another_process(workspace.path),
        pytest.raises(WorkspaceBusy) as caught,
        workspace.connect(read_only=True),
    ):
        pass
    message = str(caught.value)
    assert "busy" in message and "\n" not in message
    assert not leaks(message), leaks(message)
    assert str(workspace.path.parent) not in message


def test_a_missing_or_damaged_workspace_gives_a_clear_error_without_a_path(tmp_path: Path) -> None:
    missing = Workspace(tmp_path / "none.duckdb")
    with pytest.raises(WorkspaceError, match="beacon demo") as caught, missing.connect(True):
        pass
    assert not leaks(str(caught.value))
    damaged = tmp_path / "damaged.duckdb"
    damaged.write_bytes(b"this is not a database" * 100)
    with (
        pytest.raises(WorkspaceError, match="not a DuckDB database") as caught,
        Workspace(damaged).connect(),
    ):
        pass
    assert not leaks(str(caught.value))


def test_a_journal_left_by_a_dead_process_is_written_by_the_next_one(
    workspace: Workspace,
) -> None:
    dead_pid = 2**22 + 7  # above Linux's default pid_max: no process has it
    workspace.journal.directory.mkdir(parents=True, exist_ok=True)
    orphan = workspace.journal.directory / f"{dead_pid}.jsonl"
    rows = [
        {"table": "support_ratings", "row": ["r9", "2026-12-01T10:00:00", "conv", 5]},
        {"table": "meta", "row": ["brand", '"evil"']},  # not a journal table: skipped
    ]
    orphan.write_text(
        "\n".join(json.dumps(r) for r in rows) + '\n{"table": "audit", "row": [1, 2'  # cut short
    )
    workspace.keep("support_ratings", [["r1", "2026-12-01T11:00:00", "conv", 3]])
    assert wait_until(lambda: not workspace.journal.has_rows())
    with workspace.connect(read_only=True) as con:
        ratings = con.execute("SELECT rating_id FROM support_ratings ORDER BY 1").fetchall()
        brand = con.execute("SELECT count(*) FROM meta WHERE key = 'brand'").fetchall()
    assert ratings == [("r1",), ("r9",)]
    assert brand == [(0,)]
    assert not orphan.exists()  # emptied and removed: its process is gone


def test_a_row_written_twice_is_stored_once(workspace: Workspace) -> None:
    row = ["r1", "2026-12-01T10:00:00", "conv", 4]
    workspace.keep("support_ratings", [row])
    workspace.keep("support_ratings", [row])
    with workspace.connect(read_only=True) as con:
        assert con.execute("SELECT count(*) FROM support_ratings").fetchall() == [(1,)]


def test_the_journal_refuses_unknown_tables_and_wrong_widths(workspace: Workspace) -> None:
    with pytest.raises(ValueError, match="not a journal table"):
        workspace.keep("meta", [["brand", "x"]])
    with pytest.raises(ValueError, match="4 values, got 2"):
        workspace.keep("support_ratings", [["r1", 4]])


def test_a_recreated_file_gets_its_tables_again(tmp_path: Path) -> None:
    path = tmp_path / "beacon.duckdb"
    with Workspace(path).connect():
        pass
    path.unlink()
    with Workspace(path).connect() as con:
        tables = {row[0] for row in con.execute("SHOW TABLES").fetchall()}
    assert {"posts", "scores", "audit", "feedback"} <= tables


class CountingScorer:
    """A sentiment scorer that counts model passes (``beacon score`` should make one)."""

    version = "counting-1"

    def __init__(self) -> None:
        self.proba_calls = 0
        self.predict_calls = 0

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        self.proba_calls += 1
        proba = np.full((len(texts), 3), 0.2)
        proba[:, 2] = 0.6
        return proba

    def predict(self, texts: Sequence[str]) -> list[str]:
        self.predict_calls += 1
        return ["positive"] * len(texts)

    @staticmethod
    def labels_from_proba(proba: np.ndarray) -> list[str]:
        return [LABELS[i] for i in proba.argmax(axis=1)]


def write_posts(path: Path, n: int) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["platform", "account", "text", "posted_at", "likes", "comments", "shares"])
        for i in range(n):
            writer.writerow(["twitter", f"user{i % 7}", f"post number {i}", "2026-11-01", 1, 0, 0])
    return path


def test_ingest_and_score_let_other_processes_read_between_batches(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("foundation.workspace.INGEST_BATCH_ROWS", 40)
    seen_posts: list[object] = []
    report = ingest_file(
        workspace,
        write_posts(tmp_path / "posts.csv", 100),
        fmt="canonical",
        pseudonymizer=Pseudonymizer(KEY),
        on_batch=lambda _n: seen_posts.append(
            read_in_another_process(workspace.path, "SELECT count(*) FROM posts")
        ),
    )
    assert report.stored == 100
    assert seen_posts == [40, 80, 100]  # each batch committed, and the lock let go

    scorer = CountingScorer()
    seen_scores: list[object] = []
    scored = score_posts(
        workspace,
        scorer,
        batch_size=30,
        on_batch=lambda _n: seen_scores.append(
            read_in_another_process(workspace.path, "SELECT count(*) FROM scores")
        ),
    )
    assert scored.scored == 100
    assert seen_scores == [30, 60, 90, 100]
    assert (scorer.proba_calls, scorer.predict_calls) == (4, 0)  # one model pass per batch
    with workspace.connect(read_only=True) as con:
        assert con.execute("SELECT DISTINCT sentiment_label FROM scores").fetchall() == [
            ("positive",)
        ]


def test_the_committed_model_labels_match_its_probabilities() -> None:
    from beacon.scoring import current_scorer, score_with_labels

    scorer = current_scorer()
    texts = ["I love these shoes", "worst delivery ever", "the store opens at nine"]
    labels, proba = score_with_labels(scorer, texts)
    assert labels == scorer.predict(texts)
    np.testing.assert_allclose(proba, scorer.predict_proba(texts))


def test_journal_files_are_private_to_the_user(workspace: Workspace) -> None:
    workspace.keep("support_ratings", [["r1", "2026-12-01T10:00:00", "conv", 4]])
    mode = os.stat(workspace.journal.directory).st_mode & 0o777
    assert mode & 0o007 == 0, oct(mode)
