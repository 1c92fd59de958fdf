"""Incremental indexing: only changed files are embedded; deleted files disappear."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from knowledge import KnowledgeBase, KnowledgeError, build_index, fixed_collection
from tests.knowledge.conftest import CountingEmbeddings, make_corpus


@pytest.fixture()
def docs(tmp_path: Path) -> Path:
    return make_corpus(tmp_path / "docs", with_injection=False)


def _sources(index: Path) -> set[str]:
    return {chunk.source for chunk in KnowledgeBase.open(index).chunks}


def test_incremental_reindexing(docs: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    embeddings = CountingEmbeddings()
    first = build_index(docs, index, embeddings=embeddings)
    assert (first.added, first.updated, first.removed, first.unchanged) == (6, 0, 0, 0)
    assert first.chunks == embeddings.embedded > 0
    assert first.index_kind == "flat"

    embeddings.embedded = 0
    second = build_index(docs, index, embeddings=embeddings)
    assert (second.added, second.updated, second.removed, second.unchanged) == (0, 0, 0, 6)
    assert embeddings.embedded == 0
    assert second.chunks == first.chunks

    faq = docs / "public" / "faq.md"
    faq.write_text(
        faq.read_text().replace("two working days", "three working days"), encoding="utf-8"
    )
    (docs / "internal" / "style-notes.txt").unlink()
    (docs / "public" / "new.md").write_text("# Gift vouchers\n\nVouchers never expire.\n")
    third = build_index(docs, index, embeddings=embeddings)
    assert (third.added, third.updated, third.removed, third.unchanged) == (1, 1, 1, 4)
    faq_chunks = sum(1 for c in KnowledgeBase.open(index).chunks if c.source == "public/faq.md")
    assert embeddings.embedded == faq_chunks + 1  # the changed FAQ and the one-passage new file

    kb = KnowledgeBase.open(index)
    assert "internal/style-notes.txt" not in {c.source for c in kb.chunks}
    hits = kb.search("How long does a repair take?", k=3)
    assert any(p.source == "public/faq.md" and "three working days" in p.text for p in hits)
    assert kb.ask("Do gift vouchers expire?").passages[0].source == "public/new.md"


def test_collection_change_reindexes_and_roots_share_an_index(docs: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    build_index(docs, index)
    other = tmp_path / "other"
    other.mkdir()
    (other / "wax.md").write_text("# Chain wax\n\nWax the chain every 300 kilometres.\n")
    report = build_index(other, index, collection_rule=fixed_collection("workshop"))
    assert (report.added, report.removed) == (1, 0)
    kb = KnowledgeBase.open(index)
    assert kb.collections == ["internal", "public", "workshop"]
    assert "public/faq.md" in {c.source for c in kb.chunks}  # the first folder is untouched
    hit = kb.ask("How often should I wax the chain?", collection="workshop")
    assert hit.found and hit.passages[0].source == "wax.md"

    again = build_index(docs, index, collection_rule=fixed_collection("public"))
    assert again.updated == 4  # the internal documents moved collection
    assert again.unchanged == 2
    assert set(KnowledgeBase.open(index).collections) == {"public", "workshop"}

    shutil.rmtree(other)
    other.mkdir()
    gone = build_index(other, index)
    assert gone.removed == 1
    assert "wax.md" not in _sources(index)


def test_chunking_change_recuts_everything(docs: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    build_index(docs, index)
    report = build_index(docs, index, chunk_size=300, chunk_overlap=30)
    assert report.updated == 6 and report.unchanged == 0


def test_bad_docs_folder_and_other_model(docs: Path, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"--docs must be a folder"):
        build_index(tmp_path / "missing", tmp_path / "index")

    class OtherModel(CountingEmbeddings):
        model_name = "another-encoder"

    build_index(docs, tmp_path / "index")
    with pytest.raises(KnowledgeError, match=r"built with 'all-MiniLM-L6-v2' embeddings"):
        build_index(docs, tmp_path / "index", embeddings=OtherModel())
    with pytest.raises(KnowledgeError, match=r"'another-encoder' was given"):
        KnowledgeBase.open(tmp_path / "index", embeddings=OtherModel())


def test_unreadable_file_is_reported_not_fatal(docs: Path, tmp_path: Path) -> None:
    (docs / "internal" / "broken.pdf").write_bytes(b"%PDF-1.4 not a real pdf")
    report = build_index(docs, tmp_path / "index")
    assert report.added == 6
    assert [source for source, _ in report.failed] == ["internal/broken.pdf"]
