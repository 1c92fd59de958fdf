"""Sentiment benchmark: Beacon's model vs VADER vs MiniLM + logistic regression.

Run from the project root::

    python -m benchmarks.sentiment [--eval-sample N] [--baseline-train-sample N] [--throughput-n N]

Accuracy: each model on TweetEval's sentiment val split and on twitter-2016test-A (both
never trained on). The MiniLM + LR baseline is trained here on the same training tweets
as Beacon's model (raw texts, frozen embeddings, scikit-learn's LogisticRegression);
embeddings are cached under ``var/cache/sentiment/`` keyed by a hash of the texts.

Throughput: texts/s on the same tweets in the same run for VADER, the raw
sentence-transformers ``encode`` (batch 64) and Beacon's ``predict_proba`` (batch 256).
Needs the shared data (``BEACON_DATA_DIR`` or ../shared/data). Writes
docs/benchmarks/sentiment.json and renders docs/benchmarks/sentiment.md (``--out`` elsewhere).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._report import Run, add_out_argument

#: The issue's target: macro recall on both evaluation splits.
TARGET_MACRO_RECALL = 0.70
#: Published macro recall on TweetEval's sentiment *test* split (Barbieri et al., 2020,
#: and the TweetEval leaderboard), for orientation; its text is not in ../shared/data.
PUBLISHED_TWEETEVAL_TEST = {
    "VADER": 0.57,
    "SVM": 0.63,
    "RoBERTa-base": 0.71,
    "best published": 0.737,
}


def cached_encode(texts: Sequence[str], cache_dir: Path) -> np.ndarray:
    """MiniLM embeddings of ``texts`` (shape (n, 384)), cached as .npy by a hash of the texts."""
    from analytics.embeddings import ENCODER_NAME, encode

    digest = hashlib.sha256(ENCODER_NAME.encode())
    for text in texts:
        digest.update(text.encode("utf-8", "surrogatepass") + b"\x00")
    path = cache_dir / f"{digest.hexdigest()[:24]}.npy"
    if path.is_file():
        return np.asarray(np.load(path, allow_pickle=False))
    vectors = encode(list(texts), batch_size=64)
    cache_dir.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors, allow_pickle=False)
    return vectors


def _throughput(fn: object, texts: Sequence[str], batch_size: int) -> float:
    started = time.perf_counter()
    for start in range(0, len(texts), batch_size):
        fn(list(texts[start : start + batch_size]))  # type: ignore[operator]
    return len(texts) / (time.perf_counter() - started)


def _stored_metrics() -> dict[str, object]:
    """The evaluation metrics ``beacon sentiment train`` wrote next to the artifact."""
    import json

    from analytics.sentiment import SentimentMetrics, default_model_dir

    metadata = json.loads((default_model_dir() / "beacon-sentiment.json").read_text())
    out: dict[str, object] = {}
    for name, values in metadata.get("metrics", {}).items():
        out[name] = SentimentMetrics(
            split=name,
            n=int(values["n"]),
            macro_recall=float(values["macro_recall"]),
            macro_f1=float(values["macro_f1"]),
            accuracy=float(values["accuracy"]),
            confusion=tuple((int(a), int(b), int(c)) for a, b, c in values["confusion"]),
            ece=values["ece"],
        )
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print markdown tables and record the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--eval-sample", type=int, default=None, help="texts per split")
    parser.add_argument(
        "--baseline-train-sample",
        type=int,
        default=None,
        help="train MiniLM+LR on a random sample of this many training tweets (default: all)",
    )
    parser.add_argument("--throughput-n", type=int, default=2000, help="texts for timing")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument(
        "--recompute-beacon",
        action="store_true",
        help="re-score Beacon's model on the splits instead of reading the metrics that "
        "`beacon sentiment train` stored with the artifact (same files, same code)",
    )
    add_out_argument(parser, "sentiment")
    args = parser.parse_args(argv)

    import torch

    from foundation.settings import get_settings

    torch.set_num_threads(args.threads)
    data_dir = get_settings().data_dir
    if data_dir is None:
        print("shared data not found: set BEACON_DATA_DIR", file=sys.stderr)
        return 2
    with Run(
        "sentiment",
        out=args.out,
        argv=argv,
        packages=("torch", "sentence-transformers", "scikit-learn", "vaderSentiment"),
    ) as run:
        run.results = measure(args, data_dir)
    return 0


def measure(args: argparse.Namespace, data_dir: Path) -> dict[str, Any]:
    """Accuracy of the three models on both splits, and their throughput."""
    from sklearn.linear_model import LogisticRegression

    from analytics.embeddings import get_encoder
    from analytics.sentiment import (
        LABELS,
        VaderScorer,
        build_training_set,
        evaluate,
        evaluation_splits,
        load_default_scorer,
        score_split,
    )
    from analytics.sentiment._train import _sample
    from foundation.settings import PROJECT_ROOT

    cache_dir = PROJECT_ROOT / "var" / "cache" / "sentiment"
    val, test2016 = evaluation_splits(data_dir)
    splits = [_sample(val, args.eval_sample, 1), _sample(test2016, args.eval_sample, 1)]
    train, _ = build_training_set(data_dir, exclude=(val, test2016))
    train = _sample(train, args.baseline_train_sample, 0)

    beacon = load_default_scorer()
    vader = VaderScorer()
    rows: list[dict[str, Any]] = []

    t0 = time.perf_counter()
    train_vectors = cached_encode(train.texts, cache_dir)
    baseline = LogisticRegression(max_iter=3000, C=1.0)
    baseline.fit(train_vectors, list(train.labels))
    baseline_s = time.perf_counter() - t0
    print(
        f"MiniLM+LR baseline trained on {len(train)} tweets in {baseline_s:.0f}s", file=sys.stderr
    )

    stored = _stored_metrics()
    use_stored = not args.recompute_beacon and args.eval_sample is None
    baseline_name = f"minilm+logreg (trained on {len(train)})"
    for split in splits:
        if use_stored and split.name in stored:
            rows.append(_row("beacon", f"{beacon.version} (stored)", stored[split.name]))
        else:
            rows.append(_row("beacon", beacon.version, evaluate(beacon, split)))
        predicted = vader.predict(list(split.texts))
        rows.append(_row("vader", vader.version, score_split(split.name, split.labels, predicted)))
        vectors = cached_encode(split.texts, cache_dir)
        proba = baseline.predict_proba(vectors)
        order = [list(baseline.classes_).index(label) for label in LABELS]
        proba = proba[:, order]
        labels = [LABELS[i] for i in proba.argmax(axis=1)]
        rows.append(
            _row("baseline", baseline_name, score_split(split.name, split.labels, labels, proba))
        )

    print("## Accuracy\n")
    print("| split | model | n | macro recall | macro F1 | accuracy | ECE |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for row in rows:
        ece = "—" if row["ece"] is None else f"{row['ece']:.3f}"
        print(
            f"| {row['split']} | {row['name']} | {row['n']} | {row['macro_recall']:.3f} | "
            f"{row['macro_f1']:.3f} | {row['accuracy']:.3f} | {ece} |"
        )

    texts = list(_sample(test2016, args.throughput_n, 2).texts)
    encoder = get_encoder()
    beacon.predict_proba(texts[:64])  # warm-up
    encoder.encode(texts[:64])
    rates = [
        ("vader", "VADER (`predict`)", _throughput(vader.predict, texts, 256)),
        (
            "encoder",
            "sentence-transformers `encode` of the same texts (batch 64)",
            _throughput(lambda batch: encoder.encode(batch, batch_size=64), texts, 256),
        ),
        (
            "beacon",
            "Beacon `predict_proba` (batch 256)",
            _throughput(beacon.predict_proba, texts, 256),
        ),
    ]
    beacon_rate = rates[-1][2]
    print(f"\n## Throughput ({len(texts)} tweets from {test2016.name})\n")
    print("| what | texts/s | Beacon ÷ this |")
    print("|---|---:|---:|")
    for _, name, rate in rates:
        print(f"| {name} | {rate:,.0f} | {beacon_rate / rate:.3g}× |")
    return {
        "model": beacon.version,
        "vader": vader.version,
        "eval_sample": args.eval_sample,
        "baseline_train_n": len(train),
        "baseline_train_s": round(baseline_s, 1),
        "threads": args.threads,
        "targets": {"macro_recall_min": TARGET_MACRO_RECALL},
        "published_tweeteval_test": PUBLISHED_TWEETEVAL_TEST,
        "accuracy": rows,
        "full_splits_stored": [
            _row("beacon", beacon.version, metrics) for metrics in stored.values()
        ],
        "throughput": {
            "split": test2016.name,
            "texts": len(texts),
            "rows": [
                {
                    "kind": kind,
                    "name": name,
                    "texts_per_s": rate,
                    "beacon_over_this": beacon_rate / rate,
                }
                for kind, name, rate in rates
            ],
        },
    }


def _row(kind: str, name: str, metrics: Any) -> dict[str, Any]:
    return {
        "kind": kind,
        "name": name,
        "split": metrics.split,
        "n": metrics.n,
        "macro_recall": metrics.macro_recall,
        "macro_f1": metrics.macro_f1,
        "accuracy": metrics.accuracy,
        "ece": metrics.ece,
    }


if __name__ == "__main__":
    raise SystemExit(main())
