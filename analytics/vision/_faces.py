"""Face counting with OpenCV's Haar cascade (shipped inside opencv-python-headless)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from analytics.exceptions import ModelLoadError

#: Detection runs on a copy scaled so its longer side is at most this many pixels.
DETECT_MAX_SIDE = 640


@dataclass(frozen=True)
class Face:
    """One detected face, in original-image pixels.

    Attributes:
        x: Left edge.
        y: Top edge.
        width: Box width.
        height: Box height.
        area_fraction: Box area over image area.
    """

    x: int
    y: int
    width: int
    height: int
    area_fraction: float


@functools.cache
def _cascade() -> Any:
    import cv2

    # cv2.data exists at run time but is missing from OpenCV's type stubs.
    path = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"  # type: ignore[attr-defined]
    classifier = cv2.CascadeClassifier(path)
    if classifier.empty():
        raise ModelLoadError(f"OpenCV's face cascade did not load from {path}; reinstall opencv")
    return classifier


def detect_faces(image: Image.Image) -> tuple[Face, ...]:
    """Frontal faces in an RGB image, largest first."""
    import cv2

    width, height = image.size
    scale = min(1.0, DETECT_MAX_SIDE / max(width, height))
    small = (
        image
        if scale == 1.0
        else image.resize(
            (max(1, round(width * scale)), max(1, round(height * scale))), Image.Resampling.BILINEAR
        )
    )
    gray = cv2.equalizeHist(cv2.cvtColor(np.asarray(small), cv2.COLOR_RGB2GRAY))
    min_side = max(24, round(min(small.size) * 0.05))
    boxes = _cascade().detectMultiScale(
        gray, scaleFactor=1.1, minNeighbors=6, minSize=(min_side, min_side)
    )
    faces = [
        Face(
            x=round(x / scale),
            y=round(y / scale),
            width=round(w / scale),
            height=round(h / scale),
            area_fraction=round(float((w * h) / (small.size[0] * small.size[1])), 4),
        )
        for x, y, w, h in (tuple(int(v) for v in box) for box in boxes)
    ]
    return tuple(sorted(faces, key=lambda face: face.area_fraction, reverse=True))
