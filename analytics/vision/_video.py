"""Tag video files: timed segments, brand safety per segment, video-level features.

A video is decoded once with OpenCV. Every frame is grabbed (demuxed and
decoded), but only a few are converted to pictures: the uniform samples (every
``interval_s`` seconds) and :data:`PROBES_PER_SECOND` probes a second for scene
changes, found by comparing each probe's HSV colour histogram with the previous
probe's (Bhattacharyya distance over :data:`CUT_DISTANCE`); the probe that shows a
new scene is sampled too. :class:`VideoLimits` bounds the work before and while
decoding: the length, the pixels of one frame and of all frames together, and the
wall-clock time, checked between frames. Sampled frames go through
the image classifier in batches. Each frame's top tag is taken from its class
probabilities averaged with its neighbours in the same shot (smoothing never
crosses a cut), and consecutive frames with the same top tag become one timed
segment ("0:03–0:09 running shoe"). A segment's safety is its least safe frame.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from analytics.vision._classes import category_matrix, category_names, imagenet_classes
from analytics.vision._errors import (
    CorruptImageError,
    EmptyImageError,
    ImageInputError,
    VideoTooLargeError,
)
from analytics.vision._faces import detect_faces
from analytics.vision._features import colourfulness
from analytics.vision._models import members, predict_proba
from analytics.vision._safety import Safety, _verdict, score_safety
from analytics.vision._tagger import (
    CATEGORY_MIN_SCORE,
    CategoryScore,
    Tag,
    _FileResult,
    tags_from_proba,
)

#: File name endings taken as video without looking inside.
VIDEO_EXTENSIONS: tuple[str, ...] = (
    ".mp4",
    ".m4v",
    ".mov",
    ".avi",
    ".mkv",
    ".webm",
    ".mpg",
    ".mpeg",
    ".wmv",
    ".flv",
    ".3gp",
)
#: A Bhattacharyya distance between consecutive frames' histograms above this is a cut.
CUT_DISTANCE = 0.5
#: Sampled frames are kept at most this many pixels on the longer side.
FRAME_MAX_SIDE = 640
#: Histograms are computed on frames scaled to this width.
_HIST_WIDTH = 160
#: Frames a second converted and compared for scene changes (the rest are only grabbed).
PROBES_PER_SECOND = 6


@dataclass(frozen=True)
class VideoLimits:
    """How much video :func:`tag_video` decodes before it refuses the file.

    The defaults suit the CLI; a chat answer passes tighter ones. Declared sizes are
    checked before decoding, and the real ones while decoding (containers can lie).

    Attributes:
        max_duration_s: Longest video, in seconds.
        max_frame_pixels: Most pixels in one frame (the default takes 4K).
        max_total_pixels: Most pixels over all decoded frames (the default: three
            minutes of 1080p at 30 frames a second).
        max_decode_s: Wall-clock seconds decoding may take, checked between frames.
    """

    max_duration_s: float = 600.0
    max_frame_pixels: int = 4096 * 2304
    max_total_pixels: int = 1920 * 1080 * 30 * 180
    max_decode_s: float = 120.0

    def check_frame(self, name: str, width: int, height: int) -> None:
        """Refuse frames larger than :attr:`max_frame_pixels`."""
        if width * height > self.max_frame_pixels:
            raise VideoTooLargeError(
                f"{name} has {width}x{height} frames; I take at most "
                f"{self.max_frame_pixels:,} pixels a frame: lower its resolution first"
            )

    def check_length(self, name: str, frames: int, fps: float, known: bool) -> None:
        """Refuse ``frames`` at ``fps`` over :attr:`max_duration_s` (``known``: declared count)."""
        if frames / fps > self.max_duration_s:
            longest = format_time(self.max_duration_s)
            raise VideoTooLargeError(
                f"{name} is {format_time(frames / fps)} long; I take videos of at most "
                f"{longest}: trim it first"
                if known
                else f"{name} is longer than {longest}, the longest video I take: trim it first"
            )

    def check_pixels(self, name: str, total: int, known: bool) -> None:
        """Refuse ``total`` pixels over all frames above :attr:`max_total_pixels`."""
        if total > self.max_total_pixels:
            most = f"{self.max_total_pixels / 1e9:.1f} billion"
            amount = (
                f"{total / 1e9:.1f} billion pixels; at most {most}"
                if known
                else f"over {most} pixels"
            )
            raise VideoTooLargeError(
                f"{name} is too much video to decode here ({amount}): "
                "trim it or lower its resolution"
            )


@dataclass(frozen=True)
class VideoSegment:
    """A stretch of video with one top tag.

    Attributes:
        start_s: Start in seconds.
        end_s: End in seconds.
        label: The top ImageNet tag over the segment's frames.
        imagenet_id: Its WordNet id.
        score: Its mean probability over the segment's frames.
        category: The strongest marketing category (None when none reaches the threshold).
        safety: The least safe frame's verdict (None when safety was not run).
        frames: Sampled frames in the segment.
    """

    start_s: float
    end_s: float
    label: str
    imagenet_id: str
    score: float
    category: str | None
    safety: Safety | None
    frames: int

    @property
    def text(self) -> str:
        """``0:03–0:09 running shoe``."""
        return f"{format_time(self.start_s)}–{format_time(self.end_s)} {self.label}"


@dataclass(frozen=True)
class VideoFeatures:
    """Video-level features for the engagement ensemble.

    Attributes:
        duration_s: Length in seconds.
        fps: Frames per second the file declares.
        frames_sampled: Frames tagged.
        colourfulness: Mean Hasler & Süsstrunk colourfulness of the sampled frames.
        brightness: Mean luma (0-1) of the sampled frames.
        face_frames: Share of sampled frames with at least one face.
        mean_faces: Mean number of faces per sampled frame.
        cuts: Scene changes found.
        cuts_per_minute: ``cuts`` over the duration in minutes.
        max_nsfw: Highest brand-safety (NSFW) score of any sampled frame (NaN when not run).
    """

    duration_s: float
    fps: float
    frames_sampled: int
    colourfulness: float
    brightness: float
    face_frames: float
    mean_faces: float
    cuts: int
    cuts_per_minute: float
    max_nsfw: float


@dataclass(frozen=True)
class VideoTags(_FileResult):
    """Everything Beacon says about one video file.

    Attributes:
        file: The path as given.
        model: Classifier used.
        segments: Timed segments in order (empty on error).
        tags: Top tags of the whole video (mean over sampled frames).
        categories: Marketing categories of the whole video.
        safety: The least safe segment's verdict.
        features: Video-level features (None on error).
        error: One-line reason when the file could not be used, else None.
    """

    file: str
    model: str
    segments: tuple[VideoSegment, ...] = ()
    tags: tuple[Tag, ...] = ()
    categories: tuple[CategoryScore, ...] = ()
    safety: Safety | None = None
    features: VideoFeatures | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``beacon vision tag --json``)."""
        if self.error is not None:
            return {"file": self.file, "error": self.error}
        assert self.features is not None
        return {
            "file": self.file,
            "kind": "video",
            "model": self.model,
            "duration_s": self.features.duration_s,
            "tags": [asdict(tag) for tag in self.tags],
            "categories": [asdict(category) for category in self.categories],
            "faces": {
                "face_frames": self.features.face_frames,
                "mean_faces": self.features.mean_faces,
            },
            "safety": asdict(self.safety) if self.safety is not None else None,
            "segments": [
                {
                    "start_s": segment.start_s,
                    "end_s": segment.end_s,
                    "text": segment.text,
                    "label": segment.label,
                    "imagenet_id": segment.imagenet_id,
                    "score": segment.score,
                    "category": segment.category,
                    "safety": asdict(segment.safety) if segment.safety is not None else None,
                    "frames": segment.frames,
                }
                for segment in self.segments
            ],
            "features": asdict(self.features),
        }


def format_time(seconds: float) -> str:
    """``m:ss`` (``h:mm:ss`` from an hour), rounded to the nearest second."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


_MAGIC: tuple[tuple[int, bytes], ...] = (
    (4, b"ftyp"),  # MP4, MOV, 3GP
    (0, b"\x1a\x45\xdf\xa3"),  # Matroska, WebM
    (0, b"\x00\x00\x01\xba"),  # MPEG program stream
    (0, b"\x00\x00\x01\xb3"),  # MPEG video
    (0, b"FLV"),
    (0, b"\x30\x26\xb2\x75"),  # ASF / WMV
)


def is_video(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` ends like a video file or starts with a video container's bytes."""
    file = Path(path)
    if file.suffix.lower() in VIDEO_EXTENSIONS:
        return True
    try:
        with file.open("rb") as handle:
            head = handle.read(16)
    except OSError:
        return False
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return True
    return any(head[offset : offset + len(magic)] == magic for offset, magic in _MAGIC)


@dataclass(frozen=True)
class _Frame:
    time_s: float
    image: Image.Image
    shot: int


@dataclass(frozen=True)
class _Decoded:
    frames: tuple[_Frame, ...]
    duration_s: float
    fps: float
    cuts: int


def _decode(
    path: Path,
    interval_s: float,
    max_frames: int,
    limits: VideoLimits = VideoLimits(),
    deadline: float | None = None,
) -> _Decoded:
    """Grab every frame, convert the samples and probes (see the module docstring).

    Args:
        path: The video file.
        interval_s: Seconds between uniform samples (widened to ``max_frames``).
        max_frames: Most uniform samples.
        limits: What is refused.
        deadline: A ``time.monotonic()`` value; default ``limits.max_decode_s`` from now.

    Raises:
        FileNotFoundError: No file at ``path``.
        ImageInputError: Empty, unreadable, or over ``limits`` (also once ``deadline``
            has passed).
    """
    import cv2

    if deadline is None:
        deadline = time.monotonic() + limits.max_decode_s

    if not path.is_file():
        raise FileNotFoundError(f"no video file at {path}: check the path")
    if path.stat().st_size == 0:
        raise EmptyImageError(f"{path.name} is empty (0 bytes): expected a video file")
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise CorruptImageError(
                f"{path.name} could not be opened as a video (damaged, or a container OpenCV "
                "cannot read); re-export it as MP4 (H.264) or MJPEG AVI"
            )
        fps = float(capture.get(cv2.CAP_PROP_FPS))
        if not np.isfinite(fps) or fps <= 0:
            fps = 25.0
        width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        declared = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        limits.check_frame(path.name, width, height)
        if declared > 0:
            limits.check_length(path.name, declared, fps, known=True)
            limits.check_pixels(path.name, declared * width * height, known=True)
            if declared / fps / interval_s > max_frames:
                interval_s = declared / fps / max_frames
        step = max(1, round(interval_s * fps))
        probe = max(1, round(fps / PROBES_PER_SECOND))
        frames: list[_Frame] = []
        previous: np.ndarray | None = None
        shot, cuts, index, pixels = 0, 0, 0, 0
        while True:
            if time.monotonic() > deadline:
                raise VideoTooLargeError(
                    f"{path.name} took longer than {limits.max_decode_s:g} s to decode; "
                    "trim it or lower its resolution"
                )
            if not capture.grab():
                break
            frame_index, index = index, index + 1
            pixels += width * height
            limits.check_length(path.name, index, fps, known=False)
            limits.check_pixels(path.name, pixels, known=False)
            if frame_index % step and frame_index % probe:
                continue  # grabbed only: no colour conversion, no histogram
            ok, bgr = capture.retrieve()
            if not ok or bgr is None:
                continue
            if bgr.shape[:2] != (height, width):  # the header said otherwise
                height, width = bgr.shape[:2]
                limits.check_frame(path.name, width, height)
            histogram = _histogram(bgr)
            cut = previous is not None and (
                cv2.compareHist(previous, histogram, cv2.HISTCMP_BHATTACHARYYA) > CUT_DISTANCE
            )
            previous = histogram
            if cut:
                shot += 1
                cuts += 1
            if (frame_index % step == 0 or cut) and len(frames) < 2 * max_frames:
                frames.append(_Frame(frame_index / fps, _to_image(bgr), shot))
    finally:
        capture.release()
    if not frames:
        raise CorruptImageError(
            f"{path.name} has no decodable video frames (empty, truncated or damaged); "
            "re-export it as MP4 (H.264) or MJPEG AVI"
        )
    return _Decoded(tuple(frames), index / fps, fps, cuts)


def _histogram(bgr: np.ndarray) -> np.ndarray:
    import cv2

    height, width = bgr.shape[:2]
    small = cv2.resize(bgr, (_HIST_WIDTH, max(1, round(height * _HIST_WIDTH / width))))
    hsv = cv2.cvtColor(small, cv2.COLOR_BGR2HSV)
    histogram = cv2.calcHist([hsv], [0, 1, 2], None, [16, 4, 4], [0, 180, 0, 256, 0, 256])
    return cv2.normalize(histogram, histogram).flatten()


def _to_image(bgr: np.ndarray) -> Image.Image:
    import cv2

    image = Image.fromarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    image.thumbnail((FRAME_MAX_SIDE, FRAME_MAX_SIDE))
    return image


def tag_video(
    path: str | os.PathLike[str],
    model: str = "ensemble",
    top_k: int = 5,
    interval_s: float = 1.0,
    max_frames: int = 120,
    batch_size: int = 16,
    device: str | None = None,
    safety: bool = True,
    limits: VideoLimits = VideoLimits(),
) -> VideoTags:
    """Tag one video file into timed segments.

    Args:
        path: The video file.
        model: ``lite0``, ``lite1``, ``lite2`` or ``ensemble``.
        top_k: Tags for the whole video.
        interval_s: Seconds between uniformly sampled frames (widened so that at most
            ``max_frames`` uniform frames are taken; scene-change frames come on top).
        max_frames: Upper bound on uniform samples.
        batch_size: Frames per forward pass.
        device: Torch device; default cuda when available, else cpu.
        safety: Run the brand-safety model on every sampled frame.
        limits: How much video is decoded before the file is refused (an ``error``).

    Returns:
        The :class:`VideoTags`; an unreadable or too large video gets one with ``error``
        set.

    Raises:
        ValueError: Unknown ``model`` or an option out of range.
    """
    members(model)
    if not 1 <= top_k <= 1000:
        raise ValueError(f"top_k must be between 1 and 1000 (got {top_k})")
    if interval_s <= 0 or max_frames < 1 or batch_size < 1:
        raise ValueError(
            "interval_s must be positive and max_frames and batch_size at least 1 "
            f"(got {interval_s}, {max_frames}, {batch_size})"
        )
    try:
        decoded = _decode(Path(path), interval_s, max_frames, limits)
    except (ImageInputError, FileNotFoundError) as error:
        return VideoTags(file=str(path), model=model, error=str(error))
    images = [frame.image for frame in decoded.frames]
    proba = np.concatenate(
        [
            predict_proba(images[start : start + batch_size], model, device)
            for start in range(0, len(images), batch_size)
        ]
    )
    nsfw = (
        np.array([verdict.nsfw_score for verdict in _safety_in_batches(images, batch_size)])
        if safety
        else None
    )
    shots = np.array([frame.shot for frame in decoded.frames])
    times = np.array([frame.time_s for frame in decoded.frames])
    segments = _segments(proba, shots, times, decoded.duration_s, nsfw)
    tags, categories = tags_from_proba(proba.mean(axis=0), top_k)
    worst = None if nsfw is None else _verdict(float(nsfw.max()))
    return VideoTags(
        file=str(path),
        model=model,
        segments=segments,
        tags=tags,
        categories=categories,
        safety=worst,
        features=_features(decoded, nsfw),
    )


def tag_videos(
    paths: Sequence[str | os.PathLike[str]],
    model: str = "ensemble",
    top_k: int = 5,
    device: str | None = None,
    safety: bool = True,
    on_progress: Callable[[int], None] | None = None,
    limits: VideoLimits = VideoLimits(),
) -> list[VideoTags]:
    """Tag several videos; an unreadable one gets an ``error`` result and the rest go on."""
    results = []
    for path in paths:
        results.append(
            tag_video(path, model=model, top_k=top_k, device=device, safety=safety, limits=limits)
        )
        if on_progress is not None:
            on_progress(1)
    return results


def _safety_in_batches(images: list[Image.Image], batch_size: int) -> list[Safety]:
    verdicts: list[Safety] = []
    for start in range(0, len(images), batch_size):
        verdicts.extend(score_safety(images[start : start + batch_size]))
    return verdicts


def _smoothed_top(proba: np.ndarray, shots: np.ndarray) -> np.ndarray:
    """Each frame's top class after averaging with its neighbours in the same shot."""
    tops = np.empty(len(proba), dtype=np.int64)
    for i in range(len(proba)):
        window = [j for j in (i - 1, i, i + 1) if 0 <= j < len(proba) and shots[j] == shots[i]]
        tops[i] = int(np.argmax(proba[window].mean(axis=0)))
    return tops


def _segments(
    proba: np.ndarray,
    shots: np.ndarray,
    times: np.ndarray,
    duration_s: float,
    nsfw: np.ndarray | None,
) -> tuple[VideoSegment, ...]:
    classes = imagenet_classes()
    names = category_names()
    matrix = category_matrix()
    tops = _smoothed_top(proba, shots)
    starts = [0] + [i for i in range(1, len(tops)) if tops[i] != tops[i - 1]]
    segments = []
    for number, first in enumerate(starts):
        last = starts[number + 1] if number + 1 < len(starts) else len(tops)
        top = int(tops[first])
        mean = proba[first:last].mean(axis=0)
        mass = mean @ matrix
        best = int(np.argmax(mass))
        segments.append(
            VideoSegment(
                start_s=0.0 if number == 0 else round(float(times[first]), 2),
                end_s=round(float(times[last]) if last < len(tops) else duration_s, 2),
                label=classes[top].label,
                imagenet_id=classes[top].imagenet_id,
                score=round(float(mean[top]), 4),
                category=names[best] if mass[best] >= CATEGORY_MIN_SCORE else None,
                safety=None if nsfw is None else _verdict(float(nsfw[first:last].max())),
                frames=last - first,
            )
        )
    return tuple(segments)


def _features(decoded: _Decoded, nsfw: np.ndarray | None) -> VideoFeatures:
    colour, bright, faces = [], [], []
    for frame in decoded.frames:
        colour.append(colourfulness(frame.image))
        bright.append(float(np.asarray(frame.image.convert("L"), dtype=np.float32).mean() / 255))
        faces.append(len(detect_faces(frame.image)))
    counts = np.array(faces, dtype=np.float64)
    minutes = decoded.duration_s / 60
    return VideoFeatures(
        duration_s=round(decoded.duration_s, 3),
        fps=round(decoded.fps, 3),
        frames_sampled=len(decoded.frames),
        colourfulness=round(float(np.mean(colour)), 3),
        brightness=round(float(np.mean(bright)), 4),
        face_frames=round(float((counts > 0).mean()), 4),
        mean_faces=round(float(counts.mean()), 4),
        cuts=decoded.cuts,
        cuts_per_minute=round(decoded.cuts / minutes, 3) if minutes > 0 else 0.0,
        max_nsfw=float("nan") if nsfw is None else round(float(nsfw.max()), 4),
    )
