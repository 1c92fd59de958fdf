"""The document index's folder: its format and its docstore of documents and chunks.

Persisted by :mod:`knowledge._store`::

    manifest.json                 format, model, counts, chunking, name + SHA-256 of each file
    vectors-<sha16>.faiss         faiss.write_index format (no pickle)
    embeddings-<sha16>.npy        float32 (n, dim), read with allow_pickle=False
    docstore-<sha16>.json         documents (checksums, collection) and chunks, row i = vector i
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from knowledge._store import IndexFormat, StoredIndex
from knowledge._types import Chunk, IndexConfig

DOCUMENT_INDEX = IndexFormat(
    name="beacon-knowledge/1",
    label="knowledge index",
    docstore="docstore",
    rows="chunks",
    build="build one with `beacon knowledge index --docs DIR --index {index_dir}`",
    rebuild="rebuild it with `beacon knowledge index --docs DIR --index {index_dir}`",
)


@dataclass(frozen=True)
class DocumentRecord:
    """What the index remembers about one source file (to re-index only what changed)."""

    root: str
    source: str
    sha256: str
    collection: str
    n_chunks: int


@dataclass(frozen=True)
class Docstore:
    """The document index's records.

    Attributes:
        chunks: The indexed passages, row i = vector i.
        documents: What was indexed from each file, by :func:`document_key`.
    """

    chunks: list[Chunk]
    documents: dict[str, DocumentRecord]

    def to_json(self) -> dict[str, Any]:
        """The docstore file's content (documents sorted by key)."""
        return {
            "documents": {key: vars(record) for key, record in sorted(self.documents.items())},
            "chunks": [chunk.to_json() for chunk in self.chunks],
        }

    @classmethod
    def from_json(cls, payload: dict[str, Any]) -> Docstore:
        """Parse a docstore file's content (raises KeyError/TypeError/ValueError when malformed)."""
        return cls(
            chunks=[Chunk.from_json(item) for item in payload["chunks"]],
            documents={
                str(key): DocumentRecord(**value) for key, value in payload["documents"].items()
            },
        )


def document_key(root: str, source: str) -> str:
    """The docstore key of a document: its indexed folder and relative path."""
    return f"{root}::{source}"


def save(
    index_dir: Path,
    index: Any,
    embeddings: np.ndarray,
    docstore: Docstore,
    config: IndexConfig,
    *,
    embedding_model: str,
    chunk_settings: dict[str, int],
) -> None:
    """Write a document index folder (data files first, the manifest atomically last)."""
    DOCUMENT_INDEX.save(
        index_dir,
        index,
        embeddings,
        docstore.to_json(),
        embedding_model=embedding_model,
        config=config,
        chunking=chunk_settings,
    )


def load(index_dir: Path) -> StoredIndex[Docstore]:
    """Load and verify a document index folder.

    Raises:
        IndexNotFoundError: Nothing was indexed at ``index_dir``.
        IndexIntegrityError: A file is missing, fails its checksum, or the parts disagree.
    """
    return DOCUMENT_INDEX.load(index_dir, Docstore.from_json)
