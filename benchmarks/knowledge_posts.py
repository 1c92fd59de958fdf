"""The similar-posts index on the demo workspace: build, update and query times.

Works on a copy of a workspace (default: the configured one, built by ``beacon demo``),
so the real index is not touched. Measures the encoder load, a full build of the brand's
own posts, a no-change update, an incremental update after 20 texts change, opening
(checksum verification), and query latency p50/p95 by post id (no encoding) and by text
(one encoder call), each with a platform filter and the "still in the workspace" check
the bot uses. Also a near-duplicate check: each sampled post's text with its hashtags
removed must find a post with the same hashtag-free text first.

Run: ``.venv/bin/python -m benchmarks.knowledge_posts [--workspace FILE] [--out OUT.json]``
(default: docs/benchmarks/knowledge_posts.json, and the page rendered from it next to it).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._report import Run, add_out_argument
from foundation.settings import get_settings
from foundation.workspace import Workspace

HASHTAG = re.compile(r"\s*#\w+")


def _percentiles(seconds: list[float]) -> dict[str, float]:
    ms = np.array(seconds) * 1000
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p95_ms": round(float(np.percentile(ms, 95)), 2),
    }


def _plain(text: str) -> str:
    return " ".join(HASHTAG.sub("", text).split()).lower()


def _summary(report: Any) -> dict[str, Any]:
    """An update's report without its (temporary) folder."""
    return {k: v for k, v in report.to_dict().items() if k != "index_dir"}


def run(source: Path, queries: int, seed: int) -> dict[str, Any]:
    """Every measurement on a copy of the workspace at ``source``."""
    from analytics.embeddings import get_encoder
    from knowledge import PostIndex

    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Workspace(Path(tmp) / "beacon.duckdb")
        shutil.copy(source, workspace.path)
        started = time.perf_counter()
        get_encoder()
        result["encoder_load_s"] = round(time.perf_counter() - started, 2)

        full = PostIndex.update(workspace)
        result["full_build"] = _summary(full)
        again = PostIndex.update(workspace)
        result["no_change_update"] = _summary(again)
        started = time.perf_counter()
        index = PostIndex.open(full.index_dir)
        result["open_s"] = round(time.perf_counter() - started, 3)

        records = index._records
        rng = np.random.default_rng(seed)
        sample = [
            records[i]
            for i in rng.choice(len(records), size=min(queries, len(records)), replace=False)
        ]
        by_id, by_text = [], []
        hits = 0
        with workspace.connect() as con:
            for record in sample:
                started = time.perf_counter()
                index.similar(post_id=record.post_id, k=3, platform=record.platform, con=con)
                by_id.append(time.perf_counter() - started)
                query = _plain(record.text)
                started = time.perf_counter()
                found = index.similar(query, k=3, platform=record.platform, con=con)
                by_text.append(time.perf_counter() - started)
                hits += bool(found) and _plain(found[0].text) == query
        result["queries"] = len(sample)
        result["by_post_id"] = _percentiles(by_id)
        result["by_text"] = _percentiles(by_text)
        result["near_duplicate_hit_at_1"] = round(hits / len(sample), 3)
        edited = [record.post_id for record in PostIndex.open(full.index_dir)._records[:20]]
        with workspace.connect() as con:
            for post_id in edited:
                con.execute(
                    "UPDATE posts SET text = text || ' (edited)' WHERE post_id = ?", [post_id]
                )
        result["edited_posts"] = len(edited)
        result["incremental_update"] = _summary(PostIndex.update(workspace))

    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", type=Path, default=None, help="default: configured one")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    add_out_argument(parser, "knowledge_posts", "--json")
    args = parser.parse_args()
    source = args.workspace or get_settings().workspace_path
    if not source.is_file():
        raise SystemExit(f"no workspace at {source}; run `beacon demo` first")
    with Run(
        "knowledge_posts", out=args.out, packages=("faiss-cpu", "sentence-transformers")
    ) as record:
        record.results = run(source, args.queries, args.seed)
        print(json.dumps(record.results, indent=2))


if __name__ == "__main__":
    main()
