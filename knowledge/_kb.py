"""The knowledge base: a loaded, verified index with hybrid retrieval and cited answers."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from langchain_core.embeddings import Embeddings

from knowledge import _docstore, _faiss
from knowledge._answer import (
    format_extractive,
    format_not_found,
    rank_sentences,
    select_quotes,
)
from knowledge._answerability import ANSWER_THRESHOLD, answerability, answerability_features
from knowledge._bm25 import BM25
from knowledge._embeddings import MiniLMEmbeddings, embed_array, embeddings_name
from knowledge._generator import generate
from knowledge._retrieval import (
    ChunkTable,
    maximal_marginal_relevance,
    reciprocal_rank_fusion,
    top_ids,
)
from knowledge._store import StoredIndex
from knowledge._terms import Vocabulary, without_generic_lead_in
from knowledge._types import Answer, GpuMode, Passage, SearchFilter, SearchMode

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

logger = logging.getLogger(__name__)

DEFAULT_MIN_SCORE = 0.20
"""Best-passage cosine below which ``ask`` answers "not found" without asking the
answerability model, and "show me more" offers no passage. Above it, the answerability
model decides (:data:`knowledge._answerability.ANSWER_THRESHOLD`). On the cosine alone the
best cut is near 0.30 (``python -m benchmarks.knowledge_quality``); with the model behind
it, a lower floor lets the model judge terse questions whose answer is only loosely
close ("title case in headlines?"), and on the dev sets it quotes no more unanswerable
questions (docs/benchmarks/knowledge_answers.md)."""
DEFAULT_MMR_LAMBDA = 0.8
CANDIDATE_POOL = 50
#: Sentence embeddings kept per knowledge base (each is 384 float32s, 1.5 KB).
SENTENCE_CACHE_SIZE = 20_000


def default_index_dir() -> Path:
    """``<settings.home>/knowledge``."""
    from foundation.settings import get_settings

    return get_settings().home / "knowledge"


class KnowledgeBase:
    """A verified index loaded once, answering questions with cited passages.

    Build one with :meth:`open`; it is safe to share between threads for reading.
    """

    def __init__(
        self,
        stored: StoredIndex[_docstore.Docstore],
        embeddings: Embeddings,
        *,
        index_dir: Path,
        min_score: float = DEFAULT_MIN_SCORE,
        answer_threshold: float = ANSWER_THRESHOLD,
        mmr_lambda: float = DEFAULT_MMR_LAMBDA,
        chat_model: BaseChatModel | None = None,
        gpu: GpuMode | None = None,
    ) -> None:
        self.index_dir = index_dir
        self.min_score = min_score
        self.answer_threshold = answer_threshold
        self.mmr_lambda = mmr_lambda
        self.chat_model = chat_model
        self.chunks = stored.records.chunks
        self.config = stored.config
        self._vectors = stored.embeddings
        self._embeddings = embeddings
        self._table = ChunkTable(self.chunks)
        self._bm25 = BM25().fit([chunk.embedding_text for chunk in self.chunks])
        self._vocabulary = Vocabulary([chunk.embedding_text for chunk in self.chunks])
        self._sentence_vectors: dict[str, np.ndarray] = {}
        self._sentence_lock = threading.Lock()
        self._index, self.on_gpu = _faiss.to_device(stored.index, gpu or stored.config.gpu)
        self.index_kind = _faiss.index_kind(stored.index)

    @classmethod
    def open(
        cls,
        index_dir: str | Path | None = None,
        *,
        embeddings: Embeddings | None = None,
        min_score: float = DEFAULT_MIN_SCORE,
        answer_threshold: float = ANSWER_THRESHOLD,
        mmr_lambda: float = DEFAULT_MMR_LAMBDA,
        chat_model: BaseChatModel | None = None,
        gpu: GpuMode | None = None,
    ) -> KnowledgeBase:
        """Load and verify the index at ``index_dir`` (default ``<settings.home>/knowledge``).

        Args:
            index_dir: The index folder written by :func:`build_index`.
            embeddings: LangChain embeddings; must be the model the index was built with
                (default: the packaged all-MiniLM-L6-v2).
            min_score: Best-passage cosine under which :meth:`ask` says nothing was found.
            answer_threshold: Answerability probability under which :meth:`ask` says
                nothing was found although passages cleared ``min_score``.
            mmr_lambda: Relevance/diversity balance of the final MMR step.
            chat_model: Optional LangChain chat model for generated answers (see
                :func:`chat_model_from_env`); None gives extractive answers.
            gpu: Override of the index's GPU mode (``auto``, ``never``, ``always``).

        Raises:
            IndexNotFoundError: Nothing was indexed there.
            IndexIntegrityError: A file fails its checksum or the files disagree.
            KnowledgeError: The index was built with another embedding model.
        """
        path = Path(index_dir).expanduser().resolve() if index_dir else default_index_dir()
        stored = _docstore.load(path)
        embeddings = embeddings or MiniLMEmbeddings()
        _docstore.DOCUMENT_INDEX.check_model(
            path, stored, embeddings_name(embeddings), "pass the same model or re-index"
        )
        return cls(
            stored,
            embeddings,
            index_dir=path,
            min_score=min_score,
            answer_threshold=answer_threshold,
            mmr_lambda=mmr_lambda,
            chat_model=chat_model,
            gpu=gpu,
        )

    @property
    def size(self) -> int:
        """Number of indexed passages."""
        return len(self.chunks)

    @property
    def collections(self) -> list[str]:
        """Collections present in the index, sorted."""
        return sorted({chunk.collection for chunk in self.chunks})

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        return embed_array(self._embeddings, texts)

    def _embed_sentences(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of ``texts``, shape (n, dim), cached: the same passages come back
        for related questions, so their sentences are embedded once per index."""
        if not texts:
            return np.zeros((0, self._vectors.shape[1]), dtype=np.float32)
        with self._sentence_lock:
            found = {t: self._sentence_vectors[t] for t in texts if t in self._sentence_vectors}
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            vectors = self._embed(missing)
            found.update(zip(missing, vectors, strict=True))
            with self._sentence_lock:
                if len(self._sentence_vectors) + len(missing) > SENTENCE_CACHE_SIZE:
                    self._sentence_vectors.clear()
                self._sentence_vectors.update(zip(missing, vectors, strict=True))
        return np.stack([found[t] for t in texts])

    def _rank(
        self,
        query_vector: np.ndarray,
        query: str,
        k: int,
        filters: SearchFilter,
        mode: SearchMode,
        mmr: bool,
    ) -> list[int]:
        if self.size == 0 or k <= 0:
            return []
        mask = self._table.mask(filters)
        if mask is not None and not mask.any():
            return []
        allowed = np.flatnonzero(mask) if mask is not None else None
        pool = max(CANDIDATE_POOL, 4 * k)
        rankings: list[list[int]] = []
        if mode in ("hybrid", "dense"):
            _, ids = _faiss.search(
                self._index,
                query_vector[None, :],
                min(pool, self.size),
                allowed,
                self.config,
                self.on_gpu,
            )
            rankings.append([int(i) for i in ids[0] if i >= 0])
        if mode in ("hybrid", "bm25"):
            rankings.append(top_ids(self._bm25.score(query), pool, mask).tolist())
        if mode != "hybrid":
            ranked = rankings[0]
            return ranked[:k]
        fused = reciprocal_rank_fusion(rankings)
        if not mmr:
            return [item for item, _ in fused[:k]]
        head = fused[: max(3 * k, 15)]
        ids_ = [item for item, _ in head]
        relevance = np.array([score for _, score in head])
        return maximal_marginal_relevance(ids_, relevance, self._vectors[ids_], k, self.mmr_lambda)

    def search(
        self,
        query: str,
        *,
        k: int = 5,
        filters: SearchFilter | None = None,
        mode: SearchMode = "hybrid",
        mmr: bool = True,
        query_vector: np.ndarray | None = None,
    ) -> list[Passage]:
        """Ranked passages for ``query``.

        Args:
            query: The question or keywords.
            k: Passages wanted.
            filters: Metadata filters applied before ranking.
            mode: ``hybrid`` (dense + BM25 by reciprocal rank fusion), ``dense`` or ``bm25``.
            mmr: Re-rank the fused list with maximal marginal relevance (hybrid only).
            query_vector: The query's unit embedding when already computed, shape (dim,).

        Returns:
            Up to ``k`` passages, best first; ``score`` is the cosine with the query.
        """
        if not query.strip():
            raise ValueError("question must not be empty (got an empty string)")
        if k < 1:
            raise ValueError(f"k must be at least 1 (got {k})")
        vector = query_vector if query_vector is not None else self._embed([query])[0]
        ids = self._rank(vector, query, k, filters or SearchFilter(), mode, mmr)
        scores = self._vectors[ids] @ vector if ids else np.zeros(0)
        passages = []
        for rank, (row, score) in enumerate(zip(ids, scores, strict=True), start=1):
            chunk = self.chunks[row]
            passages.append(
                Passage(
                    source=chunk.source,
                    section=chunk.section,
                    section_path=" > ".join(chunk.section_path),
                    text=chunk.text,
                    score=round(float(score), 4),
                    collection=chunk.collection,
                    doc_type=chunk.doc_type,
                    rank=rank,
                )
            )
        return passages

    def ask(
        self,
        question: str,
        *,
        collection: str | None = None,
        k: int = 5,
        folder: str | None = None,
        doc_type: str | None = None,
        since: date | None = None,
        until: date | None = None,
        generate_answer: bool = True,
        answer_threshold: float | None = None,
        min_score: float | None = None,
    ) -> Answer:
        """Answer ``question`` from the documents, always with the passages it came from.

        Args:
            question: The user's question.
            collection: Restrict to one collection (``public`` for customers).
            k: Passages returned.
            folder: Restrict to documents under this folder (relative to the indexed one).
            doc_type: Restrict to ``markdown``, ``html``, ``pdf``, ``text`` or ``csv``.
            since: Restrict to documents dated on or after this day.
            until: Restrict to documents dated on or before this day.
            generate_answer: Use the chat model when one is configured (else extractive).
            answer_threshold: This call's answerability threshold (the store's when None):
                lower it where a hedged closest passage beats "not found".
            min_score: This call's best-passage cosine floor (the store's when None);
                lowered with ``answer_threshold`` for a hedged closest passage.

        Returns:
            The answer; ``found`` is False (and no passages are returned) when the best
            passage's cosine is under ``min_score`` or the answerability model's
            probability (``confidence``) is under ``answer_threshold``.
        """
        filters = SearchFilter(collection, folder, doc_type, since, until)
        # "do our docs say anything about X" is searched, ranked and judged as "X".
        focused = without_generic_lead_in(question)
        vector = self._embed([focused])[0] if focused.strip() else None
        passages = self.search(focused, k=k, filters=filters, query_vector=vector)
        best = max((p.score for p in passages), default=0.0)
        floor = self.min_score if min_score is None else min_score
        ranked = (
            rank_sentences(focused, vector, passages, self._embed_sentences, self._vocabulary)
            if vector is not None and best >= floor
            else []
        )
        features = answerability_features(
            focused, ranked, passages, self._vocabulary, self._embed_sentences
        )
        confidence = round(answerability(features), 4) if ranked else 0.0
        threshold = self.answer_threshold if answer_threshold is None else answer_threshold
        if not ranked or confidence < threshold:
            return Answer(
                question,
                format_not_found(question, collection),
                (),
                False,
                "not_found",
                best_score=best,
                confidence=confidence,
            )
        if generate_answer and self.chat_model is not None:
            try:
                text = generate(self.chat_model, question, passages)
            except Exception as error:  # any provider/transport failure: fall back, never fail
                logger.warning(
                    "generator failed (%s: %s); answering extractively", type(error).__name__, error
                )
                text = ""
            if text:
                return Answer(
                    question,
                    text,
                    tuple(passages),
                    True,
                    "generated",
                    best_score=best,
                    confidence=confidence,
                )
        quotes = select_quotes(ranked, question=focused)
        return Answer(
            question,
            format_extractive(quotes, collection),
            tuple(passages),
            True,
            "extractive",
            tuple(quotes),
            best,
            confidence,
        )
