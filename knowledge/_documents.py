"""Loading documents with LangChain loaders and splitting them along their headings.

Every format is turned into passages that keep the path of headings above them
(``Title > Section > Subsection``) as metadata:

* Markdown (``.md``, ``.markdown``) and plain text (``.txt``): ``TextLoader``, then
  ``MarkdownHeaderTextSplitter``; YAML front matter gives the title and date; plain-text
  headings underlined with ``===`` or ``---`` count as headings.
* HTML (``.html``, ``.htm``): ``BSHTMLLoader`` for the title, ``HTMLHeaderTextSplitter``
  on ``h1``–``h4`` for the sections.
* PDF: ``PyPDFLoader``, one section per page.
* CSV: ``CSVLoader``, one passage per row, the row's first value as its section.

Long sections are cut by ``RecursiveCharacterTextSplitter`` at paragraph and sentence
boundaries. Nothing in a document is ever executed or interpreted.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from knowledge._compat import document_loaders
from knowledge._types import Chunk
from knowledge.exceptions import DocumentLoadError

SUFFIX_TYPES = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".csv": "csv",
}
CHUNK_SIZE = 1000
CHUNK_OVERLAP = 150
_HEADERS = [("#", "h1"), ("##", "h2"), ("###", "h3"), ("####", "h4")]
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_SETEXT = re.compile(r"^(?P<title>[^\n]+)\n(?P<bar>=+|-+)[ \t]*$", re.MULTILINE)

CollectionRule = Callable[[PurePosixPath], str]


def default_collection_rule(source: PurePosixPath) -> str:
    """``public`` for documents under a top-level ``public/`` folder, else ``internal``."""
    return "public" if source.parts and source.parts[0] == "public" else "internal"


def fixed_collection(name: str) -> CollectionRule:
    """A rule that puts every document in the collection ``name``."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise ValueError(f"collection must be letters, digits, '.', '_' or '-' (got {name!r})")

    def rule(_source: PurePosixPath) -> str:
        return name

    return rule


def discover(docs_dir: Path) -> Iterator[Path]:
    """Supported files under ``docs_dir``, sorted, skipping hidden files and folders."""
    for path in sorted(docs_dir.rglob("*")):
        relative = path.relative_to(docs_dir)
        if any(part.startswith(".") for part in relative.parts):
            continue
        if path.is_file() and path.suffix.lower() in SUFFIX_TYPES:
            yield path


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _humanise(stem: str) -> str:
    stem = re.sub(r"\.html$", "", stem)
    words = re.sub(r"[-_]+", " ", stem).strip()
    return words[:1].upper() + words[1:] if words else stem


def _parse_date(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()[:10]).isoformat()
        except ValueError:
            return None
    return None


def _split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        meta = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        return {}, text
    return (meta if isinstance(meta, dict) else {}), text[match.end() :]


def _clean_markdown(text: str) -> str:
    """Drop link targets and image markup so quotes read as prose (link text stays)."""
    return _MD_LINK.sub(r"\1", text)


def _sections_from_markdown(text: str, title: str) -> list[tuple[tuple[str, ...], str]]:
    from langchain_text_splitters import MarkdownHeaderTextSplitter

    splitter = MarkdownHeaderTextSplitter(_HEADERS, strip_headers=True)
    sections: list[tuple[tuple[str, ...], str]] = []
    for doc in splitter.split_text(text):
        headings = [doc.metadata[key] for _, key in _HEADERS if key in doc.metadata]
        if not headings or headings[0] != title:
            headings = [title, *headings]
        content = re.sub(r"[ \t]+\n", "\n", doc.page_content)
        sections.append((tuple(h.strip() for h in headings), content))
    return sections


def _setext_to_atx(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        level = "#" if match.group("bar").startswith("=") else "##"
        return f"{level} {match.group('title').strip()}"

    return _SETEXT.sub(replace, text)


def _load_markdown_or_text(path: Path, doc_type: str) -> tuple[str, str | None, list[Any]]:
    loaders = document_loaders()
    docs = loaders.TextLoader(str(path), encoding="utf-8", autodetect_encoding=True).load()
    raw = "\n".join(doc.page_content for doc in docs)
    meta, body = _split_front_matter(raw)
    if doc_type == "text":
        body = _setext_to_atx(body)
    first_h1 = re.search(r"^# +(.+)$", body, re.MULTILINE)
    title = str(meta.get("title") or (first_h1.group(1) if first_h1 else _humanise(path.stem)))
    title = title.strip()
    if not first_h1:
        body = f"# {title}\n\n{body}"
    sections = _sections_from_markdown(_clean_markdown(body), title)
    return title, _parse_date(meta.get("date")), sections


def _load_html(path: Path) -> tuple[str, str | None, list[Any]]:
    from langchain_text_splitters import HTMLHeaderTextSplitter

    loaders = document_loaders()
    docs = loaders.BSHTMLLoader(
        str(path), open_encoding="utf-8", bs_kwargs={"features": "html.parser"}
    ).load()
    page_title = str(docs[0].metadata.get("title") or "").strip() if docs else ""
    raw = path.read_text(encoding="utf-8", errors="replace")
    date_match = re.search(
        r'<meta\s+name="date"\s+content="([0-9-]{10})"', raw, flags=re.IGNORECASE
    )
    splitter = HTMLHeaderTextSplitter([(f"h{i}", f"h{i}") for i in range(1, 5)])
    grouped: dict[tuple[str, ...], list[str]] = {}
    for doc in splitter.split_text(raw):
        headings = tuple(
            str(doc.metadata[f"h{i}"]).strip() for i in range(1, 5) if f"h{i}" in doc.metadata
        )
        content = doc.page_content.strip()
        if not content or (headings and content == headings[-1]):
            continue
        grouped.setdefault(headings, []).append(content)
    title = page_title or next((h[0] for h in grouped if h), _humanise(path.stem))
    sections: list[tuple[tuple[str, ...], str]] = []
    for headings, parts in grouped.items():
        path_ = headings if headings and headings[0] == title else (title, *headings)
        sections.append((path_, "\n".join(parts)))
    if not sections and docs:
        sections.append(((title,), docs[0].page_content.strip()))
    return title, _parse_date(date_match.group(1)) if date_match else None, sections


def _load_pdf(path: Path) -> tuple[str, str | None, list[Any]]:
    loaders = document_loaders()
    pages = loaders.PyPDFLoader(str(path)).load()
    meta = pages[0].metadata if pages else {}
    title = str(meta.get("title") or "").strip() or _humanise(path.stem)
    doc_date = None
    created = str(meta.get("creationdate") or "")
    if re.match(r"\d{4}-\d{2}-\d{2}", created):
        doc_date = created[:10]
    sections = [
        ((title, f"Page {int(page.metadata.get('page', i)) + 1}"), page.page_content)
        for i, page in enumerate(pages)
        if page.page_content.strip()
    ]
    return title, doc_date, sections


def _load_csv(path: Path) -> tuple[str, str | None, list[Any]]:
    loaders = document_loaders()
    rows = loaders.CSVLoader(str(path), encoding="utf-8", autodetect_encoding=True).load()
    title = _humanise(path.stem)
    sections: list[tuple[tuple[str, ...], str]] = []
    for i, row in enumerate(rows):
        first_line = row.page_content.split("\n", 1)[0].strip()
        sections.append(((title, first_line or f"Row {i + 1}"), row.page_content))
    return title, None, sections


def load_chunks(
    path: Path,
    root: Path,
    collection: str,
    chunk_size: int = CHUNK_SIZE,
    chunk_overlap: int = CHUNK_OVERLAP,
) -> list[Chunk]:
    """Load one file and split it into heading-aware passages.

    Args:
        path: The file.
        root: The indexed folder; ``Chunk.source`` is relative to it.
        collection: The collection the document belongs to.
        chunk_size: Longest passage in characters before a section is cut.
        chunk_overlap: Characters repeated between consecutive cuts of one section.

    Returns:
        The passages in document order (empty for an empty document).

    Raises:
        DocumentLoadError: The file type is not supported or the file cannot be parsed.
    """
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    doc_type = SUFFIX_TYPES.get(path.suffix.lower())
    if doc_type is None:
        raise DocumentLoadError(
            f"{path.name}: expected one of {sorted(SUFFIX_TYPES)} (got {path.suffix!r})"
        )
    try:
        if doc_type in ("markdown", "text"):
            title, doc_date, sections = _load_markdown_or_text(path, doc_type)
        elif doc_type == "html":
            title, doc_date, sections = _load_html(path)
        elif doc_type == "pdf":
            title, doc_date, sections = _load_pdf(path)
        else:
            title, doc_date, sections = _load_csv(path)
    except DocumentLoadError:
        raise
    except Exception as error:  # loaders raise many types (UnicodeError, PdfReadError, ...)
        raise DocumentLoadError(
            f"{path.name}: could not be read as {doc_type} ({type(error).__name__}: {error}); "
            "check the file is a valid, readable document"
        ) from error
    if doc_date is None:
        doc_date = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC).date().isoformat()
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        separators=["\n\n", "\n", ". ", " ", ""],
        keep_separator="end",
    )
    source = path.relative_to(root).as_posix()
    chunks: list[Chunk] = []
    for section_path, text in sections:
        for piece in splitter.split_text(text):
            piece = piece.strip()
            if not piece:
                continue
            digest = hashlib.sha256(
                f"{root}\0{source}\0{len(chunks)}\0{piece}".encode()
            ).hexdigest()[:16]
            chunks.append(
                Chunk(
                    chunk_id=digest,
                    root=str(root),
                    source=source,
                    title=title,
                    section_path=section_path,
                    text=piece,
                    collection=collection,
                    doc_type=doc_type,
                    doc_date=doc_date,
                )
            )
    return chunks
