"""Video tagging benchmark: time to tag 30 s of video, and the segments found.

Run from the project root::

    python -m benchmarks.vision_video

Builds a 30 s, 25 fps, 480x360 MP4 (mp4v) of six 5-second shots of ImageNet sample
images (../shared/data or ``BEACON_DATA_DIR``) in a temporary folder, loads the models,
then times decoding with cut detection alone and ``tag_video`` with Lite0 and with the
ensemble (faces and brand safety included), printing the segments each found. Writes
docs/benchmarks/vision_video.json and renders docs/benchmarks/vision_video.md from it
(``--out`` elsewhere).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._report import Run, add_out_argument

FPS, WIDTH, HEIGHT = 25, 480, 360
SHOT_FRAMES = 125  # five seconds a shot
SHOTS = (
    "n04120489_running_shoe",
    "n01443537_goldfish",
    "n02769748_backpack",
    "n03595614_jersey",
    "n04133789_sandal",
    "n02814533_beach_wagon",
)


def _sample_dir() -> Path:
    root = Path(
        os.environ.get("BEACON_DATA_DIR") or Path(__file__).resolve().parents[2] / "shared" / "data"
    )
    folder = root / "images" / "imagenet-sample"
    if not folder.is_dir():
        sys.exit(f"no sample images at {folder}: set BEACON_DATA_DIR")
    return folder


def _write_clip(path: Path, folder: Path) -> None:
    import cv2
    import numpy as np
    from PIL import Image

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), FPS, (WIDTH, HEIGHT))
    for name in SHOTS:
        rgb = Image.open(folder / f"{name}.JPEG").convert("RGB").resize((WIDTH, HEIGHT))
        frame = cv2.cvtColor(np.asarray(rgb), cv2.COLOR_RGB2BGR)
        for _ in range(SHOT_FRAMES):
            writer.write(frame)
    writer.release()


def main() -> None:
    """Print the timings and segments, and record them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_out_argument(parser, "vision_video")
    args = parser.parse_args()
    with Run(
        "vision_video", out=args.out, packages=("torch", "opencv-python-headless", "onnxruntime")
    ) as run:
        run.results = measure()


def measure() -> dict[str, Any]:
    """Write the clip, load the models, then time decoding and tagging."""
    from analytics.vision import tag_video
    from analytics.vision._video import _decode

    shot_s = SHOT_FRAMES / FPS
    results: dict[str, Any] = {
        "clip": {
            "seconds": len(SHOTS) * shot_s,
            "fps": FPS,
            "width": WIDTH,
            "height": HEIGHT,
            "frames": len(SHOTS) * SHOT_FRAMES,
            "shots": [name.split("_", 1)[1].replace("_", " ") for name in SHOTS],
            "shot_s": shot_s,
        },
        "models": [],
    }
    with tempfile.TemporaryDirectory() as scratch:
        clip = Path(scratch) / "clip.mp4"
        _write_clip(clip, _sample_dir())
        for model in ("lite0", "ensemble"):
            tag_video(clip, model=model, interval_s=10)  # loads the models
        start = time.perf_counter()
        _decode(clip, 1.0, 120)
        results["decode_s"] = time.perf_counter() - start
        print(f"decode + cut detection: {results['decode_s']:.1f} s")
        for model in ("lite0", "ensemble"):
            start = time.perf_counter()
            result = tag_video(clip, model=model)
            elapsed = time.perf_counter() - start
            assert result.features is not None
            print(
                f"{model}: {elapsed:.1f} s for 30 s of video "
                f"({result.features.frames_sampled} frames, {result.features.cuts} cuts)"
            )
            print("  " + "; ".join(segment.text for segment in result.segments))
            bounds = [(round(seg.start_s, 1), round(seg.end_s, 1)) for seg in result.segments]
            expected = [(i * shot_s, (i + 1) * shot_s) for i in range(len(SHOTS))]
            results["models"].append(
                {
                    "model": model,
                    "seconds": elapsed,
                    "frames_sampled": result.features.frames_sampled,
                    "cuts": result.features.cuts,
                    "segments": [segment.text for segment in result.segments],
                    "bounds_s": bounds,
                    "shots_found_exactly": bounds == expected,
                }
            )
    return results


if __name__ == "__main__":
    main()
