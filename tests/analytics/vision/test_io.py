"""Reading user images: every kind of bad file becomes a one-line ImageInputError."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from analytics.exceptions import AnalysisInputError
from analytics.vision import (
    CorruptImageError,
    EmptyImageError,
    ImageTooLargeError,
    UnsupportedImageError,
    load_image,
)


def test_good_image_is_decoded_as_rgb(tmp_path: Path) -> None:
    path = tmp_path / "rgba.png"
    Image.new("RGBA", (40, 30), (10, 200, 30, 128)).save(path)
    image = load_image(path)
    assert image.mode == "RGB" and image.size == (40, 30)
    assert image.getpixel((0, 0)) == (10, 200, 30)


def test_jpeg_draft_downscales_large_photos(tmp_path: Path) -> None:
    path = tmp_path / "big.jpg"
    Image.new("RGB", (2000, 1600), (120, 40, 40)).save(path)
    image = load_image(path, draft_size=320)
    assert 320 <= min(image.size) < 1600


@pytest.mark.parametrize(
    ("kind", "error", "match"),
    [
        ("empty", EmptyImageError, r"empty\.jpg is empty \(0 bytes\)"),
        ("garbage", UnsupportedImageError, r"garbage\.jpg is not an image Beacon reads"),
        ("unsupported", UnsupportedImageError, r"icon\.ico is not an image .*JPEG, PNG"),
        ("truncated", CorruptImageError, r"truncated\.png is a damaged PNG file"),
        ("bomb", ImageTooLargeError, r"bomb\.png is too large to decode"),
        ("large", ImageTooLargeError, r"large\.png is too large .*100000000 pixels"),
    ],
)
def test_bad_files_raise_one_line_errors(
    bad_images: dict[str, Path], kind: str, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match) as caught:
        load_image(bad_images[kind])
    assert isinstance(caught.value, AnalysisInputError)
    assert "\n" not in str(caught.value)


def test_pixel_limit_is_configurable(good_image: Path) -> None:
    with pytest.raises(ImageTooLargeError, match=r"expected at most 1,000"):
        load_image(good_image, max_pixels=1_000)


def test_missing_file(bad_images: dict[str, Path]) -> None:
    with pytest.raises(FileNotFoundError, match="no image file at"):
        load_image(bad_images["missing"])
