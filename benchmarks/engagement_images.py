"""Gain from the image modality in the engagement ensemble, on the demo brand's posts.

Run from the project root::

    python -m benchmarks.engagement_images [--seeds 7,8,9] [--out docs/benchmarks/engagement-images.json]

For each seed a fresh demo workspace is built in a temporary folder (its image
posts get synthetic pictures with a *planted* effect: beacon/demo_media.py; real
posts' images cannot be fetched here). The brand's own posts are split by time
(latest 25% for testing, as ``beacon engagement evaluate`` does) and the same
ensemble is fitted twice in the same run: with the image block and without it.
Metrics on all test posts and on the test posts that are image posts.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

END = date(2026, 11, 30)
QUERY = """
SELECT post_id, platform, account || '@' || platform AS account, text, posted_at, followers,
       likes, comments, shares, views, media_type, media_path
FROM posts WHERE list_contains(?, account)
"""


def _model(images: bool, cache: Path) -> Any:
    from analytics.engagement import EngagementModel, FeaturePipeline, default_blocks
    from analytics.engagement._image import ImageBlock
    from analytics.sentiment import VaderScorer

    class Model(EngagementModel):
        def _pipeline(self) -> FeaturePipeline:
            blocks = default_blocks(self.scorer or VaderScorer(), cache)
            return FeaturePipeline([b for b in blocks if images or not isinstance(b, ImageBlock)])

    return Model(cache_dir=cache)


def run_seed(seed: int, cache: Path) -> dict[str, Any]:
    from analytics.engagement import add_context, classification_metrics, evaluate, time_split
    from beacon.demo import build_demo
    from beacon.workspace import Pseudonymizer, Workspace

    with tempfile.TemporaryDirectory(prefix="beacon-img-bench-") as tmp:
        workspace = Workspace(Path(tmp) / "beacon.duckdb")
        start = time.perf_counter()
        report = build_demo(workspace, Pseudonymizer(b"bench"), end_date=END, seed=seed)
        build_s = time.perf_counter() - start
        with workspace.connect(read_only=True) as con:
            posts = con.execute(QUERY, [report.manifest["own_accounts"]]).df()
        train, test = time_split(posts, 0.25)
        out: dict[str, Any] = {"seed": seed, "demo_build_s": round(build_s, 1),
                               "media": {k: report.manifest["media"][k] for k in ("images", "missing")}}  # fmt: skip
        for variant, images in (("without_images", False), ("with_images", True)):
            start = time.perf_counter()
            result, model = evaluate(train, test, _model(images, cache))
            both = add_context(
                pd.concat([train.assign(_t=0), test.assign(_t=1)], ignore_index=True)
            )
            rows = both[(both["_t"] == 1) & both["label"].notna()].reset_index(drop=True)
            scores = model.score(model.features(rows))
            is_image = (rows["media_type"] == "image").to_numpy()
            y = rows["label"].to_numpy(dtype=float)
            subset = classification_metrics(y[is_image], scores.ensemble[is_image])
            out[variant] = {
                "n_train": result.n_train,
                "n_test": result.n_test,
                "ensemble": result.ensemble.to_dict(),
                "members": {k: v.to_dict() for k, v in result.members.items()},
                "image_posts": {"n": int(is_image.sum()), **subset.to_dict()},
                "seconds": round(time.perf_counter() - start, 1),
            }
    return out


def main() -> None:
    import torch

    from beacon.settings import get_settings

    torch.set_num_threads(2)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", default="7,8,9")
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks/engagement-images.json"))
    args = parser.parse_args()
    cache = get_settings().home / "cache" / "engagement"
    runs = []
    for seed in (int(s) for s in args.seeds.split(",")):
        run = run_seed(seed, cache)
        runs.append(run)
        for variant in ("without_images", "with_images"):
            e, i = run[variant]["ensemble"], run[variant]["image_posts"]
            print(
                f"seed {seed} {variant}: AUC {e['roc_auc']:.3f} Brier {e['brier']:.4f} "
                f"ECE {e['ece']:.3f} | image posts (n={i['n']}) AUC {i['roc_auc']:.3f} "
                f"Brier {i['brier']:.4f}",
                flush=True,
            )
    summary: dict[str, Any] = {}
    for scope in ("ensemble", "image_posts"):
        for metric in ("roc_auc", "brier", "ece"):
            deltas = [
                r["with_images"][scope][metric] - r["without_images"][scope][metric] for r in runs
            ]
            summary[f"{scope}.{metric}"] = {
                "mean_without": round(float(np.mean([r["without_images"][scope][metric] for r in runs])), 4),
                "mean_with": round(float(np.mean([r["with_images"][scope][metric] for r in runs])), 4),
                "mean_delta": round(float(np.mean(deltas)), 4),
                "deltas": [round(float(d), 4) for d in deltas],
            }  # fmt: skip
    print(json.dumps(summary, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"runs": runs, "summary": summary}, indent=2))


if __name__ == "__main__":
    main()
