"""tag_video stays within its VideoLimits: length, pixels, decoding time, converted frames.

Containers can lie about their length, so the limits hold while decoding too: a capture
that reports no frame count (as WebM often does) is refused once the decoded frames pass
a limit. Between samples and scene-change probes frames are only grabbed, not converted.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from analytics.vision import VideoLimits, tag_video
from tests.analytics.vision.test_video import synthetic, write_video


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    """4 s of 320x240 MJPEG at 10 frames a second (40 frames), one cut at 2 s."""
    return write_video(tmp_path / "clip.avi", [synthetic(1), synthetic(2)], seconds=2)


class _Counted:
    """Counts what a ``cv2.VideoCapture`` is asked to do; can hide the frame count."""

    real: Any = None  # the real ``cv2.VideoCapture``
    converted = 0
    grabbed = 0
    hide_count = False

    def __init__(self, *args: Any) -> None:
        import cv2

        self._capture = self.real(*args)
        self._count_prop = cv2.CAP_PROP_FRAME_COUNT

    def get(self, prop: int) -> float:
        if self.hide_count and prop == self._count_prop:
            return 0.0
        return float(self._capture.get(prop))

    def grab(self) -> bool:
        type(self).grabbed += 1
        return bool(self._capture.grab())

    def retrieve(self) -> Any:
        type(self).converted += 1
        return self._capture.retrieve()

    def read(self) -> Any:
        type(self).grabbed += 1
        type(self).converted += 1
        return self._capture.read()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._capture, name)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[_Counted]]:
    import cv2

    class Counted(_Counted):
        real = cv2.VideoCapture

    monkeypatch.setattr(cv2, "VideoCapture", Counted)
    yield Counted


def test_a_video_over_the_length_limit_is_refused_before_decoding(
    clip: Path, counted: type[_Counted]
) -> None:
    result = tag_video(clip, model="lite0", safety=False, limits=VideoLimits(max_duration_s=3))
    assert result.error == "clip.avi is 0:04 long; I take videos of at most 0:03: trim it first"
    assert counted.grabbed == 0


def test_too_many_pixels_in_all_or_in_one_frame_are_refused(clip: Path) -> None:
    total = tag_video(
        clip, model="lite0", safety=False, limits=VideoLimits(max_total_pixels=320 * 240 * 30)
    )
    assert total.error == (
        "clip.avi is too much video to decode here (0.0 billion pixels; at most 0.0 billion): "
        "trim it or lower its resolution"
    )
    frame = tag_video(
        clip, model="lite0", safety=False, limits=VideoLimits(max_frame_pixels=320 * 200)
    )
    assert frame.error == (
        "clip.avi has 320x240 frames; I take at most 64,000 pixels a frame: "
        "lower its resolution first"
    )


def test_limits_hold_while_decoding_when_the_container_gives_no_length(
    clip: Path, counted: type[_Counted]
) -> None:
    counted.hide_count = True
    long = tag_video(clip, model="lite0", safety=False, limits=VideoLimits(max_duration_s=3))
    assert long.error == "clip.avi is longer than 0:03, the longest video I take: trim it first"
    assert counted.grabbed == 31  # stopped at the first frame past 3 s
    big = tag_video(
        clip, model="lite0", safety=False, limits=VideoLimits(max_total_pixels=320 * 240 * 30)
    )
    assert big.error is not None and big.error.startswith(
        "clip.avi is too much video to decode here (over 0.0 billion pixels)"
    )


def test_decoding_stops_at_its_wall_clock_limit(clip: Path) -> None:
    result = tag_video(clip, model="lite0", safety=False, limits=VideoLimits(max_decode_s=0))
    assert (
        result.error == "clip.avi took longer than 0 s to decode; trim it or lower its resolution"
    )


def test_frames_between_samples_and_probes_are_only_grabbed(
    tmp_path: Path, counted: type[_Counted]
) -> None:
    video = write_video(tmp_path / "fast.avi", [synthetic(3), synthetic(4)], seconds=1, fps=30)
    result = tag_video(video, model="lite0", safety=False)
    assert result.ok, result.error
    assert result.features is not None and result.features.cuts == 1
    assert counted.grabbed == 61  # 60 frames, then the end
    assert counted.converted == 12  # 6 scene-change probes a second; samples fall on them
