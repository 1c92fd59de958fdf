"""Okapi BM25 over a sparse term matrix (numpy + scipy), for keyword retrieval."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from scipy import sparse

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "but",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "should",
        "so",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "us",
        "was",
        "we",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
        "about",
        "any",
        "all",
        "also",
        "would",
    ]
)


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens without stop words; a trailing plural ``s`` is dropped."""
    tokens = []
    for token in _TOKEN.findall(text.lower().replace("’", "'")):
        token = token.split("'")[0]
        if token in STOPWORDS or not token:
            continue
        if len(token) > 3 and token.endswith("s") and not token.endswith("ss"):
            token = token[:-1]
        tokens.append(token)
    return tokens


class BM25:
    """Okapi BM25 scorer.

    Args:
        k1: Term-frequency saturation.
        b: Length normalisation (0 = none, 1 = full).
    """

    def __init__(self, k1: float = 1.5, b: float = 0.75) -> None:
        self.k1 = k1
        self.b = b

    def fit(self, documents: Sequence[str]) -> BM25:
        """Index documents.

        Args:
            documents: Texts of shape (n_documents,).

        Returns:
            self
        """
        vocabulary: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        for row, text in enumerate(documents):
            for token in tokenize(text):
                rows.append(row)
                cols.append(vocabulary.setdefault(token, len(vocabulary)))
        n_docs = len(documents)
        counts = sparse.csr_matrix(
            (np.ones(len(rows), dtype=np.float32), (rows, cols)),
            shape=(n_docs, max(len(vocabulary), 1)),
        )
        counts.sum_duplicates()
        lengths = np.asarray(counts.sum(axis=1)).ravel()
        avg_length = float(lengths.mean()) if n_docs else 0.0
        doc_freq = np.bincount(counts.indices, minlength=counts.shape[1])
        self.idf_ = np.log1p((n_docs - doc_freq + 0.5) / (doc_freq + 0.5)).astype(np.float32)
        # Pre-compute the saturated term weights so a query is one sparse column sum.
        norm = self.k1 * (1 - self.b + self.b * lengths / max(avg_length, 1e-9))
        weights = counts.tocoo()
        data = weights.data * (self.k1 + 1) / (weights.data + norm[weights.row])
        self.weights_ = sparse.csc_matrix(
            (data.astype(np.float32), (weights.row, weights.col)), shape=counts.shape
        )
        self.vocabulary_ = vocabulary
        return self

    def score(self, query: str) -> np.ndarray:
        """BM25 score of every document for ``query``: float32 array of shape (n_documents,)."""
        ids = sorted({self.vocabulary_[t] for t in tokenize(query) if t in self.vocabulary_})
        if not ids:
            return np.zeros(self.weights_.shape[0], dtype=np.float32)
        block = self.weights_[:, ids].multiply(self.idf_[ids])
        return np.asarray(block.sum(axis=1), dtype=np.float32).ravel()
