"""Engagement ensemble benchmark: members vs ensemble vs the trailing median, latency, throughput.

Run from the project root (needs ../shared/data or $BEACON_DATA_DIR)::

    python -m benchmarks.engagement [--datasets elon-musk-tweets,...] [--out docs/benchmarks/engagement.json]
    python -m benchmarks.engagement --latency-only [--profile 25]   # latency + throughput only

Each dataset is split by time (latest 25% of posts for testing). Embeddings are
cached under var/cache/engagement, so a second run does not re-encode.

``--seeds N`` (default 3) refits every dataset with seeds 1..N-1 and records the
spread of the ensemble's AUC, its gap to the best member and its ECE under
``seeds``: a difference smaller than that spread is not a finding.

``--latency-only`` fits only the latency dataset (the first of ``--datasets``
with text), measures one predict + explain per draft (p50/p95 after warm-up;
every draft a different post, so nothing is reused between calls), one
``recommend`` (p50 of 10: the search over posting times, media and wording) and batch
throughput next to the raw encoder, and replaces only the ``latency`` entry of
``--out``. ``--profile N`` also prints cProfile's N most expensive calls of the
timed loop.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

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
NO_TEXT = {"instagram", "facebook-brand-posts"}


def main() -> None:
    import pandas as pd
    import torch

    from analytics.embeddings import encode
    from analytics.engagement import Draft, EngagementModel, evaluate, read_posts, time_split
    from foundation.settings import get_settings

    torch.set_num_threads(2)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", default=",".join(list(DATASETS)[:5]))
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks/engagement.json"))
    parser.add_argument("--latency-calls", type=int, default=30)
    parser.add_argument("--latency-only", action="store_true")
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    parser.add_argument(
        "--seeds", type=int, default=3, help="seeds per dataset for the spread (default 3)"
    )
    args = parser.parse_args()
    if args.latency_calls < 1:
        parser.error(f"--latency-calls must be at least 1, got {args.latency_calls}")
    settings = get_settings()
    if settings.data_dir is None:
        raise SystemExit("no shared data: set BEACON_DATA_DIR")
    root = Path(settings.data_dir) / "engagement"
    cache = settings.home / "cache" / "engagement"
    results: dict[str, object] = {}
    models = {}
    names = args.datasets.split(",")
    if args.latency_only:
        names = [next(n for n in names if n not in NO_TEXT)]
    for name in names:
        posts = pd.concat([read_posts(root / f, name) for f in DATASETS[name]], ignore_index=True)
        train, test = time_split(posts.drop_duplicates("post_id"), 0.25)
        start = time.perf_counter()
        png = (
            None
            if args.latency_only
            else Path(f"docs/benchmarks/engagement-reliability-{name}.png")
        )
        report, model = evaluate(
            train, test, EngagementModel(cache_dir=cache), reliability_path=png, title=name
        )
        payload = report.to_dict()
        payload["seconds"] = round(time.perf_counter() - start, 1)
        if not args.latency_only and args.seeds > 1:
            payload["seeds"] = seed_spread(report, train, test, cache, args.seeds)
        results[name] = payload
        models[name] = (model, test)
        best = max(m.roc_auc for m in report.members.values())
        gap = report.extra["ensemble_vs_best_member"]
        print(
            f"{name}: n_train={report.n_train} n_test={report.n_test} ensemble AUC "
            f"{report.ensemble.roc_auc:.3f} (best member {best:.3f}, naive "
            f"{report.baseline.roc_auc:.3f}) Brier {report.ensemble.brier:.3f} ECE "
            f"{report.ensemble.ece:.3f}; ensemble − best member AUC "
            f"{gap['auc_difference']:+.3f} [95% CI {gap['ci95'][0]:+.3f}, {gap['ci95'][1]:+.3f}]",
            flush=True,
        )

    # Latency of one predict + explain, and batch throughput, on the first dataset with text.
    name = next(n for n in models if n not in NO_TEXT)
    model, test = models[name]
    texts = [str(t) for t in test["text"].tolist()[:300]]
    account = str(test["account"].iloc[-1])
    when = pd.Timestamp(test["posted_at"].max()).to_pydatetime() + timedelta(hours=1)
    drafts = [Draft(t, account=account, posted_at=when) for t in texts]
    for draft in drafts[:3]:  # warm-up
        model.explain(draft)
    timings = []
    profiler = cProfile.Profile() if args.profile else None
    for draft in drafts[3 : 3 + args.latency_calls]:
        if profiler:
            profiler.enable()
        start = time.perf_counter()
        model.predict([draft])
        model.explain(draft)
        timings.append(1000 * (time.perf_counter() - start))
        if profiler:
            profiler.disable()
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.profile)
    recommend_timings = []  # the bot's prediction reply also searches for changes
    for draft in drafts[3 : 3 + min(10, args.latency_calls)]:
        start = time.perf_counter()
        model.recommend(draft, now=draft.posted_at, top=3)
        recommend_timings.append(1000 * (time.perf_counter() - start))
    start = time.perf_counter()
    encode(texts)
    encode_rate = len(texts) / (time.perf_counter() - start)
    model.cache_dir = None
    model.__dict__.pop("_text_memo", None)  # time the encoding, not the latency loop's memo
    start = time.perf_counter()
    model.predict(drafts)
    predict_rate = len(drafts) / (time.perf_counter() - start)
    results["latency"] = {
        "dataset": name,
        "calls": len(timings),
        "torch_threads_process": torch.get_num_threads(),
        "predict_plus_explain_ms_p50": round(float(np.percentile(timings, 50)), 1),
        "predict_plus_explain_ms_p95": round(float(np.percentile(timings, 95)), 1),
        "recommend_ms_p50": round(float(np.percentile(recommend_timings, 50)), 1),
        "recommend_calls": len(recommend_timings),
        "batch_predict_posts_per_s": round(predict_rate, 1),
        "raw_embedding_texts_per_s": round(encode_rate, 1),
        "ratio_predict_to_embedding": round(predict_rate / encode_rate, 3),
    }
    print(json.dumps(results["latency"], indent=2))
    if args.latency_only:
        if args.profile:  # profiled timings are inflated: do not record them
            return
        previous = json.loads(args.out.read_text()) if args.out.exists() else {}
        results = {**previous, "latency": results["latency"]}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(markdown_table(results))
    print(f"wrote {args.out}")


def seed_spread(
    report: Any, train: Any, test: Any, cache: Path, n_seeds: int
) -> dict[str, list[float]]:
    """Ensemble AUC, gap to the best member and ECE for seeds 0..n_seeds-1 (seed 0 is ``report``)."""
    from analytics.engagement import EngagementModel, evaluate

    reports = [report]
    for seed in range(1, n_seeds):
        reports.append(
            evaluate(train, test, EngagementModel(random_state=seed, cache_dir=cache))[0]
        )
    return {
        "roc_auc": [round(r.ensemble.roc_auc, 4) for r in reports],
        "auc_difference": [
            round(r.extra["ensemble_vs_best_member"]["auc_difference"], 4) for r in reports
        ],
        "ece": [round(r.ensemble.ece, 4) for r in reports],
    }


def markdown_table(results: dict[str, Any]) -> str:
    """The docs/benchmarks/engagement.md table from the benchmark's JSON."""
    rows = ["| dataset | n train / test | model | AUC | Brier | ECE |", "|---|---|---|---|---|---|"]

    def row(first: str, second: str, label: str, m: dict[str, float]) -> str:
        return f"| {first} | {second} | {label} | {m['roc_auc']:.3f} | {m['brier']:.3f} | {m['ece']:.3f} |"

    labels = {
        "stacking_platt_on_out_of_fold_rows": "stacking + Platt fitted on out-of-fold rows",
        "bayesian_model_combination": "Bayesian model combination",
    }
    for name, r in results.items():
        if name == "latency":
            continue
        first, second = name, f"{r['n_train']} / {r['n_test']}"
        for member, m in r["members"].items():
            rows.append(row(first, second, f"member {member}", m))
            first = second = ""
        rows.append(row("", "", "**ensemble (log-linear pool of the members)**", r["ensemble"]))
        for key, label in labels.items():
            rows.append(row("", "", label, r["combiners"][key]))
        rows.append(row("", "", "naive trailing median", r["naive_trailing_median"]))
        gap, floor = r["ensemble_vs_best_member"], r["ensemble_ece_if_calibrated"]
        rows.append(
            f"| | | ensemble − best member ({gap['member']}) AUC | {gap['auc_difference']:+.3f} "
            f"[95% CI {gap['ci95'][0]:+.3f}, {gap['ci95'][1]:+.3f}] | | |"
        )
        rows.append(
            f"| | | ECE a perfectly calibrated ensemble would show here | | | "
            f"{floor['mean']:.3f} (95%: {floor['p95']:.3f}) |"
        )
        if "seeds" in r:
            seeds = r["seeds"]
            rows.append(
                f"| | | ensemble over seeds 0–{len(seeds['ece']) - 1} (min – max) | "
                f"{min(seeds['roc_auc']):.3f} – {max(seeds['roc_auc']):.3f}; − best member "
                f"{min(seeds['auc_difference']):+.3f} – {max(seeds['auc_difference']):+.3f} | | "
                f"{min(seeds['ece']):.3f} – {max(seeds['ece']):.3f} |"
            )
        mae, naive = r["ensemble"]["mae_log"], r["naive_trailing_median"]["mae_log"]
        rows.append(
            f"| | | regression head MAE(log1p) | {mae:.3f} vs trailing median {naive:.3f} | | |"
        )
    return "\n".join(rows)


if __name__ == "__main__":
    main()
