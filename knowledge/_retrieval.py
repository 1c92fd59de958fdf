"""Ranking pieces: metadata filters, reciprocal rank fusion and maximal marginal relevance."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from knowledge._types import DOC_TYPES, Chunk, SearchFilter

RRF_K = 60


class ChunkTable:
    """Column arrays over the chunks, for fast metadata filtering.

    Args:
        chunks: The indexed chunks, row i = vector i.
    """

    def __init__(self, chunks: Sequence[Chunk]) -> None:
        self.collection = np.array([c.collection for c in chunks], dtype=object)
        self.source = np.array([c.source for c in chunks], dtype=object)
        self.doc_type = np.array([c.doc_type for c in chunks], dtype=object)
        self.doc_date = np.array([c.doc_date for c in chunks], dtype=object)

    def mask(self, filters: SearchFilter) -> np.ndarray | None:
        """Boolean array of shape (n_chunks,) of chunks passing ``filters``; None = all pass.

        Raises:
            ValueError: ``doc_type`` is not a known type.
        """
        if filters.is_empty:
            return None
        keep = np.ones(len(self.source), dtype=bool)
        if filters.collection is not None:
            keep &= self.collection == filters.collection
        if filters.folder is not None:
            prefix = filters.folder.strip("/") + "/"
            keep &= np.array([s.startswith(prefix) for s in self.source], dtype=bool)
        if filters.doc_type is not None:
            if filters.doc_type not in DOC_TYPES:
                raise ValueError(
                    f"doc_type must be one of {', '.join(DOC_TYPES)} (got {filters.doc_type!r})"
                )
            keep &= self.doc_type == filters.doc_type
        if filters.since is not None:
            keep &= self.doc_date >= filters.since.isoformat()
        if filters.until is not None:
            keep &= self.doc_date <= filters.until.isoformat()
        return keep


def top_ids(scores: np.ndarray, k: int, allowed: np.ndarray | None = None) -> np.ndarray:
    """Ids of the ``k`` best positive scores (descending), among ``allowed`` rows."""
    scores = np.asarray(scores, dtype=np.float64).copy()
    if allowed is not None:
        scores[~allowed] = -np.inf
    candidates = np.flatnonzero(scores > 0)
    if candidates.size == 0:
        return candidates
    order = np.argsort(-scores[candidates], kind="stable")[:k]
    return candidates[order]


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[int]], k: int = RRF_K
) -> list[tuple[int, float]]:
    """Fuse ranked id lists: score(id) = Σ 1 / (k + rank), rank starting at 1.

    Returns:
        ``(id, fused score)`` pairs, best first (ties keep first-seen order).
    """
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            fused[int(item)] = fused.get(int(item), 0.0) + 1.0 / (k + rank)
    return sorted(fused.items(), key=lambda pair: -pair[1])


def maximal_marginal_relevance(
    candidates: Sequence[int],
    relevance: np.ndarray,
    vectors: np.ndarray,
    k: int,
    lambda_mult: float = 0.7,
) -> list[int]:
    """Pick ``k`` candidates balancing relevance against similarity to those already picked.

    Args:
        candidates: Candidate ids, best first.
        relevance: Relevance of each candidate, shape (n_candidates,); min-max scaled here.
        vectors: Unit vectors of the candidates, shape (n_candidates, dim).
        k: How many to pick.
        lambda_mult: 1 = pure relevance, 0 = pure diversity.

    Returns:
        The picked ids in picking order.
    """
    if len(candidates) == 0:
        return []
    rel = np.asarray(relevance, dtype=np.float64)
    span = rel.max() - rel.min()
    rel = (rel - rel.min()) / span if span > 0 else np.ones_like(rel)
    similarity = vectors @ vectors.T
    picked: list[int] = [0]
    max_sim = similarity[0].copy()
    while len(picked) < min(k, len(candidates)):
        score = lambda_mult * rel - (1 - lambda_mult) * max_sim
        score[picked] = -np.inf
        best = int(np.argmax(score))
        picked.append(best)
        max_sim = np.maximum(max_sim, similarity[best])
    return [int(candidates[i]) for i in picked]
