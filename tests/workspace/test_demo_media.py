"""The demo's image posts have real picture files and a planted, recorded effect."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from analytics.vision import load_image
from beacon.demo import add_demo_media
from tests.conftest import DemoWorkspace


def test_image_posts_have_readable_pictures_and_a_manifest_entry(demo: DemoWorkspace) -> None:
    media = demo.manifest["media"]
    assert media["synthetic"] is True and "planted" in media["note"]
    assert set(media["effect"]["log_coefficients"]) == {
        "saturation",
        "brightness",
        "face",
        "text_overlay",
    }
    with demo.workspace.connect(read_only=True) as con:
        rows = con.execute(
            "SELECT media_type, media_path FROM posts WHERE list_contains(?, account)",
            [demo.manifest["own_accounts"]],
        ).fetchall()
    paths = [path for kind, path in rows if kind == "image" and path is not None]
    assert len(paths) == media["images"] > 200
    assert sum(kind == "image" and path is None for kind, path in rows) == media["missing"]
    assert all(path is None for kind, path in rows if kind != "image")
    folder = demo.workspace.path.with_name("demo-media")
    assert all(Path(p).parent == folder for p in paths)
    for path in paths[::25]:
        image = load_image(path)
        assert max(image.size) == 256


def test_only_image_rows_change_and_the_effect_keeps_the_mean(tmp_path: Path) -> None:
    rows = [
        {
            "post_id": f"p{i}",
            "platform": "instagram",
            "media_type": kind,
            "media_path": None,
            "likes": 1000,
            "comments": 80,
            "shares": 50,
        }
        for i, kind in enumerate(["image", "none", "video"] * 40)
    ]
    out, manifest = add_demo_media(rows, tmp_path / "a", np.random.default_rng(3))
    again, _ = add_demo_media(rows, tmp_path / "b", np.random.default_rng(3))
    assert [r for r in out if r["media_type"] != "image"] == [
        r for r in rows if r["media_type"] != "image"
    ]
    likes = np.array([r["likes"] for r in out if r["media_type"] == "image"], dtype=float)
    assert likes.std() > 100  # the planted effect spreads engagement
    assert abs(likes.mean() - 1000) < 5  # ... around the same mean
    files = sorted((tmp_path / "a").glob("*.jpg"))
    assert len(files) == manifest["images"] and manifest["images"] + manifest["missing"] == 40
    assert all((tmp_path / "b" / f.name).read_bytes() == f.read_bytes() for f in files)
    assert [r["likes"] for r in out] == [r["likes"] for r in again]
