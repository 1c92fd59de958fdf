"""Occlusion-sensitivity heatmaps: where in the image the top tag came from.

A grey patch slides over the classifier's input; the drop in the top class's
probability at each position is the heat (Zeiler & Fergus, 2014). The heat is
drawn over the original image as a PNG, and the region with the largest drop is
returned in original-image pixels, so a reply can say "the model saw
'running shoe' mostly here".
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from analytics.vision._classes import imagenet_classes
from analytics.vision._io import MAX_PIXELS, load_image
from analytics.vision._models import CROP_FRACTION, members, predict_proba

#: Overlay opacity of the heat colours.
OVERLAY_ALPHA = 0.5


@dataclass(frozen=True)
class Heatmap:
    """An occlusion-sensitivity explanation of one image's top tag.

    Attributes:
        png_path: The PNG overlay written.
        label: Top tag's label.
        imagenet_id: Top tag's WordNet id.
        score: Top tag's probability on the unoccluded image.
        region: ``(left, top, right, bottom)`` in original-image pixels of the patch whose
            occlusion lowered the score most.
        max_drop: That largest drop in probability (0-1).
        grid: Probability drop per patch position, shape (grid_size, grid_size).
    """

    png_path: Path
    label: str
    imagenet_id: str
    score: float
    region: tuple[int, int, int, int]
    max_drop: float
    grid: np.ndarray


def explain_image(
    path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    model: str = "lite0",
    grid_size: int = 7,
    device: str | None = None,
    max_pixels: int = MAX_PIXELS,
) -> Heatmap:
    """Explain the top tag of one image with an occlusion heatmap.

    Args:
        path: The image file.
        out_path: Where to write the PNG overlay (e.g. from ``ChartStore.new_chart()``).
        model: A single model (``lite0``, ``lite1``, ``lite2``); ``ensemble`` is refused as
            it needs three times the passes.
        grid_size: Patch positions per side; the patch is two strides wide (half-overlapping).
        device: Torch device; default cuda when available, else cpu.
        max_pixels: Refuse images with more pixels than this.

    Returns:
        The :class:`Heatmap`.

    Raises:
        ImageInputError: The image cannot be read.
        ValueError: ``model`` is not a single model, or ``grid_size`` is under 2.
    """
    if model == "ensemble":
        raise ValueError(
            "explain_image needs a single model (lite0, lite1 or lite2), got 'ensemble'"
        )
    if grid_size < 2:
        raise ValueError(f"grid_size must be at least 2 (got {grid_size})")
    spec = members(model)[0]
    image = load_image(path, max_pixels=max_pixels)
    size = spec.image_size
    outer = round(size / CROP_FRACTION)
    view = _Square(image.size, outer)
    # preprocess() of an outer x outer image only centre-crops it, so patches drawn on
    # this square land exactly where the classifier looks.
    square = image.crop(view.box).resize((outer, outer), Image.Resampling.BICUBIC)
    base = predict_proba([square], model, device)[0]
    top = int(np.argmax(base))
    margin = (outer - size) // 2
    stride = size / (grid_size + 1)
    patch = round(2 * stride)
    occluded, boxes = [], []
    array = np.asarray(square)
    for row in range(grid_size):
        for col in range(grid_size):
            top_px, left_px = margin + round(row * stride), margin + round(col * stride)
            masked = array.copy()
            masked[top_px : top_px + patch, left_px : left_px + patch] = 127
            occluded.append(Image.fromarray(masked))
            boxes.append((left_px, top_px, left_px + patch, top_px + patch))
    drops = np.zeros(len(occluded), dtype=np.float32)
    for start in range(0, len(occluded), 16):
        proba = predict_proba(occluded[start : start + 16], model, device)
        drops[start : start + 16] = base[top] - proba[:, top]
    heat = _heat_image(boxes, drops, outer)
    png_path = Path(out_path)
    _overlay(image, heat, view).save(png_path, format="PNG")
    cls = imagenet_classes()[top]
    return Heatmap(
        png_path=png_path,
        label=cls.label,
        imagenet_id=cls.imagenet_id,
        score=round(float(base[top]), 4),
        region=view.to_original(boxes[int(np.argmax(drops))]),
        max_drop=round(float(drops.max()), 4),
        grid=drops.reshape(grid_size, grid_size),
    )


@dataclass(frozen=True)
class _Square:
    """The centred square of the original image, scaled to ``outer`` pixels a side."""

    original: tuple[int, int]
    outer: int

    @property
    def box(self) -> tuple[int, int, int, int]:
        width, height = self.original
        short = min(width, height)
        left, top = (width - short) // 2, (height - short) // 2
        return left, top, left + short, top + short

    def to_original(self, box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
        left, top, right, _bottom = self.box
        scale = (right - left) / self.outer
        x0, y0, x1, y1 = box
        return (
            round(left + x0 * scale),
            round(top + y0 * scale),
            round(left + x1 * scale),
            round(top + y1 * scale),
        )


def _heat_image(boxes: list[tuple[int, int, int, int]], drops: np.ndarray, size: int) -> np.ndarray:
    """Average positive drop per pixel over the patches covering it, scaled to 0-1."""
    total = np.zeros((size, size), dtype=np.float32)
    count = np.zeros((size, size), dtype=np.float32)
    for (left, top, right, bottom), drop in zip(boxes, drops, strict=True):
        total[top:bottom, left:right] += max(float(drop), 0.0)
        count[top:bottom, left:right] += 1
    heat = total / np.maximum(count, 1)
    peak = float(heat.max())
    return heat / peak if peak > 0 else heat


def _overlay(image: Image.Image, heat: np.ndarray, view: _Square) -> Image.Image:
    """Blend a jet-coloured heat map over the part of ``image`` the classifier saw."""
    from matplotlib import colormaps

    left, top, right, _bottom = view.box
    side = right - left
    colours = (colormaps["jet"](heat)[:, :, :3] * 255).astype(np.uint8)
    heat_rgb = Image.fromarray(colours).resize((side, side), Image.Resampling.BILINEAR)
    alpha = Image.fromarray((heat * 255 * OVERLAY_ALPHA).astype(np.uint8)).resize(
        (side, side), Image.Resampling.BILINEAR
    )
    result = image.copy()
    result.paste(heat_rgb, (left, top), alpha)
    return result
