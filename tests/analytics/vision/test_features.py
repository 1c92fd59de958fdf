"""Image features for the engagement ensemble, and occlusion heatmaps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image, ImageDraw, ImageFont

from analytics.exceptions import NotFittedError
from analytics.vision import (
    ImageFeaturizer,
    colourfulness,
    explain_image,
    image_features,
    load_image,
    text_fraction,
)


def _poster(path: Path) -> Path:
    image = Image.new("RGB", (600, 400), (250, 250, 245))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=22)
    for line in range(8):
        draw.text(
            (20, 20 + 45 * line), "SUMMER SALE 50% OFF running shoes", fill=(20, 20, 20), font=font
        )
    image.save(path)
    return path


def test_colourfulness_follows_hasler_susstrunk() -> None:
    assert colourfulness(Image.new("RGB", (20, 20), (128, 128, 128))) == 0.0
    # uniform red: rg = 255, yb = 127.5, no spread -> 0.3 * sqrt(255^2 + 127.5^2)
    red = colourfulness(Image.new("RGB", (20, 20), (255, 0, 0)))
    assert red == pytest.approx(0.3 * np.hypot(255, 127.5), rel=1e-5)
    halves = np.zeros((20, 20, 3), dtype=np.uint8)
    halves[:, :10] = (255, 0, 0)
    halves[:, 10:] = (0, 0, 255)
    assert colourfulness(Image.fromarray(halves)) > red


def test_text_poster_is_text_heavy_and_photo_is_not(tmp_path: Path, good_image: Path) -> None:
    assert text_fraction(load_image(_poster(tmp_path / "poster.png"))) > 0.2
    assert text_fraction(load_image(good_image)) < 0.05


def test_feature_table(tmp_path: Path, good_image: Path) -> None:
    poster = _poster(tmp_path / "poster.png")
    dark = tmp_path / "dark.png"
    Image.new("RGB", (300, 200), (10, 10, 40)).save(dark)
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    paths = [good_image, poster, empty, dark]
    table = image_features(paths, n_components=2)
    assert list(table.index) == [str(path) for path in paths]
    assert list(table.columns) == [
        "emb_0",
        "emb_1",
        "colourfulness",
        "brightness",
        "contrast",
        "face_count",
        "face_area",
        "text_fraction",
        "text_heavy",
        "nsfw_score",
        "aspect_ratio",
        "error",
    ]
    good, text, bad, dark_row = (table.iloc[i] for i in range(4))
    assert bad["error"] == "empty.jpg is empty (0 bytes): expected an image file"
    assert table.drop(columns="error").iloc[2].isna().all()
    assert (
        pd.isna(good["error"])
        and not table.drop(columns="error").iloc[[0, 1, 3]].isna().any().any()
    )
    assert text["text_heavy"] == 1.0 and good["text_heavy"] == 0.0
    assert dark_row["brightness"] < 0.1 < text["brightness"]
    assert dark_row["aspect_ratio"] == pytest.approx(1.5)
    assert (table["face_count"].dropna() == 0).all()


def test_featurizer_must_be_fitted(good_image: Path) -> None:
    with pytest.raises(NotFittedError, match=r"not fitted yet\. Call 'fit'"):
        ImageFeaturizer().transform([good_image])


def test_heatmap_finds_the_object(tmp_path: Path) -> None:
    # An object on a plain background: the largest drop must come from the object's area.
    background = Image.new("RGB", (400, 400), (235, 235, 235))
    orange = Image.new("RGB", (120, 120), (245, 140, 20))
    mask = Image.new("L", (120, 120), 0)
    ImageDraw.Draw(mask).ellipse((0, 0, 119, 119), fill=255)
    background.paste(orange, (60, 220), mask)
    path = tmp_path / "object.png"
    background.save(path)
    heat = explain_image(path, tmp_path / "heat.png", grid_size=5)
    with Image.open(heat.png_path) as overlay:
        assert overlay.size == (400, 400)
    assert heat.grid.shape == (5, 5) and heat.max_drop > 0
    left, top, right, bottom = heat.region
    assert 0 <= left < right <= 400 and 0 <= top < bottom <= 400
    # the region overlaps the object's box (60..180, 220..340)
    assert left < 180 and right > 60 and top < 340 and bottom > 220


def test_heatmap_refuses_the_ensemble(good_image: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="needs a single model"):
        explain_image(good_image, tmp_path / "x.png", model="ensemble")
