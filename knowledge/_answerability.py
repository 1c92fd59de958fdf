"""Answerability: should Beacon quote the documents, or say the answer isn't in them?

A question the documents cannot answer still retrieves passages: "who is the CEO of
Trailbird?" finds the FAQ's introduction, "how much does the Swift 3 cost?" finds the
shipping costs. Besides how close the best sentence and passage are, it shows in the
words: the best passage holds only part of what was asked (Trailbird, but nothing near
"CEO"; the Swift 3, but no price). Each content word of the question is grounded in the
best passage by the word itself (or a one-letter typo of it), else by its nearest
passage word in the encoder's space ("postage" is near "shipping", "CEO" is near
nothing there). A small logistic model over these features gives the probability that
the quotes answer the question; the knowledge base quotes only above
:data:`ANSWER_THRESHOLD`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import astuple, dataclass

import numpy as np

from knowledge._answer import RankedSentence, SentenceEmbedder
from knowledge._bm25 import tokenize
from knowledge._terms import Vocabulary, content_terms, matches, stem, stems
from knowledge._types import Passage

ANSWER_THRESHOLD = 0.30
"""Probability (from :func:`answerability`) under which ``KnowledgeBase.ask`` answers "not
found" instead of quoting. Chosen on the answer-level dev set of
``python -m benchmarks.knowledge_answers`` to admit nearly every question the pages
cannot answer: quoting an unrelated passage is worse than saying so (a customer is then
offered a person), at a small cost in questions answered. The trade-off curve is in
docs/benchmarks/knowledge_answers.md."""

#: Logistic coefficients, in the order of :class:`AnswerabilityFeatures`' fields; fitted
#: by ``python -m benchmarks.knowledge_answers`` on its dev set (printed as ``fit`` there).
COEFFICIENTS = (3.16, 3.251, -3.897)
INTERCEPT = -3.31


@dataclass(frozen=True)
class AnswerabilityFeatures:
    """What the answerability model sees of one question and its retrieval.

    Attributes:
        sentence_score: The best sentence's ranking score (:func:`rank_sentences`).
        passage_cosine: The best passage's cosine with the question.
        ungrounded: Idf-weighted share of the question's content words that the best
            sentence's passage (headings included) does not hold, each counted by how far
            (1 − cosine) its nearest word in the passage is, in [0, 1].
    """

    sentence_score: float
    passage_cosine: float
    ungrounded: float

    def as_tuple(self) -> tuple[float, ...]:
        """The features in model order."""
        return tuple(float(value) for value in astuple(self))


def answerability_features(
    question: str,
    ranked: Sequence[RankedSentence],
    passages: Sequence[Passage],
    vocabulary: Vocabulary,
    embed: SentenceEmbedder,
) -> AnswerabilityFeatures:
    """The features of ``question`` given its ranked sentences and passages.

    Args:
        question: The question.
        ranked: Its sentences, best first (:func:`rank_sentences`); may be empty.
        passages: The retrieved passages.
        vocabulary: The index's vocabulary, for word rarity.
        embed: Texts → unit vectors of shape (n, dim), used on single words (cached).
    """
    if not ranked:
        return AnswerabilityFeatures(0.0, 0.0, 1.0)
    best = ranked[0]
    passage_text = best.passage.section_path + "\n" + best.passage.text
    held = set(stems(passage_text))
    words = {stem(token): token for token in tokenize(question)}
    terms = [t for t in content_terms(question) if t in words]
    total = vocabulary.weight(terms) or 1.0
    missing = [t for t in terms if not matches(t, held)]
    ungrounded = 0.0
    if missing:
        passage_words = sorted(set(tokenize(passage_text)))
        if passage_words:
            vectors = embed([words[t] for t in missing] + passage_words)
            nearest = (vectors[: len(missing)] @ vectors[len(missing) :].T).max(axis=1)
        else:
            nearest = np.zeros(len(missing))
        ungrounded = sum(
            vocabulary.idf(t) * (1.0 - max(0.0, float(sim)))
            for t, sim in zip(missing, nearest, strict=True)
        )
    return AnswerabilityFeatures(
        sentence_score=best.score,
        passage_cosine=max((p.score for p in passages), default=0.0),
        ungrounded=ungrounded / total,
    )


def answerability(features: AnswerabilityFeatures) -> float:
    """Probability that quoting answers the question: the logistic model, in [0, 1]."""
    z = INTERCEPT + sum(w * x for w, x in zip(COEFFICIENTS, features.as_tuple(), strict=True))
    return 1.0 / (1.0 + math.exp(-z))
