"""Video tagging benchmark: time to tag 30 s of video, and the segments found.

Run from the project root::

    python -m benchmarks.vision_video

Builds a 30 s, 25 fps, 480x360 MP4 (mp4v) of six 5-second shots of ImageNet sample
images (../shared/data or ``BEACON_DATA_DIR``) in a temporary folder, loads the models,
then times decoding with cut detection alone and ``tag_video`` with Lite0 and with the
ensemble (faces and brand safety included), printing the segments each found.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

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

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), 25, (480, 360))
    for name in SHOTS:
        rgb = Image.open(folder / f"{name}.JPEG").convert("RGB").resize((480, 360))
        frame = cv2.cvtColor(np.asarray(rgb), cv2.COLOR_RGB2BGR)
        for _ in range(125):
            writer.write(frame)
    writer.release()


def main() -> None:
    """Print the timings and segments."""
    from analytics.vision import tag_video
    from analytics.vision._video import _decode

    with tempfile.TemporaryDirectory() as scratch:
        clip = Path(scratch) / "clip.mp4"
        _write_clip(clip, _sample_dir())
        for model in ("lite0", "ensemble"):
            tag_video(clip, model=model, interval_s=10)  # loads the models
        start = time.perf_counter()
        _decode(clip, 1.0, 120)
        decode_s = time.perf_counter() - start
        print(f"decode + cut detection: {decode_s:.1f} s")
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
    print(f"load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
