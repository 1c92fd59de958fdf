"""Safe persistence of an index folder, shared by the document index and the post index.

Layout of an index folder::

    manifest.json              format, model, counts, and name + SHA-256 of each file
    vectors-<sha16>.faiss      faiss.write_index format (no pickle)
    embeddings-<sha16>.npy     float32 (n, dim), read with allow_pickle=False
    <docstore>-<sha16>.json    the index's own records (JSON), row i = vector i

Each kind of index is one :class:`IndexFormat`: its format string, the name of its JSON
docstore and the commands that build or rebuild it. What the docstore holds is up to the
index (:mod:`knowledge._docstore` for documents, :mod:`knowledge._posts` for posts).

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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

import faiss
import numpy as np

from knowledge._faiss import index_kind
from knowledge._types import IndexConfig
from knowledge.exceptions import IndexIntegrityError, IndexNotFoundError, KnowledgeError

MANIFEST = "manifest.json"

RecordsT = TypeVar("RecordsT")


@dataclass(frozen=True)
class StoredIndex(Generic[RecordsT]):
    """Everything loaded from an index folder, verified against its manifest.

    Attributes:
        index: The FAISS index (CPU), ``count`` vectors of ``dim`` dimensions.
        embeddings: float32 array of shape (count, dim), row i = vector i.
        records: What the index's parser made of its JSON docstore.
        config: The FAISS parameters the index was built with.
        manifest: The parsed ``manifest.json``.
    """

    index: Any
    embeddings: np.ndarray
    records: RecordsT
    config: IndexConfig
    manifest: dict[str, Any]


@dataclass(frozen=True)
class IndexFormat:
    """One kind of index folder, and how to tell the user to make or mend one.

    Attributes:
        name: Format string written to the manifest and docstore
            (``beacon-knowledge/1``); a folder of any other format is refused.
        label: What the index is called in messages (``knowledge index``).
        docstore: Role and file-name stem of the JSON docstore (``docstore``, ``posts``).
        rows: Key of the docstore's list with one item per vector (``chunks``).
        build: How to create a missing index (may use ``{index_dir}``).
        rebuild: How to replace a damaged one (may use ``{index_dir}``).
    """

    name: str
    label: str
    docstore: str
    rows: str
    build: str
    rebuild: str

    def _roles(self) -> dict[str, str]:
        """The file suffix of each role, in the order the files are verified on load."""
        return {self.docstore: "json", "embeddings": "npy", "vectors": "faiss"}

    def _file_name(self, role: str) -> re.Pattern[str]:
        """The only name a ``role`` file may have: ``<role>-<sha16>.<suffix>``."""
        return re.compile(rf"^{re.escape(role)}-[0-9a-f]{{16}}\.{self._roles()[role]}$")

    def save(
        self,
        index_dir: Path,
        index: Any,
        embeddings: np.ndarray,
        docstore: dict[str, Any],
        *,
        embedding_model: str,
        config: IndexConfig,
        **details: Any,
    ) -> None:
        """Write an index folder: data files first, the manifest atomically last.

        Args:
            index_dir: The folder (created if needed); files of an older version of
                this index are removed once the new manifest is in place.
            index: The FAISS index, one vector per docstore row.
            embeddings: float32 array of shape (n_rows, dim), row i = vector i.
            docstore: The JSON docstore; ``docstore[self.rows]`` lists one item per vector.
            embedding_model: Name of the model that made the vectors.
            config: The FAISS parameters the index was built with.
            **details: Further manifest entries of this kind of index (``chunking``).
        """
        count = len(docstore[self.rows])
        if index.ntotal != count or embeddings.shape[0] != count:
            raise IndexIntegrityError(
                f"refusing to save: {index.ntotal} vectors, {embeddings.shape[0]} embeddings "
                f"and {count} {self.rows} must be equal"
            )
        index_dir.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        np.save(buffer, np.ascontiguousarray(embeddings, dtype=np.float32), allow_pickle=False)
        store = {"format": self.name, **docstore}
        files = {
            "vectors": _write_blob(
                index_dir, "vectors", "faiss", faiss.serialize_index(index).tobytes()
            ),
            "embeddings": _write_blob(index_dir, "embeddings", "npy", buffer.getvalue()),
            self.docstore: _write_blob(
                index_dir,
                self.docstore,
                "json",
                json.dumps(store, ensure_ascii=False, indent=1).encode("utf-8"),
            ),
        }
        manifest = {
            "format": self.name,
            "created": datetime.now(tz=UTC).isoformat(timespec="seconds"),
            "embedding_model": embedding_model,
            "dim": int(embeddings.shape[1]) if embeddings.ndim == 2 else 0,
            "count": count,
            "index_kind": index_kind(index),
            "index_config": config.to_json(),
            **details,
            "files": files,
        }
        tmp = index_dir / f".{MANIFEST}.tmp"
        tmp.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        os.replace(tmp, index_dir / MANIFEST)
        keep = {entry["name"] for entry in files.values()}
        patterns = [self._file_name(role) for role in self._roles()]
        for stale in index_dir.iterdir():
            if stale.name not in keep and any(p.match(stale.name) for p in patterns):
                stale.unlink()

    def load(
        self, index_dir: Path, parse: Callable[[dict[str, Any]], RecordsT]
    ) -> StoredIndex[RecordsT]:
        """Load and verify an index folder.

        Args:
            index_dir: The folder written by :meth:`save`.
            parse: Turns the docstore (verified JSON) into this index's records; may
                raise KeyError, TypeError or ValueError on a malformed docstore.

        Raises:
            IndexNotFoundError: Nothing was indexed at ``index_dir``.
            IndexIntegrityError: A file is missing, fails its checksum, or the parts disagree.
        """
        manifest = self._read_manifest(index_dir)
        raw = {role: self._read_verified(index_dir, manifest, role) for role in self._roles()}
        rebuild = self.rebuild.format(index_dir=index_dir)
        try:
            docstore = json.loads(raw[self.docstore].decode("utf-8"))
            n_rows = len(docstore[self.rows])
            records = parse(docstore)
            embeddings = np.load(io.BytesIO(raw["embeddings"]), allow_pickle=False)
            index = faiss.deserialize_index(np.frombuffer(raw["vectors"], dtype=np.uint8))
            config = IndexConfig(**manifest["index_config"])
        except (KeyError, TypeError, ValueError, RuntimeError) as error:
            raise IndexIntegrityError(
                f"{self.label} at {index_dir} could not be parsed "
                f"({type(error).__name__}: {error}); {rebuild}"
            ) from None
        count = int(manifest.get("count", -1))
        dim = int(manifest.get("dim", -1))
        shapes_ok = (
            embeddings.dtype == np.float32
            and embeddings.ndim == 2
            and embeddings.shape[0] == count
            and (count == 0 or embeddings.shape[1] == dim)
        )
        if not shapes_ok or n_rows != count or index.ntotal != count or (count and index.d != dim):
            raise IndexIntegrityError(
                f"{self.label} at {index_dir} is inconsistent: manifest says {count} vectors "
                f"of dim {dim}, found {n_rows} {self.rows}, embeddings {embeddings.shape}, "
                f"faiss {index.ntotal}×{index.d}; {rebuild}"
            )
        return StoredIndex(index, embeddings, records, config, manifest)

    def check_model(
        self, index_dir: Path, stored: StoredIndex[Any], embedding_model: str, fix: str
    ) -> None:
        """Refuse an index built with another embedding model than ``embedding_model``.

        Raises:
            KnowledgeError: The manifest names another model; the message ends with ``fix``.
        """
        built_with = stored.manifest.get("embedding_model")
        if built_with != embedding_model:
            raise KnowledgeError(
                f"{self.label} at {index_dir} was built with {built_with!r} embeddings but "
                f"{embedding_model!r} was given; {fix}"
            )

    def _read_manifest(self, index_dir: Path) -> dict[str, Any]:
        """The parsed manifest, or an error saying that nothing was indexed / it is damaged."""
        path = index_dir / MANIFEST
        if not path.is_file():
            raise IndexNotFoundError(
                f"no {self.label} at {index_dir} ({MANIFEST} is missing); "
                + self.build.format(index_dir=index_dir)
            )
        rebuild = self.rebuild.format(index_dir=index_dir)
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise IndexIntegrityError(f"{path} is not valid JSON ({error}); {rebuild}") from None
        if not isinstance(manifest, dict) or manifest.get("format") != self.name:
            found = (
                manifest.get("format") if isinstance(manifest, dict) else type(manifest).__name__
            )
            raise IndexIntegrityError(
                f"{path} must have format {self.name!r} (got {found!r}); {rebuild}"
            )
        return manifest

    def _read_verified(self, index_dir: Path, manifest: dict[str, Any], role: str) -> bytes:
        """The bytes of ``role``'s file, once they match the manifest's SHA-256."""
        rebuild = self.rebuild.format(index_dir=index_dir)
        try:
            entry = manifest["files"][role]
            name, expected = str(entry["name"]), str(entry["sha256"])
        except (KeyError, TypeError):
            raise IndexIntegrityError(
                f"{index_dir / MANIFEST} does not list the {role} file; {rebuild}"
            ) from None
        if not self._file_name(role).match(name):
            raise IndexIntegrityError(
                f"{index_dir / MANIFEST} names an unexpected {role} file {name!r}; {rebuild}"
            )
        path = index_dir / name
        if not path.is_file():
            raise IndexIntegrityError(f"{role} file {path} is missing; {rebuild}")
        data = path.read_bytes()
        actual = _sha256(data)
        if actual != expected:
            raise IndexIntegrityError(
                f"{role} file {path} failed its checksum (expected sha256 {expected[:16]}…, "
                f"got {actual[:16]}…): it was modified after indexing; refusing to load it; "
                + rebuild
            )
        return data


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_blob(index_dir: Path, stem: str, suffix: str, data: bytes) -> dict[str, str]:
    """Write ``data`` as ``<stem>-<sha16>.<suffix>`` (atomically); its manifest entry."""
    digest = _sha256(data)
    name = f"{stem}-{digest[:16]}.{suffix}"
    tmp = index_dir / f".{name}.tmp"
    tmp.write_bytes(data)
    os.replace(tmp, index_dir / name)
    return {"name": name, "sha256": digest}
