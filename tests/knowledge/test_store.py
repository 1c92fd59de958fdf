"""A tampered, truncated or swapped index is refused with a clear error; nothing is pickled.

Folders written by the first version of each format (``fixtures/indexes-v1``, made by the
code before both indexes shared :mod:`knowledge._store`) still load, byte for byte.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from knowledge import (
    IndexConfig,
    IndexIntegrityError,
    IndexNotFoundError,
    KnowledgeBase,
    _docstore,
    _posts,
)
from knowledge._faiss import build_faiss_index
from knowledge._store import IndexFormat


def _file(index: Path, role: str) -> Path:
    manifest = json.loads((index / "manifest.json").read_text())
    return index / manifest["files"][role]["name"]


def test_untouched_copy_opens(index_copy: Path) -> None:
    assert KnowledgeBase.open(index_copy).size > 0


def test_tampered_docstore_is_refused(index_copy: Path) -> None:
    docstore = _file(index_copy, "docstore")
    text = docstore.read_text(encoding="utf-8")
    assert "14 days" in text
    docstore.write_text(text.replace("14 days", "90 days"), encoding="utf-8")
    with pytest.raises(IndexIntegrityError, match=r"docstore file .* failed its checksum"):
        KnowledgeBase.open(index_copy)


def test_tampered_faiss_index_is_refused(index_copy: Path) -> None:
    vectors = _file(index_copy, "vectors")
    data = bytearray(vectors.read_bytes())
    data[-5] ^= 0xFF
    vectors.write_bytes(bytes(data))
    with pytest.raises(IndexIntegrityError, match=r"vectors file .* failed its checksum"):
        KnowledgeBase.open(index_copy)


def test_truncated_embeddings_are_refused(index_copy: Path) -> None:
    embeddings = _file(index_copy, "embeddings")
    embeddings.write_bytes(embeddings.read_bytes()[:100])
    with pytest.raises(IndexIntegrityError, match=r"embeddings file .* failed its checksum"):
        KnowledgeBase.open(index_copy)


def test_missing_data_file_is_refused(index_copy: Path) -> None:
    _file(index_copy, "vectors").unlink()
    with pytest.raises(IndexIntegrityError, match=r"vectors file .* is missing"):
        KnowledgeBase.open(index_copy)


def test_manifest_cannot_point_outside_the_index(index_copy: Path) -> None:
    manifest_path = index_copy / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["files"]["docstore"]["name"] = "../../etc/passwd"
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(IndexIntegrityError, match=r"names an unexpected docstore file"):
        KnowledgeBase.open(index_copy)


def test_consistent_but_forged_counts_are_refused(index_copy: Path) -> None:
    manifest_path = index_copy / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["count"] += 1
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(IndexIntegrityError, match=r"is inconsistent: manifest says"):
        KnowledgeBase.open(index_copy)


def test_wrong_format_and_garbage_manifest(index_copy: Path) -> None:
    manifest_path = index_copy / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["format"] = "langchain-faiss-pickle"
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(IndexIntegrityError, match=r"must have format 'beacon-knowledge/1'"):
        KnowledgeBase.open(index_copy)
    manifest_path.write_bytes(b"\x80\x04\x95 pickle bytes")
    with pytest.raises(IndexIntegrityError, match=r"is not valid JSON"):
        KnowledgeBase.open(index_copy)


def test_missing_index_says_how_to_build_one(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFoundError, match=r"no knowledge index at .*beacon knowledge index"):
        KnowledgeBase.open(tmp_path / "nothing-here")


def test_files_are_json_npy_and_faiss_only(index_dir: Path) -> None:
    names = sorted(p.name for p in index_dir.iterdir())
    assert "manifest.json" in names and len(names) == 4
    assert {Path(n).suffix for n in names} == {".json", ".npy", ".faiss"}
    vectors = np.load(_file(index_dir, "embeddings"), allow_pickle=False)
    assert vectors.dtype == np.float32 and vectors.shape[1] == 384
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    for path in index_dir.iterdir():
        assert not path.read_bytes().startswith(b"\x80"), f"{path.name} looks like a pickle"


# The store itself, through a tiny format of its own (no encoder needed).

V1_INDEXES = Path(__file__).resolve().parent / "fixtures" / "indexes-v1"
NOTES = IndexFormat(
    name="beacon-notes/1",
    label="notes index",
    docstore="notes",
    rows="notes",
    build="build it with `make notes`",
    rebuild="rebuild it with `make notes --index {index_dir}`",
)


def _save_notes(index_dir: Path, seed: int, n: int = 4) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(n, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    notes = [f"note {seed}-{i}" for i in range(n)]
    NOTES.save(
        index_dir,
        build_faiss_index(vectors, IndexConfig()),
        vectors,
        {"notes": notes},
        embedding_model="tiny",
        config=IndexConfig(),
        owner="tests",
    )
    return vectors


def _notes(docstore: dict[str, Any]) -> list[str]:
    return [str(note) for note in docstore["notes"]]


def test_store_round_trip_keeps_vectors_records_and_details(tmp_path: Path) -> None:
    vectors = _save_notes(tmp_path / "a", seed=1)
    stored = NOTES.load(tmp_path / "a", _notes)
    np.testing.assert_array_equal(stored.embeddings, vectors)
    assert stored.records == [f"note 1-{i}" for i in range(4)]
    assert stored.index.ntotal == 4 and stored.index.d == 8
    assert (stored.manifest["format"], stored.manifest["owner"]) == ("beacon-notes/1", "tests")
    assert set(stored.manifest["files"]) == {"vectors", "embeddings", "notes"}


def test_store_removes_the_files_of_the_previous_version(tmp_path: Path) -> None:
    _save_notes(tmp_path / "a", seed=1)
    (tmp_path / "a" / "unrelated.txt").write_text("kept")
    _save_notes(tmp_path / "a", seed=2)
    names = sorted(path.name for path in (tmp_path / "a").iterdir())
    assert len(names) == 5 and "unrelated.txt" in names
    assert NOTES.load(tmp_path / "a", _notes).records[0] == "note 2-0"


def test_store_refuses_to_save_parts_that_disagree(tmp_path: Path) -> None:
    vectors = np.eye(3, 8, dtype=np.float32)
    with pytest.raises(IndexIntegrityError, match=r"3 vectors, 3 embeddings and 2 notes"):
        NOTES.save(
            tmp_path / "a",
            build_faiss_index(vectors, IndexConfig()),
            vectors,
            {"notes": ["one", "two"]},
            embedding_model="tiny",
            config=IndexConfig(),
        )
    assert not (tmp_path / "a").exists()


def test_file_swapped_in_from_another_index_is_refused(tmp_path: Path) -> None:
    _save_notes(tmp_path / "a", seed=1)
    _save_notes(tmp_path / "b", seed=2)
    ours = _file(tmp_path / "a", "vectors")
    ours.write_bytes(_file(tmp_path / "b", "vectors").read_bytes())
    with pytest.raises(
        IndexIntegrityError, match=r"vectors file .* failed its checksum.*make notes"
    ):
        NOTES.load(tmp_path / "a", _notes)


def test_files_swapped_between_roles_are_refused(tmp_path: Path) -> None:
    _save_notes(tmp_path / "a", seed=1)
    manifest_path = tmp_path / "a" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    files = manifest["files"]
    files["vectors"], files["embeddings"] = files["embeddings"], files["vectors"]
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(IndexIntegrityError, match=r"names an unexpected embeddings file"):
        NOTES.load(tmp_path / "a", _notes)


def test_another_format_is_refused_with_how_to_rebuild(tmp_path: Path) -> None:
    _save_notes(tmp_path / "a", seed=1)
    with pytest.raises(
        IndexIntegrityError,
        match=r"must have format 'beacon-knowledge/1' \(got 'beacon-notes/1'\); rebuild it with",
    ):
        _docstore.load(tmp_path / "a")
    with pytest.raises(
        IndexNotFoundError, match=r"no notes index at .*; build it with `make notes`"
    ):
        NOTES.load(tmp_path / "missing", _notes)


def test_document_index_written_by_the_first_version_loads_unchanged(tmp_path: Path) -> None:
    folder = V1_INDEXES / "documents"
    stored = _docstore.load(folder)
    assert [chunk.source for chunk in stored.records.chunks] == [
        "returns.md",
        "returns.md",
        "faq.md",
    ]
    assert stored.records.chunks[0].text == "Unused parts can be returned within 14 days."
    assert {record.n_chunks for record in stored.records.documents.values()} == {1, 2}
    assert stored.embeddings.shape == (3, 8) and stored.index.ntotal == 3
    # Written again, it is the same bytes: the format did not move.
    _docstore.save(
        tmp_path / "again",
        stored.index,
        stored.embeddings,
        stored.records,
        stored.config,
        embedding_model=stored.manifest["embedding_model"],
        chunk_settings=stored.manifest["chunking"],
    )
    again = json.loads((tmp_path / "again" / "manifest.json").read_text())
    assert again["files"] == stored.manifest["files"]


def test_post_index_written_by_the_first_version_loads_unchanged(tmp_path: Path) -> None:
    stored = _posts._load(V1_INDEXES / "posts")
    assert [record.post_id for record in stored.records] == [
        "tw-000001",
        "tw-000002",
        "tw-000003",
    ]
    assert [record.top_30 for record in stored.records] == [True, None, False]
    assert stored.records[1].followers is None
    assert stored.embeddings.shape == (3, 8) and stored.index.ntotal == 3
    _posts._POST_INDEX.save(
        tmp_path / "again",
        stored.index,
        stored.embeddings,
        {"posts": [asdict(record) for record in stored.records]},
        embedding_model=stored.manifest["embedding_model"],
        config=stored.config,
        workspace=stored.manifest["workspace"],
    )
    again = json.loads((tmp_path / "again" / "manifest.json").read_text())
    assert again["files"] == stored.manifest["files"]
