"""Images the vision tests make for themselves (good, empty, corrupt, bombs, unsupported)."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG whose header claims ``width`` x ``height`` (a decompression bomb's shape)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 16)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )
    return path


@pytest.fixture
def good_image(tmp_path: Path) -> Path:
    """A 320x240 RGB photo-like JPEG (smooth gradients plus noise)."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:240, 0:320]
    array = np.stack([x * 0.8, y, (x + y) * 0.4], axis=-1) + rng.normal(0, 8, (240, 320, 3))
    path = tmp_path / "good.jpg"
    Image.fromarray(np.clip(array, 0, 255).astype(np.uint8)).save(path, quality=90)
    return path


@pytest.fixture
def bad_images(tmp_path: Path, good_image: Path) -> dict[str, Path]:
    """One file per kind of bad input, keyed by the kind."""
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    garbage = tmp_path / "garbage.jpg"
    garbage.write_bytes(np.random.default_rng(1).bytes(4096))
    truncated = tmp_path / "truncated.png"
    with Image.open(good_image) as image:
        image.save(tmp_path / "full.png")
        image.save(tmp_path / "icon.ico", sizes=[(32, 32)])
    truncated.write_bytes((tmp_path / "full.png").read_bytes()[:3000])
    icon = tmp_path / "icon.ico"
    return {
        "empty": empty,
        "garbage": garbage,
        "truncated": truncated,
        "unsupported": icon,
        "bomb": png_header_only(tmp_path / "bomb.png", 20_000, 20_000),
        "large": png_header_only(tmp_path / "large.png", 10_000, 10_000),
        "missing": tmp_path / "missing.jpg",
    }
