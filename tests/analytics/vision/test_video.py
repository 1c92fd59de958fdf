"""tag_video on short videos made from images: segments, cuts, features, bad files, the CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from analytics.vision import format_time, is_video, tag_video
from beacon.cli import app

SAMPLE = Path("images") / "imagenet-sample"


def write_video(path: Path, images: list[Image.Image], seconds: float, fps: int = 10) -> Path:
    """``seconds`` of each image in turn, at ``fps``, codec picked by the file's ending."""
    import cv2

    codec = "MJPG" if path.suffix == ".avi" else "mp4v"
    fourcc = cv2.VideoWriter.fourcc(*codec)
    writer = cv2.VideoWriter(str(path), fourcc, fps, (320, 240))
    assert writer.isOpened()
    for image in images:
        frame = cv2.cvtColor(np.asarray(image.convert("RGB").resize((320, 240))), cv2.COLOR_RGB2BGR)
        for _ in range(round(seconds * fps)):
            writer.write(frame)
    writer.release()
    return path


def synthetic(seed: int) -> Image.Image:
    """A photo-like image: a smooth colour gradient in a direction set by ``seed``, plus noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:240, 0:320]
    weights = rng.uniform(0.2, 1.0, 3)
    array = np.stack([x * weights[0], y * weights[1], (320 - x) * weights[2]], axis=-1)
    array = array + rng.normal(0, 6, array.shape)
    return Image.fromarray(np.clip(array, 0, 255).astype(np.uint8))


def _sample(shared_data_dir: Path, name: str) -> Image.Image:
    path = shared_data_dir / SAMPLE / name
    if not path.is_file():
        pytest.skip(f"sample image {path} is missing")
    return Image.open(path)


@pytest.mark.shared_data
def test_two_shots_of_sample_images_become_two_labelled_segments(
    shared_data_dir: Path, tmp_path: Path
) -> None:
    shoe = _sample(shared_data_dir, "n04120489_running_shoe.JPEG")
    fish = _sample(shared_data_dir, "n01443537_goldfish.JPEG")
    video = write_video(tmp_path / "clip.mp4", [shoe, fish], seconds=3)
    result = tag_video(video, model="lite0")
    assert result.ok, result.error
    assert [(s.label, s.start_s, s.end_s) for s in result.segments] == [
        ("running shoe", 0.0, 3.0),
        ("goldfish", 3.0, 6.0),
    ]
    assert [s.text for s in result.segments] == ["0:00–0:03 running shoe", "0:03–0:06 goldfish"]
    assert [s.category for s in result.segments] == ["footwear", "animal"]
    assert all(s.safety is not None and s.safety.verdict == "safe" for s in result.segments)
    assert result.features is not None and result.features.cuts == 1
    assert result.features.duration_s == pytest.approx(6.0)
    assert result.features.cuts_per_minute == pytest.approx(10.0)
    assert {tag.label for tag in result.tags[:2]} == {"running shoe", "goldfish"}


def test_synthetic_shots_split_at_the_cut(tmp_path: Path) -> None:
    """Without shared data: a cut between two different images is found where it is."""
    video = write_video(tmp_path / "clip.avi", [synthetic(1), synthetic(2)], seconds=3)
    result = tag_video(video, model="lite0", safety=False)
    assert result.ok, result.error
    assert result.features is not None and result.features.cuts == 1
    assert result.features.frames_sampled == 6  # 0..5 s uniformly; the cut frame is at 3 s
    assert result.segments[0].start_s == 0.0 and result.segments[-1].end_s == pytest.approx(6.0)
    boundaries = [s.start_s for s in result.segments[1:]]
    assert set(boundaries) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    assert sum(s.frames for s in result.segments) == 6
    assert result.safety is None and np.isnan(result.features.max_nsfw)


def test_one_still_shot_is_one_segment_without_cuts(tmp_path: Path) -> None:
    video = write_video(tmp_path / "still.mp4", [synthetic(3)], seconds=4)
    result = tag_video(video, model="lite0", safety=False, interval_s=0.5)
    assert result.ok and len(result.segments) == 1
    assert result.features is not None
    assert result.features.cuts == 0 and result.features.frames_sampled == 8
    (segment,) = result.segments
    assert (segment.start_s, segment.end_s, segment.frames) == (0.0, 4.0, 8)
    assert 0.0 < result.features.brightness < 1.0 and result.features.colourfulness > 0


def test_bad_videos_get_one_line_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(np.random.default_rng(0).bytes(8192))
    good = write_video(tmp_path / "good.avi", [synthetic(4)], seconds=1)
    truncated = tmp_path / "truncated.avi"
    truncated.write_bytes(good.read_bytes()[:200])
    expected = {
        empty: r"empty\.mp4 is empty \(0 bytes\): expected a video file",
        garbage: r"garbage\.mp4 could not be opened as a video",
        truncated: r"truncated\.avi (could not be opened as a video|has no decodable video frames)",
        tmp_path / "missing.mp4": r"no video file at .*missing\.mp4",
    }
    for path, pattern in expected.items():
        result = tag_video(path, model="lite0")
        assert not result.ok and result.error is not None and "\n" not in result.error
        assert re.search(pattern, result.error), result.error
        assert result.to_dict() == {"file": str(path), "error": result.error}


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"model": "resnet"}, r"model must be one of .*\(got 'resnet'\)"),
        ({"top_k": 0}, r"top_k must be between 1 and 1000 \(got 0\)"),
        ({"interval_s": 0}, r"interval_s must be positive .*\(got 0, 120, 16\)"),
    ],
)
def test_bad_options_are_refused(tmp_path: Path, kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        tag_video(tmp_path / "any.mp4", **kwargs)  # type: ignore[arg-type]


def test_is_video_by_extension_and_by_content(tmp_path: Path) -> None:
    avi = write_video(tmp_path / "clip.avi", [synthetic(5)], seconds=0.5)
    mp4 = write_video(tmp_path / "clip.mp4", [synthetic(5)], seconds=0.5)
    renamed_avi = tmp_path / "clip-avi.bin"
    renamed_avi.write_bytes(avi.read_bytes())
    renamed_mp4 = tmp_path / "clip-mp4.dat"
    renamed_mp4.write_bytes(mp4.read_bytes())
    photo = tmp_path / "photo.jpg"
    synthetic(6).save(photo)
    assert is_video(tmp_path / "missing.MOV") and is_video(renamed_avi) and is_video(renamed_mp4)
    assert not is_video(photo) and not is_video(tmp_path / "missing.png")


def test_format_time() -> None:
    assert [format_time(s) for s in (0, 3.4, 59.6, 61, 3725)] == [
        "0:00",
        "0:03",
        "1:00",
        "1:01",
        "1:02:05",
    ]


def test_cli_tags_images_and_videos_in_input_order(tmp_path: Path) -> None:
    video = write_video(tmp_path / "clip.avi", [synthetic(7), synthetic(8)], seconds=2)
    photo = tmp_path / "photo.jpg"
    synthetic(9).save(photo)
    empty = tmp_path / "empty.mov"
    empty.write_bytes(b"")
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["vision", "tag", str(video), str(photo), str(empty), "--json", "--model", "lite0"],
    )
    assert result.exit_code == 1, result.stderr
    first, second, third = json.loads(result.stdout)
    assert first["file"] == str(video) and first["kind"] == "video"
    assert first["segments"][0]["start_s"] == 0.0 and first["segments"][-1]["end_s"] == 4.0
    assert first["features"]["cuts"] == 1 and first["features"]["duration_s"] == 4.0
    assert {
        "start_s",
        "end_s",
        "text",
        "label",
        "imagenet_id",
        "score",
        "category",
        "safety",
    } <= set(first["segments"][0])
    assert second["file"] == str(photo) and "segments" not in second and len(second["tags"]) == 5
    assert third == {
        "file": str(empty),
        "error": "empty.mov is empty (0 bytes): expected a video file",
    }

    text = runner.invoke(app, ["vision", "tag", str(video), "--model", "lite0"])
    assert text.exit_code == 0 and "segments: 0:00–" in text.stdout
