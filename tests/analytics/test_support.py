"""Frustration and urgency in customer messages, and the hand-off summary."""

from __future__ import annotations

import pytest

from analytics.support import Turn, assess_frustration, handoff_summary, repeats_earlier


@pytest.mark.parametrize(
    ("message", "earlier", "negative", "offer"),
    [
        ("what is your refund policy?", [], 0.05, False),
        ("how long does shipping to Germany take?", [], 0.02, False),
        ("I want to talk to a person", [], 0.10, True),
        ("agent", [], 0.30, True),
        ("my order is late", [], 0.70, False),  # a negative tone alone is not enough
        ("I want my refund NOW, this is urgent", [], 0.40, True),  # money + urgency
        ("where is my refund?", ["where is my refund??"], 0.20, True),  # money + repeat
        ("WHY HAS NOBODY ANSWERED MY EMAILS", [], 0.80, True),  # shouting + tone + waiting
    ],
)
def test_hand_off_is_offered_on_enough_evidence(
    message: str, earlier: list[str], negative: float, offer: bool
) -> None:
    result = assess_frustration(message, earlier, negative)
    assert result.offer_handoff is offer, result.evidence


def test_evidence_names_each_reason() -> None:
    result = assess_frustration("Refund me NOW!!", ["refund me now"], 0.9)
    assert result.evidence == (
        "negative tone (90%)",
        "mentions money back",
        "sounds urgent or long-waiting",
        "shouting",
        "asks the same thing again",
    )
    assert not result.asks_for_person


def test_repeats_need_real_overlap() -> None:
    assert repeats_earlier("where is my order 1234?", ["Where is my order 1234"])
    assert not repeats_earlier("where is my order?", ["do you ship to Canada?"])
    assert not repeats_earlier("hi", ["hi"])  # one word is not a repeated question


def test_negative_must_be_a_probability() -> None:
    with pytest.raises(ValueError, match=r"negative must be a probability in \[0, 1\]"):
        assess_frustration("hello", [], 1.5)


def test_summary_quotes_the_first_question_and_the_mood() -> None:
    turns = [
        Turn("customer", "my order is two weeks late"),
        Turn("bot", "Orders ship within 2 working days."),
        Turn("customer", "I want to talk to a person"),
    ]
    summary = handoff_summary(turns, [0.8, 0.3])
    assert summary.splitlines()[0] == "First question: “my order is two weeks late”"
    assert "2 customer messages; mood negative" in summary
    assert "• bot: Orders ship within 2 working days." in summary
    assert handoff_summary([], []).startswith("The customer asked for a person")
