"""Answer selection: the sentence that holds the fact asked for, whole short sections, and
"not found" for what the documents don't say.

End-to-end tests run on ``fixtures/answers`` (a bike shop's campaign brief and frame-sizing
page) merged with the shared fixture corpus; the rest are pure functions.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from knowledge import KnowledgeBase, Passage, build_index
from knowledge._answer import RankedSentence, select_quotes, sentence_units
from knowledge._answerability import AnswerabilityFeatures, answerability
from knowledge._cues import holds_answer_type, question_type
from knowledge._terms import (
    Vocabulary,
    content_terms,
    matches,
    numbers,
    stem,
    without_generic_lead_in,
)
from tests.knowledge.conftest import FIXTURES, make_corpus


@pytest.fixture(scope="module")
def answers_kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    """The fixture corpus plus ``fixtures/answers``, indexed once for this module."""
    root = tmp_path_factory.mktemp("answers")
    docs = make_corpus(root / "docs", with_injection=False)
    shutil.copytree(FIXTURES / "answers", docs, dirs_exist_ok=True)
    build_index(docs, root / "index")
    return KnowledgeBase.open(root / "index")


def _first_quote(kb: KnowledgeBase, question: str, collection: str | None = None) -> str:
    answer = kb.ask(question, collection=collection, k=3)
    assert answer.found, f"{question!r} was not answered (confidence {answer.confidence})"
    assert answer.mode == "extractive" and answer.quotes
    for quote in answer.quotes:  # every quote keeps its file and section
        assert quote.source and quote.section and quote.section_path
        assert any(quote.text in p.text and p.source == quote.source for p in answer.passages)
    return answer.quotes[0].text


def test_a_money_question_quotes_the_budget_sentence(answers_kb: KnowledgeBase) -> None:
    quote = _first_quote(answers_kb, "how much money does the autumn ride campaign have?")
    assert "The budget is 12,000 euros" in quote
    assert "Campaign id" not in quote


def test_a_date_question_quotes_the_flight_dates(answers_kb: KnowledgeBase) -> None:
    quote = _first_quote(answers_kb, "when does the autumn ride campaign run?")
    assert "2 September to 13 October 2024" in quote


def test_a_size_question_quotes_the_sizes(answers_kb: KnowledgeBase) -> None:
    quote = _first_quote(answers_kb, "what frame size do I need if I'm 180 cm tall?", "public")
    assert "54 cm frame" in quote


def test_a_lead_in_pointing_at_the_docs_does_not_dilute_the_question(
    answers_kb: KnowledgeBase,
) -> None:
    asked = "anything in the knowledge base about opening hours"
    assert "open Tuesday to Saturday" in _first_quote(answers_kb, asked)
    answer = answers_kb.ask(asked)
    assert answer.question == asked  # the answer keeps the user's words
    # Judged as the bare question would be.
    assert answer.confidence == answers_kb.ask("opening hours").confidence


@pytest.mark.parametrize(
    ("question", "focused"),
    [
        ("do our docs say anything about title case for headlines", "title case for headlines"),
        ("is there anything in the wiki on hashtags per post", "hashtags per post"),
        ("refund window according to the docs?", "refund window"),
        ("what do the help pages say about returns abroad", "returns abroad"),
        # A document's own name helps find it; a bare reference is left alone.
        ("per the playbook, how many hashtags", "per the playbook, how many hashtags"),
        ("the docs", "the docs"),
    ],
)
def test_generic_lead_ins_are_dropped(question: str, focused: str) -> None:
    assert without_generic_lead_in(question) == focused


def test_a_short_section_is_quoted_whole(answers_kb: KnowledgeBase) -> None:
    answer = answers_kb.ask("what are your opening hours?", collection="public", k=3)
    assert answer.found
    assert answer.quotes[0].text == (
        "The workshop is open Tuesday to Saturday from 9:00 to 18:00. "
        "We are closed on Sundays, Mondays and public holidays."
    )
    assert (answer.quotes[0].source, answer.quotes[0].section) == ("public/faq.md", "Opening hours")


@pytest.mark.parametrize(
    "question",
    [
        "who is the CEO of Cogwheel Cycles?",
        "do you sell second-hand scooters?",
        "what is the boiling point of liquid nitrogen?",
    ],
)
def test_an_unanswerable_question_is_admitted(answers_kb: KnowledgeBase, question: str) -> None:
    answer = answers_kb.ask(question, collection="public", k=3)
    assert not answer.found and answer.mode == "not_found"
    assert answer.quotes == () and answer.passages == ()
    assert answer.confidence < answers_kb.answer_threshold
    assert "couldn't find" in answer.answer


def test_the_threshold_decides_and_is_reported(index_dir: Path) -> None:
    question = "How many days do I have to return unused accessories?"
    eager = KnowledgeBase.open(index_dir, answer_threshold=0.0).ask(question)
    assert eager.found and 0.0 < eager.confidence <= 1.0
    assert eager.to_dict()["confidence"] == eager.confidence
    strict = KnowledgeBase.open(index_dir, answer_threshold=1.01).ask(question)
    assert not strict.found and strict.confidence == eager.confidence


# --- pure pieces ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("how much money does the holiday campaign have?", "money"),
        ("whats the budget for summer sprint", "money"),
        ("what share of the budget goes to paid social", "percent"),
        ("how much of the budget is for posters?", "percent"),
        ("when does the campaign run?", "date"),
        ("until when can holiday orders be returned?", "date"),
        ("how long do I have to send shoes back", "duration"),
        ("how fast do we need to answer DMs", "duration"),
        ("my feet measure 26 cm, what size?", "size"),
        ("how much does the Swift 3 weigh", "size"),
        ("how much room should there be in front of my toes", "size"),
        ("how many hashtags on instagram?", "count"),
        ("which emoji are approved?", None),
    ],
)
def test_question_types(question: str, expected: str | None) -> None:
    assert question_type(question) == expected


@pytest.mark.parametrize(
    ("sentence", "answer_type", "holds"),
    [
        ("The budget is 150,000 euros: 35% paid social.", "money", True),
        ("Campaign id: `holiday-gifts`.", "money", False),
        ("Flight dates: 14 November to 24 December 2025.", "date", True),
        ("Returns are accepted within 30 days of delivery.", "duration", True),
        ("Riders between 170 and 185 cm tall ride a 54 cm frame.", "size", True),
        ("Use two to four hashtags per post.", "count", True),
        ("Use sentence case for headlines.", "count", False),
        ("Anything at all.", None, False),
    ],
)
def test_sentences_holding_an_answer_type(
    sentence: str, answer_type: str | None, holds: bool
) -> None:
    assert holds_answer_type(sentence, answer_type) is holds  # type: ignore[arg-type]


def _passage(text: str, section: str = "S", doc_type: str = "markdown") -> Passage:
    return Passage("doc.md", section, f"Doc > {section}", text, 0.6, "public", doc_type, 1)


def _ranked(passage: Passage, *scores: float) -> list[RankedSentence]:
    return [
        RankedSentence(text, passage, 0.5, 0.0, False, score)
        for text, score in zip(sentence_units(passage), scores, strict=True)
    ]


def test_select_quotes_quotes_a_short_section_whole_when_no_sentence_stands_out() -> None:
    passage = _passage("The shop opens at nine every day. It closes at six every evening.")
    quotes = select_quotes(_ranked(passage, 0.80, 0.78))
    assert [q.text for q in quotes] == [passage.text]
    assert (quotes[0].source, quotes[0].section, quotes[0].section_path) == (
        "doc.md",
        "S",
        "Doc > S",
    )


def test_select_quotes_quotes_a_sentence_that_stands_out_alone() -> None:
    passage = _passage("The shop opens at nine every day. It closes at six every evening.")
    quotes = select_quotes(_ranked(passage, 0.95, 0.60))
    assert [q.text for q in quotes] == ["The shop opens at nine every day."]


def test_select_quotes_adds_the_best_passages_close_runner_up_not_another_passages() -> None:
    # An answer over two sentences of one section: the rule, then what to do about it.
    care = _passage(
        "Ridge GTX shoes have a waterproof membrane. Clean them like other shoes and re-apply "
        "a water-repellent spray every few months. " + "Keep them out of hot cars. " * 10,
        "Waterproof shoes",
    )
    other = _passage("Store your gear in a cool, dry place.", "Storage")
    ranked = sorted(
        [*_ranked(care, 0.70, 0.50, *[0.2] * 10), *_ranked(other, 0.50)],
        key=lambda item: -item.score,
    )
    quotes = select_quotes(ranked)
    assert [q.text for q in quotes] == sentence_units(care)[:2]


def test_select_quotes_keeps_long_sections_to_their_sentences() -> None:
    long_text = " ".join(f"Sentence number {i} says something about the shop." for i in range(12))
    passage = _passage(long_text)
    ranked = _ranked(passage, *[0.9 - 0.01 * i for i in range(12)])
    quotes = select_quotes(ranked, max_quotes=2)
    assert [q.text for q in quotes] == [ranked[0].text, ranked[1].text]


_HYPOTHESES = (
    "1. Questions beat statements in subject lines.\n"
    "2. Numbers beat adjectives in subject lines.\n"
    "3. Subject lines under 40 characters beat longer ones on mobile."
)


@pytest.mark.parametrize(
    "question", ["which hypotheses do we test?", "what are the hypotheses", "list them"]
)
def test_select_quotes_quotes_a_short_list_whole_when_asked_for_the_list(question: str) -> None:
    passage = _passage(_HYPOTHESES, "Hypotheses")
    quotes = select_quotes(_ranked(passage, 0.95, 0.60, 0.55), question=question)
    assert [q.text for q in quotes] == [passage.text]


@pytest.mark.parametrize(
    ("question", "text"),
    [
        # one thing asked for: the item that answers
        ("which is best on mobile?", _HYPOTHESES),
        # a list asked for, but the section is prose
        (
            "which rules apply?",
            "Questions beat statements. Numbers beat adjectives. Short lines win on mobile.",
        ),
    ],
)
def test_select_quotes_keeps_to_the_sentence_otherwise(question: str, text: str) -> None:
    passage = _passage(text, "Hypotheses")
    quotes = select_quotes(_ranked(passage, 0.95, 0.60, 0.55), question=question)
    assert [q.text for q in quotes] == [sentence_units(passage)[0]]


def test_a_csv_row_is_one_quotable_unit() -> None:
    row = _passage("eu_size: 42\nuk_size: 8\nfoot_length_cm: 26.7", "eu_size: 42", "csv")
    assert sentence_units(row) == [row.text]


def test_answerability_rises_with_the_best_sentence_and_falls_when_words_are_ungrounded() -> None:
    weak = answerability(AnswerabilityFeatures(0.6, 0.3, 0.5))
    strong = answerability(AnswerabilityFeatures(1.2, 0.6, 0.1))
    ungrounded = answerability(AnswerabilityFeatures(1.2, 0.6, 0.9))
    assert 0.0 < weak < ungrounded < strong < 1.0


def test_terms_stem_forgive_typos_and_skip_filler() -> None:
    assert stem("refunded") == "refund" and stem("dry") == "dry"
    assert content_terms("hey, please tell me how do i unsubscrbe?") == {"unsubscrbe"}
    assert matches("unsubscrbe", {"unsubscribe"}) and not matches("cat", {"car"})
    assert numbers("my foot is 26.7 cm, EU 42 or 26,7?") == {"26.7", "42"}
    vocabulary = Vocabulary(["shoes and socks", "shoes"])
    assert vocabulary.idf("windproof") > vocabulary.idf("sock") > vocabulary.idf("shoe")
