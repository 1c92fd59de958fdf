"""Content terms of questions and the vocabulary of the indexed documents.

Sentence ranking and the answerability check both ask which words of a question a
passage holds. They compare light stems (``refunds``/``refunded`` → ``refund``), weigh
each word by its inverse document frequency (a rare word like "windproof" says more
than "shoes"), and forgive one-letter typos ("unsubscrbe").
"""

from __future__ import annotations

import difflib
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence

from knowledge._bm25 import tokenize

_SUFFIXES = ("ing", "ed", "es", "ly", "s")
_FILLER_WORDS = """
    please pls plz hey hi hello thanks thank ok okay yes no not just really quick quickly
    want wanna need like know tell let lets possible still already also anything
    something thing things get got give make way good best could would might may must
    shall what whats wheres whos hows im ive id youre dont doesnt cant isnt u ur
    very too some every each other more less one much many long often soon
    policy policies info information detail details rule rules
"""
#: Shortest word that a one-letter typo is forgiven for (shorter words are too ambiguous).
FUZZY_MIN_CHARS = 6
FUZZY_CUTOFF = 0.85


def stem(token: str) -> str:
    """``token`` without one common English suffix, keeping at least three letters."""
    for suffix in _SUFFIXES:
        if token.endswith(suffix) and len(token) - len(suffix) >= 3:
            return token[: -len(suffix)]
    return token


#: Chat filler and question words (stemmed) that never carry what a question is about;
#: "policy", "info" and "details" ask for everything on a topic, which no sentence names.
FILLER = frozenset(stem(word) for word in _FILLER_WORDS.split())


def stems(text: str) -> list[str]:
    """Stemmed word tokens of ``text`` without stop words (BM25's tokenizer, then :func:`stem`)."""
    return [stem(token) for token in tokenize(text)]


_QUANTITY_UNIT = re.compile(r"\d[\d.,]*\s*([a-z]+)")


def content_terms(question: str) -> set[str]:
    """The stems that say what ``question`` is about: no stop words, filler, numbers, or
    the unit of a quantity the asker states ("2 weeks late", "26.7 cm", "40 euros")."""
    units = {stem(unit) for unit in _QUANTITY_UNIT.findall(question.lower())}
    return {
        t
        for t in stems(question)
        if t not in FILLER and t not in units and not t.isdigit() and len(t) > 1
    }


_GENERIC_DOCS = (
    r"(?:internal\s+|help\s+|company\s+)?"
    r"(?:docs?|documents?|documentation|wiki|knowledge\s*base|kb|files?|notes|guidelines|pages)"
)
#: A lead-in that points at the documents in general ("do our docs say anything about",
#: "is there anything in the wiki on", "according to the docs"): it names no document,
#: so it only dilutes what the question is about. A document's own name ("per the
#: playbook", "what does the voice guide say") is kept: it helps find the document.
_GENERIC_LEAD_IN = re.compile(
    rf"""
    (?:(?:what|anything|so)\s+)?
    (?:(?:do|does|did|would|will|can|is|are)\s+)?
    (?:there\s+(?:anything|something|a\s+\w+|any\s+\w+)\s+(?:in|on)\s+)?
    (?:(?:can|could)\s+you\s+(?:check|look|search)(?:\s+(?:in|up|through))?\s+)?
    (?:according\s+to\s+|per\s+|in\s+|from\s+)?
    (?:our|the|your|any)\s+{_GENERIC_DOCS}\b
    (?:\s+(?:say|says|said|mention|mentions|cover|covers|have|has|tell\s+us|talk|include|includes))?
    (?:\s+(?:anything|something|much))?
    (?:\s+(?:about|on|regarding|re|for|concerning|around)\b)?
    [\s,:?-]*
    """,
    re.IGNORECASE | re.VERBOSE,
)


def without_generic_lead_in(question: str) -> str:
    """``question`` without words that only point at the documents in general.

    "do our docs say anything about title case for headlines" → "title case for
    headlines"; the question itself when fewer than two words would be left.
    """
    focused = " ".join(_GENERIC_LEAD_IN.sub(" ", question).split())
    return focused if len(focused.split()) >= 2 else question


class Vocabulary:
    """How rare each stem is in the indexed passages.

    Args:
        texts: The indexed passages' texts (headings included), shape (n_passages,).
    """

    def __init__(self, texts: Sequence[str]) -> None:
        self._df: Counter[str] = Counter()
        for text in texts:
            self._df.update(set(stems(text)))
        self._n = len(texts)

    def idf(self, term: str) -> float:
        """Inverse document frequency of ``term`` (highest for a word found nowhere)."""
        df = self._df.get(term, 0)
        return math.log1p((self._n - df + 0.5) / (df + 0.5))

    def weight(self, terms: Iterable[str]) -> float:
        """Summed idf of ``terms``."""
        return sum(self.idf(term) for term in terms)


def matches(term: str, words: set[str]) -> bool:
    """``term`` is in ``words``, exactly or (for long words) with one typo."""
    if term in words:
        return True
    if len(term) < FUZZY_MIN_CHARS:
        return False
    return any(
        abs(len(word) - len(term)) <= 1
        and word[:1] == term[:1]
        and difflib.SequenceMatcher(None, term, word).ratio() >= FUZZY_CUTOFF
        for word in words
    )


_NUMBER = re.compile(r"(?<![\d.,])\d+(?:[.,]\d+)?(?![\d])")


def numbers(text: str) -> set[str]:
    """The figures written in ``text`` ("26.7", "44"), decimal commas read as points."""
    return {match.replace(",", ".") for match in _NUMBER.findall(text)}
