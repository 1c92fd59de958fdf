"""Gain from the image modality in the engagement ensemble, on the demo brand's posts.

Run from the project root::

    python -m benchmarks.engagement_images [--seeds 7,8,9] [--out FILE]

Writes docs/benchmarks/engagement_images.json and renders docs/benchmarks/engagement_images.md.

For each seed a fresh demo workspace is built in a temporary folder (its image
posts get synthetic pictures with a *planted* effect: beacon/demo/_media.py; real
posts' images cannot be fetched here). The brand's own posts are split by time
(latest 25% for testing, as ``beacon engagement evaluate`` does) and the same
ensemble is fitted three times in the same run: without the image block, with its
cheap measures only (colour, brightness, contrast, faces, text, aspect, missing),
and with the full block (plus the EfficientNet content embedding ``img_emb_0..7``
and Open-NSFW's ``img_unsafe``). Metrics on all test posts and on the test posts
that are image posts; the time to measure the demo's pictures, cold, is reported
for the cheap measures and for the full block.
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

from benchmarks._report import Run, add_out_argument

END = date(2026, 11, 30)
TEST_FRACTION = 0.25
QUERY = """
SELECT post_id, platform, account || '@' || platform AS account, text, posted_at, followers,
       likes, comments, shares, views, media_type, media_path
FROM posts WHERE list_contains(?, account)
"""


#: Variant → the image block it uses (None: no image block).
VARIANTS: dict[str, bool | None] = {
    "without_images": None,
    "cheap_images": False,
    "with_embedding": True,
}


def _model(embedding: bool | None, cache: Path) -> Any:
    from analytics.engagement import EngagementModel, FeaturePipeline, default_blocks
    from analytics.engagement._image import ImageBlock
    from analytics.sentiment import VaderScorer

    class Model(EngagementModel):
        def _pipeline(self) -> FeaturePipeline:
            blocks = [
                b
                for b in default_blocks(self.scorer or VaderScorer(), cache)
                if not isinstance(b, ImageBlock)
            ]
            if embedding is not None:
                blocks.append(ImageBlock(cache, embedding=embedding))
            return FeaturePipeline(blocks)

    return Model(cache_dir=cache)


def _time_images(posts: pd.DataFrame) -> dict[str, float]:
    """Seconds to measure the posts' pictures from cold: cheap measures alone, full block."""
    import analytics.engagement._image as image_module
    from analytics.vision import (
        TEXT_HEAVY_FRACTION,
        colourfulness,
        detect_faces,
        load_default_projection,
        load_image,
        text_fraction,
    )

    paths = [str(p) for p in posts["media_path"].dropna()]
    start = time.perf_counter()
    for path in paths:  # the measures of the cheap block, as it computed them alone
        image = load_image(path, draft_size=image_module.ANALYSIS_SIDE)
        image.thumbnail((image_module.ANALYSIS_SIDE, image_module.ANALYSIS_SIDE))
        colourfulness(image)
        np.asarray(image.convert("L"), dtype=np.float32).std()
        detect_faces(image)
        float(text_fraction(image) >= TEXT_HEAVY_FRACTION)
    cheap = time.perf_counter() - start
    load_default_projection()  # networks and projection load outside the timing
    image_module.describe_images(paths[:1])
    image_module._MEMORY.clear()
    start = time.perf_counter()
    image_module.ImageBlock().transform(posts)  # no cache_dir: measured, not read
    full = time.perf_counter() - start
    return {"n_images": len(paths), "cheap_s": round(cheap, 1), "full_s": round(full, 1)}


def run_seed(seed: int, cache: Path) -> dict[str, Any]:
    from analytics.engagement import add_context, classification_metrics, evaluate, time_split
    from beacon.demo import build_demo
    from foundation.workspace import Pseudonymizer, Workspace

    with tempfile.TemporaryDirectory(prefix="beacon-img-bench-") as tmp:
        workspace = Workspace(Path(tmp) / "beacon.duckdb")
        start = time.perf_counter()
        report = build_demo(workspace, Pseudonymizer(b"bench"), end_date=END, seed=seed)
        build_s = time.perf_counter() - start
        with workspace.connect(read_only=True) as con:
            posts = con.execute(QUERY, [report.manifest["own_accounts"]]).df()
        train, test = time_split(posts, TEST_FRACTION)
        out: dict[str, Any] = {
            "seed": seed,
            "demo_build_s": round(build_s, 1),
            "media": {k: report.manifest["media"][k] for k in ("images", "missing")},
            "image_seconds": _time_images(posts),
        }
        for variant, embedding in VARIANTS.items():
            start = time.perf_counter()
            result, model = evaluate(train, test, _model(embedding, cache))
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

    from foundation.settings import get_settings

    torch.set_num_threads(2)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", default="7,8,9")
    add_out_argument(parser, "engagement_images")
    args = parser.parse_args()
    cache = get_settings().home / "cache" / "engagement"
    with Run(
        "engagement_images",
        out=args.out,
        packages=("torch", "lightgbm", "onnxruntime", "opencv-python-headless", "pillow"),
    ) as run:
        run.results = measure([int(s) for s in args.seeds.split(",")], cache)


def measure(seeds: list[int], cache: Path) -> dict[str, Any]:
    """Every seed's three fits, and per metric the means and the differences per seed."""
    runs = []
    for seed in seeds:
        run = run_seed(seed, cache)
        runs.append(run)
        print(f"seed {seed} picture measuring, cold: {run['image_seconds']}", flush=True)
        for variant in VARIANTS:
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
            entry: dict[str, Any] = {}
            for variant in VARIANTS:
                values = [r[variant][scope][metric] for r in runs]
                entry[f"mean_{variant}"] = round(float(np.mean(values)), 4)
            for variant in ("cheap_images", "with_embedding"):
                deltas = [
                    r[variant][scope][metric] - r["without_images"][scope][metric] for r in runs
                ]
                entry[f"delta_{variant}"] = [round(float(d), 4) for d in deltas]
            extra = [
                r["with_embedding"][scope][metric] - r["cheap_images"][scope][metric] for r in runs
            ]
            entry["delta_embedding_over_cheap"] = [round(float(d), 4) for d in extra]
            summary[f"{scope}.{metric}"] = entry
    print(json.dumps(summary, indent=2))
    return {
        "demo_end_date": END.isoformat(),
        "test_fraction": TEST_FRACTION,
        "seeds": seeds,
        "runs": runs,
        "summary": summary,
    }


if __name__ == "__main__":
    main()
