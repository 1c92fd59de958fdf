"""Result and configuration types shared by the knowledge modules."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Literal

IndexKind = Literal["auto", "flat", "ivf", "hnsw"]
GpuMode = Literal["auto", "never", "always"]
SearchMode = Literal["hybrid", "dense", "bm25"]
DOC_TYPES = ("markdown", "html", "pdf", "text", "csv")


@dataclass(frozen=True)
class Chunk:
    """One indexed passage (a section or part of a section of one document).

    Attributes:
        chunk_id: Stable id (hash of root, source, position and text).
        root: Absolute path of the indexed folder the document came from.
        source: Path of the document relative to ``root`` (POSIX separators).
        title: The document's title (front matter, first heading or file name).
        section_path: Headings from the title down to this passage's section.
        text: The passage text exactly as stored and quoted.
        collection: The collection the document belongs to (``public``, ``internal``, ...).
        doc_type: One of ``markdown``, ``html``, ``pdf``, ``text``, ``csv``.
        doc_date: The document's date (front matter ``date`` or file modification day), ISO.
    """

    chunk_id: str
    root: str
    source: str
    title: str
    section_path: tuple[str, ...]
    text: str
    collection: str
    doc_type: str
    doc_date: str

    @property
    def section(self) -> str:
        """The innermost section heading."""
        return self.section_path[-1] if self.section_path else self.title

    @property
    def embedding_text(self) -> str:
        """What is embedded and BM25-indexed: the heading path, then the text."""
        return " > ".join(self.section_path) + "\n" + self.text

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form (tuples become lists)."""
        payload = asdict(self)
        payload["section_path"] = list(self.section_path)
        return payload

    @classmethod
    def from_json(cls, payload: dict[str, Any]) -> Chunk:
        """Inverse of :meth:`to_json`; raises KeyError/TypeError on malformed input."""
        return cls(
            chunk_id=str(payload["chunk_id"]),
            root=str(payload["root"]),
            source=str(payload["source"]),
            title=str(payload["title"]),
            section_path=tuple(str(part) for part in payload["section_path"]),
            text=str(payload["text"]),
            collection=str(payload["collection"]),
            doc_type=str(payload["doc_type"]),
            doc_date=str(payload["doc_date"]),
        )


@dataclass(frozen=True)
class Passage:
    """A retrieved passage, ready to cite.

    Attributes:
        source: Path of the document relative to the indexed folder.
        section: The innermost section heading.
        section_path: All headings from the document title down, joined with `` > ``.
        text: The passage text (verbatim from the index).
        score: Cosine similarity between the question and the passage, in [-1, 1].
        collection: The document's collection (``public`` or ``internal`` by default).
        doc_type: ``markdown``, ``html``, ``pdf``, ``text`` or ``csv``.
        rank: 1-based position in the ranked list.
    """

    source: str
    section: str
    section_path: str
    text: str
    score: float
    collection: str
    doc_type: str
    rank: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class Quote:
    """One sentence quoted verbatim in an extractive answer, with where it came from."""

    text: str
    source: str
    section: str
    section_path: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class Answer:
    """The knowledge base's answer to one question.

    Attributes:
        question: The question as asked.
        answer: The text to show: quoted sentences with their sources, a generated
            answer citing ``[n]`` passages, or a plain "not found" message.
        passages: Ranked passages the answer is drawn from (empty when nothing relevant).
        found: False when no passage cleared the relevance threshold.
        mode: ``extractive``, ``generated`` or ``not_found``.
        quotes: The verbatim sentences used by an extractive answer.
        best_score: The best passage's cosine similarity (compared with ``min_score``).
        confidence: The answerability model's probability that the quotes answer the
            question (compared with ``answer_threshold``); 0 when no passage cleared
            ``min_score``.
    """

    question: str
    answer: str
    passages: tuple[Passage, ...]
    found: bool
    mode: str
    quotes: tuple[Quote, ...] = ()
    best_score: float = 0.0
    confidence: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the CLI's ``--json`` output)."""
        return {
            "question": self.question,
            "answer": self.answer,
            "found": self.found,
            "mode": self.mode,
            "best_score": self.best_score,
            "confidence": self.confidence,
            "quotes": [quote.to_dict() for quote in self.quotes],
            "passages": [passage.to_dict() for passage in self.passages],
        }


@dataclass(frozen=True)
class SearchFilter:
    """Metadata filters applied before ranking (all given conditions must hold).

    Attributes:
        collection: Only documents of this collection (e.g. ``public`` for customers).
        folder: Only documents under this folder, relative to the indexed folder.
        doc_type: Only this document type (``markdown``, ``html``, ``pdf``, ``text``, ``csv``).
        since: Only documents dated on or after this day.
        until: Only documents dated on or before this day.
    """

    collection: str | None = None
    folder: str | None = None
    doc_type: str | None = None
    since: date | None = None
    until: date | None = None

    @property
    def is_empty(self) -> bool:
        """True when no condition is set."""
        return all(
            value is None
            for value in (self.collection, self.folder, self.doc_type, self.since, self.until)
        )


@dataclass(frozen=True)
class IndexConfig:
    """How the FAISS index is built and searched.

    Attributes:
        kind: ``flat`` (exact inner product), ``ivf`` (inverted lists), ``hnsw`` (graph), or
            ``auto``: flat up to ``auto_flat_max`` vectors, IVF above (chosen from the scale
            benchmark, ``python -m benchmarks.knowledge_scale``).
        auto_flat_max: Largest corpus that ``auto`` keeps exact.
        nlist: IVF lists; None means ``4 * sqrt(n)``.
        nprobe: IVF lists visited per query.
        hnsw_m: HNSW neighbours per node.
        ef_construction: HNSW build-time beam width.
        ef_search: HNSW query-time beam width.
        gpu: ``auto`` moves flat/IVF indexes to the GPU when faiss-gpu sees one, ``always``
            requires it, ``never`` stays on the CPU. Files on disk are always CPU indexes.
    """

    kind: IndexKind = "auto"
    auto_flat_max: int = 100_000
    nlist: int | None = None
    nprobe: int = 16
    hnsw_m: int = 32
    ef_construction: int = 80
    ef_search: int = 64
    gpu: GpuMode = "auto"

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class IndexReport:
    """What one ``build_index`` run did.

    Attributes:
        index_dir: The index folder.
        docs_dir: The indexed folder (absolute).
        added: Documents indexed for the first time.
        updated: Documents whose content (or collection) changed and were re-indexed.
        removed: Documents that disappeared from the folder and were dropped.
        unchanged: Documents whose checksum matched and whose vectors were reused.
        failed: ``(source, reason)`` for documents that could not be loaded (not indexed).
        chunks: Passages in the whole index after this run.
        index_kind: The FAISS index type written (``flat``, ``ivf`` or ``hnsw``).
        seconds: Wall-clock time of the run.
    """

    index_dir: str
    docs_dir: str
    added: int
    updated: int
    removed: int
    unchanged: int
    failed: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    chunks: int = 0
    index_kind: str = "flat"
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        payload = asdict(self)
        payload["failed"] = [{"source": s, "reason": r} for s, r in self.failed]
        return payload
