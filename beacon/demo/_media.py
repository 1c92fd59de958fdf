"""Synthetic images for the demo brand's image posts, with a planted effect on engagement.

Real posts' images cannot be fetched here (the datasets hold no image files and
the machines have no internet), so ``beacon demo`` draws its own: a small
product-photo-like scene per image post (Pillow, 256 px on the longer side) whose
colour saturation, brightness, a person's face and a text overlay vary per post.
Engagement of each image post is then scaled by a *planted* multiplier of those
drawn properties (colourful, bright images and a face do better; a text overlay
does worse), normalised to a mean of 1 so the media-type effect of
:mod:`beacon.demo` keeps its size. A share of image posts keeps no file
(``media_path`` NULL), as happens when media were not downloaded.

Everything comes from the generator handed in (its own seed), so the draws of
the rest of the demo do not shift, and the same seed gives the same bytes.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

#: Folder (next to the workspace file) the demo images are written to.
MEDIA_DIR_NAME = "demo-media"
#: Longer side of each image, in pixels.
IMAGE_SIDE = 256
#: Width / height of the images per platform (square on Instagram, landscape elsewhere).
ASPECT = {"instagram": 1.0, "twitter": 16 / 9, "facebook": 1.91}
FACE_SHARE = 0.35
TEXT_SHARE = 0.2
#: Image posts whose file is not kept (``media_path`` NULL).
MISSING_SHARE = 0.08
SATURATION_RANGE = (0.1, 1.0)
VALUE_RANGE = (0.3, 0.95)
#: Planted log-scale effects: ``log m = sum(coef * (property - centre))``, then m / mean(m).
EFFECTS = {"saturation": 0.9, "brightness": 0.7, "face": 0.3, "text_overlay": -0.25}
CENTRES = {"saturation": 0.55, "brightness": 0.625, "face": 0.0, "text_overlay": 0.0}
OVERLAY_LINES = (
    ("NEW DROP", "Ridgeline 2"),
    ("20% OFF", "this weekend only"),
    ("RESTOCK", "Sprint 3 is back"),
    ("TRAIL TIPS", "save it for the descent"),
)


@dataclass(frozen=True)
class ImageSpec:
    """The drawn properties of one demo image.

    Attributes:
        hue: Main hue, 0-1.
        saturation: Colour saturation of the scene, 0-1 (drives colourfulness).
        brightness: HSV value of the scene, 0-1 (drives mean brightness).
        face: Whether a person's face is in the picture.
        text_overlay: Whether a text banner covers part of the picture.
        width: Pixels.
        height: Pixels.
        layout: Seed of the scene's layout (positions, sizes).
    """

    hue: float
    saturation: float
    brightness: float
    face: bool
    text_overlay: bool
    width: int
    height: int
    layout: int

    def log_effect(self) -> float:
        """Planted log multiplier before normalisation."""
        values = {
            "saturation": self.saturation,
            "brightness": self.brightness,
            "face": float(self.face),
            "text_overlay": float(self.text_overlay),
        }
        return sum(EFFECTS[k] * (values[k] - CENTRES[k]) for k in EFFECTS)


def draw_spec(rng: np.random.Generator, platform: str) -> ImageSpec:
    """Draw the properties of one image for ``platform``."""
    aspect = ASPECT.get(platform, 1.0)
    width, height = (
        (IMAGE_SIDE, round(IMAGE_SIDE / aspect))
        if aspect >= 1
        else (round(IMAGE_SIDE * aspect), IMAGE_SIDE)
    )
    return ImageSpec(
        hue=float(rng.random()),
        saturation=float(rng.uniform(*SATURATION_RANGE)),
        brightness=float(rng.uniform(*VALUE_RANGE)),
        face=bool(rng.random() < FACE_SHARE),
        text_overlay=bool(rng.random() < TEXT_SHARE),
        width=width,
        height=height,
        layout=int(rng.integers(2**31)),
    )


def _rgb(hue: float, saturation: float, value: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(
        hue % 1.0, min(max(saturation, 0.0), 1.0), min(max(value, 0.0), 1.0)
    )
    return round(r * 255), round(g * 255), round(b * 255)


def _draw_face(draw: ImageDraw.ImageDraw, cx: int, cy: int, r: int, skin: np.ndarray) -> None:
    """A frontal, schematic face (Haar cascades find most of them)."""
    w, h = r, int(r * 1.25)

    def tone(factor: float) -> tuple[int, int, int]:
        r_, g_, b_ = (skin * factor).clip(0, 255).astype(int)
        return int(r_), int(g_), int(b_)

    draw.ellipse([cx - w - 4, cy - h - 6, cx + w + 4, cy + int(0.2 * h)], fill=(45, 30, 20))
    draw.ellipse([cx - w, cy - h, cx + w, cy + h], fill=tone(1.0))
    draw.rectangle(
        [cx - int(0.12 * w), cy - int(0.35 * h), cx + int(0.12 * w), cy + int(0.15 * h)],
        fill=tone(1.1),
    )
    for side in (-1, 1):
        ex, ey = cx + side * int(0.42 * w), cy - int(0.22 * h)
        draw.ellipse(
            [ex - int(0.32 * w), ey - int(0.18 * h), ex + int(0.32 * w), ey + int(0.14 * h)],
            fill=tone(0.8),
        )
        draw.rectangle(
            [ex - int(0.3 * w), ey - int(0.24 * h), ex + int(0.3 * w), ey - int(0.16 * h)],
            fill=tone(0.45),
        )
        draw.ellipse(
            [ex - int(0.2 * w), ey - int(0.07 * h), ex + int(0.2 * w), ey + int(0.07 * h)],
            fill=(235, 235, 235),
        )
        draw.ellipse(
            [ex - int(0.09 * w), ey - int(0.08 * h), ex + int(0.09 * w), ey + int(0.08 * h)],
            fill=(25, 18, 12),
        )
    draw.ellipse(
        [cx - int(0.16 * w), cy + int(0.12 * h), cx + int(0.16 * w), cy + int(0.24 * h)],
        fill=tone(0.8),
    )
    draw.ellipse(
        [cx - int(0.38 * w), cy + int(0.4 * h), cx + int(0.38 * w), cy + int(0.54 * h)],
        fill=(110, 35, 35),
    )


def render_image(spec: ImageSpec) -> Image.Image:
    """The RGB picture of ``spec``: sky, hills, a shoe-like product, maybe a face and a banner."""
    rng = np.random.default_rng(spec.layout)
    width, height = spec.width, spec.height
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    s, v = spec.saturation, spec.brightness
    top, bottom = _rgb(spec.hue, s * 0.7, v), _rgb(spec.hue + 0.08, s, v * 0.8)
    for y in range(height):
        t = y / max(height - 1, 1)
        draw.line(
            [(0, y), (width, y)],
            fill=tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)),
        )
    for _ in range(3):  # hills
        peak_x, peak_y = rng.uniform(0, width), rng.uniform(0.3, 0.6) * height
        spread = rng.uniform(0.3, 0.7) * width
        colour = _rgb(spec.hue + rng.uniform(0.2, 0.4), s * rng.uniform(0.6, 1.0), v * 0.65)
        draw.polygon(
            [(peak_x - spread, height), (peak_x, peak_y), (peak_x + spread, height)], fill=colour
        )
    # The product: a shoe-like body on a sole, in the complementary hue.
    face_left = bool(rng.random() < 0.5)
    px = (0.55 + rng.uniform(0, 0.15)) * width if face_left else rng.uniform(0.1, 0.25) * width
    py = rng.uniform(0.55, 0.7) * height
    pw, ph = rng.uniform(0.25, 0.35) * width, rng.uniform(0.12, 0.18) * height
    body = _rgb(spec.hue + 0.5, min(1.0, s + 0.1), min(1.0, v + 0.1))
    draw.rounded_rectangle([px, py - ph, px + pw, py], radius=int(ph / 2), fill=body)
    draw.rectangle([px, py - ph * 0.25, px + pw * 1.05, py + ph * 0.2], fill=(240, 240, 235))
    draw.line(
        [(px + pw * 0.3, py - ph * 0.8), (px + pw * 0.6, py - ph * 0.8)], fill=(30, 30, 30), width=2
    )
    if spec.face:
        r = int(height * rng.uniform(0.17, 0.24))
        cx = (
            int(rng.uniform(0.15, 0.35) * width)
            if face_left
            else int(rng.uniform(0.62, 0.8) * width)
        )
        cx = min(max(cx, r + 6), width - r - 6)
        cy = min(
            max(int(height * rng.uniform(0.35, 0.5)), int(r * 1.25) + 8), height - int(r * 1.25) - 2
        )
        skin = np.array([224.0, 172.0, 135.0]) * rng.uniform(0.55, 1.05)
        _draw_face(draw, cx, cy, r, skin)
    image = image.filter(ImageFilter.GaussianBlur(1.2))
    if spec.text_overlay:
        draw = ImageDraw.Draw(image)
        size = max(10, int(height * 0.11))
        font = ImageFont.load_default(size=size)
        band = int(size * 2.8)
        y0 = height - band - 4 if rng.random() < 0.5 else 4
        draw.rectangle([0, y0, width, y0 + band], fill=(20, 20, 20))
        lines = OVERLAY_LINES[int(rng.integers(len(OVERLAY_LINES)))]
        for i, line in enumerate(lines):
            draw.text((8, y0 + 4 + i * int(size * 1.25)), line, fill=(250, 250, 250), font=font)
    return image


def add_demo_media(
    rows: list[dict[str, Any]], media_dir: Path, rng: np.random.Generator
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Draw an image for each image post of ``rows`` and plant its effect on engagement.

    Args:
        rows: Demo post rows (the brand's and others'); only ``media_type == "image"``
            rows change: ``media_path`` (absolute path, or ``None`` for a missing file)
            and ``likes``/``comments``/``shares`` scaled by the planted multiplier.
        media_dir: Folder the JPEG files are written to (created when missing).
        rng: The generator of this part of the demo.

    Returns:
        The new rows (input order) and the ``manifest["media"]`` entry.
    """
    media_dir.mkdir(parents=True, exist_ok=True)
    picked = [i for i, row in enumerate(rows) if row.get("media_type") == "image"]
    specs = [draw_spec(rng, str(rows[i]["platform"])) for i in picked]
    missing = rng.random(len(picked)) < MISSING_SHARE
    multipliers = np.exp([spec.log_effect() for spec in specs]) if specs else np.ones(0)
    norm = float(multipliers.mean()) if len(multipliers) else 1.0
    multipliers = multipliers / norm
    out = [dict(row) for row in rows]
    for i, spec, m, gone in zip(picked, specs, multipliers, missing, strict=True):
        row = out[i]
        for column in ("likes", "comments", "shares"):
            row[column] = round(float(row[column]) * float(m))
        if gone:
            row["media_path"] = None
            continue
        path = media_dir / f"{row['post_id']}.jpg"
        render_image(spec).save(path, format="JPEG", quality=88)
        row["media_path"] = str(path)
    manifest = {
        "dir": str(media_dir),
        "images": int((~missing).sum()),
        "missing": int(missing.sum()),
        "synthetic": True,
        "note": (
            "images drawn at demo time (real posts' image URLs cannot be fetched here); "
            "the effect on engagement is planted"
        ),
        "effect": {
            "log_coefficients": EFFECTS,
            "centres": CENTRES,
            "normaliser": norm,
            "face_share": FACE_SHARE,
            "text_overlay_share": TEXT_SHARE,
            "saturation_range": list(SATURATION_RANGE),
            "brightness_range": list(VALUE_RANGE),
        },
    }
    return out, manifest
