"""The embedding PCA: ``beacon vision fit-projection``, save/load, the committed artifact."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from analytics.exceptions import ModelLoadError
from analytics.vision import (
    EmbeddingProjection,
    ImageFeaturizer,
    embed,
    load_default_projection,
    load_image,
)
from analytics.vision._features import weights_sha256
from beacon.cli import app
from foundation.settings import get_settings


@pytest.fixture
def settings_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("BEACON_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("BEACON_DATA_DIR", str(tmp_path / "no-data"))
    (tmp_path / "no-data").mkdir()
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def _images(folder: Path, n: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(3)
    y, x = np.mgrid[0:120, 0:160]
    for i in range(n):
        base = rng.uniform(0, 255, 3)
        waves = np.sin(x / (4 + 3 * i))[..., None] * rng.uniform(20, 90, 3)
        array = base + waves + (y / 120.0)[..., None] * rng.uniform(-80, 80, 3)
        Image.fromarray(np.clip(array, 0, 255).astype(np.uint8)).save(folder / f"{i}.png")
    (folder / "notes.txt").write_text("not an image; skipped by extension")
    return folder


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["vision", *args])
    return result.exit_code, result.stdout, result.stderr


def test_fit_projection_writes_a_loadable_projection_and_its_card(settings_env: Path) -> None:
    folder = _images(settings_env / "pics", 6)
    out = settings_env / "out" / "pca.npz"
    code, stdout, _ = _invoke(
        "fit-projection", str(folder), "--out", str(out), "--components", "3", "--json"
    )
    assert code == 0, stdout
    payload = json.loads(stdout)
    assert payload["images"] == 6 and payload["components"] == 3
    ratios = payload["explained_variance_ratio"]
    assert ratios == sorted(ratios, reverse=True) and 0 < payload["explained_variance_total"] <= 1
    projection = EmbeddingProjection.load(out)
    assert projection.components.shape == (3, 1280)
    assert projection.weights_sha256 == weights_sha256("lite0") == payload["weights_sha256"]
    card = (out.parent / "MODEL_CARD.md").read_text()
    assert f"beacon vision fit-projection {folder} --out {out} --components 3" in card
    assert projection.weights_sha256 in card

    # The saved projection reproduces the fitted PCA: projected variance = explained variance.
    images = [load_image(p, draft_size=640) for p in sorted(folder.glob("*.png"))]
    projected = projection.transform(embed(images, "lite0", "cpu"))
    assert np.allclose(projected.mean(axis=0), 0.0, atol=1e-3 * np.abs(projected).max())
    assert np.allclose(projected.var(axis=0, ddof=1), projection.explained_variance, rtol=1e-3)
    table = ImageFeaturizer.load(out).transform([folder / "0.png", folder / "gone.png"])
    assert list(table.columns[:3]) == ["emb_0", "emb_1", "emb_2"]
    assert np.allclose(table.iloc[0, :3].to_numpy(dtype=float), projected[0], atol=1e-4)
    assert table.iloc[1, :3].isna().all()


def test_fit_projection_explains_bad_input(settings_env: Path) -> None:
    code, _, err = _invoke("fit-projection")
    assert code == 2
    assert "error: no image folder: pass FOLDER, or set BEACON_DATA_DIR" in err
    code, _, err = _invoke("fit-projection", str(settings_env / "absent"))
    assert code == 2 and "is not a folder: expected a folder of image files" in err
    one = _images(settings_env / "one", 1)
    code, _, err = _invoke("fit-projection", str(one), "--out", str(settings_env / "x.npz"))
    assert code == 2 and "needs at least 2 readable images (got 1)" in err
    assert not (settings_env / "x.npz").exists()


def test_a_projection_for_other_weights_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import analytics.vision._features as features

    committed = EmbeddingProjection.load(features.default_projection_path())
    other = tmp_path / "pca.npz"
    EmbeddingProjection(
        committed.mean,
        committed.components,
        committed.explained_variance,
        committed.explained_variance_ratio,
        "lite0",
        "0" * 64,
        committed.n_images,
    ).save(other)
    monkeypatch.setattr(features, "default_projection_path", lambda: other)
    load_default_projection.cache_clear()
    try:
        with pytest.raises(ModelLoadError, match="fitted on lite0 weights with SHA-256 000000"):
            load_default_projection()
    finally:
        load_default_projection.cache_clear()


@pytest.mark.shared_data
def test_the_committed_projection_fits_the_imagenet_sample(shared_data_dir: Path) -> None:
    # Cheap check instead of a refit (a refit embeds all 1,000 images): on every 16th
    # sample image the committed directions carry about the variance they were fitted with.
    from analytics._threads import torch_threads

    projection = load_default_projection()
    paths = sorted((shared_data_dir / "images" / "imagenet-sample").glob("*.JPEG"))[::16]
    assert len(paths) == 63
    with torch_threads(1):
        pooled = np.vstack([embed([load_image(p, draft_size=640)], "lite0", "cpu") for p in paths])
    projected = projection.transform(pooled)
    total = projected.var(axis=0, ddof=1).sum()
    assert total == pytest.approx(projection.explained_variance.sum(), rel=0.3)
    assert projected[:, 0].var() > projected[:, -1].var()
