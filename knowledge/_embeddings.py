"""The shared all-MiniLM-L6-v2 encoder behind LangChain's ``Embeddings`` interface."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from langchain_core.embeddings import Embeddings

from analytics.embeddings import EMBEDDING_DIM, ENCODER_NAME


class MiniLMEmbeddings(Embeddings):
    """LangChain embeddings over :func:`analytics.embeddings.encode` (loaded once per process).

    Vectors are L2-normalised, so inner product equals cosine similarity.

    Args:
        batch_size: Texts per forward pass.
    """

    model_name: str = ENCODER_NAME
    dimension: int = EMBEDDING_DIM

    def __init__(self, batch_size: int = 64) -> None:
        self.batch_size = batch_size

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts as a float32 array of shape (n_texts, 384), L2-normalised."""
        from analytics.embeddings import encode

        return encode(list(texts), batch_size=self.batch_size)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """LangChain interface: one vector per text."""
        return self.encode(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        """LangChain interface: the vector of one query."""
        return self.encode([text])[0].tolist()


def embed_array(embeddings: Embeddings, texts: Sequence[str]) -> np.ndarray:
    """Embed through any LangChain ``Embeddings`` as float32 (n, dim), L2-normalised.

    Uses the fast numpy path of :class:`MiniLMEmbeddings` when available.
    """
    if isinstance(embeddings, MiniLMEmbeddings):
        vectors = embeddings.encode(texts)
    else:
        vectors = np.asarray(embeddings.embed_documents(list(texts)), dtype=np.float32)
    if len(texts) == 0:
        return vectors.reshape(0, -1).astype(np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


def embed_in_batches(
    embeddings: Embeddings,
    texts: Sequence[str],
    batch_size: int,
    on_batch: Callable[[int, int], None],
) -> np.ndarray:
    """Embed many texts, ``4 * batch_size`` per call, reporting progress after each call.

    Args:
        embeddings: Any LangChain ``Embeddings`` (see :func:`embed_array`).
        texts: The texts to embed.
        batch_size: The encoder's batch size.
        on_batch: Called as ``on_batch(done, total)`` after each call, and once as
            ``on_batch(0, 0)`` when there is nothing to embed.

    Returns:
        float32 array of shape (len(texts), dim), L2-normalised; with no texts, shape
        (0, embeddings.dimension), or (0, 0) when the model does not say its dimension.
    """
    if not texts:
        on_batch(0, 0)
        return np.zeros((0, int(getattr(embeddings, "dimension", 0) or 0)), dtype=np.float32)
    step = batch_size * 4
    parts = []
    for start in range(0, len(texts), step):
        parts.append(embed_array(embeddings, texts[start : start + step]))
        on_batch(min(start + step, len(texts)), len(texts))
    return np.concatenate(parts).astype(np.float32)


def embeddings_name(embeddings: Embeddings) -> str:
    """The model name recorded in an index manifest."""
    return str(getattr(embeddings, "model_name", type(embeddings).__name__))
