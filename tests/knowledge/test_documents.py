"""Loading every supported format with heading-aware sections."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from knowledge import DocumentLoadError, default_collection_rule, fixed_collection
from knowledge._documents import discover, load_chunks
from tests.knowledge.conftest import make_corpus


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_corpus(tmp_path_factory.mktemp("docs") / "corpus")


def _load(docs: Path, source: str) -> list:
    return load_chunks(docs / source, docs, "internal")


def test_markdown_sections_keep_heading_path_and_front_matter(docs: Path) -> None:
    chunks = _load(docs, "public/faq.md")
    paths = [chunk.section_path for chunk in chunks]
    assert ("Cogwheel Cycles FAQ", "Repairs", "Do you repair electric bikes?") in paths
    repair = next(c for c in chunks if c.section == "How long does a repair take?")
    assert repair.text.startswith("A standard service takes two working days.")
    assert repair.doc_type == "markdown"
    assert repair.doc_date == "2024-05-01"
    assert repair.source == "public/faq.md"


def test_html_sections_come_from_headings(docs: Path) -> None:
    chunks = _load(docs, "public/returns.html")
    by_section = {c.section: c for c in chunks}
    assert by_section["Bicycles"].section_path == ("Returns Policy", "Bicycles")
    assert "within 7 days" in by_section["Bicycles"].text
    assert by_section["Bicycles"].doc_date == "2024-06-15"
    assert all(c.doc_type == "html" for c in chunks)


def test_plain_text_underlined_headings_are_sections(docs: Path) -> None:
    chunks = _load(docs, "internal/style-notes.txt")
    emoji = next(c for c in chunks if c.section == "Emoji")
    assert emoji.section_path == ("Cogwheel Writing Style Notes", "Emoji")
    assert emoji.text.startswith("Use at most one bicycle emoji per social post.")


def test_csv_rows_are_passages(docs: Path) -> None:
    chunks = _load(docs, "internal/service-prices.csv")
    assert len(chunks) == 4
    assert chunks[2].section == "service: Brake bleed"
    assert "price_eur: 35" in chunks[2].text


def test_pdf_pages_are_sections(docs: Path) -> None:
    chunks = _load(docs, "internal/workshop-handbook.pdf")
    assert [c.section_path for c in chunks] == [
        ("Workshop Handbook", "Page 1"),
        ("Workshop Handbook", "Page 2"),
    ]
    assert "safety glasses" in chunks[0].text


def test_long_sections_are_cut_but_keep_their_section(tmp_path: Path) -> None:
    body = " ".join(f"Sentence number {i} talks about chain wax." for i in range(200))
    (tmp_path / "long.md").write_text(f"# Long\n\n## Waxing\n\n{body}\n", encoding="utf-8")
    chunks = load_chunks(tmp_path / "long.md", tmp_path, "internal", chunk_size=400)
    assert len(chunks) > 5
    assert all(c.section_path == ("Long", "Waxing") for c in chunks)
    assert all(len(c.text) <= 400 for c in chunks)
    assert len({c.chunk_id for c in chunks}) == len(chunks)


def test_discover_skips_hidden_and_unsupported(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "notes.md").write_text("# hidden")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    (tmp_path / "a.md").write_text("# A")
    assert [p.name for p in discover(tmp_path)] == ["a.md"]


def test_unsupported_suffix_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "deck.pptx"
    path.write_bytes(b"PK")
    with pytest.raises(DocumentLoadError, match=r"expected one of .*got '\.pptx'"):
        load_chunks(path, tmp_path, "internal")


def test_broken_pdf_is_a_load_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.4 this is not really a pdf")
    with pytest.raises(DocumentLoadError, match=r"broken\.pdf: could not be read as pdf"):
        load_chunks(path, tmp_path, "internal")


def test_collection_rules() -> None:
    assert default_collection_rule(PurePosixPath("public/faq.md")) == "public"
    assert default_collection_rule(PurePosixPath("internal/public/faq.md")) == "internal"
    assert default_collection_rule(PurePosixPath("faq.md")) == "internal"
    assert fixed_collection("styleguide")(PurePosixPath("public/x.md")) == "styleguide"
    with pytest.raises(ValueError, match=r"collection must be letters.*got 'a b'"):
        fixed_collection("a b")
