"""The ImageNet-1k classes: WordNet ids, labels and marketing categories.

The table (``data/imagenet_classes.json``) is committed; it was built from
WordNet 3.0 hypernyms by :mod:`analytics.vision._build_classes` (see there).
Class index = sorted order of the WordNet ids, as the classifiers were trained.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_TABLE = Path(__file__).with_name("data") / "imagenet_classes.json"


@dataclass(frozen=True)
class ImageNetClass:
    """One ImageNet-1k class.

    Attributes:
        index: Output index of the classifiers (0-999).
        imagenet_id: WordNet id, e.g. ``n01440764``.
        label: Short human-readable name, e.g. ``tench``.
        categories: Marketing categories (``food``, ``footwear``, ...), possibly empty.
    """

    index: int
    imagenet_id: str
    label: str
    categories: tuple[str, ...]


@functools.cache
def imagenet_classes() -> tuple[ImageNetClass, ...]:
    """The 1,000 classes in output-index order (read once per process)."""
    payload = json.loads(_TABLE.read_text(encoding="utf-8"))
    return tuple(
        ImageNetClass(
            index=int(row["index"]),
            imagenet_id=str(row["imagenet_id"]),
            label=str(row["label"]),
            categories=tuple(row["categories"]),
        )
        for row in payload["classes"]
    )


@functools.cache
def category_names() -> tuple[str, ...]:
    """All marketing category names, in the table's order."""
    payload = json.loads(_TABLE.read_text(encoding="utf-8"))
    return tuple(payload["categories"])


@functools.cache
def category_matrix() -> np.ndarray:
    """Membership matrix of shape (1000, n_categories): 1.0 where a class is in a category."""
    names = category_names()
    matrix = np.zeros((len(imagenet_classes()), len(names)), dtype=np.float32)
    for cls in imagenet_classes():
        for name in cls.categories:
            matrix[cls.index, names.index(name)] = 1.0
    return matrix
