"""Engagement ensemble benchmark: members vs ensemble vs the trailing median, latency, throughput.

Run from the project root (needs ../shared/data or $BEACON_DATA_DIR)::

    python -m benchmarks.engagement [--datasets elon-musk-tweets,...] [--out docs/benchmarks/engagement.json]

Each dataset is split by time (latest 25% of posts for testing). Embeddings are
cached under var/cache/engagement, so a second run does not re-encode.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import timedelta
from pathlib import Path

import numpy as np

DATASETS = {
    "elon-musk-tweets": ["elon-musk-tweets/2018.csv"],
    "fivethirtyeight-twitter-ratio": [
        "fivethirtyeight-twitter-ratio/BarackObama.csv",
        "fivethirtyeight-twitter-ratio/realDonaldTrump.csv",
    ],
    "reddit-vaccine-myths": ["reddit-vaccine-myths/reddit_vm.csv"],
    "instagram": ["instagram/instagram-likes-followers.csv"],
    "facebook-brand-posts": ["facebook-brand-posts/dataset_Facebook.csv"],
    "vaccination-tweets": ["vaccination-tweets/vaccination_tweets.csv"],
}


def main() -> None:
    import pandas as pd
    import torch

    from analytics.embeddings import encode
    from analytics.engagement import Draft, EngagementModel, evaluate, read_posts, time_split
    from beacon.settings import get_settings

    torch.set_num_threads(2)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", default=",".join(list(DATASETS)[:5]))
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks/engagement.json"))
    parser.add_argument("--latency-calls", type=int, default=30)
    args = parser.parse_args()
    settings = get_settings()
    if settings.data_dir is None:
        raise SystemExit("no shared data: set BEACON_DATA_DIR")
    root = Path(settings.data_dir) / "engagement"
    cache = settings.home / "cache" / "engagement"
    results: dict[str, object] = {}
    models = {}
    for name in args.datasets.split(","):
        posts = pd.concat([read_posts(root / f, name) for f in DATASETS[name]], ignore_index=True)
        train, test = time_split(posts.drop_duplicates("post_id"), 0.25)
        start = time.perf_counter()
        report, model = evaluate(
            train, test, EngagementModel(cache_dir=cache),
            reliability_path=Path(f"docs/benchmarks/engagement-reliability-{name}.png"), title=name,
        )  # fmt: skip
        payload = report.to_dict()
        payload["seconds"] = round(time.perf_counter() - start, 1)
        results[name] = payload
        models[name] = (model, test)
        best = max(m.roc_auc for m in report.members.values())
        print(
            f"{name}: n_train={report.n_train} n_test={report.n_test} ensemble AUC "
            f"{report.ensemble.roc_auc:.3f} (best member {best:.3f}, naive "
            f"{report.baseline.roc_auc:.3f}) Brier {report.ensemble.brier:.3f} ECE "
            f"{report.ensemble.ece:.3f}",
            flush=True,
        )

    # Latency of one predict + explain, and batch throughput, on the first dataset with text.
    name = next(n for n in models if n not in {"instagram", "facebook-brand-posts"})
    model, test = models[name]
    texts = [str(t) for t in test["text"].tolist()[:300]]
    account = str(test["account"].iloc[-1])
    when = pd.Timestamp(test["posted_at"].max()).to_pydatetime() + timedelta(hours=1)
    drafts = [Draft(t, account=account, posted_at=when) for t in texts]
    for draft in drafts[:3]:  # warm-up
        model.explain(draft)
    timings = []
    for draft in drafts[3 : 3 + args.latency_calls]:
        start = time.perf_counter()
        model.predict([draft])
        model.explain(draft)
        timings.append(1000 * (time.perf_counter() - start))
    start = time.perf_counter()
    encode(texts)
    encode_rate = len(texts) / (time.perf_counter() - start)
    model.cache_dir = None
    start = time.perf_counter()
    model.predict(drafts)
    predict_rate = len(drafts) / (time.perf_counter() - start)
    results["latency"] = {
        "dataset": name,
        "predict_plus_explain_ms_p50": round(float(np.percentile(timings, 50)), 1),
        "predict_plus_explain_ms_p95": round(float(np.percentile(timings, 95)), 1),
        "batch_predict_posts_per_s": round(predict_rate, 1),
        "raw_embedding_texts_per_s": round(encode_rate, 1),
        "ratio_predict_to_embedding": round(predict_rate / encode_rate, 3),
    }
    print(json.dumps(results["latency"], indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
