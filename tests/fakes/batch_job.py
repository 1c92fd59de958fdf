"""Other processes on the workspace: a batch job writing in short batches, or one
holding the file's lock for as long as a test needs.

Real processes (``python -c``), so the DuckDB file lock between them is the real one.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from foundation.workspace import Workspace
from tests.conftest import PROJECT_ROOT


@contextmanager
def lock_held_by_another_process(path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holds ``path`` read-write until the block ends."""
    code = textwrap.dedent(
        f"""
        import duckdb, sys
        con = duckdb.connect({str(path)!r})
        print("held", flush=True)
        sys.stdin.readline()
        con.close()
        """
    )
    with subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as process:
        assert process.stdout is not None and process.stdin is not None
        try:
            assert process.stdout.readline().strip() == "held"
            yield process
        finally:
            process.stdin.close()
            process.wait(timeout=30)


@contextmanager
def scoring_job(
    path: Path, *, batches: int, seconds_per_batch: float
) -> Iterator[subprocess.Popen[str]]:
    """``beacon score``'s own code (:func:`beacon.scoring.score_posts`) in another process.

    Its scorer is a stand-in that takes ``seconds_per_batch`` per batch (the encoder's
    time on 2 cores) under its own model version, so its scores never change an answer.
    The block ends when the job is done; the job's scores are removed afterwards.
    """
    code = textwrap.dedent(
        f"""
        import sys, time
        import numpy as np
        from beacon.scoring import score_posts
        from foundation.workspace import Workspace

        class SlowScorer:
            version = "batch-job-test"
            def predict_proba(self, texts):
                time.sleep({seconds_per_batch!r})
                return np.tile([0.2, 0.5, 0.3], (len(texts), 1))
            @staticmethod
            def labels_from_proba(proba):
                return ["neutral"] * len(proba)

        workspace = Workspace({str(path)!r})
        with workspace.connect(read_only=True) as con:
            total = con.execute("SELECT count(*) FROM posts").fetchall()[0][0]
        batch_size = max(1, total // {batches})
        print("started", flush=True)
        report = score_posts(workspace, SlowScorer(), batch_size=batch_size)
        print("scored", report.scored, flush=True)
        """
    )
    with subprocess.Popen(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True
    ) as process:
        assert process.stdout is not None
        try:
            assert process.stdout.readline().strip() == "started"
            yield process
        finally:
            process.wait(timeout=300)
            with Workspace(path).connect() as con:
                con.execute("DELETE FROM scores WHERE model_version = 'batch-job-test'")
