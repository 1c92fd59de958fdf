"""Safe persistence of an index: FAISS file + JSON docstore + npy vectors + manifest.

Layout of an index folder::

    manifest.json                 format, model, counts, and name + SHA-256 of each file
    vectors-<sha16>.faiss         faiss.write_index format (no pickle)
    embeddings-<sha16>.npy        float32 (n, dim), read with allow_pickle=False
    docstore-<sha16>.json         documents (checksums, collection) and chunks, row i = vector i

Data files are named after their content hash and written before the manifest, which
is replaced atomically last, so a reader sees either the old or the new index. Every
file's SHA-256 is checked against the manifest before it is parsed: a modified,
truncated or swapped file is refused with :class:`IndexIntegrityError`.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from knowledge._types import Chunk, IndexConfig
from knowledge.exceptions import IndexIntegrityError, IndexNotFoundError

FORMAT = "beacon-knowledge/1"
MANIFEST = "manifest.json"
_FILE_NAME = re.compile(r"^(vectors|embeddings|docstore)-[0-9a-f]{16}\.(faiss|npy|json)$")
_REBUILD = "rebuild it with `beacon knowledge index --docs DIR --index {index_dir}`"


@dataclass(frozen=True)
class DocumentRecord:
    """What the index remembers about one source file (to re-index only what changed)."""

    root: str
    source: str
    sha256: str
    collection: str
    n_chunks: int


@dataclass(frozen=True)
class StoredIndex:
    """Everything loaded from an index folder."""

    index: Any
    embeddings: np.ndarray
    chunks: list[Chunk]
    documents: dict[str, DocumentRecord]
    config: IndexConfig
    manifest: dict[str, Any]


def document_key(root: str, source: str) -> str:
    """The docstore key of a document: its indexed folder and relative path."""
    return f"{root}::{source}"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_blob(index_dir: Path, stem: str, suffix: str, data: bytes) -> dict[str, str]:
    digest = _sha256(data)
    name = f"{stem}-{digest[:16]}.{suffix}"
    target = index_dir / name
    tmp = index_dir / f".{name}.tmp"
    tmp.write_bytes(data)
    os.replace(tmp, target)
    return {"name": name, "sha256": digest}


def save(
    index_dir: Path,
    index: Any,
    embeddings: np.ndarray,
    chunks: list[Chunk],
    documents: dict[str, DocumentRecord],
    config: IndexConfig,
    *,
    embedding_model: str,
    chunk_settings: dict[str, int],
) -> None:
    """Write an index folder (data files first, the manifest atomically last)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    if index.ntotal != len(chunks) or embeddings.shape[0] != len(chunks):
        raise IndexIntegrityError(
            f"refusing to save: {index.ntotal} vectors, {embeddings.shape[0]} embeddings and "
            f"{len(chunks)} chunks must be equal"
        )
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(embeddings, dtype=np.float32), allow_pickle=False)
    docstore = {
        "format": FORMAT,
        "documents": {key: vars(record) for key, record in sorted(documents.items())},
        "chunks": [chunk.to_json() for chunk in chunks],
    }
    files = {
        "vectors": _write_blob(
            index_dir, "vectors", "faiss", faiss.serialize_index(index).tobytes()
        ),
        "embeddings": _write_blob(index_dir, "embeddings", "npy", buffer.getvalue()),
        "docstore": _write_blob(
            index_dir,
            "docstore",
            "json",
            json.dumps(docstore, ensure_ascii=False, indent=1).encode("utf-8"),
        ),
    }
    manifest = {
        "format": FORMAT,
        "created": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        "embedding_model": embedding_model,
        "dim": int(embeddings.shape[1]) if embeddings.ndim == 2 else 0,
        "count": len(chunks),
        "index_kind": _kind_name(index),
        "index_config": config.to_json(),
        "chunking": chunk_settings,
        "files": files,
    }
    tmp = index_dir / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    os.replace(tmp, index_dir / MANIFEST)
    keep = {entry["name"] for entry in files.values()}
    for stale in index_dir.iterdir():
        if _FILE_NAME.match(stale.name) and stale.name not in keep:
            stale.unlink()


def _kind_name(index: Any) -> str:
    from knowledge._faiss import index_kind

    return index_kind(index)


def read_manifest(index_dir: Path) -> dict[str, Any]:
    """The parsed manifest, or an error saying that nothing was indexed / it is damaged."""
    path = index_dir / MANIFEST
    if not path.is_file():
        raise IndexNotFoundError(
            f"no knowledge index at {index_dir} ({MANIFEST} is missing); build one with "
            f"`beacon knowledge index --docs DIR --index {index_dir}`"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise IndexIntegrityError(
            f"{path} is not valid JSON ({error}); {_REBUILD.format(index_dir=index_dir)}"
        ) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else type(manifest).__name__
        raise IndexIntegrityError(
            f"{path} must have format {FORMAT!r} (got {found!r}); "
            + _REBUILD.format(index_dir=index_dir)
        )
    return manifest


def _read_verified(index_dir: Path, manifest: dict[str, Any], role: str) -> bytes:
    try:
        entry = manifest["files"][role]
        name, expected = str(entry["name"]), str(entry["sha256"])
    except (KeyError, TypeError):
        raise IndexIntegrityError(
            f"{index_dir / MANIFEST} does not list the {role} file; "
            + _REBUILD.format(index_dir=index_dir)
        ) from None
    if not _FILE_NAME.match(name) or not name.startswith(role):
        raise IndexIntegrityError(
            f"{index_dir / MANIFEST} names an unexpected {role} file {name!r}; "
            + _REBUILD.format(index_dir=index_dir)
        )
    path = index_dir / name
    if not path.is_file():
        raise IndexIntegrityError(
            f"{role} file {path} is missing; " + _REBUILD.format(index_dir=index_dir)
        )
    data = path.read_bytes()
    actual = _sha256(data)
    if actual != expected:
        raise IndexIntegrityError(
            f"{role} file {path} failed its checksum (expected sha256 {expected[:16]}…, "
            f"got {actual[:16]}…): it was modified after indexing; refusing to load it; "
            + _REBUILD.format(index_dir=index_dir)
        )
    return data


def load(index_dir: Path) -> StoredIndex:
    """Load and verify an index folder.

    Raises:
        IndexNotFoundError: Nothing was indexed at ``index_dir``.
        IndexIntegrityError: A file is missing, fails its checksum, or the parts disagree.
    """
    manifest = read_manifest(index_dir)
    raw_docstore = _read_verified(index_dir, manifest, "docstore")
    raw_embeddings = _read_verified(index_dir, manifest, "embeddings")
    raw_vectors = _read_verified(index_dir, manifest, "vectors")
    rebuild = _REBUILD.format(index_dir=index_dir)
    try:
        docstore = json.loads(raw_docstore.decode("utf-8"))
        chunks = [Chunk.from_json(item) for item in docstore["chunks"]]
        documents = {
            str(key): DocumentRecord(**value) for key, value in docstore["documents"].items()
        }
        embeddings = np.load(io.BytesIO(raw_embeddings), allow_pickle=False)
        index = faiss.deserialize_index(np.frombuffer(raw_vectors, dtype=np.uint8))
        config = IndexConfig(**manifest["index_config"])
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        raise IndexIntegrityError(
            f"index at {index_dir} could not be parsed ({type(error).__name__}: {error}); "
            + rebuild
        ) from None
    count = int(manifest.get("count", -1))
    dim = int(manifest.get("dim", -1))
    shapes_ok = (
        embeddings.dtype == np.float32
        and embeddings.ndim == 2
        and embeddings.shape[0] == count
        and (count == 0 or embeddings.shape[1] == dim)
    )
    if not shapes_ok or len(chunks) != count or index.ntotal != count or (count and index.d != dim):
        raise IndexIntegrityError(
            f"index at {index_dir} is inconsistent: manifest says {count} vectors of dim {dim}, "
            f"found {len(chunks)} chunks, embeddings {embeddings.shape}, faiss {index.ntotal}×"
            f"{index.d}; " + rebuild
        )
    return StoredIndex(index, embeddings, chunks, documents, config, manifest)
