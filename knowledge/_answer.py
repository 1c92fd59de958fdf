"""Extractive answers: the best sentences of the top passages, quoted verbatim with sources."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np

from knowledge._bm25 import tokenize
from knowledge._types import Passage, Quote

_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"”’)]?\s+(?=[\"“‘(\[]?[A-Z0-9])")
_BULLET = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+")
MIN_SENTENCE_CHARS = 12


def split_sentences(text: str) -> list[str]:
    """Sentences and list items of ``text``; each is an exact substring of ``text``."""
    sentences: list[str] = []
    for line in text.split("\n"):
        line = _BULLET.sub("", line).strip()
        if not line:
            continue
        start = 0
        for match in _SENTENCE_END.finditer(line):
            piece = line[start : match.start()].strip()
            if piece:
                sentences.append(piece)
            start = match.end()
        tail = line[start:].strip()
        if tail:
            sentences.append(tail)
    return [s for s in sentences if len(s) >= MIN_SENTENCE_CHARS and s in text]


def select_quotes(
    question: str,
    query_vector: np.ndarray,
    passages: Sequence[Passage],
    embed: Callable[[Sequence[str]], np.ndarray],
    *,
    max_passages: int = 3,
    max_quotes: int = 3,
    margin: float = 0.12,
) -> list[Quote]:
    """Pick the sentences that best answer ``question`` from the top passages.

    A sentence's score is its cosine similarity to the question plus a bonus for
    shared keywords and for coming from a higher-ranked passage. The best sentence is
    always kept; others join when within ``margin`` of it.

    Args:
        question: The question.
        query_vector: Its unit embedding, shape (dim,).
        passages: Ranked passages.
        embed: Texts → unit vectors of shape (n, dim).
        max_passages: Passages sentences are drawn from.
        max_quotes: Most sentences quoted.
        margin: How far below the best a sentence may score and still be quoted.

    Returns:
        Quotes, best first; each quote's text is an exact substring of its passage.
    """
    candidates: list[tuple[str, Passage, int]] = []
    for rank, passage in enumerate(passages[:max_passages]):
        candidates.extend((sentence, passage, rank) for sentence in split_sentences(passage.text))
    if not candidates:
        return []
    vectors = embed([sentence for sentence, _, _ in candidates])
    cosine = vectors @ query_vector
    query_terms = set(tokenize(question))
    scores = np.empty(len(candidates))
    for i, (sentence, _passage, rank) in enumerate(candidates):
        overlap = len(query_terms & set(tokenize(sentence))) / max(len(query_terms), 1)
        scores[i] = cosine[i] + 0.25 * overlap + 0.05 * (max_passages - rank) / max_passages
    order = np.argsort(-scores, kind="stable")
    best = scores[order[0]]
    quotes: list[Quote] = []
    seen: set[str] = set()
    for i in order:
        sentence, passage, _ = candidates[i]
        if scores[i] < best - margin or len(quotes) >= max_quotes:
            break
        if sentence in seen:
            continue
        seen.add(sentence)
        quotes.append(Quote(sentence, passage.source, passage.section, passage.section_path))
    return quotes


#: The collection customers search; its answers speak to customers, not to the team.
PUBLIC_COLLECTION = "public"


def format_extractive(quotes: Sequence[Quote], collection: str | None = None) -> str:
    """The answer text: each quote in quotation marks, followed by its source and section."""
    lines = ["From our help pages:" if collection == PUBLIC_COLLECTION else "From your documents:"]
    for quote in quotes:
        lines.append(f"“{quote.text}”")
        lines.append(f"    — {quote.source}, section “{quote.section}” ({quote.section_path})")
    return "\n".join(lines)


def format_not_found(question: str, collection: str | None) -> str:
    """The answer when no passage is relevant enough."""
    if collection == PUBLIC_COLLECTION:
        return (
            "I couldn't find that in our help pages, so I won't guess. "
            "I can pass you to a person on our team if you like."
        )
    scope = f" in the {collection} documents" if collection else " in the indexed documents"
    return (
        f"I couldn't find anything{scope} that answers this, so I won't guess. "
        "Try rephrasing, or ask a colleague who owns the document."
    )
