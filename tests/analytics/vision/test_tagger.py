"""tag_images on batches with good and bad files; faces; brand safety; the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from analytics.vision import detect_faces, load_image, score_safety, tag_images
from beacon.cli import app


def test_bad_files_get_one_line_errors_and_the_batch_goes_on(
    good_image: Path, bad_images: dict[str, Path]
) -> None:
    paths = [good_image, *bad_images.values(), good_image]
    results = tag_images(paths, model="lite0", top_k=3, batch_size=3)
    assert [result.file for result in results] == [str(path) for path in paths]
    assert [result.ok for result in results] == [True] + [False] * len(bad_images) + [True]
    for result in results[1:-1]:
        assert result.error and "\n" not in result.error and not result.tags
    assert results[0].to_dict()["tags"] == results[-1].to_dict()["tags"]
    assert "too large" in ({r.file: r.error for r in results}[str(bad_images["bomb"])] or "")


def test_result_shape(good_image: Path) -> None:
    (result,) = tag_images([good_image], model="lite0", top_k=4)
    payload = result.to_dict()
    assert set(payload) == {"file", "model", "tags", "categories", "faces", "safety"}
    assert len(payload["tags"]) == 4
    scores = [tag["score"] for tag in payload["tags"]]
    assert scores == sorted(scores, reverse=True) and 0 < sum(scores) <= 1.0001
    assert all(
        tag["imagenet_id"].startswith("n") and len(tag["imagenet_id"]) == 9
        for tag in payload["tags"]
    )
    assert payload["faces"] == {"count": 0, "boxes": []}
    assert set(payload["safety"]) == {"nsfw_score", "safe", "verdict"}


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"model": "resnet"}, r"model must be one of .*\(got 'resnet'\)"),
        ({"top_k": 0}, r"top_k must be between 1 and 1000 \(got 0\)"),
        ({"batch_size": 0}, r"batch_size must be at least 1 \(got 0\)"),
    ],
)
def test_bad_options_are_refused(good_image: Path, kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        tag_images([good_image], **kwargs)  # type: ignore[arg-type]


def test_flat_synthetic_image_has_no_faces_and_is_safe(good_image: Path) -> None:
    image = load_image(good_image)
    assert detect_faces(image) == ()
    (verdict,) = score_safety([image])
    assert verdict.safe and verdict.verdict == "safe" and 0 <= verdict.nsfw_score < 0.2


@pytest.mark.shared_data
def test_face_photo_has_one_face(shared_data_dir: Path) -> None:
    folder = shared_data_dir / "images" / "misc" / "justinshenk_fer"
    faces = detect_faces(load_image(folder / "justin.jpg"))
    assert len(faces) == 1 and 0.05 < faces[0].area_fraction < 0.9
    assert detect_faces(load_image(folder / "no-faces.jpg")) == ()


def test_cli_json_and_exit_codes(good_image: Path, bad_images: dict[str, Path]) -> None:
    runner = CliRunner()
    ok = runner.invoke(
        app, ["vision", "tag", str(good_image), "--json", "--top", "2", "--model", "lite0"]
    )
    assert ok.exit_code == 0, ok.stderr
    (item,) = json.loads(ok.stdout)
    assert item["file"] == str(good_image) and len(item["tags"]) == 2
    assert {"label", "imagenet_id", "score"} == set(item["tags"][0])

    mixed = runner.invoke(
        app,
        ["vision", "tag", str(good_image), str(bad_images["empty"]), "--json", "--model", "lite0"],
    )
    assert mixed.exit_code == 1
    good, bad = json.loads(mixed.stdout)
    assert "tags" in good and bad == {
        "file": str(bad_images["empty"]),
        "error": "empty.jpg is empty (0 bytes): expected an image file",
    }

    text = runner.invoke(app, ["vision", "tag", str(bad_images["garbage"]), "--model", "lite0"])
    assert text.exit_code == 1 and "garbage.jpg: error: garbage.jpg is not an image" in text.stdout

    wrong = runner.invoke(app, ["vision", "tag", str(good_image), "--model", "vgg"])
    assert wrong.exit_code == 2 and "error: model must be one of" in wrong.stderr


def test_rgba_and_grayscale_inputs_are_tagged(tmp_path: Path) -> None:
    gray = tmp_path / "gray.png"
    Image.fromarray(np.tile(np.arange(64, dtype=np.uint8) * 4, (48, 1))).save(gray)
    rgba = tmp_path / "rgba.webp"
    Image.new("RGBA", (64, 64), (200, 30, 30, 100)).save(rgba)
    results = tag_images([gray, rgba], model="lite0", faces=False, safety=False)
    assert all(result.ok and len(result.tags) == 5 for result in results)
    assert all(result.faces is None and result.safety is None for result in results)


def test_cli_explain_writes_png(good_image: Path, tmp_path: Path) -> None:
    out = tmp_path / "heat.png"
    result = CliRunner().invoke(
        app, ["vision", "explain", str(good_image), "--out", str(out), "--grid", "3", "--json"]
    )
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["png"] == str(out) and out.is_file() and len(payload["region"]) == 4
    missing = CliRunner().invoke(
        app, ["vision", "explain", str(tmp_path / "no.jpg"), "--out", str(out)]
    )
    assert missing.exit_code == 2 and "error: no image file at" in missing.stderr
