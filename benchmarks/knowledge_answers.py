"""Answer-level quality of the knowledge base: does the quoted text hold the fact asked for?

Indexes the Trailbird demo documents (data/knowledge) into a temporary index and asks
every question of ``benchmarks/knowledge_answers_dev.yml`` the way the bot does
(``KnowledgeBase.ask(question, collection=…, k=3)``: customers search the public
collection, staff every document). Reports, per audience and for two pipelines measured
in the same run:

* ``before``: the selection Beacon shipped before sentence ranking (the best-passage
  cosine against the floor of that time, :data:`LEGACY_MIN_SCORE`, then the old
  similarity-only sentence picker, reproduced below);
* ``after``: ``KnowledgeBase.ask`` as it is now.

Metrics: answer accuracy (the answer was given and its quotes contain the expected
fact), top-quote accuracy (the first quote alone contains it), section recall@3 of the
retrieval, the share of unanswerable questions admitted ("not found"), the number of
unanswerable questions answered with a quote, and every failure. It also sweeps the
answerability threshold over the dev set, refits the answerability model with a
leave-one-out estimate (docs/benchmarks/knowledge_answers.md) and times ``ask``.

Run: ``.venv/bin/python -m benchmarks.knowledge_answers [--out OUT.json]``
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from benchmarks._report import Run, add_out_argument
from foundation.settings import PROJECT_ROOT
from knowledge import KnowledgeBase, SearchFilter, build_index
from knowledge._answer import rank_sentences, split_sentences
from knowledge._answerability import (
    ANSWER_THRESHOLD,
    COEFFICIENTS,
    INTERCEPT,
    AnswerabilityFeatures,
    answerability_features,
)
from knowledge._bm25 import tokenize
from knowledge._kb import DEFAULT_MIN_SCORE
from knowledge._types import Passage

DEV_SET = Path(__file__).with_name("knowledge_answers_dev.yml")
DOCS = PROJECT_ROOT / "data" / "knowledge"
#: The best-passage floor of the ``before`` pipeline: the one it shipped with, when the
#: cosine alone decided between quoting and "not found".
LEGACY_MIN_SCORE = 0.30
#: Passages per turn, as actions/knowledge.py asks (PASSAGES_PER_TURN).
K = 3
COLLECTIONS = {"customer": "public", "staff": None}
#: Inverse regularisation strength of the answerability model's fit.
FIT_C = 10.0


@dataclass(frozen=True)
class Outcome:
    """One question through one pipeline."""

    audience: str
    question: str
    answerable: bool
    expect: str | None
    found: bool
    quotes: tuple[str, ...]
    score: float  # the number the pipeline compares with its threshold
    section_hit: bool | None  # expected section among the top 3 passages (answerable only)
    features: tuple[float, ...]  # the answerability model's features

    @property
    def holds_fact(self) -> bool:
        """The quotes (given or, under the threshold, held back) contain the expected fact."""
        return self.answerable and contains(" ".join(self.quotes), self.expect or "")

    @property
    def correct(self) -> bool:
        """Answerable: answered and the quotes hold the fact; unanswerable: admitted."""
        return self.found and self.holds_fact if self.answerable else not self.found

    @property
    def top_correct(self) -> bool:
        """The first quote alone holds the fact."""
        return (
            self.answerable
            and self.found
            and bool(self.quotes)
            and contains(self.quotes[0], self.expect or "")
        )


def contains(text: str, expect: str) -> bool:
    """``expect`` (plain, case-insensitive; or a regex after ``re:``) occurs in ``text``."""
    if expect.startswith("re:"):
        return re.search(expect[3:], text, flags=re.IGNORECASE) is not None
    return expect.lower() in text.lower()


def _legacy_quotes(
    question: str,
    query_vector: np.ndarray,
    passages: Sequence[Passage],
    embed: Callable[[Sequence[str]], np.ndarray],
) -> list[str]:
    """The sentence picker before sentence ranking: cosine + keyword overlap + passage rank."""
    max_passages, max_quotes, margin = 3, 3, 0.12
    candidates: list[tuple[str, int]] = []
    for rank, passage in enumerate(passages[:max_passages]):
        candidates.extend((sentence, rank) for sentence in split_sentences(passage.text))
    if not candidates:
        return []
    cosine = embed([sentence for sentence, _ in candidates]) @ query_vector
    terms = set(tokenize(question))
    scores = np.array(
        [
            cosine[i]
            + 0.25 * len(terms & set(tokenize(sentence))) / max(len(terms), 1)
            + 0.05 * (max_passages - rank) / max_passages
            for i, (sentence, rank) in enumerate(candidates)
        ]
    )
    quotes: list[str] = []
    for i in np.argsort(-scores, kind="stable"):
        if scores[i] < scores.max() - margin or len(quotes) >= max_quotes:
            break
        if candidates[i][0] not in quotes:
            quotes.append(candidates[i][0])
    return quotes


def _section_hit(passages: Sequence[Passage], item: dict[str, str]) -> bool:
    return any(
        p.source == item["source"] and item["section"] in p.section_path.split(" > ")
        for p in passages
    )


def _items(spec: dict[str, Any]) -> list[tuple[str, dict[str, str] | None, str]]:
    """(audience, answerable item or None, question) for every question of the dev set."""
    rows: list[tuple[str, dict[str, str] | None, str]] = []
    for audience in COLLECTIONS:
        rows += [(audience, item, item["q"]) for item in spec[audience]["answerable"]]
        rows += [(audience, None, q) for q in spec[audience]["unanswerable"]]
    return rows


def check_dev_set(kb: KnowledgeBase, spec: dict[str, Any]) -> None:
    """Fail loudly when an expected fact is no longer in its source (the documents changed)."""
    for audience, item, _ in _items(spec):
        if item is None:
            continue
        texts = [c.text for c in kb.chunks if c.source == item["source"]]
        if not any(contains(text, item["expect"]) for text in texts):
            raise SystemExit(
                f"dev set out of date: {item['expect']!r} ({audience}: {item['q']!r}) is not in "
                f"{item['source']}; fix benchmarks/knowledge_answers_dev.yml"
            )
        collection = COLLECTIONS[audience]
        if collection and not item["source"].startswith(collection + "/"):
            raise SystemExit(f"{item['q']!r}: a customer question must use a public page")


def run_pipelines(kb: KnowledgeBase, spec: dict[str, Any]) -> dict[str, list[Outcome]]:
    """Every question through the old and the current pipeline.

    The current one runs with no answerability threshold, so the sweep can place one;
    ``found`` is then re-derived at the threshold in use.
    """
    results: dict[str, list[Outcome]] = {"before": [], "after": []}
    threshold = kb.answer_threshold
    kb.answer_threshold = float("-inf")
    try:
        for audience, item, question in _items(spec):
            collection = COLLECTIONS[audience]
            vector = kb._embed([question])[0]
            passages = kb.search(
                question, k=K, filters=SearchFilter(collection=collection), query_vector=vector
            )
            best = max((p.score for p in passages), default=0.0)
            old_found = best >= LEGACY_MIN_SCORE
            old_quotes = (
                _legacy_quotes(question, vector, passages, kb._embed_sentences) if old_found else []
            )
            ranked = rank_sentences(question, vector, passages, kb._embed_sentences, kb._vocabulary)
            features = answerability_features(
                question, ranked, passages, kb._vocabulary, kb._embed_sentences
            ).as_tuple()
            base = Outcome(
                audience=audience,
                question=question,
                answerable=item is not None,
                expect=item["expect"] if item else None,
                found=False,
                quotes=(),
                score=0.0,
                section_hit=_section_hit(passages, item) if item else None,
                features=features,
            )
            results["before"].append(
                replace(base, found=old_found, quotes=tuple(old_quotes), score=best)
            )
            answer = kb.ask(question, collection=collection, k=K)
            quotes = tuple(q.text for q in answer.quotes)
            results["after"].append(
                replace(base, found=bool(quotes), quotes=quotes, score=answer.confidence)
            )
    finally:
        kb.answer_threshold = threshold
    results["after"] = [
        replace(o, found=o.found and o.score >= threshold) for o in results["after"]
    ]
    return results


def fit_answerability(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """Fit the answerability model on the dev set; its coefficients and a held-out check.

    A question is a positive when it is answerable and the current selection's quotes
    hold its fact (ignoring the threshold), a negative otherwise. The fit and the report
    use the same questions, so the leave-one-out curve (each question scored by a model
    fitted without it) is the estimate to trust.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import LeaveOneOut, cross_val_predict

    x = np.array([o.features for o in outcomes])
    y = np.array([o.holds_fact for o in outcomes])

    def model() -> LogisticRegression:
        return LogisticRegression(C=FIT_C, class_weight="balanced", max_iter=1000)

    fitted = model().fit(x, y)
    held_out = cross_val_predict(model(), x, y, cv=LeaveOneOut(), method="predict_proba")[:, 1]
    curves: dict[str, list[dict[str, float]]] = {}
    for audience in COLLECTIONS:
        ans = [i for i, o in enumerate(outcomes) if o.audience == audience and o.answerable]
        neg = [i for i, o in enumerate(outcomes) if o.audience == audience and not o.answerable]
        curves[audience] = [
            {
                "threshold": t,
                "answer_accuracy": round(
                    sum(bool(y[i]) and held_out[i] >= t for i in ans) / len(ans), 3
                ),
                "unanswerable_admitted": round(sum(held_out[i] < t for i in neg) / len(neg), 3),
            }
            for t in sorted({0.15, 0.2, 0.25, 0.3, ANSWER_THRESHOLD, 0.35, 0.4})
        ]
    return {
        "coefficients": [round(float(w), 3) for w in fitted.coef_[0]],
        "intercept": round(float(fitted.intercept_[0]), 3),
        "leave_one_out": curves,
    }


def summarise(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """The headline numbers of one pipeline, per audience."""
    summary: dict[str, Any] = {}
    for audience in COLLECTIONS:
        ans = [o for o in outcomes if o.audience == audience and o.answerable]
        neg = [o for o in outcomes if o.audience == audience and not o.answerable]
        summary[audience] = {
            "answerable": len(ans),
            "answer_accuracy": round(sum(o.correct for o in ans) / len(ans), 3),
            "top_quote_accuracy": round(sum(o.top_correct for o in ans) / len(ans), 3),
            "answered": round(sum(o.found for o in ans) / len(ans), 3),
            "section_recall@3": round(sum(bool(o.section_hit) for o in ans) / len(ans), 3),
            "unanswerable": len(neg),
            "unanswerable_admitted": round(sum(not o.found for o in neg) / len(neg), 3)
            if neg
            else None,
            "unanswerable_quoted": sum(o.found for o in neg),
        }
    return summary


def sweep(outcomes: Sequence[Outcome], audience: str, in_use: float) -> list[dict[str, float]]:
    """Answer accuracy against unanswerable admitted, for thresholds over ``score``."""
    ans = [o for o in outcomes if o.audience == audience and o.answerable]
    neg = [o for o in outcomes if o.audience == audience and not o.answerable]
    rows = []
    for t in sorted({*np.round(np.arange(0.0, 0.61, 0.05), 2).tolist(), in_use}):
        quoting = [bool(o.quotes) and o.score >= t for o in ans]
        rows.append(
            {
                "threshold": t,
                "answer_accuracy": round(
                    sum(q and o.holds_fact for q, o in zip(quoting, ans, strict=True)) / len(ans),
                    3,
                ),
                "answered": round(sum(quoting) / len(ans), 3),
                "unanswerable_admitted": round(
                    sum(not o.quotes or o.score < t for o in neg) / len(neg), 3
                ),
                "unanswerable_quoted": sum(bool(o.quotes) and o.score >= t for o in neg),
            }
        )
    return rows


def failures(outcomes: Sequence[Outcome]) -> list[dict[str, Any]]:
    """Every question a pipeline got wrong, with what it quoted."""
    return [
        {
            "audience": o.audience,
            "question": o.question,
            "expect": o.expect,
            "found": o.found,
            "score": round(o.score, 3),
            "section_hit@3": o.section_hit,
            "quotes": list(o.quotes),
        }
        for o in outcomes
        if not o.correct
    ]


def measure() -> dict[str, Any]:
    """Index the demo documents, ask every question through both pipelines, fit, time."""
    spec = yaml.safe_load(DEV_SET.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        index = Path(tmp) / "index"
        build_index(DOCS, index)
        kb = KnowledgeBase.open(index)
        check_dev_set(kb, spec)
        results = run_pipelines(kb, spec)
        latencies = []
        for _, _, question in _items(spec):
            started = time.perf_counter()
            kb.ask(question, collection="public", k=K)
            latencies.append(time.perf_counter() - started)
        threshold = kb.answer_threshold
    p50, p95 = np.percentile(np.array(latencies) * 1000, [50, 95])
    summary = [
        {"pipeline": name, "audience": audience, **numbers}
        for name, outcomes in results.items()
        for audience, numbers in summarise(outcomes).items()
    ]
    return {
        "dev_set": str(DEV_SET.relative_to(PROJECT_ROOT)),
        "k": K,
        "in_use": {
            "threshold": threshold,
            "min_score": DEFAULT_MIN_SCORE,
            "legacy_min_score": LEGACY_MIN_SCORE,
            "features": [f.name for f in fields(AnswerabilityFeatures)],
            "coefficients": list(COEFFICIENTS),
            "intercept": INTERCEPT,
        },
        "summary": summary,
        "ask_ms": {"p50": round(float(p50), 1), "p95": round(float(p95), 1)},
        "tradeoff": {
            audience: sweep(results["after"], audience, threshold) for audience in COLLECTIONS
        },
        "fit": fit_answerability(results["after"]),
        "failures": {name: failures(outcomes) for name, outcomes in results.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_out_argument(parser, "knowledge_answers", "--json")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(2)
    with Run(
        "knowledge_answers", out=args.out, packages=("sentence-transformers", "faiss-cpu")
    ) as run:
        run.results = measure()
        for row in run.results["summary"]:
            print(row)


if __name__ == "__main__":
    main()
