"""Vision benchmark: top-1/top-5 of EfficientNet-Lite0/1/2 and their ensemble, and throughput.

Run from the project root::

    python -m benchmarks.vision [--device cpu|cuda] [--threads N] [--throughput-n N]
                                [--batch-size N] [--no-cache] [--out FILE]

Accuracy: every model on the 1,000 images of ../shared/data/images/imagenet-sample
(one per ImageNet class; class index = sorted order of the WordNet ids). These may be
ImageNet *training* images, so the numbers are a sanity check that each model loads
and is fed correctly, not a generalisation figure. Two ensembles: the plain mean of
the three softmax outputs, and a weighted mean whose weights are learned on one half
of the images (grid over the simplex, step 0.05, maximising log-likelihood) and
scored on the other half, both ways round (2-fold; the table gives the mean).

Throughput: images/s of each single model and the ensemble on the same JPEGs in the
same run (decode + resize + forward, batched), and of the whole ``tag_images``
pipeline (adds faces and brand safety). Writes docs/benchmarks/vision.json and renders
docs/benchmarks/vision.md from it (``--out`` elsewhere; ``--skip-accuracy`` records nothing).
Needs the shared data (``BEACON_DATA_DIR`` or ../shared/data).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._report import Run, add_out_argument

ROOT = Path(__file__).resolve().parent.parent


def sample_dir() -> Path:
    """The imagenet-sample folder, or exit with a clear reason."""
    env = os.environ.get("BEACON_DATA_DIR")
    base = Path(env) if env else ROOT.parent / "shared" / "data"
    folder = base / "images" / "imagenet-sample"
    if not folder.is_dir():
        sys.exit(f"imagenet-sample not found at {folder}: set BEACON_DATA_DIR")
    return folder


def sample_files(folder: Path) -> tuple[list[Path], np.ndarray]:
    """Sample JPEGs sorted by WordNet id and their class indices."""
    from analytics.vision import imagenet_classes

    index = {cls.imagenet_id: cls.index for cls in imagenet_classes()}
    files = sorted(folder.glob("*.JPEG"))
    labels = np.array([index[path.name.split("_")[0]] for path in files])
    return files, labels


def all_probas(files: list[Path], device: str, batch_size: int) -> np.ndarray:
    """Softmax outputs of the three models, shape (3, n_files, 1000)."""
    from analytics.vision import load_image, member_probas

    chunks = []
    for start in range(0, len(files), batch_size):
        images = [load_image(path, draft_size=320) for path in files[start : start + batch_size]]
        chunks.append(member_probas(images, "ensemble", device))
        print(f"  evaluated {min(start + batch_size, len(files))}/{len(files)}", file=sys.stderr)
    return np.concatenate(chunks, axis=1)


def topk(proba: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Top-1 and top-5 accuracy of probabilities of shape (n, 1000)."""
    top5 = np.argsort(-proba, axis=1)[:, :5]
    return float((top5[:, 0] == labels).mean()), float((top5 == labels[:, None]).any(1).mean())


def simplex_grid(step: float = 0.05) -> list[tuple[float, float, float]]:
    """Weight triples on the simplex."""
    n = round(1 / step)
    return [(a / n, b / n, (n - a - b) / n) for a in range(n + 1) for b in range(n + 1 - a)]


def learned_weights(probas: np.ndarray, labels: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Simplex weights maximising the log-likelihood of ``labels`` on ``rows``."""
    picked = probas[:, rows, labels[rows]]  # (3, n_rows)
    best, best_ll = np.full(3, 1 / 3), -np.inf
    for weights in simplex_grid():
        ll = float(np.log(np.tensordot(weights, picked, axes=1) + 1e-12).sum())
        if ll > best_ll:
            best, best_ll = np.array(weights), ll
    return best


def throughput(files: list[Path], model: str, device: str, batch_size: int) -> float:
    """Images/s for decode + preprocess + forward of ``model``."""
    from analytics.vision import load_image, predict_proba

    predict_proba([load_image(files[0])], model, device)  # load + warm up
    started = time.perf_counter()
    for start in range(0, len(files), batch_size):
        images = [load_image(path, draft_size=320) for path in files[start : start + batch_size]]
        predict_proba(images, model, device)
    return len(files) / (time.perf_counter() - started)


def pipeline_throughput(files: list[Path], model: str, device: str, batch_size: int) -> float:
    """Images/s of the full ``tag_images`` (tags, categories, faces, brand safety)."""
    from analytics.vision import tag_images

    tag_images([files[0]], model=model, device=device)
    started = time.perf_counter()
    tag_images(files, model=model, device=device, batch_size=batch_size)
    return len(files) / (time.perf_counter() - started)


def main() -> None:
    """Run the benchmark, print the tables and record them (docs/benchmarks/vision.*)."""
    parser = argparse.ArgumentParser(description="Vision benchmark")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda if present)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--throughput-n", type=int, default=128, help="images for throughput")
    parser.add_argument(
        "--skip-accuracy", action="store_true", help="throughput only (printed, not recorded)"
    )
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="recompute the sample probabilities (cached in var/cache/vision/)",
    )
    # Every full run is recorded now; --write stays accepted for old command lines.
    parser.add_argument("--write", action="store_true", help=argparse.SUPPRESS)
    add_out_argument(parser, "vision")
    args = parser.parse_args()

    import torch

    from analytics.vision import resolve_device

    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    files, labels = sample_files(sample_dir())
    with Run(
        "vision",
        out=args.out,
        packages=("torch", "efficientnet-lite-pytorch", "onnxruntime", "opencv-python-headless"),
        write=not args.skip_accuracy,
    ) as run:
        run.results = {
            "device": device,
            "threads": args.threads,
            "batch_size": args.batch_size,
            "accuracy": None if args.skip_accuracy else accuracy(files, labels, device, args),
            "throughput": throughput_rows(files[: args.throughput_n], device, args.batch_size),
        }
        print(json.dumps(run.results, indent=1))


def accuracy(
    files: list[Path], labels: np.ndarray, device: str, args: argparse.Namespace
) -> dict[str, Any]:
    """Top-1/top-5 of each model, the mean ensemble and the 2-fold learned weights."""
    from analytics.vision import MODEL_SPECS

    cache = ROOT / "var" / "cache" / "vision" / "sample-probas.npy"
    started = time.perf_counter()
    from_cache = cache.is_file() and not args.no_cache
    if from_cache:
        probas = np.asarray(np.load(cache, allow_pickle=False))
    else:
        probas = all_probas(files, device, args.batch_size)
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.save(cache, probas, allow_pickle=False)
    eval_seconds = time.perf_counter() - started
    models = []
    for member, spec in enumerate(MODEL_SPECS.values()):
        top1, top5 = topk(probas[member], labels)
        models.append(
            {
                "model": spec.name,
                "image_size": spec.image_size,
                "top1": top1,
                "top5": top5,
                "published_top1": spec.top1_published,
            }
        )
    top1, top5 = topk(probas.mean(axis=0), labels)
    halves = np.arange(len(files)) % 2
    folds = []
    for train_half in (0, 1):
        train, test = np.where(halves == train_half)[0], np.where(halves != train_half)[0]
        weights = learned_weights(probas, labels, train)
        mixed = np.tensordot(weights, probas[:, test], axes=1)
        mean = probas[:, test].mean(axis=0)
        learned1, learned5 = topk(mixed, labels[test])
        mean1, mean5 = topk(mean, labels[test])
        folds.append(
            {
                "weights": [round(float(w), 2) for w in weights],
                "learned_top1": learned1,
                "learned_top5": learned5,
                "mean_top1": mean1,
                "mean_top5": mean5,
            }
        )
    return {
        "images": len(files),
        "from_cache": from_cache,
        "seconds": round(eval_seconds, 1),
        "models": models,
        "ensemble_mean": {"top1": top1, "top5": top5},
        "learned_folds": folds,
        "learned_mean": {
            key: float(np.mean([fold[key] for fold in folds]))
            for key in ("learned_top1", "learned_top5", "mean_top1", "mean_top5")
        },
    }


def throughput_rows(subset: list[Path], device: str, batch_size: int) -> dict[str, Any]:
    """Images/s of each model's tags alone and of the whole ``tag_images`` pipeline."""
    from analytics.vision import MODEL_SPECS

    rows = []
    for model in (*MODEL_SPECS, "ensemble"):
        rate = throughput(subset, model, device, batch_size)
        rows.append({"model": model, "what": "tags", "images_per_s": rate})
        print(f"{model} tags only: {rate:.1f} images/s", file=sys.stderr)
    for model in ("lite0", "ensemble"):
        rate = pipeline_throughput(subset, model, device, batch_size)
        rows.append({"model": model, "what": "tag_images", "images_per_s": rate})
        print(f"{model} + faces + brand safety: {rate:.1f} images/s", file=sys.stderr)
    return {"images": len(subset), "rows": rows}


if __name__ == "__main__":
    main()
