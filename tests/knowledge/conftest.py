"""Fixtures for the knowledge tests: a small mixed-format corpus and its index, built once."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from knowledge import KnowledgeBase, MiniLMEmbeddings, build_index

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _pdf_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def write_pdf(path: Path, title: str, pages: list[list[str]]) -> None:
    """Write a minimal text PDF (Helvetica, one line per string) that pypdf can read."""
    objects: list[bytes] = []
    n_pages = len(pages)
    page_ids = [4 + 2 * i for i in range(n_pages)]
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = " ".join(f"{pid} 0 R" for pid in page_ids)
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for i, lines in enumerate(pages):
        content_id = page_ids[i] + 1
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {content_id} 0 R >>".encode()
        )
        ops = ["BT", "/F1 11 Tf", "14 TL", "72 740 Td"]
        for line in lines:
            ops.append(f"({_pdf_string(line)}) Tj T*")
        ops.append("ET")
        stream = "\n".join(ops).encode("latin-1")
        objects.append(f"<< /Length {len(stream)} >>\nstream\n".encode() + stream + b"\nendstream")
    info_id = len(objects) + 1
    objects.append(f"<< /Title ({_pdf_string(title)}) >>".encode())
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info {info_id} 0 R >>\n"
        f"startxref\n{xref}\n%%EOF\n"
    ).encode()
    path.write_bytes(bytes(out))


HANDBOOK_PAGES = [
    [
        "Workshop safety rules.",
        "Always wear safety glasses when using the compressor or the wheel press.",
        "Keep the fire extinguisher next to the workshop door.",
    ],
    [
        "Opening and closing the shop.",
        "The last mechanic to leave switches off the compressor and locks the back door.",
    ],
]


def make_corpus(target: Path, *, with_injection: bool = True) -> Path:
    """Copy the fixture corpus to ``target`` and add the generated PDF handbook."""
    shutil.copytree(FIXTURES / "corpus", target)
    write_pdf(target / "internal" / "workshop-handbook.pdf", "Workshop Handbook", HANDBOOK_PAGES)
    if with_injection:
        shutil.copy(FIXTURES / "injection" / "customer-review.md", target / "public")
    return target


class CountingEmbeddings(MiniLMEmbeddings):
    """The real encoder, counting how many texts it embedded."""

    def __init__(self) -> None:
        super().__init__()
        self.embedded = 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.embedded += len(texts)
        return super().encode(texts)


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture corpus (markdown, HTML, text, CSV, PDF, plus a prompt-injection review)."""
    return make_corpus(tmp_path_factory.mktemp("knowledge") / "docs")


@pytest.fixture(scope="session")
def index_dir(corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The corpus indexed once per session (read-only: copy it before changing it)."""
    target = tmp_path_factory.mktemp("knowledge-index") / "index"
    build_index(corpus_dir, target)
    return target


@pytest.fixture(scope="session")
def kb(index_dir: Path) -> KnowledgeBase:
    """The knowledge base over the fixture corpus."""
    return KnowledgeBase.open(index_dir)


@pytest.fixture()
def index_copy(index_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the session index, for tests that damage it."""
    target = tmp_path / "index"
    shutil.copytree(index_dir, target)
    return target
