"""Retrieval quality of the knowledge base on the question set; calibrates the "not found" threshold.

Indexes the Mailchimp content style guide (../shared/data/knowledge) and the Trailbird
demo documents (data/knowledge) into one temporary index, then measures recall@1/@3/@5
and MRR@10 for dense, BM25, fused (RRF) and fused + MMR retrieval, with dense as the
baseline; and picks the best-passage cosine threshold that best separates answerable
from unanswerable questions.

Run: ``.venv/bin/python -m benchmarks.knowledge_quality [--out OUT.json]``
(default: docs/benchmarks/knowledge_quality.json, and the page rendered from it next to it).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from benchmarks._report import Run, add_out_argument
from foundation.settings import PROJECT_ROOT, get_settings
from knowledge import KnowledgeBase, build_index, fixed_collection
from knowledge._kb import DEFAULT_MIN_SCORE, DEFAULT_MMR_LAMBDA

QUESTIONS = Path(__file__).with_name("knowledge_questions.yml")
#: The issue's target for the default retriever.
TARGET_RECALL_AT_3 = 0.9
MMR_LAMBDAS = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
CONFIGS: list[tuple[str, dict[str, Any]]] = [
    ("dense (baseline)", {"mode": "dense", "mmr": False}),
    ("bm25", {"mode": "bm25", "mmr": False}),
    ("fused (RRF)", {"mode": "hybrid", "mmr": False}),
    ("fused + MMR (default)", {"mode": "hybrid", "mmr": True}),
]


def _ranks(
    kb: KnowledgeBase, items: list[dict[str, str]], vectors: np.ndarray, **kwargs: Any
) -> list[int | None]:
    ranks: list[int | None] = []
    for item, vector in zip(items, vectors, strict=True):
        passages = kb.search(item["q"], k=10, query_vector=vector, **kwargs)
        rank = next(
            (
                p.rank
                for p in passages
                if p.source == item["source"] and item["section"] in p.section_path.split(" > ")
            ),
            None,
        )
        ranks.append(rank)
    return ranks


def _metrics(ranks: list[int | None]) -> dict[str, float]:
    n = len(ranks)
    return {
        "recall@1": sum(1 for r in ranks if r is not None and r <= 1) / n,
        "recall@3": sum(1 for r in ranks if r is not None and r <= 3) / n,
        "recall@5": sum(1 for r in ranks if r is not None and r <= 5) / n,
        "mrr@10": sum(1.0 / r for r in ranks if r is not None) / n,
    }


def _calibrate(pos: np.ndarray, neg: np.ndarray) -> tuple[float, float]:
    """Threshold maximising balanced accuracy (midpoint between neighbouring scores)."""
    values = np.unique(np.concatenate([pos, neg]))
    candidates = (values[:-1] + values[1:]) / 2
    best_t, best_acc = float(candidates[0]), -1.0
    for t in candidates:
        acc = 0.5 * ((pos >= t).mean() + (neg < t).mean())
        if acc > best_acc + 1e-12:
            best_t, best_acc = float(t), float(acc)
    return best_t, best_acc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_out_argument(parser, "knowledge_quality", "--json")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(2)
    with Run(
        "knowledge_quality", out=args.out, packages=("faiss-cpu", "sentence-transformers")
    ) as run:
        run.results = measure()


def _group(source: str, mailchimp: Path) -> str:
    """Which part of the corpus answers: the style guide, or the demo's public/internal files."""
    return "styleguide" if (mailchimp / source).is_file() else source.split("/", 1)[0]


def measure() -> dict[str, Any]:
    """Index the corpus, then every retrieval mode, the MMR sweep, the threshold, latency."""
    settings = get_settings()
    if settings.data_dir is None:
        raise SystemExit("shared data not found: set BEACON_DATA_DIR")
    mailchimp = settings.data_dir / "knowledge" / "mailchimp-content-style-guide"
    demo = PROJECT_ROOT / "data" / "knowledge"
    spec = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))
    items: list[dict[str, str]] = spec["answerable"]
    negatives: list[str] = spec["unanswerable"]

    with tempfile.TemporaryDirectory() as tmp:
        index = Path(tmp) / "index"
        started = time.perf_counter()
        r1 = build_index(mailchimp, index, collection_rule=fixed_collection("styleguide"))
        r2 = build_index(demo, index)
        build_s = time.perf_counter() - started
        kb = KnowledgeBase.open(index)
        print(
            f"indexed {r1.added + r2.added} documents, {kb.size} passages in {build_s:.1f} s "
            "(encoder load included)"
        )
        print(f"{len(items)} answerable and {len(negatives)} unanswerable questions\n")

        vectors = kb._embed([item["q"] for item in items])
        groups: dict[str, int] = {}
        for item in items:
            group = _group(item["source"], mailchimp)
            groups[group] = groups.get(group, 0) + 1
        results: dict[str, Any] = {
            "documents": r1.added + r2.added,
            "styleguide_documents": r1.added,
            "demo_documents": r2.added,
            "passages": kb.size,
            "build_s": round(build_s, 1),
            "answerable": len(items),
            "answerable_by_corpus": groups,
            "unanswerable": len(negatives),
            "targets": {"recall@3_min": TARGET_RECALL_AT_3},
            "default_mmr_lambda": DEFAULT_MMR_LAMBDA,
        }
        rows = {}
        for name, kwargs in CONFIGS:
            rows[name] = _metrics(_ranks(kb, items, vectors, **kwargs))
        base = rows["dense (baseline)"]
        print("| retrieval | recall@1 | recall@3 | recall@5 | MRR@10 | recall@3 vs dense |")
        print("|---|---|---|---|---|---|")
        for name, m in rows.items():
            ratio = m["recall@3"] / base["recall@3"] if base["recall@3"] else float("nan")
            print(
                f"| {name} | {m['recall@1']:.3f} | {m['recall@3']:.3f} | {m['recall@5']:.3f} "
                f"| {m['mrr@10']:.3f} | {ratio:.2f}× |"
            )
        results["retrieval"] = [
            {"retriever": name, **m, "recall@3_vs_dense": m["recall@3"] / base["recall@3"]}
            for name, m in rows.items()
        ]

        print("\nMMR lambda sweep (fused + MMR):")
        sweep = {}
        for lam in MMR_LAMBDAS:
            kb.mmr_lambda = lam
            sweep[lam] = _metrics(_ranks(kb, items, vectors, mode="hybrid", mmr=True))
            print(
                f"  lambda={lam:.1f}: recall@3={sweep[lam]['recall@3']:.3f} "
                f"recall@5={sweep[lam]['recall@5']:.3f} mrr={sweep[lam]['mrr@10']:.3f}"
            )
        results["mmr_sweep"] = [{"lambda": k, **v} for k, v in sweep.items()]
        kb.mmr_lambda = DEFAULT_MMR_LAMBDA

        misses = [
            (item["q"], kb.search(item["q"], k=3, query_vector=v)[0])
            for item, v, r in zip(
                items, vectors, _ranks(kb, items, vectors, mode="hybrid", mmr=True), strict=True
            )
            if r is None or r > 3
        ]
        if misses:
            print("\nmisses at @3 (question → top passage):")
            for q, top in misses:
                print(f"  {q!r} → {top.source} › {top.section}")
        results["misses_at_3"] = [
            {"question": q, "top_source": top.source, "top_section": top.section}
            for q, top in misses
        ]

        pos = np.array(
            [
                max(p.score for p in kb.search(i["q"], k=5, query_vector=v))
                for i, v in zip(items, vectors, strict=True)
            ]
        )
        neg_vectors = kb._embed(negatives)
        neg = np.array(
            [
                max((p.score for p in kb.search(q, k=5, query_vector=v)), default=0.0)
                for q, v in zip(negatives, neg_vectors, strict=True)
            ]
        )
        threshold, accuracy = _calibrate(pos, neg)
        print(
            f"\nbest-passage cosine: answerable min {pos.min():.3f} / median "
            f"{np.median(pos):.3f}; unanswerable max {neg.max():.3f} / median "
            f"{np.median(neg):.3f}"
        )
        print(
            f"calibrated threshold {threshold:.3f} (balanced accuracy {accuracy:.3f}); "
            f"in use: {DEFAULT_MIN_SCORE:.3f} → answerable kept "
            f"{(pos >= DEFAULT_MIN_SCORE).mean():.3f}, unanswerable refused "
            f"{(neg < DEFAULT_MIN_SCORE).mean():.3f}"
        )
        results["threshold"] = {
            "answerable_min": float(pos.min()),
            "answerable_median": float(np.median(pos)),
            "unanswerable_max": float(neg.max()),
            "unanswerable_median": float(np.median(neg)),
            "unanswerable_let_through": [
                {"question": q, "score": float(score)}
                for q, score in zip(negatives, neg, strict=True)
                if score >= DEFAULT_MIN_SCORE
            ],
            "calibrated": threshold,
            "balanced_accuracy": accuracy,
            "in_use": DEFAULT_MIN_SCORE,
            "answerable_kept": float((pos >= DEFAULT_MIN_SCORE).mean()),
            "unanswerable_refused": float((neg < DEFAULT_MIN_SCORE).mean()),
        }

        latencies = []
        for item in items:
            t0 = time.perf_counter()
            kb.ask(item["q"])
            latencies.append(time.perf_counter() - t0)
        p50, p95 = np.percentile(np.array(latencies) * 1000, [50, 95])
        print(f"\nkb.ask latency (extractive, encoder warm): p50 {p50:.0f} ms, p95 {p95:.0f} ms")
        results["ask_ms"] = {"p50": round(float(p50), 1), "p95": round(float(p95), 1)}
        searches = []  # the search alone: query embedded beforehand
        for item, vector in zip(items, vectors, strict=True):
            t0 = time.perf_counter()
            kb.search(item["q"], k=3, query_vector=vector)
            searches.append(time.perf_counter() - t0)
        p50, p95 = np.percentile(np.array(searches) * 1000, [50, 95])
        print(f"search alone (query vector given): p50 {p50:.2f} ms, p95 {p95:.2f} ms")
        results["search_ms"] = {"p50": round(float(p50), 3), "p95": round(float(p95), 3)}
    return results


if __name__ == "__main__":
    main()
