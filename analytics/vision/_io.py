"""Reading user-supplied image files safely.

Every problem becomes an :class:`~analytics.vision._errors.ImageInputError`
with a one-line message; Pillow's decompression-bomb *warning* is turned into
an error, so an oversized image never reaches a model.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from analytics.vision._errors import (
    CorruptImageError,
    EmptyImageError,
    ImageTooLargeError,
    UnsupportedImageError,
)

#: Formats Beacon decodes; anything else (PDF, PSD, EPS, ...) is refused before decoding.
SUPPORTED_FORMATS: tuple[str, ...] = ("JPEG", "PNG", "GIF", "BMP", "WEBP", "TIFF")

#: Largest image accepted, in pixels (Pillow's own default limit, about 89 megapixels).
MAX_PIXELS = 89_478_485


def load_image(
    path: str | os.PathLike[str], max_pixels: int = MAX_PIXELS, draft_size: int | None = None
) -> Image.Image:
    """Open an image file and return it decoded as RGB.

    Args:
        path: The image file.
        max_pixels: Refuse images with more pixels than this.
        draft_size: When set, let the JPEG decoder downscale while decoding to no less
            than this many pixels on each side (much faster for large photos).

    Returns:
        A loaded RGB ``PIL.Image.Image`` (the first frame of an animation).

    Raises:
        FileNotFoundError: The path does not exist.
        EmptyImageError: The file has zero bytes.
        UnsupportedImageError: Not an image in one of :data:`SUPPORTED_FORMATS`.
        ImageTooLargeError: More than ``max_pixels`` pixels.
        CorruptImageError: The data is damaged or truncated.
    """
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"no image file at {file}: check the path")
    if file.stat().st_size == 0:
        raise EmptyImageError(f"{file.name} is empty (0 bytes): expected an image file")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            return _decode(file, max_pixels, draft_size)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise ImageTooLargeError(
                f"{file.name} is too large to decode ({error}); "
                f"expected at most {max_pixels:,} pixels: resize it first"
            ) from None


def _decode(file: Path, max_pixels: int, draft_size: int | None) -> Image.Image:
    try:
        image = Image.open(file, formats=SUPPORTED_FORMATS)
    except UnidentifiedImageError:
        raise UnsupportedImageError(
            f"{file.name} is not an image Beacon reads; expected one of "
            f"{', '.join(SUPPORTED_FORMATS)}"
        ) from None
    with image:
        width, height = image.size
        if width * height > max_pixels:
            raise ImageTooLargeError(
                f"{file.name} is {width}x{height} = {width * height:,} pixels; expected at most "
                f"{max_pixels:,} (a possible decompression bomb): resize it first"
            )
        if draft_size is not None and image.format == "JPEG":
            image.draft("RGB", (draft_size, draft_size))
        try:
            image.load()
            return image.convert("RGB")
        except (OSError, SyntaxError, ValueError) as error:
            raise CorruptImageError(
                f"{file.name} is a damaged {image.format} file ({error}); re-export or re-download it"
            ) from None
