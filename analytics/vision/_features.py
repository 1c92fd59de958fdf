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
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd
from PIL import Image

from analytics.exceptions import NotFittedError
from analytics.vision._errors import ImageInputError
from analytics.vision._faces import detect_faces
from analytics.vision._io import load_image
from analytics.vision._models import embed
from analytics.vision._safety import score_safety

#: ``text_heavy`` is set when text-like regions cover at least this share of the image.
TEXT_HEAVY_FRACTION = 0.12
#: Images are analysed at most this many pixels on the longer side.
ANALYSIS_MAX_SIDE = 640


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

    def fit(self, paths: Sequence[str | os.PathLike[str]]) -> ImageFeaturizer:
        """Fit the embedding PCA on the readable images among ``paths``."""
        from sklearn.decomposition import PCA

        _, embeddings, _ = self._describe(paths)
        usable = embeddings[~np.isnan(embeddings).any(axis=1)]
        if len(usable) < 2:
            raise ImageInputError(
                f"fitting image features needs at least 2 readable images (got {len(usable)})"
            )
        components = min(self.n_components, len(usable) - 1, usable.shape[1])
        self.pca_ = PCA(n_components=components, random_state=self.random_state).fit(usable)
        return self

    def transform(self, paths: Sequence[str | os.PathLike[str]]) -> pd.DataFrame:
        """Feature table indexed by path (as given), one row per path, in input order."""
        if not hasattr(self, "pca_"):
            raise NotFittedError(
                "This ImageFeaturizer instance is not fitted yet. Call 'fit' with image paths."
            )
        table, embeddings, errors = self._describe(paths)
        compressed = np.full((len(paths), self.pca_.n_components_), np.nan, dtype=np.float32)
        ok = ~np.isnan(embeddings).any(axis=1)
        if ok.any():
            compressed[ok] = self.pca_.transform(embeddings[ok])
        for j in range(compressed.shape[1]):
            table.insert(j, f"emb_{j}", compressed[:, j])
        table["error"] = errors
        return table

    def fit_transform(self, paths: Sequence[str | os.PathLike[str]]) -> pd.DataFrame:
        """``fit`` then ``transform`` the same images."""
        return self.fit(paths).transform(paths)

    def _describe(
        self, paths: Sequence[str | os.PathLike[str]]
    ) -> tuple[pd.DataFrame, np.ndarray, list[str | None]]:
        rows: list[dict[str, float]] = []
        embeddings = np.full((len(paths), 1280), np.nan, dtype=np.float32)
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
            embeddings[positions] = embed(images, "lite0", self.device)
            verdicts = score_safety(images)
            for position, image, safety in zip(positions, images, verdicts, strict=True):
                rows[position] = _describe_one(image) | {"nsfw_score": safety.nsfw_score}
        columns = [
            "colourfulness", "brightness", "contrast", "face_count", "face_area",
            "text_fraction", "text_heavy", "nsfw_score", "aspect_ratio",
        ]  # fmt: skip
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
