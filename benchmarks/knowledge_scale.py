"""FAISS index types at scale: build time, query latency and recall@10 vs exact search.

Real tweets (SemEval 2013–2016, ../shared/data/sentiment) are encoded with the shared
all-MiniLM-L6-v2; the corpus is grown to 10k / 100k / 1M vectors by adding Gaussian
noise to those real embeddings and re-normalising (encoding 1M texts is out of reach on
2 cores). Queries are held-out real tweets. Exact ``IndexFlatIP`` search is the baseline
and the ground truth; IVF and HNSW use the same builder as the knowledge base
(``knowledge._faiss.build_faiss_index`` with the default ``IndexConfig``).

Run: ``.venv/bin/python -m benchmarks.knowledge_scale --sizes 10000 100000 1000000``
(writes docs/benchmarks/knowledge_scale.json and .md; ``--out`` elsewhere).
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from benchmarks._report import Run, add_out_argument
from foundation.settings import get_settings
from knowledge import IndexConfig
from knowledge._faiss import build_faiss_index, search

NOISE_SIGMA = 0.03  # per dimension; a perturbed copy keeps cosine ≈ 0.85 with its tweet


def _tweets(data_dir: Path, n: int, seed: int) -> list[str]:
    texts: list[str] = []
    folder = data_dir / "sentiment" / "semeval2017-task4a"
    for path in sorted(folder.glob("twitter-201[3-6]*-A.tsv")):
        with path.open(encoding="utf-8", errors="replace") as handle:
            for row in csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
                if len(row) >= 3 and row[2].strip():
                    texts.append(row[2].strip())
    unique = sorted(set(texts))
    rng = np.random.default_rng(seed)
    picked = rng.choice(len(unique), size=min(n, len(unique)), replace=False)
    return [unique[i] for i in picked]


def _embeddings(
    n_base: int, n_queries: int, seed: int
) -> tuple[np.ndarray, np.ndarray, float | None]:
    """Base and query vectors, and the seconds spent encoding them (None: read from cache)."""
    settings = get_settings()
    if settings.data_dir is None:
        raise SystemExit("shared data not found: set BEACON_DATA_DIR")
    cache = settings.home / "cache" / f"tweet-embeddings-{n_base}-{n_queries}-{seed}.npz"
    if cache.is_file():
        with np.load(cache, allow_pickle=False) as saved:
            return saved["base"], saved["queries"], None
    from analytics.embeddings import encode

    texts = _tweets(settings.data_dir, n_base + n_queries, seed)
    started = time.perf_counter()
    vectors = encode(texts)
    encode_s = time.perf_counter() - started
    print(f"encoded {len(texts)} real tweets in {encode_s:.0f} s")
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, base=vectors[:n_base], queries=vectors[n_base:])
    return vectors[:n_base], vectors[n_base:], encode_s


def _corpus(base: np.ndarray, size: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.empty((size, base.shape[1]), dtype=np.float32)
    real = min(size, len(base))
    out[:real] = base[:real]
    for start in range(real, size, 100_000):
        stop = min(start + 100_000, size)
        rows = base[rng.integers(0, len(base), size=stop - start)]
        noisy = rows + rng.normal(0, NOISE_SIGMA, size=rows.shape).astype(np.float32)
        out[start:stop] = noisy / np.linalg.norm(noisy, axis=1, keepdims=True)
    return out


def _measure(
    kind: str,
    corpus: np.ndarray,
    queries: np.ndarray,
    truth: np.ndarray | None,
    config: IndexConfig,
    build_threads: int = 2,
    search_threads: int = 1,
) -> tuple[dict[str, Any], np.ndarray]:
    faiss.omp_set_num_threads(build_threads)
    started = time.perf_counter()
    index = build_faiss_index(corpus, config, kind=kind)
    build_s = time.perf_counter() - started
    faiss.omp_set_num_threads(search_threads)
    latencies = []
    found = np.empty((len(queries), 10), dtype=np.int64)
    for i, query in enumerate(queries):
        t0 = time.perf_counter()
        _, ids = search(index, query[None, :], 10, None, config)
        latencies.append(time.perf_counter() - t0)
        found[i] = ids[0]
    recall = (
        1.0
        if truth is None
        else float(np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)]))
    )
    p50, p95 = np.percentile(np.array(latencies) * 1000, [50, 95])
    bytes_ = faiss.serialize_index(index).nbytes
    del index
    return {
        "kind": kind,
        "build_s": round(build_s, 2),
        "p50_ms": round(float(p50), 3),
        "p95_ms": round(float(p95), 3),
        "recall@10": round(recall, 4),
        "size_mb": round(bytes_ / 2**20, 1),
    }, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--base", type=int, default=3000, help="Real tweets encoded.")
    parser.add_argument("--queries", type=int, default=200, help="Held-out query tweets.")
    parser.add_argument("--threads", type=int, default=2, help="Threads for encoding/building.")
    parser.add_argument(
        "--search-threads",
        type=int,
        default=1,
        help="OpenMP threads while searching (1 is fastest for one query at a time).",
    )
    parser.add_argument("--seed", type=int, default=0)
    add_out_argument(parser, "knowledge_scale", "--json")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    faiss.omp_set_num_threads(args.threads)
    with Run(
        "knowledge_scale", out=args.out, packages=("faiss-cpu", "numpy", "sentence-transformers")
    ) as run:
        run.results = measure(args)


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Every size and index kind; the rows and the settings they were measured with."""
    base, queries, encode_s = _embeddings(args.base, args.queries, args.seed)
    config = IndexConfig()
    print(
        f"config: nprobe={config.nprobe}, nlist=4·sqrt(n), HNSW M={config.hnsw_m}, "
        f"efConstruction={config.ef_construction}, efSearch={config.ef_search}; "
        f"{len(queries)} queries; {args.threads} build threads, "
        f"{args.search_threads} search thread(s)\n"
    )
    print(
        "| vectors | index | build s | query p50 ms | query p95 ms | recall@10 | size MB |"
        " p50 vs flat |"
    )
    print("|---|---|---|---|---|---|---|---|")
    rows = []
    for size in args.sizes:
        corpus = _corpus(base, size, args.seed + size)
        flat, truth = _measure(
            "flat", corpus, queries, None, config, args.threads, args.search_threads
        )
        for kind in ("flat", "ivf", "hnsw"):
            row = (
                flat
                if kind == "flat"
                else _measure(
                    kind, corpus, queries, truth, config, args.threads, args.search_threads
                )[0]
            )
            row = {"vectors": size, **row, "p50_vs_flat": round(row["p50_ms"] / flat["p50_ms"], 3)}
            rows.append(row)
            print(
                f"| {size:,} | {kind} | {row['build_s']:.2f} | {row['p50_ms']:.2f} | "
                f"{row['p95_ms']:.2f} | {row['recall@10']:.3f} | {row['size_mb']:.0f} | "
                f"{row['p50_vs_flat']:.2f}× |",
                flush=True,
            )
        del corpus
    return {
        "real_tweets": len(base),
        "queries": len(queries),
        "encode_s": encode_s,
        "dimensions": int(base.shape[1]),
        "noise_sigma": NOISE_SIGMA,
        "build_threads": args.threads,
        "search_threads": args.search_threads,
        "config": config.to_json(),
        "rows": rows,
    }


if __name__ == "__main__":
    main()
