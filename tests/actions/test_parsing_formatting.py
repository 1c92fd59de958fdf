"""Pure helpers of the actions: slot parsing, feedback verdicts, reply formatting, help."""

from __future__ import annotations

from datetime import date

import pytest

from actions.audience import CUSTOMER, STAFF
from actions.capabilities import CAPABILITIES, help_text
from actions.formatting import format_sentiment_summary
from actions.parsing import (
    SlotValueError,
    corrected_label,
    feedback_verdict,
    mentioned_post_ids,
    parse_platform,
)
from analytics.listening import SentimentSummary, share_change
from analytics.periods import parse_period


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("IG", "instagram"),
        ("insta", "instagram"),
        ("X", "twitter"),
        ("tweets", "twitter"),
        ("retweets", "twitter"),
        ("Facebook", "facebook"),
        # Typos and clipped entities: one letter off, or a platform among other words.
        ("twiter", "twitter"),
        ("instagarm", "instagram"),
        ("twiter past", "twitter"),
        ("on insta", "instagram"),
        ("all platforms", None),
        (None, None),
        ("", None),
    ],
)
def test_platform_aliases(value: str | None, expected: str | None) -> None:
    assert parse_platform(value) == expected


def test_unknown_platform_lists_known_ones() -> None:
    with pytest.raises(
        SlotValueError, match=r"I don.t know the platform .bebo.\. I have data for: twitter"
    ):
        parse_platform("bebo")
    with pytest.raises(SlotValueError):  # two platforms named: no guess
        parse_platform("twiter and facebok")


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("that's wrong, it should be negative", "correction"),
        ("wrong", "down"),
        ("great answer, thanks", "up"),
        ("not right", "down"),
        ("meh", "down"),
        ("no, that post was about shipping delays", "correction"),
    ],
)
def test_feedback_verdicts(text: str, verdict: str) -> None:
    assert feedback_verdict(text) == verdict


def _summary(
    counts: dict[str, int], previous: dict[str, int], platform: str | None = "instagram"
) -> SentimentSummary:
    period = parse_period("last week", date(2026, 11, 30))
    changes = (
        [share_change(label, counts, previous) for label in counts]
        if sum(previous.values())
        else []
    )
    return SentimentSummary(
        period, period.previous(), platform, None, "vader-x", counts, previous, changes, {}
    )


def test_format_names_period_shares_and_real_changes() -> None:
    text = format_sentiment_summary(
        _summary(
            {"negative": 100, "neutral": 100, "positive": 300},
            {"negative": 200, "neutral": 100, "positive": 200},
        ),
        "Trailbird",
    )
    assert text.startswith(
        "Sentiment about Trailbird on Instagram, last week (23–29 Nov 2026): 60% positive, 20% neutral, 20% negative across 500 posts."
    )
    assert "negative down 20.0 points (95% CI" in text and "positive up 20.0 points" in text
    assert "neutral" not in text.split("\n")[1]  # unchanged share is not called a change
    assert text.endswith("scored by vader-x.")


def test_format_says_when_nothing_changed_and_when_nothing_found() -> None:
    same = format_sentiment_summary(
        _summary(
            {"negative": 10, "neutral": 10, "positive": 10},
            {"negative": 11, "neutral": 9, "positive": 10},
        ),
        "B",
    )
    assert "no change is bigger than noise" in same
    empty = format_sentiment_summary(
        _summary(dict.fromkeys(("negative", "neutral", "positive"), 0), {}), "B"
    )
    assert empty.startswith("I found no posts about B on Instagram in last week")


def test_help_lists_only_what_the_audience_may_use() -> None:
    staff, customer = help_text(STAFF), help_text(CUSTOMER)
    for capability in CAPABILITIES:
        if STAFF in capability.audiences:
            assert capability.example in staff
        if CUSTOMER not in capability.audiences:
            assert capability.description not in customer


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("fb-m000324 is negative, not positive", "negative"),
        ("that one should be neutral not negative", "neutral"),
        ("it isn't positive, it's negative", "negative"),
        ("tw-1 should be positive instead of neutral", "positive"),
        ("negative or positive, I can't tell", None),
        ("that's wrong", None),
    ],
)
def test_corrected_label_ignores_the_negated_label(text: str, label: str | None) -> None:
    assert corrected_label(text) == label


def test_post_ids_are_found_in_corrections() -> None:
    assert mentioned_post_ids("Wrong: FB-M000324 and tw-123 are negative") == [
        "fb-m000324",
        "tw-123",
    ]
    assert mentioned_post_ids("that's wrong, it should be negative") == []
