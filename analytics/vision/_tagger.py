"""Tag image files: ImageNet tags, marketing categories, faces and brand safety.

Files are processed in batches; a file that cannot be read gets a result with
an ``error`` line and the rest of the batch goes on.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from PIL import Image

from analytics.vision._classes import category_matrix, category_names, imagenet_classes
from analytics.vision._errors import ImageInputError
from analytics.vision._faces import Face, detect_faces
from analytics.vision._io import MAX_PIXELS, load_image
from analytics.vision._models import members, predict_proba
from analytics.vision._safety import Safety, score_safety

#: A category is reported when the classes in it hold at least this much probability.
CATEGORY_MIN_SCORE = 0.15


@dataclass(frozen=True)
class Tag:
    """One ImageNet class for an image.

    Attributes:
        label: Human-readable class name.
        imagenet_id: WordNet id such as ``n01440764``.
        score: Model probability (0-1).
    """

    label: str
    imagenet_id: str
    score: float


@dataclass(frozen=True)
class CategoryScore:
    """A marketing category and the probability mass of its ImageNet classes."""

    name: str
    score: float


class _FileResult:
    """What image and video results share: the file, and why it could not be used."""

    file: str
    error: str | None

    @property
    def ok(self) -> bool:
        """True when the file was tagged."""
        return self.error is None


@dataclass(frozen=True)
class ImageTags(_FileResult):
    """Everything Beacon says about one image file.

    Attributes:
        file: The path as given.
        model: Classifier used (``lite0`` ... ``ensemble``).
        tags: Top classes, best first (empty on error).
        categories: Marketing categories holding at least :data:`CATEGORY_MIN_SCORE`.
        faces: Detected faces, largest first (None when not run or on error).
        safety: Brand-safety verdict (None when not run or on error).
        error: One-line reason when the file could not be used, else None.
    """

    file: str
    model: str
    tags: tuple[Tag, ...] = ()
    categories: tuple[CategoryScore, ...] = ()
    faces: tuple[Face, ...] | None = None
    safety: Safety | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (see the CLI's ``--json``)."""
        if self.error is not None:
            return {"file": self.file, "error": self.error}
        faces = None
        if self.faces is not None:
            faces = {"count": len(self.faces), "boxes": [asdict(face) for face in self.faces]}
        return {
            "file": self.file,
            "model": self.model,
            "tags": [asdict(tag) for tag in self.tags],
            "categories": [asdict(category) for category in self.categories],
            "faces": faces,
            "safety": asdict(self.safety) if self.safety is not None else None,
        }


def tags_from_proba(
    proba: np.ndarray, top_k: int = 5
) -> tuple[tuple[Tag, ...], tuple[CategoryScore, ...]]:
    """Ranked tags and marketing categories from one probability vector of shape (1000,)."""
    classes = imagenet_classes()
    order = np.argsort(-proba)[:top_k]
    tags = tuple(
        Tag(classes[i].label, classes[i].imagenet_id, round(float(proba[i]), 4)) for i in order
    )
    mass = proba @ category_matrix()
    names = category_names()
    categories = tuple(
        CategoryScore(names[j], round(float(mass[j]), 4))
        for j in np.argsort(-mass)
        if mass[j] >= CATEGORY_MIN_SCORE
    )
    return tags, categories


def tag_images(
    paths: Sequence[str | os.PathLike[str]],
    model: str = "ensemble",
    top_k: int = 5,
    batch_size: int = 16,
    device: str | None = None,
    faces: bool = True,
    safety: bool = True,
    on_progress: Callable[[int], None] | None = None,
    max_pixels: int = MAX_PIXELS,
) -> list[ImageTags]:
    """Tag image files in batches.

    Args:
        paths: Image files; unreadable ones get an ``error`` result, others are unaffected.
        model: ``lite0``, ``lite1``, ``lite2`` or ``ensemble`` (mean of the three softmaxes).
        top_k: Tags per image (1-1000).
        batch_size: Images per forward pass.
        device: Torch device; default cuda when available, else cpu.
        faces: Run the face detector.
        safety: Run the brand-safety model.
        on_progress: Called with the number of files finished after each batch.
        max_pixels: Refuse images with more pixels than this (an ``error`` result).

    Returns:
        One :class:`ImageTags` per path, in input order.

    Raises:
        ValueError: Unknown ``model``, or ``top_k``/``batch_size`` out of range.
    """
    members(model)  # validates the name before any work
    if not 1 <= top_k <= 1000:
        raise ValueError(f"top_k must be between 1 and 1000 (got {top_k})")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1 (got {batch_size})")
    results: list[ImageTags] = []
    for start in range(0, len(paths), batch_size):
        chunk = paths[start : start + batch_size]
        results.extend(_tag_batch(chunk, model, top_k, device, faces, safety, max_pixels))
        if on_progress is not None:
            on_progress(len(chunk))
    return results


def _tag_batch(
    paths: Sequence[str | os.PathLike[str]],
    model: str,
    top_k: int,
    device: str | None,
    faces: bool,
    safety: bool,
    max_pixels: int,
) -> list[ImageTags]:
    images: list[Image.Image] = []
    slots: list[int] = []
    errors: dict[int, str] = {}
    for position, path in enumerate(paths):
        try:
            images.append(load_image(path, max_pixels=max_pixels, draft_size=320))
            slots.append(position)
        except (ImageInputError, FileNotFoundError) as error:
            errors[position] = str(error)
    proba = predict_proba(images, model, device)
    verdicts = score_safety(images) if safety else (None,) * len(images)
    ready: dict[int, ImageTags] = {}
    for row, (position, image) in enumerate(zip(slots, images, strict=True)):
        tags, categories = tags_from_proba(proba[row], top_k)
        ready[position] = ImageTags(
            file=str(paths[position]),
            model=model,
            tags=tags,
            categories=categories,
            faces=detect_faces(image) if faces else None,
            safety=verdicts[row],
        )
    return [
        ready[i] if i in ready else ImageTags(file=str(paths[i]), model=model, error=errors[i])
        for i in range(len(paths))
    ]


def warm_up(model: str = "lite0") -> None:
    """Load what :func:`tag_images` uses for ``model`` now (classifier, brand safety, faces).

    A server calls this at start-up, so the first image question is not the slow one.
    """
    blank = Image.new("RGB", (64, 64), (127, 127, 127))
    predict_proba([blank], model)
    score_safety([blank])
    detect_faces(blank)
