"""Incremental indexing: only new or changed files are embedded; deleted files are dropped."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path, PurePosixPath

import numpy as np
from langchain_core.embeddings import Embeddings

from knowledge import _docstore
from knowledge._documents import (
    CHUNK_OVERLAP,
    CHUNK_SIZE,
    CollectionRule,
    default_collection_rule,
    discover,
    file_sha256,
    load_chunks,
)
from knowledge._embeddings import MiniLMEmbeddings, embed_in_batches, embeddings_name
from knowledge._faiss import build_faiss_index, index_kind
from knowledge._store import StoredIndex
from knowledge._types import Chunk, IndexConfig, IndexReport
from knowledge.exceptions import (
    DocumentLoadError,
    IndexIntegrityError,
    IndexNotFoundError,
)

ProgressCallback = Callable[[str, int, int], None]
"""Called as ``progress(stage, done, total)``; stages are ``reading`` and ``embedding``."""


def build_index(
    docs_dir: str | Path,
    index_dir: str | Path,
    *,
    collection_rule: CollectionRule = default_collection_rule,
    config: IndexConfig | None = None,
    embeddings: Embeddings | None = None,
    chunk_size: int = CHUNK_SIZE,
    chunk_overlap: int = CHUNK_OVERLAP,
    progress: ProgressCallback | None = None,
    batch_size: int = 64,
) -> IndexReport:
    """Index (or re-index) every supported document under ``docs_dir`` into ``index_dir``.

    Several folders can share one index: documents are keyed by their folder and
    relative path, and a run only adds, updates or removes documents of its own folder.
    An unchanged file (same SHA-256 and collection) keeps its passages and vectors.

    Args:
        docs_dir: Folder with ``.md``, ``.markdown``, ``.txt``, ``.html``, ``.htm``,
            ``.pdf`` and ``.csv`` files (searched recursively; hidden paths skipped).
        index_dir: Folder for the index files (created if needed).
        collection_rule: Maps a document's relative path to its collection; the default
            puts ``public/...`` in ``public`` and everything else in ``internal``.
        config: FAISS index parameters (default :class:`IndexConfig`).
        embeddings: LangChain embeddings (default: the packaged all-MiniLM-L6-v2).
        chunk_size: Longest passage in characters.
        chunk_overlap: Overlap between cuts of one long section.
        progress: Optional ``progress(stage, done, total)`` callback.
        batch_size: Passages embedded per call.

    Returns:
        Counts of added, updated, removed and unchanged documents.

    Raises:
        FileNotFoundError: ``docs_dir`` is not a folder.
        IndexIntegrityError: The existing index is damaged (delete it or fix it first).
        KnowledgeError: The existing index was built with another model or chunking.
    """
    started = time.perf_counter()
    docs_path = Path(docs_dir).expanduser().resolve()
    index_path = Path(index_dir).expanduser().resolve()
    if not docs_path.is_dir():
        raise FileNotFoundError(f"--docs must be a folder of documents (got {docs_dir!s})")
    config = config or IndexConfig()
    embeddings = embeddings or MiniLMEmbeddings(batch_size=batch_size)
    model = embeddings_name(embeddings)
    chunking = {"chunk_size": chunk_size, "chunk_overlap": chunk_overlap}
    notify = progress or (lambda _stage, _done, _total: None)

    try:
        stored: StoredIndex[_docstore.Docstore] | None = _docstore.load(index_path)
    except IndexNotFoundError:
        stored = None
    if stored is not None:
        _docstore.DOCUMENT_INDEX.check_model(
            index_path, stored, model, "use a new --index folder or delete this one"
        )
    # Chunking changed: every document of this folder must be cut again.
    rechunk = stored is not None and stored.manifest.get("chunking") != chunking
    old_chunks = stored.records.chunks if stored else []
    old_vectors = stored.embeddings if stored else np.zeros((0, 0), dtype=np.float32)
    old_documents = dict(stored.records.documents) if stored else {}

    root = str(docs_path)
    files = list(discover(docs_path))
    keep_rows: dict[str, list[int]] = {}
    for row, chunk in enumerate(old_chunks):
        keep_rows.setdefault(_docstore.document_key(chunk.root, chunk.source), []).append(row)

    documents: dict[str, _docstore.DocumentRecord] = {
        key: record for key, record in old_documents.items() if record.root != root
    }
    new_chunks: list[Chunk] = []
    reused_rows: list[int] = [row for key in documents for row in keep_rows.get(key, [])]
    added = updated = unchanged = 0
    failed: list[tuple[str, str]] = []
    seen: set[str] = set()
    for done, path in enumerate(files, start=1):
        source = path.relative_to(docs_path).as_posix()
        key = _docstore.document_key(root, source)
        seen.add(key)
        collection = collection_rule(PurePosixPath(source))
        digest = file_sha256(path)
        previous = old_documents.get(key)
        if (
            previous is not None
            and not rechunk
            and previous.sha256 == digest
            and previous.collection == collection
            and len(keep_rows.get(key, [])) == previous.n_chunks
        ):
            documents[key] = previous
            reused_rows.extend(keep_rows.get(key, []))
            unchanged += 1
        else:
            try:
                chunks = load_chunks(path, docs_path, collection, chunk_size, chunk_overlap)
            except DocumentLoadError as error:
                failed.append((source, str(error)))
                notify("reading", done, len(files))
                continue
            documents[key] = _docstore.DocumentRecord(root, source, digest, collection, len(chunks))
            new_chunks.extend(chunks)
            if previous is None:
                added += 1
            else:
                updated += 1
        notify("reading", done, len(files))
    removed = sum(1 for key, rec in old_documents.items() if rec.root == root and key not in seen)

    new_vectors = embed_in_batches(
        embeddings,
        [chunk.embedding_text for chunk in new_chunks],
        batch_size,
        lambda done, total: notify("embedding", done, total),
    )
    dim = getattr(embeddings, "dimension", None) or (
        new_vectors.shape[1] if new_chunks else (old_vectors.shape[1] if old_vectors.size else 0)
    )
    if not new_chunks:
        new_vectors = np.zeros((0, dim), dtype=np.float32)
    kept_vectors = old_vectors[reused_rows] if reused_rows else np.zeros((0, dim), dtype=np.float32)
    if kept_vectors.shape[1:] != new_vectors.shape[1:]:
        raise IndexIntegrityError(
            f"stored vectors have dim {kept_vectors.shape[1]}, new ones {new_vectors.shape[1]}; "
            f"delete {index_path} and index again"
        )
    all_chunks = [old_chunks[row] for row in reused_rows] + new_chunks
    all_vectors = np.concatenate([kept_vectors, new_vectors]).astype(np.float32)
    index = build_faiss_index(all_vectors, config)
    _docstore.save(
        index_path,
        index,
        all_vectors,
        _docstore.Docstore(all_chunks, documents),
        config,
        embedding_model=model,
        chunk_settings=chunking,
    )
    return IndexReport(
        index_dir=str(index_path),
        docs_dir=root,
        added=added,
        updated=updated,
        removed=removed,
        unchanged=unchanged,
        failed=tuple(failed),
        chunks=len(all_chunks),
        index_kind=index_kind(index),
        seconds=round(time.perf_counter() - started, 3),
    )
