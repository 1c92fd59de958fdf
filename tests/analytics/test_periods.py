"""Period phrases → date ranges."""

from __future__ import annotations

from datetime import date

import pytest

from analytics.exceptions import AnalysisInputError
from analytics.periods import find_period, find_periods, format_range, parse_period

TODAY = date(2026, 11, 30)  # a Monday


@pytest.mark.parametrize(
    ("phrase", "start", "end"),
    [
        ("today", date(2026, 11, 30), date(2026, 11, 30)),
        ("yesterday", date(2026, 11, 29), date(2026, 11, 29)),
        ("this week", date(2026, 11, 30), date(2026, 11, 30)),
        ("last week", date(2026, 11, 23), date(2026, 11, 29)),
        ("this month", date(2026, 11, 1), date(2026, 11, 30)),
        ("last month", date(2026, 10, 1), date(2026, 10, 31)),
        ("last 7 days", date(2026, 11, 24), date(2026, 11, 30)),
        ("past two weeks", date(2026, 11, 17), date(2026, 11, 30)),
        ("the past fortnight", date(2026, 11, 17), date(2026, 11, 30)),
        ("in October", date(2026, 10, 1), date(2026, 10, 31)),
        ("december", date(2025, 12, 1), date(2025, 12, 31)),
        ("q3", date(2026, 7, 1), date(2026, 9, 30)),
        ("this quarter", date(2026, 10, 1), date(2026, 11, 30)),
        ("since wednesday", date(2026, 11, 25), date(2026, 11, 30)),
        ("2026-W47", date(2026, 11, 16), date(2026, 11, 22)),
        ("2026-10-01 to 2026-10-15", date(2026, 10, 1), date(2026, 10, 15)),
        (None, date(2026, 11, 1), date(2026, 11, 30)),
        ("lately", date(2026, 11, 1), date(2026, 11, 30)),
        # Chat spelling: vague counts, "-ish", a common misspelling, "since the start of".
        ("last couple of months", date(2026, 10, 2), date(2026, 11, 30)),
        ("past few weeks", date(2026, 11, 10), date(2026, 11, 30)),
        ("october-ish", date(2026, 10, 1), date(2026, 10, 31)),
        ("past fortnite", date(2026, 11, 17), date(2026, 11, 30)),
        ("since the start of this quarter", date(2026, 10, 1), date(2026, 11, 30)),
    ],
)
def test_phrases(phrase: str | None, start: date, end: date) -> None:
    period = parse_period(phrase, TODAY)
    assert (period.start, period.end) == (start, end)


def test_previous_period_has_the_same_length_and_ends_before() -> None:
    period = parse_period("this month", TODAY)
    previous = period.previous()
    assert previous.days == period.days == 30
    assert previous.end == date(2026, 10, 31)
    assert parse_period("yesterday", TODAY).previous().label == "the previous day"


def test_describe_names_the_dates() -> None:
    assert parse_period("last week", TODAY).describe() == "last week (23–29 Nov 2026)"
    assert format_range(date(2025, 12, 30), date(2026, 1, 2)) == "30 Dec 2025 – 2 Jan 2026"


@pytest.mark.parametrize(
    ("phrase", "message"),
    [
        ("whenever", "can't read 'whenever' as a period"),
        ("2026-W60", "is not an ISO week"),
        ("2026-10-05 to 2026-10-01", "ends before it starts"),
        ("2026-02-30", "has a date that does not exist"),
        ("last 0 days", "at least one day"),
    ],
)
def test_bad_phrases_say_what_works(phrase: str, message: str) -> None:
    with pytest.raises(AnalysisInputError, match=message):
        parse_period(phrase, TODAY)


@pytest.mark.parametrize(
    ("message", "start", "end"),
    [
        ("what's the vibe on instagram these past two weeks?", date(2026, 11, 17), TODAY),
        ("how are people feeling about us over the past fortnight?", date(2026, 11, 17), TODAY),
        ("how did we do last month on facebook", date(2026, 10, 1), date(2026, 10, 31)),
        ("anything odd since friday?", date(2026, 11, 27), TODAY),
        ("numbers for 2026-10-01 to 2026-10-07 please", date(2026, 10, 1), date(2026, 10, 7)),
        ("r ppl still mad? last couple months", date(2026, 10, 2), TODAY),
        ("feeling towards us since the start of this quarter?", date(2026, 10, 1), TODAY),
        # a month by its name, not the "10" of "in 10 min"
        ("brand health in october pls, meeting in 10 min", date(2026, 10, 1), date(2026, 10, 31)),
        ("what happened in march on tiktok", date(2026, 3, 1), date(2026, 3, 31)),
    ],
)
def test_a_period_is_found_inside_a_whole_message(message: str, start: date, end: date) -> None:
    found = find_period(message, TODAY)
    assert found is not None
    phrase, period = found
    assert (period.start, period.end) == (start, end)
    assert phrase in message and parse_period(phrase, TODAY) == period


@pytest.mark.parametrize(
    "message",
    ["may I see sentiment on twitter", "we march on, how are we doing?", "how are we doing?", ""],
)
def test_a_message_without_a_period_finds_none(message: str) -> None:
    assert find_period(message, TODAY) is None


def test_every_period_of_a_message_is_found_in_order() -> None:
    found = find_periods("last quarter vs this quarter — brand sentiment", TODAY)
    assert [phrase for phrase, _ in found] == ["last quarter", "this quarter"]
    assert [p.start for _, p in found] == [date(2026, 7, 1), date(2026, 10, 1)]
    assert find_periods("how are we doing?", TODAY) == []
