"""Reading counts, metrics, comparisons and test plans from the user's words."""

from __future__ import annotations

from datetime import date

import pytest

from actions.comparisons import comparison_sides, signed
from actions.parsing import SlotValueError
from actions.questions import (
    PowerQuestion,
    compared_platforms,
    entity_values,
    read_comparison_metric,
    read_post_count,
    read_post_metric,
    read_power_question,
    wants_previous,
    wants_worst,
)
from analytics.exceptions import AnalysisInputError

TODAY = date(2026, 11, 30)


@pytest.mark.parametrize(
    ("text", "count", "worst", "metric"),
    [
        ("what were our top instagram posts last month?", 3, False, "engagement_rate"),
        ("show me our 5 worst tweets from last week", 5, True, "engagement_rate"),
        ("best ten posts in q3", 10, False, "engagement_rate"),
        ("give me the 2 most liked reels", 2, False, "likes"),
        ("bottom five by comments", 5, True, "comments"),
        ("top posts of the last 30 days", 3, False, "engagement_rate"),
        ("my top 3 posts from the last 3 months", 3, False, "engagement_rate"),
        ("why is tw-000123 a top post", 3, False, "engagement_rate"),
        ("worst 50 posts", 20, True, "engagement_rate"),
        ("most shared posts this week", 3, False, "shares"),
        ("top vids by views", 3, False, "views"),
        ("which posts got at least 5 comments", 3, False, "comments"),
        ("what flopped on twitter yesterday", 3, True, "engagement_rate"),
        ("top 4 posts at 9am", 4, False, "engagement_rate"),
    ],
)
def test_post_requests(text: str, count: int, worst: bool, metric: str) -> None:
    assert (read_post_count(text), wants_worst(text), read_post_metric(text)) == (
        count,
        worst,
        metric,
    )


@pytest.mark.parametrize(
    ("text", "metric"),
    [
        ("instagram vs facebook sentiment this quarter", "sentiment"),
        ("how did engagement this month compare with last month?", "engagement"),
        ("is fb more negative than insta", "sentiment"),
        ("ig v fb likes", "engagement"),
        ("compare twitter and instagram", "sentiment"),
        ("where do our posts perform better, ig or fb", "engagement"),
    ],
)
def test_comparison_metric(text: str, metric: str) -> None:
    assert read_comparison_metric(text) == metric


def test_compared_platforms_from_entities_then_words() -> None:
    assert compared_platforms(["ig", "facebook"], "") == ["instagram", "facebook"]
    assert compared_platforms(["instagram"], "instagram vs x sentiment") == ["instagram", "twitter"]
    assert compared_platforms([], "how did engagement this month compare") == []
    with pytest.raises(SlotValueError, match="I don't know the platform 'myspace'"):
        compared_platforms(["myspace"], "")


def test_entity_values_are_in_message_order() -> None:
    entities = [
        {"entity": "period", "value": "last month", "start": 30},
        {"entity": "platform", "value": "instagram", "start": 0},
        {"entity": "period", "value": "this month", "start": 10},
    ]
    assert entity_values(entities, "period") == ["this month", "last month"]
    assert entity_values(None, "period") == []


def test_comparison_sides() -> None:
    sides = comparison_sides(
        ["instagram", "facebook"],
        ["this quarter"],
        text="",
        slot_period=None,
        slot_platform=None,
        today=TODAY,
    )
    assert [(s.platform, s.period.start) for s in sides] == [
        ("instagram", date(2026, 10, 1)),
        ("facebook", date(2026, 10, 1)),
    ]
    left, right = comparison_sides(
        [], ["this month", "last month"], text="", slot_period=None, slot_platform="ig", today=TODAY
    )
    assert (left.platform, left.period.start, right.period.start) == (
        "instagram",
        date(2026, 11, 1),
        date(2026, 10, 1),
    )
    left, right = comparison_sides(
        [],
        ["last week"],
        text="vs the week before",
        slot_period=None,
        slot_platform=None,
        today=TODAY,
    )
    assert right.period == left.period.previous() and wants_previous("vs the week before")
    # The extractor clipped "this quarter" to "this": the message's own periods are used.
    left, right = comparison_sides(
        [],
        ["last quarter", "this"],
        text="last quarter vs this quarter — brand sentiment, all platforms",
        slot_period=None,
        slot_platform=None,
        today=TODAY,
    )
    assert (left.period.start, right.period.start) == (date(2026, 7, 1), date(2026, 10, 1))
    with pytest.raises(AnalysisInputError, match="can't read 'whenever' as a period"):
        comparison_sides(
            [], ["whenever"], text="", slot_period=None, slot_platform=None, today=TODAY
        )


def test_signed_never_says_minus_zero() -> None:
    assert (signed(-0.001, 2), signed(1.256, 2), signed(-3.4, 0)) == ("0.00", "+1.26", "-3")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("how long must the test run to see a 10% lift?", PowerQuestion(effect=0.1)),
        (
            "how many people per variant to detect 2 points on a 4% conversion?",
            PowerQuestion(effect=0.02, relative=False, baseline=0.04),
        ),
        (
            "sample size for +1pp on 3% CTR at 90% power",
            PowerQuestion(effect=0.01, relative=False, baseline=0.03, metric="clicked", power=0.9),
        ),
        (
            "how many users to see conversion go from 3% to 3.5%",
            PowerQuestion(effect=0.005, relative=False, baseline=0.03),
        ),
        (
            "what lift can we detect in 2 weeks with 2,000 visitors a day",
            PowerQuestion(daily_units=2000.0, days=14),
        ),
        (
            "how big a sample for a 5% uplift, alpha 0.01, 3k daily users",
            PowerQuestion(effect=0.05, alpha=0.01, daily_units=3000.0),
        ),
        (
            "we get 1500 visitors per day, how long to detect 8% at 99% confidence",
            PowerQuestion(effect=0.08, alpha=0.01, daily_units=1500.0),
        ),
        ("power calc: baseline 2.5%, mde 20%", PowerQuestion(effect=0.2, baseline=0.025)),
        ("sample size for 10% at 3%", PowerQuestion(effect=0.1, baseline=0.03)),
        (
            "7000 visitors a week, 5 point lift",
            PowerQuestion(effect=0.05, relative=False, daily_units=1000.0),
        ),
        ("what sample size do we need?", PowerQuestion()),
        (
            "power calc pls: 80% power, detect half a point on 3% baseline",
            PowerQuestion(effect=0.005, relative=False, baseline=0.03, power=0.8),
        ),
    ],
)
def test_power_questions(text: str, expected: PowerQuestion) -> None:
    assert read_power_question(text) == expected


def test_a_power_follow_up_keeps_what_it_does_not_say_from_the_plan_before() -> None:
    before = {
        "effect": 0.1,
        "relative": True,
        "baseline": 0.03,
        "metric": "clicked",
        "power": 0.8,
        "alpha": 0.05,
        "daily_units": 2000.0,
        "days": None,
    }
    assert read_power_question("and with 90% power?", before) == PowerQuestion(
        effect=0.1, baseline=0.03, metric="clicked", power=0.9, daily_units=2000.0
    )
    # A new effect brings its own kind; the traffic and baseline stay.
    assert read_power_question("and if we only care about 2 points", before) == PowerQuestion(
        effect=0.02, relative=False, baseline=0.03, metric="clicked", daily_units=2000.0
    )
    assert read_power_question("conversions instead", before).metric == "converted"
