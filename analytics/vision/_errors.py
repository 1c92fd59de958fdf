"""Errors raised by :mod:`analytics.vision`.

Hierarchy::

    AnalysisInputError              (analytics.exceptions)
    └── ImageInputError             an image file cannot be used
        ├── EmptyImageError         the file has zero bytes
        ├── UnsupportedImageError   not an image, or a format Beacon does not read
        ├── CorruptImageError       a known format, but the data is damaged or truncated
        ├── ImageTooLargeError      over the pixel limit (a decompression bomb)
        └── VideoTooLargeError      a video over the limits on length, pixels or decoding time
"""

from __future__ import annotations

from analytics.exceptions import AnalysisInputError


class ImageInputError(AnalysisInputError):
    """An image file cannot be read or used."""


class EmptyImageError(ImageInputError):
    """The image file has zero bytes."""


class UnsupportedImageError(ImageInputError):
    """The file is not an image in a format Beacon reads."""


class CorruptImageError(ImageInputError):
    """The image data is damaged or truncated."""


class ImageTooLargeError(ImageInputError):
    """The image has more pixels than allowed (a possible decompression bomb)."""


class VideoTooLargeError(ImageInputError):
    """The video is longer, has more pixels or takes longer to decode than allowed."""
