"""BM25, reciprocal rank fusion, maximal marginal relevance and metadata filters."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from knowledge import SearchFilter
from knowledge._bm25 import BM25, tokenize
from knowledge._retrieval import (
    ChunkTable,
    maximal_marginal_relevance,
    reciprocal_rank_fusion,
    top_ids,
)
from knowledge._types import Chunk


def test_tokenize_drops_stopwords_and_plurals() -> None:
    assert tokenize("What are the Hashtags for our shoes?") == ["hashtag", "shoe"]


def test_bm25_prefers_rare_matching_terms() -> None:
    docs = [
        "hashtags on instagram posts",
        "the shoe care guide for muddy shoes",
        "posting times for instagram and tiktok",
    ]
    bm25 = BM25().fit(docs)
    scores = bm25.score("which hashtags should instagram posts use")
    assert scores.shape == (3,)
    assert int(np.argmax(scores)) == 0
    assert scores[1] == 0.0
    assert bm25.score("zebra").sum() == 0.0


def test_bm25_length_normalisation() -> None:
    bm25 = BM25(b=0.75).fit(["emoji rules", "emoji " + "filler words here " * 30])
    scores = bm25.score("emoji")
    assert scores[0] > scores[1] > 0


def test_reciprocal_rank_fusion_rewards_agreement() -> None:
    fused = reciprocal_rank_fusion([[1, 2, 3], [3, 1, 4]], k=60)
    ids = [item for item, _ in fused]
    assert ids[0] == 1  # ranks 1 and 2
    assert ids[1] == 3  # ranks 3 and 1
    assert fused[0][1] == pytest.approx(1 / 61 + 1 / 62)
    assert set(ids) == {1, 2, 3, 4}


def test_top_ids_respects_mask_and_positivity() -> None:
    scores = np.array([0.0, 3.0, 2.0, 5.0])
    assert top_ids(scores, 2).tolist() == [3, 1]
    assert top_ids(scores, 5, np.array([True, True, True, False])).tolist() == [1, 2]


def test_mmr_skips_near_duplicates() -> None:
    a = np.array([1.0, 0.0, 0.0])
    dup = np.array([0.999, 0.0447, 0.0])
    other = np.array([0.6, 0.8, 0.0])
    far = np.array([0.0, 0.0, 1.0])
    vectors = np.stack([a, dup / np.linalg.norm(dup), other, far])
    relevance = np.array([1.0, 0.95, 0.9, 0.1])
    picked = maximal_marginal_relevance([10, 11, 12, 13], relevance, vectors, 2, 0.7)
    assert picked == [10, 12]
    # With pure relevance the duplicate stays.
    assert maximal_marginal_relevance([10, 11, 12, 13], relevance, vectors, 2, 1.0) == [10, 11]


def _chunk(source: str, collection: str, doc_type: str, day: str) -> Chunk:
    return Chunk("id", "/r", source, "T", ("T",), "text", collection, doc_type, day)


def _mask(table: ChunkTable, filters: SearchFilter) -> list[bool]:
    mask = table.mask(filters)
    assert mask is not None
    return [bool(value) for value in mask]


def test_filters_combine() -> None:
    table = ChunkTable(
        [
            _chunk("public/faq.md", "public", "markdown", "2024-01-01"),
            _chunk("internal/briefs/a.md", "internal", "markdown", "2024-06-01"),
            _chunk("internal/briefs/b.html", "internal", "html", "2025-01-01"),
            _chunk("internal/plan.txt", "internal", "text", "2025-03-01"),
        ]
    )
    assert table.mask(SearchFilter()) is None
    assert _mask(table, SearchFilter(collection="public")) == [True, False, False, False]
    assert _mask(table, SearchFilter(folder="internal/briefs/")) == [
        False,
        True,
        True,
        False,
    ]
    assert _mask(table, SearchFilter(doc_type="html")) == [False, False, True, False]
    assert _mask(table, SearchFilter(since=date(2024, 6, 1), until=date(2025, 1, 31))) == [
        False,
        True,
        True,
        False,
    ]
    with pytest.raises(ValueError, match=r"doc_type must be one of .*got 'docx'"):
        table.mask(SearchFilter(doc_type="docx"))
