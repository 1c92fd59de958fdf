"""A tampered, truncated or swapped index is refused with a clear error; nothing is pickled."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from knowledge import IndexIntegrityError, IndexNotFoundError, KnowledgeBase


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
