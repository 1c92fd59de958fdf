"""The engagement image block reads only regular picture files of a bounded size.

``media_path`` comes from ingested rows, so it may name ``/dev/zero``, a pipe or a huge
file: each counts as an unreadable picture (``img_missing``) instead of being read whole.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import analytics.engagement._image as image_module
from analytics.engagement._image import ImageBlock
from beacon.demo import ImageSpec, render_image


@pytest.fixture(autouse=True)
def _fresh_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(image_module, "_MEMORY", {})


def _picture(path: Path) -> str:
    spec = ImageSpec(
        hue=0.3,
        saturation=0.6,
        brightness=0.6,
        face=False,
        text_overlay=False,
        width=256,
        height=256,
        layout=11,
    )
    render_image(spec).save(path, format="JPEG", quality=88)
    return str(path)


def _missing(paths: list[str]) -> list[float]:
    posts = pd.DataFrame({"media_type": ["image"] * len(paths), "media_path": paths})
    frame = ImageBlock(embedding=False).transform(posts)
    measured = frame.drop(columns="img_missing")
    assert (measured.isna().all(axis=1) == (frame["img_missing"] == 1.0)).all()
    return frame["img_missing"].tolist()


def test_a_picture_over_the_size_cap_counts_as_unreadable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    picture = _picture(tmp_path / "big.jpg")
    monkeypatch.setattr(image_module, "MAX_FILE_BYTES", os.path.getsize(picture) - 1)
    assert _missing([picture]) == [1.0]
    monkeypatch.setattr(image_module, "MAX_FILE_BYTES", os.path.getsize(picture))
    assert _missing([picture]) == [0.0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need POSIX")
def test_devices_and_pipes_are_not_read(tmp_path: Path) -> None:
    """``/dev/zero`` never ends and a pipe without a writer never answers."""
    pipe = tmp_path / "pipe.jpg"
    os.mkfifo(pipe)
    paths = [str(pipe)] + (["/dev/zero"] if Path("/dev/zero").exists() else [])
    assert _missing(paths) == [1.0] * len(paths)
    assert np.isnan(ImageBlock().transform(pd.DataFrame({"media_path": [str(pipe)]})).iloc[0, 0])
