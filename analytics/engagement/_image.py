"""The image modality: picture features of a post's ``media_path`` as one feature block.

For every post whose ``media_path`` names a readable image the block measures
(with :mod:`analytics.vision`): colourfulness (Hasler & Süsstrunk), brightness
and contrast (mean and spread of luma), faces (count and largest area, OpenCV's
Haar cascade), text-heaviness (share of text-line regions, and the flag), the
aspect ratio, what the picture shows (``img_emb_0..7``: EfficientNet-Lite0's
1,280-d penultimate embedding through the committed PCA,
``artifacts/vision/image-embedding-pca.npz``, fitted once on the 1,000-image
ImageNet sample so its directions are generic) and brand safety (``img_unsafe``:
Open-NSFW's probability). Posts without a picture get NaN there; ``img_missing`` is 1.0
for a post that should have one (``media_type == "image"`` or a ``media_path``)
but whose file is absent or unreadable, so the trees can learn what a missing
picture means (LightGBM keeps NaN; the logistic and network members impute the
training median and standardise, like every tabular column).

The block stays stateless: the projection is a committed artifact, not fitted on
the posts. Images are measured in one pass per image (one decode; EfficientNet one
image at a time on one torch thread, Open-NSFW in batches of :data:`BATCH_SIZE`: the
fastest split on a shared CPU; ``python -m benchmarks.engagement_images`` times the
whole measurement), and the networks and the projection load once per process, only
when a post has a picture. Features are cached per file *content* hash (and the
projection's digest), in memory for the process and, with ``cache_dir``, in SQLite.
Only regular files of at most :data:`MAX_FILE_BYTES` are read; anything else
(``/dev/zero``, a pipe, a huge file) counts as an unreadable picture.
``ImageBlock(embedding=False)`` leaves out the content and brand-safety columns (the
cheap block, for comparisons).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sqlite3
import stat
import threading
from contextlib import closing
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from analytics._threads import torch_threads

#: Bumped when the measurements change, so cached rows of an older version are not reused.
FEATURE_VERSION = "image-features-2"
#: Longest side images are analysed at (the cheap measures need no more).
ANALYSIS_SIDE = 320
#: Components of the picture embedding the block keeps (the committed projection's).
EMBEDDING_COLUMNS = 8
#: Images decoded and scored by Open-NSFW per batch.
BATCH_SIZE = 8
#: Largest picture file read: ``media_path`` comes from ingested rows, so a bigger file
#: (or a device, a pipe) counts as unreadable instead of being read whole.
MAX_FILE_BYTES = 50 * 1024 * 1024

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
    **{f"img_emb_{j}": "image: content" for j in range(EMBEDDING_COLUMNS)},
    "img_unsafe": "image: brand safety",
    "img_missing": "image: missing",
}
#: Columns left out by ``ImageBlock(embedding=False)``.
NETWORK_COLUMNS = (*(f"img_emb_{j}" for j in range(EMBEDDING_COLUMNS)), "img_unsafe")
_MEASURED = [c for c in IMAGE_COLUMNS if c != "img_missing"]

_MEMORY: dict[str, tuple[float, ...]] = {}
_LOCK = threading.Lock()


def describe_image(path: str | Path) -> tuple[float, ...]:
    """The measured columns (``IMAGE_COLUMNS`` minus ``img_missing``) of one image file.

    Raises:
        FileNotFoundError: No file at ``path``.
        analytics.vision.ImageInputError: Empty, corrupt, unsupported or too large.
        analytics.exceptions.ModelLoadError: A network or the projection cannot be loaded.
    """
    from analytics.vision import load_image

    return _describe_loaded([load_image(path, draft_size=ANALYSIS_SIDE)])[0]


def describe_images(paths: list[str]) -> list[tuple[float, ...] | None]:
    """:func:`describe_image` of many files in batches; ``None`` for an unreadable file.

    Raises:
        analytics.exceptions.ModelLoadError: A network or the projection cannot be loaded.
    """
    from analytics.vision import ImageInputError, load_image

    out: list[tuple[float, ...] | None] = [None] * len(paths)
    for start in range(0, len(paths), BATCH_SIZE):
        images: list[Image.Image] = []
        positions: list[int] = []
        for offset, path in enumerate(paths[start : start + BATCH_SIZE]):
            try:
                images.append(load_image(path, draft_size=ANALYSIS_SIDE))
            except (ImageInputError, OSError):
                continue
            positions.append(start + offset)
        if images:
            for position, row in zip(positions, _describe_loaded(images), strict=True):
                out[position] = row
    return out


def _describe_loaded(images: list[Image.Image]) -> list[tuple[float, ...]]:
    """Measured columns of decoded RGB images (one batch through both networks)."""
    from analytics.vision import (
        TEXT_HEAVY_FRACTION,
        colourfulness,
        detect_faces,
        embed,
        load_default_projection,
        score_safety,
        text_fraction,
    )

    projection = load_default_projection()
    with torch_threads(1):  # one image per pass beats a batch here (see the module docstring)
        pooled = np.vstack([embed([image], projection.model, "cpu") for image in images])
    content = projection.transform(pooled)
    unsafe = [verdict.nsfw_score for verdict in score_safety(images)]
    rows: list[tuple[float, ...]] = []
    for image, emb, nsfw in zip(images, content, unsafe, strict=True):
        aspect = image.size[0] / image.size[1]
        small = image.copy()
        small.thumbnail((ANALYSIS_SIDE, ANALYSIS_SIDE))
        luma = np.asarray(small.convert("L"), dtype=np.float32) / 255.0
        faces = detect_faces(small)
        text = text_fraction(small)
        rows.append(
            (
                colourfulness(small),
                float(luma.mean()),
                float(luma.std()),
                float(len(faces)),
                faces[0].area_fraction if faces else 0.0,
                text,
                float(text >= TEXT_HEAVY_FRACTION),
                aspect,
                *(float(v) for v in emb[:EMBEDDING_COLUMNS]),
                float(nsfw),
            )
        )
    return rows


class ImageBlock:
    """Feature block of post pictures (see the module docstring).

    Args:
        cache_dir: Folder of the SQLite feature cache (``image_features.sqlite``);
            ``None`` keeps the cache in memory only.
        embedding: Keep the picture-content embedding and brand-safety columns
            (``False``: only the cheap measures, for comparisons).
    """

    name = "image"

    def __init__(self, cache_dir: Path | None = None, embedding: bool = True) -> None:
        self.cache_dir = cache_dir
        self.embedding = embedding

    def columns(self) -> dict[str, str]:
        if self.embedding:
            return dict(IMAGE_COLUMNS)
        return {k: v for k, v in IMAGE_COLUMNS.items() if k not in NETWORK_COLUMNS}

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
        return frame[list(self.columns())]

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
        todo_paths: dict[str, str] = {}
        for path, key in zip(paths, keys, strict=True):
            if key is not None and key not in _MEMORY:
                todo_paths.setdefault(key, path)
        fresh: dict[str, tuple[float, ...]] = {}
        if todo_paths:
            found = describe_images(list(todo_paths.values()))
            fresh = {k: row for k, row in zip(todo_paths, found, strict=True) if row is not None}
        out: list[tuple[float, ...] | None] = [
            None if key is None else _MEMORY.get(key) or fresh.get(key) for key in keys
        ]
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
    """The cache key of one picture file: its content's hash with the feature version.

    Raises:
        OSError: Missing, not a regular file (``/dev/zero``, a pipe), or over
            :data:`MAX_FILE_BYTES`.
    """
    digest = hashlib.sha256(FEATURE_VERSION.encode())
    digest.update(_projection_digest().encode())
    # O_NONBLOCK: opening a named pipe must not wait for a writer; fstat then refuses it.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(f"{path.name} is not a regular file")
        if info.st_size > MAX_FILE_BYTES:
            raise OSError(f"{path.name} is over {MAX_FILE_BYTES / 1e6:.0f} MB")
        read = 0
        while chunk := handle.read(1024 * 1024):
            read += len(chunk)
            if read > MAX_FILE_BYTES:  # it grew after fstat
                raise OSError(f"{path.name} is over {MAX_FILE_BYTES / 1e6:.0f} MB")
            digest.update(chunk)
    return digest.hexdigest()


@functools.cache
def _projection_digest() -> str:
    """The committed projection's file hash (cached values depend on it); "" when absent."""
    from analytics.vision import default_projection_path

    try:
        return hashlib.sha256(default_projection_path().read_bytes()).hexdigest()
    except OSError:
        return ""


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
    if group == "image: content":
        return "what the picture shows"
    if group == "image: brand safety":
        from analytics.vision._safety import SAFE_BELOW, UNSAFE_ABOVE

        value = float(row.get("img_unsafe", np.nan))
        if np.isnan(value):
            return "not scored"
        verdict = "safe" if value < SAFE_BELOW else "unsafe" if value > UNSAFE_ABOVE else "review"
        return f"Open-NSFW {value:.2f}, {verdict}"
    return ""
