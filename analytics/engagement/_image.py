"""The image modality: cheap picture features of a post's ``media_path`` as one feature block.

For every post whose ``media_path`` names a readable image the block measures
(with :mod:`analytics.vision`): colourfulness (Hasler & Süsstrunk), brightness
and contrast (mean and spread of luma), faces (count and largest area, OpenCV's
Haar cascade), text-heaviness (share of text-line regions, and the flag), and
the aspect ratio. Posts without a picture get NaN there; ``img_missing`` is 1.0
for a post that should have one (``media_type == "image"`` or a ``media_path``)
but whose file is absent or unreadable, so the trees can learn what a missing
picture means (LightGBM keeps NaN; the logistic and network members impute the
training median and standardise, like every tabular column).

The EfficientNet embedding is not part of the block: it needs a fitted
projection (:class:`analytics.vision.ImageFeaturizer`) and about 50 ms per
image on this CPU, and the block is stateless. Features are cached per file
*content* hash, in memory for the process and, with ``cache_dir``, in SQLite.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from contextlib import closing
from pathlib import Path

import numpy as np
import pandas as pd

#: Bumped when the measurements change, so cached rows of an older version are not reused.
FEATURE_VERSION = "image-features-1"
#: Longest side images are analysed at (the cheap measures need no more).
ANALYSIS_SIDE = 320

#: Column → human feature (the SHAP group shown in explanations).
IMAGE_COLUMNS: dict[str, str] = {
    "img_colourfulness": "image: colourfulness",
    "img_brightness": "image: brightness",
    "img_contrast": "image: contrast",
    "img_faces": "image: faces",
    "img_face_area": "image: faces",
    "img_text_fraction": "image: text-heavy",
    "img_text_heavy": "image: text-heavy",
    "img_aspect": "image: aspect ratio",
    "img_missing": "image: missing",
}
_MEASURED = [c for c in IMAGE_COLUMNS if c != "img_missing"]

_MEMORY: dict[str, tuple[float, ...]] = {}
_LOCK = threading.Lock()


def describe_image(path: str | Path) -> tuple[float, ...]:
    """The measured columns (``IMAGE_COLUMNS`` minus ``img_missing``) of one image file.

    Raises:
        FileNotFoundError: No file at ``path``.
        analytics.vision.ImageInputError: Empty, corrupt, unsupported or too large.
    """
    from analytics.vision import (
        TEXT_HEAVY_FRACTION,
        colourfulness,
        detect_faces,
        load_image,
        text_fraction,
    )

    image = load_image(path, draft_size=ANALYSIS_SIDE)
    aspect = image.size[0] / image.size[1]
    image.thumbnail((ANALYSIS_SIDE, ANALYSIS_SIDE))
    luma = np.asarray(image.convert("L"), dtype=np.float32) / 255.0
    faces = detect_faces(image)
    text = text_fraction(image)
    return (
        colourfulness(image),
        float(luma.mean()),
        float(luma.std()),
        float(len(faces)),
        faces[0].area_fraction if faces else 0.0,
        text,
        float(text >= TEXT_HEAVY_FRACTION),
        aspect,
    )


class ImageBlock:
    """Feature block of post pictures (see the module docstring).

    Args:
        cache_dir: Folder of the SQLite feature cache (``image_features.sqlite``);
            ``None`` keeps the cache in memory only.
    """

    name = "image"

    def __init__(self, cache_dir: Path | None = None) -> None:
        self.cache_dir = cache_dir

    def columns(self) -> dict[str, str]:
        return dict(IMAGE_COLUMNS)

    def transform(self, posts: pd.DataFrame) -> pd.DataFrame:
        """Image columns of ``posts`` (``media_path`` and ``media_type`` used when present)."""
        n = len(posts)
        values = np.full((n, len(_MEASURED)), np.nan)
        media = (
            posts["media_type"].fillna("none").astype(str).to_numpy()
            if "media_type" in posts
            else np.full(n, "none")
        )
        paths: list[str | None] = [None] * n
        if "media_path" in posts:
            paths = [
                None
                if p is None or (isinstance(p, float) and np.isnan(p)) or not str(p)
                else str(p)
                for p in posts["media_path"].tolist()
            ]
        wanted = [i for i, p in enumerate(paths) if p is not None]
        if wanted:
            found = self._measure([paths[i] for i in wanted])  # type: ignore[misc]
            for i, row in zip(wanted, found, strict=True):
                if row is not None:
                    values[i] = row
        seen = ~np.isnan(values[:, 0])
        should = (media == "image") | np.array([p is not None for p in paths], dtype=bool)
        frame = pd.DataFrame(values, index=posts.index, columns=_MEASURED)
        frame["img_missing"] = (should & ~seen).astype(float)
        return frame

    # ----------------------------------------------------------------- caching
    def _measure(self, paths: list[str]) -> list[tuple[float, ...] | None]:
        keys: list[str | None] = []
        for path in paths:
            try:
                keys.append(_content_key(Path(path)))
            except OSError:
                keys.append(None)
        todo = {k for k in keys if k is not None and k not in _MEMORY}
        if todo and self.cache_dir is not None:
            _MEMORY.update(self._read_cache(sorted(todo)))
        fresh: dict[str, tuple[float, ...]] = {}
        out: list[tuple[float, ...] | None] = []
        for path, key in zip(paths, keys, strict=True):
            if key is None:
                out.append(None)
                continue
            row = _MEMORY.get(key) or fresh.get(key)
            if row is None:
                row = _safe_describe(path)
                if row is not None:
                    fresh[key] = row
            out.append(row)
        if fresh:
            with _LOCK:
                _MEMORY.update(fresh)
            if self.cache_dir is not None:
                self._write_cache(fresh)
        return out

    def _connect(self) -> sqlite3.Connection:
        assert self.cache_dir is not None
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.cache_dir / "image_features.sqlite", timeout=30.0)
        con.execute("CREATE TABLE IF NOT EXISTS img (key TEXT PRIMARY KEY, vals TEXT NOT NULL)")
        return con

    def _read_cache(self, keys: list[str]) -> dict[str, tuple[float, ...]]:
        found: dict[str, tuple[float, ...]] = {}
        with closing(self._connect()) as con, con:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for key, vals in con.execute(
                    f"SELECT key, vals FROM img WHERE key IN ({marks})", chunk
                ):
                    found[key] = tuple(float(v) for v in json.loads(vals))
        return found

    def _write_cache(self, rows: dict[str, tuple[float, ...]]) -> None:
        with closing(self._connect()) as con, con:
            con.executemany(
                "INSERT OR IGNORE INTO img VALUES (?, ?)",
                [(k, json.dumps(list(v))) for k, v in rows.items()],
            )


def _content_key(path: Path) -> str:
    digest = hashlib.sha256(FEATURE_VERSION.encode())
    digest.update(path.read_bytes())
    return digest.hexdigest()


def _safe_describe(path: str) -> tuple[float, ...] | None:
    from analytics.vision import ImageInputError

    try:
        return describe_image(path)
    except (ImageInputError, OSError):
        return None


def describe_group(group: str, row: pd.Series) -> str:
    """A short value for an ``image: ...`` explanation reason (``""`` for other groups)."""
    if not group.startswith("image: "):
        return ""
    if row.get("img_missing", 0.0) == 1.0:
        return "no readable image"
    if np.isnan(row.get("img_brightness", np.nan)):
        return "no image"
    if group == "image: colourfulness":
        return f"colourfulness {row['img_colourfulness']:.0f}"
    if group == "image: brightness":
        return f"{row['img_brightness']:.0%} brightness"
    if group == "image: contrast":
        return f"contrast {row['img_contrast']:.2f}"
    if group == "image: faces":
        return f"{int(row['img_faces'])} face(s)"
    if group == "image: text-heavy":
        return f"text covers {row['img_text_fraction']:.0%}"
    if group == "image: aspect ratio":
        return f"{row['img_aspect']:.2f}:1"
    return ""
