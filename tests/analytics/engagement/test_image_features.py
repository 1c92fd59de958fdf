"""The image modality of the engagement ensemble (analytics/engagement/_image.py)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import analytics.engagement._image as image_module
from analytics.engagement import EngagementModel, FeaturePipeline, default_blocks
from analytics.engagement._image import (
    IMAGE_COLUMNS,
    NETWORK_COLUMNS,
    ImageBlock,
    describe_group,
    describe_image,
)
from analytics.engagement._members import LightGBMMember
from analytics.exceptions import ModelLoadError
from analytics.sentiment import VaderScorer
from analytics.vision import EmbeddingProjection, load_default_projection
from beacon.demo import ImageSpec, render_image
from tests.conftest import DemoWorkspace

BASE = ImageSpec(
    hue=0.3,
    saturation=0.6,
    brightness=0.6,
    face=False,
    text_overlay=False,
    width=256,
    height=256,
    layout=11,
)


def _save(spec: ImageSpec, folder: Path, name: str) -> str:
    path = folder / f"{name}.jpg"
    render_image(spec).save(path, format="JPEG", quality=88)
    return str(path)


@pytest.fixture(autouse=True)
def _fresh_memory(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if "demo" in request.fixturenames:
        # The demo's pictures are the same bytes in every build (seeded), so other tests of
        # this process may have measured them already: the in-process memo keeps that.
        return
    monkeypatch.setattr(image_module, "_MEMORY", {})


def test_measures_follow_the_drawn_picture(tmp_path: Path) -> None:
    grey = describe_image(_save(replace(BASE, saturation=0.05), tmp_path, "grey"))
    vivid = describe_image(_save(replace(BASE, saturation=1.0), tmp_path, "vivid"))
    dark = describe_image(_save(replace(BASE, brightness=0.3), tmp_path, "dark"))
    bright = describe_image(_save(replace(BASE, brightness=0.95), tmp_path, "bright"))
    wide = describe_image(_save(replace(BASE, height=144), tmp_path, "wide"))
    names = [c for c in IMAGE_COLUMNS if c != "img_missing"]
    col = {name: i for i, name in enumerate(names)}
    assert vivid[col["img_colourfulness"]] > 2 * grey[col["img_colourfulness"]]
    assert bright[col["img_brightness"]] > dark[col["img_brightness"]] + 0.2
    assert wide[col["img_aspect"]] == pytest.approx(256 / 144, rel=0.01)
    assert grey[col["img_aspect"]] == pytest.approx(1.0)


def test_faces_and_text_overlays_are_seen_more_often_when_drawn(tmp_path: Path) -> None:
    specs = [replace(BASE, layout=seed, hue=seed / 10) for seed in range(8)]
    faces = [
        describe_image(_save(replace(s, face=True), tmp_path, f"f{i}")) for i, s in enumerate(specs)
    ]
    plain = [describe_image(_save(s, tmp_path, f"p{i}")) for i, s in enumerate(specs)]
    texts = [
        describe_image(_save(replace(s, text_overlay=True), tmp_path, f"t{i}"))
        for i, s in enumerate(specs)
    ]
    assert sum(row[3] > 0 for row in faces) >= 4
    assert sum(row[3] > 0 for row in plain) <= 1
    assert np.mean([row[5] for row in texts]) > np.mean([row[5] for row in plain])


def test_missing_and_unreadable_images_give_nan_and_the_indicator(tmp_path: Path) -> None:
    good = _save(BASE, tmp_path, "good")
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    posts = pd.DataFrame(
        {
            "media_type": ["image", "image", "image", "image", "none", "video"],
            "media_path": [good, str(tmp_path / "gone.jpg"), str(corrupt), None, None, np.nan],
        },
        index=[10, 11, 12, 13, 14, 15],
    )
    frame = ImageBlock().transform(posts)
    assert list(frame.columns) == list(IMAGE_COLUMNS)
    assert {f"img_emb_{j}" for j in range(8)} | {"img_unsafe"} <= set(frame.columns)
    assert np.isfinite(frame.loc[10, list(NETWORK_COLUMNS)].to_numpy()).all()
    assert frame.loc[11:13, list(NETWORK_COLUMNS)].isna().all().all()
    assert list(frame.index) == [10, 11, 12, 13, 14, 15]
    assert frame.loc[10].drop("img_missing").notna().all()
    assert frame.loc[11:15].drop(columns="img_missing").isna().all().all()
    assert frame["img_missing"].tolist() == [0.0, 1.0, 1.0, 1.0, 0.0, 0.0]


def test_posts_without_a_media_path_column_still_get_the_columns() -> None:
    posts = pd.DataFrame({"media_type": ["image", "none"]})
    frame = ImageBlock().transform(posts)
    assert frame["img_missing"].tolist() == [1.0, 0.0]
    assert frame.drop(columns="img_missing").isna().all().all()


def test_features_are_cached_by_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _save(BASE, tmp_path, "a")
    copy = tmp_path / "copy-of-a.jpg"
    copy.write_bytes(Path(path).read_bytes())
    cache = tmp_path / "cache"
    first = ImageBlock(cache).transform(pd.DataFrame({"media_path": [path]}))
    assert (cache / "image_features.sqlite").is_file()

    def fail(_: object) -> None:
        raise AssertionError("described again instead of read from the cache")

    monkeypatch.setattr(image_module, "_MEMORY", {})
    monkeypatch.setattr(image_module, "describe_images", fail)
    again = ImageBlock(cache).transform(pd.DataFrame({"media_path": [str(copy)]}))
    pd.testing.assert_frame_equal(first, again)


def test_pipeline_includes_the_image_group(tmp_path: Path) -> None:
    pipeline = FeaturePipeline(default_blocks(VaderScorer()))
    groups = pipeline.groups()
    assert groups["img_colourfulness"] == "image: colourfulness"
    assert {g for g in groups.values() if g.startswith("image: ")} >= {
        "image: colourfulness",
        "image: brightness",
        "image: faces",
        "image: text-heavy",
        "image: missing",
    }
    posts = pd.DataFrame(
        {
            "text": ["New shoe!", "Trail tips"],
            "posted_at": pd.to_datetime(["2026-05-01 18:00", "2026-05-02 09:00"]),
            "trailing_median": [3.0, 3.1],
            "trailing_q70": [3.5, 3.6],
            "recent_median": [3.0, 3.0],
            "history_len": [10, 11],
            "posts_7d": [3, 4],
            "hours_since_prev": [20.0, 15.0],
            "recent_hit_rate": [0.3, 0.25],
            "followers": [1000, 1000],
            "media_type": ["image", "none"],
            "media_path": [_save(BASE, tmp_path, "x"), None],
        }
    )
    features = pipeline.transform(posts, np.zeros((2, 384), dtype=np.float32))
    assert features.tabular.loc[0, "img_brightness"] > 0
    assert np.isnan(features.tabular.loc[1, "img_brightness"])
    row = features.tabular.iloc[0]
    assert describe_group("image: faces", row).endswith("face(s)")
    assert describe_group("image: brightness", features.tabular.iloc[1]) == "no image"


def test_the_ensemble_learns_from_the_demo_pictures(demo: DemoWorkspace, tmp_path: Path) -> None:
    with demo.workspace.connect(read_only=True) as con:
        posts = con.execute(
            """SELECT post_id, platform, account || '@' || platform AS account, text, posted_at,
                      followers, likes, comments, shares, views, media_type, media_path
               FROM posts WHERE list_contains(?, account)""",
            [demo.manifest["own_accounts"]],
        ).df()
    model = EngagementModel(members=("lightgbm", "logistic"), n_folds=3, cache_dir=tmp_path)
    model.fit(posts)
    lgbm = model.members_["lightgbm"]
    assert isinstance(lgbm, LightGBMMember)
    booster = lgbm.booster_
    gain = dict(zip(booster.feature_name(), booster.feature_importance("gain"), strict=True))
    image_gain = sum(v for k, v in gain.items() if k.startswith("img_"))
    assert gain["img_colourfulness"] > 0 and gain["img_brightness"] > 0
    assert image_gain > 0.1 * sum(gain.values())


def test_content_embedding_and_brand_safety(tmp_path: Path) -> None:
    emb = [f"img_emb_{j}" for j in range(8)]
    paths = [
        _save(BASE, tmp_path, "a"),
        _save(replace(BASE, hue=0.8, layout=3, face=True), tmp_path, "b"),
    ]
    copy = tmp_path / "copy.jpg"
    copy.write_bytes(Path(paths[0]).read_bytes())
    frame = ImageBlock().transform(pd.DataFrame({"media_path": [*paths, str(copy)]}))
    # The committed projection of EfficientNet-Lite0's embedding, as the block computes it.
    assert not np.allclose(frame.loc[0, emb], frame.loc[1, emb])
    pd.testing.assert_series_equal(frame.loc[0], frame.loc[2], check_names=False)
    assert frame["img_unsafe"].between(0.0, 0.2).all()  # drawn product scenes are safe
    row = frame.iloc[0]
    assert describe_group("image: content", row) == "what the picture shows"
    assert describe_group("image: brand safety", row).startswith("Open-NSFW 0.")
    assert describe_group("image: brand safety", row).endswith(", safe")


def test_the_cheap_block_leaves_the_network_columns_out(tmp_path: Path) -> None:
    block = ImageBlock(embedding=False)
    assert set(block.columns()) == set(IMAGE_COLUMNS) - set(NETWORK_COLUMNS)
    frame = block.transform(pd.DataFrame({"media_path": [_save(BASE, tmp_path, "a")]}))
    assert list(frame.columns) == list(block.columns())
    assert frame.notna().all().all()


def test_pipeline_groups_name_content_and_brand_safety() -> None:
    groups = FeaturePipeline(default_blocks(VaderScorer())).groups()
    assert {groups[f"img_emb_{j}"] for j in range(8)} == {"image: content"}
    assert groups["img_unsafe"] == "image: brand safety"


def test_the_committed_projection_loads_and_a_wrong_shape_is_refused(tmp_path: Path) -> None:
    projection = load_default_projection()
    assert projection.components.shape == (8, 1280)
    assert projection.components.dtype == np.float32
    assert projection.n_images == 1000
    ratio = projection.explained_variance_ratio
    assert (np.diff(ratio) <= 0).all() and 0 < ratio.sum() < 1
    wrong = replace(projection, components=projection.components[:, :1000])
    path = wrong.save(tmp_path / "wrong.npz")
    with pytest.raises(ModelLoadError, match=r"wrong shapes: expected mean \(1280,\)"):
        EmbeddingProjection.load(path)
    with pytest.raises(ModelLoadError, match="no image-embedding projection at"):
        EmbeddingProjection.load(tmp_path / "absent.npz")
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, mean=np.array([object()], dtype=object))
    with pytest.raises(ModelLoadError, match="cannot read the image-embedding projection"):
        EmbeddingProjection.load(pickled)
