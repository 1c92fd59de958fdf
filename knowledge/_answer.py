"""Extractive answers: the sentences of the top passages that answer the question, quoted
verbatim with their sources.

The retrieved sections are ranked against the question, and then so are their
sentences: a question about money, dates, sizes or counts prefers the sentence that
holds one (see :mod:`knowledge._cues`), and a short section is quoted whole when no
sentence of it stands out, or when it is a list and the question asks for the list.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from knowledge._cues import holds_answer_type, question_type
from knowledge._terms import Vocabulary, numbers, stems
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


SentenceEmbedder = Callable[[Sequence[str]], np.ndarray]

#: Weight of the share of the question's words a sentence repeats (idf-weighted).
LEXICAL_WEIGHT = 0.5
#: How much a repeated word counts when it is also in the sentence's headings: there it
#: names the document or section ("Autumn Ride"), which the passage score already weighs,
#: rather than showing that this sentence is the answer.
HEADING_TERM_WEIGHT = 0.5
#: Bonus of a sentence holding the kind of fact the question asks for (money, a date…).
CUE_WEIGHT = 0.2
#: Bonus of a sentence repeating a figure the question names ("26.7 cm", "EU 44").
NUMBER_WEIGHT = 0.3
#: Shortest figure of a question worth looking up ("26.7", "44"; a lone "2" in "2 weeks
#: late" describes the asker's situation and matches too many sentences).
MIN_FIGURE_CHARS = 2
#: Weight of the cosine between the question and the sentence's whole passage.
PASSAGE_WEIGHT = 0.3
#: A passage this short (characters) is quoted whole when none of its sentences stands out.
SHORT_SECTION_CHARS = 320
#: How far the best sentence must lead the rest of its passage to be quoted alone.
STANDOUT_MARGIN = 0.1
#: How far below the best sentence another may score and still be quoted.
QUOTE_MARGIN = 0.12
#: How far below the best sentence another sentence of the best passage may score and
#: still be quoted beside it: an answer often runs over two sentences of one section
#: ("Ridge GTX shoes have a waterproof membrane. … re-apply a water-repellent spray").
#: Chosen on the customer and staff dev sets (benchmarks/understanding_dev, knowledge_answers).
PASSAGE_QUOTE_MARGIN = 0.25
#: Longest list section (characters) quoted whole when the question asks for the list.
LIST_SECTION_CHARS = 480
#: A question asking for several things of a kind: "which hypotheses…", "what are the
#: rules…", "list the…".
_ASKS_FOR_LIST = re.compile(
    r"\b(?:which|what) (?:are|were)\b|\bwhich \w{2,}(?<!s)s\b|\blist\b|\ball the\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class RankedSentence:
    """A sentence of a retrieved passage, scored as an answer to the question.

    Attributes:
        text: The sentence, an exact substring of ``passage.text`` (a whole CSV row).
        passage: The passage it comes from.
        cosine: Cosine between the question and the sentence read under its headings.
        overlap: Idf-weighted share of the question's words the sentence repeats, in [0, 1].
        cue: The sentence holds the kind of fact the question asks for.
        score: What sentences are ranked by (higher is better).
    """

    text: str
    passage: Passage
    cosine: float
    overlap: float
    cue: bool
    score: float


def sentence_units(passage: Passage) -> list[str]:
    """What can be quoted of ``passage``: its sentences, or the whole text of a CSV row
    or of a passage with no sentence long enough to stand alone."""
    if passage.doc_type == "csv":
        return [passage.text.strip()]
    return split_sentences(passage.text) or [passage.text.strip()]


def sentence_context(passage: Passage, sentence: str) -> str:
    """The text embedded for ``sentence``: its heading path, then the sentence, so
    "The budget is …" is read as the budget of the brief it sits in."""
    return f"{passage.section_path}: {sentence}"


def rank_sentences(
    question: str,
    query_vector: np.ndarray,
    passages: Sequence[Passage],
    embed: SentenceEmbedder,
    vocabulary: Vocabulary,
    *,
    max_passages: int = 3,
) -> list[RankedSentence]:
    """Score every sentence of the top passages as an answer to ``question``.

    A sentence's score is its cosine with the question (read under its headings) plus
    :data:`LEXICAL_WEIGHT` × the idf-weighted share of the question's words it repeats,
    :data:`CUE_WEIGHT` when it holds the kind of fact asked for (money for "how much",
    dates for "when", sizes for "what size"…), :data:`NUMBER_WEIGHT` × the share of the
    question's figures it repeats, and :data:`PASSAGE_WEIGHT` × its passage's cosine.

    Args:
        question: The question.
        query_vector: Its unit embedding, shape (dim,).
        passages: Ranked passages.
        embed: Texts → unit vectors of shape (n, dim) (cached by the knowledge base).
        vocabulary: The index's vocabulary, for word rarity.
        max_passages: Passages sentences are drawn from.

    Returns:
        The sentences, best first.
    """
    candidates = [
        (sentence, passage)
        for passage in passages[:max_passages]
        for sentence in sentence_units(passage)
    ]
    if not candidates:
        return []
    cosine = embed([sentence_context(p, s) for s, p in candidates]) @ query_vector
    answer_type = question_type(question)
    terms = set(stems(question))
    total = vocabulary.weight(terms) or 1.0
    figures = {n for n in numbers(question) if len(n) >= MIN_FIGURE_CHARS}
    ranked = []
    for (sentence, passage), cos in zip(candidates, cosine, strict=True):
        repeated_terms = terms & set(stems(sentence))
        in_headings = repeated_terms & set(stems(passage.section_path))
        overlap = (
            vocabulary.weight(repeated_terms - in_headings)
            + HEADING_TERM_WEIGHT * vocabulary.weight(in_headings)
        ) / total
        cue = holds_answer_type(sentence, answer_type)
        figures_repeated = len(figures & numbers(sentence)) / len(figures) if figures else 0.0
        score = (
            float(cos)
            + LEXICAL_WEIGHT * overlap
            + CUE_WEIGHT * cue
            + NUMBER_WEIGHT * figures_repeated
            + PASSAGE_WEIGHT * passage.score
        )
        ranked.append(RankedSentence(sentence, passage, float(cos), overlap, cue, score))
    ranked.sort(key=lambda item: -item.score)
    return ranked


def is_list(text: str) -> bool:
    """Whether ``text`` is mostly a list: two or more bulleted or numbered items."""
    return sum(1 for line in text.split("\n") if _BULLET.match(line)) >= 2


def _quote_whole(
    best: RankedSentence, ranked: Sequence[RankedSentence], question: str | None
) -> bool:
    """A short passage is quoted whole unless its best sentence clearly leads the others;
    a short list is quoted whole when the question asks for the list."""
    text = best.passage.text.strip()
    if best.text == text:
        return False
    if (
        question
        and len(text) <= LIST_SECTION_CHARS
        and _ASKS_FOR_LIST.search(question)
        and is_list(text)
    ):
        return True
    if len(text) > SHORT_SECTION_CHARS:
        return False
    runner_up = next((r for r in ranked if r.passage == best.passage and r is not best), None)
    return runner_up is not None and best.score - runner_up.score < STANDOUT_MARGIN


def select_quotes(
    ranked: Sequence[RankedSentence],
    *,
    question: str | None = None,
    max_quotes: int = 3,
    margin: float = QUOTE_MARGIN,
    passage_margin: float = PASSAGE_QUOTE_MARGIN,
) -> list[Quote]:
    """The quotes of an extractive answer, from :func:`rank_sentences`' ranking.

    The best sentence is quoted, or its whole passage when that is short and no sentence
    of it stands out (:data:`STANDOUT_MARGIN`); other sentences join while they score
    within ``margin`` of the best (``passage_margin`` for the best passage's own
    sentences), up to ``max_quotes``. A short list is quoted whole
    when ``question`` asks for the list ("which hypotheses do we test?").

    Returns:
        Quotes, best first; each quote's text is an exact substring of its passage.
    """
    if not ranked:
        return []
    best = ranked[0]
    quoted: list[tuple[str, Passage]] = []
    if _quote_whole(best, ranked, question):
        quoted.append((best.passage.text.strip(), best.passage))
    for item in ranked:
        if len(quoted) >= max_quotes:
            break
        same_passage = item.passage == best.passage
        if item.score < best.score - (passage_margin if same_passage else margin):
            continue
        if any(item.passage == p and item.text in text for text, p in quoted):
            continue
        quoted.append((item.text, item.passage))
    return [Quote(text, p.source, p.section, p.section_path) for text, p in quoted]


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
