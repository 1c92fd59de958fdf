"""``beacon score`` next to the sentiment model alone, on the same posts.

    python -m benchmarks.scoring [--batch-size 512]

Builds a fresh demo workspace, then in the same run times (1) the sentiment model's
``predict_proba`` over every post's text, in ``beacon score``'s batch size and order:
the model's forward passes alone, the baseline; (2) ``beacon score``'s own code
(:func:`beacon.scoring.score_posts`), which reads the posts, runs the model once per
batch and writes each batch in its own short transaction; (3) the same with the old
two passes per batch (``predict_proba`` then ``predict``), for reference. Prints
posts/s and ratios to the baseline, writes docs/benchmarks/scoring.json and renders
docs/benchmarks/scoring.md (``--out`` elsewhere).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from beacon.demo import build_demo
from beacon.scoring import current_scorer, score_posts
from benchmarks._report import Run, add_out_argument
from foundation.workspace import Pseudonymizer, Workspace

#: The issue's target: ``beacon score`` at least this share of the model's own speed.
TARGET_VS_MODEL = 0.8


class TwoPasses:
    """The scorer as ``beacon score`` used it before: ``predict_proba``, then ``predict``."""

    def __init__(self, scorer: Any) -> None:
        self._scorer = scorer
        self.version = scorer.version + "+two-passes"

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(self._scorer.predict_proba(texts))

    def predict(self, texts: Sequence[str]) -> list[str]:
        return list(self._scorer.predict(texts))


def measure(batch_size: int) -> dict[str, Any]:
    scorer = current_scorer()
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Workspace(Path(tmp) / "beacon.duckdb")
        build_demo(workspace, Pseudonymizer(b"bench"), end_date=datetime.now(UTC).date())
        with workspace.connect(read_only=True) as con:
            texts = [
                str(row[0])
                for row in con.execute("SELECT text FROM posts ORDER BY post_id").fetchall()
            ]
        scorer.predict_proba(texts[:64])  # warm-up: threads, caches
        start = time.perf_counter()
        for i in range(0, len(texts), batch_size):
            scorer.predict_proba(texts[i : i + batch_size])
        model_s = time.perf_counter() - start
        rows: list[dict[str, Any]] = []
        for name, candidate in (("beacon score", scorer), ("two passes", TwoPasses(scorer))):
            start = time.perf_counter()
            report = score_posts(workspace, candidate, batch_size=batch_size)
            elapsed = time.perf_counter() - start
            rows.append({"path": name, "posts": report.scored, "seconds": elapsed})
    base_rate = len(texts) / model_s
    scored = [
        {
            **row,
            "posts_per_s": round(row["posts"] / row["seconds"], 1),
            "vs_model": round(row["posts"] / row["seconds"] / base_rate, 3),
        }
        for row in rows
    ]
    return {
        "posts_in_workspace": len(texts),
        "batch_size": batch_size,
        "model_version": scorer.version,
        "target_vs_model": TARGET_VS_MODEL,
        "baseline": {
            "path": "model alone",
            "posts": len(texts),
            "seconds": round(model_s, 2),
            "posts_per_s": round(base_rate, 1),
        },
        "rows": scored,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batch-size", type=int, default=512, help="posts per model call")
    add_out_argument(parser, "scoring", "--json")
    args = parser.parse_args()
    with Run("scoring", out=args.out, packages=("torch", "transformers", "duckdb")) as run:
        run.results = measure(args.batch_size)
        base = run.results["baseline"]
        print(f"model alone: {base['posts_per_s']:.1f} posts/s")
        for row in run.results["rows"]:
            print(f"{row['path']}: {row['posts_per_s']:.1f} posts/s ({row['vs_model']:.2f}×)")


if __name__ == "__main__":
    main()
