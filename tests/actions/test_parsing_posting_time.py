"""``parse_posting_time``: when a draft will go out, from what a marketer types (UTC)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from actions.parsing import (
    POSTING_HORIZON,
    PostingTime,
    SlotValueError,
    next_full_hour,
    parse_posting_time,
    posting_time_label,
    read_posting_time,
    wants_any_time,
)

# Monday 30 Nov 2026, 14:20 UTC: the frozen "now" of every test here.
NOW = datetime(2026, 11, 30, 14, 20)


def at(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, minute)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Right away.
        ("now", NOW),
        ("right away", NOW),
        ("post it ASAP", NOW),
        # Relative to now.
        ("in 2 hours", NOW + timedelta(hours=2)),
        ("in 30 min", NOW + timedelta(minutes=30)),
        ("in half an hour", NOW + timedelta(minutes=30)),
        ("in an hour", NOW + timedelta(hours=1)),
        ("in 3 days", NOW + timedelta(days=3)),
        ("in 2 days at 9am", at(2, 9)),
        # Today and tomorrow.
        ("today 5pm", at(30, 17, month=11)),
        ("today at 17:00", at(30, 17, month=11)),
        ("tonight at 9", at(30, 21, month=11)),
        ("tomorrow at 9", at(1, 9)),
        ("Tomorrow 9am", at(1, 9)),
        ("noon tomorrow", at(1, 12)),
        ("14h30 tomorrow", at(1, 14, 30)),
        ("the day after tomorrow at 8", at(2, 8)),
        ("tomorrow at 9 o'clock", at(1, 9)),
        # Weekdays: the coming one; today only while the time is ahead; never today after "next".
        ("friday 18:00", at(4, 18)),
        ("Fri 6pm", at(4, 18)),
        ("on wed at 10:15", at(2, 10, 15)),
        ("friday evening at 7", at(4, 19)),
        ("monday 3pm", at(30, 15, month=11)),
        ("monday 9am", at(7, 9)),
        ("next monday 9am", at(7, 9)),
        ("next monday 3pm", at(7, 15)),
        ("next friday 9am", at(4, 9)),
        # Calendar dates (the next such date), ISO, and unambiguous day/month pairs.
        ("Dec 3 14:30", at(3, 14, 30)),
        ("3 Dec 2pm", at(3, 14)),
        ("3rd of December at 14:30", at(3, 14, 30)),
        ("december 3, 2026 9am", at(3, 9)),
        ("2026-12-03 14:00", at(3, 14)),
        ("2026-12-03T14:00:00Z", at(3, 14)),
        ("25/12 9am", at(25, 9)),
        ("12/25 at 10:00", at(25, 10)),
        ("friday 5pm UTC", at(4, 17)),
        # A time alone: today, or tomorrow when it has passed.
        ("at 17:30", at(30, 17, 30, month=11)),
        ("17:30", at(30, 17, 30, month=11)),
        ("at 12:30", at(1, 12, 30)),
        ("7am", at(1, 7)),
        # In the opening message.
        ("how will this do if I post it friday at 9am", at(4, 9)),
        ("will this do well on instagram at 3pm tomorrow", at(1, 15)),
    ],
)
def test_exact_times(text: str, expected: datetime) -> None:
    assert parse_posting_time(text, NOW) == expected
    found = read_posting_time(text, NOW)
    assert found is not None and found.assumed is None


@pytest.mark.parametrize(
    ("text", "expected", "assumed"),
    [
        ("tonight", at(30, 20, month=11), "tonight = 20:00"),
        ("this evening", at(30, 18, month=11), "evening = 18:00"),
        ("tomorrow morning", at(1, 9), "morning = 09:00"),
        ("tomorrow lunchtime", at(1, 12), "lunchtime = 12:00"),
        ("thursday afternoon", at(3, 15), "afternoon = 15:00"),
        ("wed morning", at(2, 9), "morning = 09:00"),
        ("morning", at(1, 9), "morning = 09:00"),  # today's has passed
        ("tomorrow", at(1, 9), "no time given: 09:00"),
        ("on friday", at(4, 9), "no time given: 09:00"),
        ("today", at(30, 15, month=11), "no time given: the next full hour"),
        ("tomorrow at 5", at(1, 17), "5 read as 17:00; say 5am for the morning"),
    ],
)
def test_fuzzy_times_say_what_they_assumed(text: str, expected: datetime, assumed: str) -> None:
    assert read_posting_time(text, NOW) == PostingTime(expected, assumed)


@pytest.mark.parametrize(
    "text",
    [
        "how will my draft post do?",
        "predict engagement for my draft",
        "will this do well on insta",
        "sun hats are back in stock",  # "sun" is not Sunday without a time or "on"
        "5 tips to break in your new running shoes",
        "instagram",
        "you pick",
        "",
    ],
)
def test_no_time_is_none(text: str) -> None:
    assert parse_posting_time(text, NOW) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "yesterday 9am",
            r"^Sun 29 Nov 09:00 UTC is already past \(it is Mon 30 Nov 14:20 UTC now\)",
        ),
        ("this morning", r"^Mon 30 Nov 09:00 UTC is already past"),
        ("today at 8", r"^Mon 30 Nov 08:00 UTC is already past"),
        ("last friday at 9", r"^Fri 27 Nov 09:00 UTC is already past"),
        ("2 hours ago", r"^Mon 30 Nov 12:20 UTC is already past"),
        ("2026-11-02 10:00", r"^Mon 2 Nov 10:00 UTC is already past"),
        ("jan 20", r"^Wed 20 Jan 2027 09:00 UTC is more than 30 days ahead"),
        ("in 5 weeks", r"more than 30 days ahead; the model predicts from the account's recent"),
        ("3/12 9am", r"^'3/12' could be 3 Dec or 12 Mar; write it like 'Dec 3' or '2026-12-03'\.$"),
        ("feb 30 10am", r"^There is no day 30 in February\.$"),
        ("2026-02-30 10:00", r"^'2026-02-30' is not a date"),
        ("25:00", r"^'25:00' is not a time of day; write it like 9am or 17:30\.$"),
        ("tomorrow 13am", r"^'13am' is not a time of day"),
        ("9am EST", r"^I plan in UTC only and can't convert 'EST'; give the time in UTC"),
        ("2026-12-03 14:00+02:00", r"can't convert '\+02:00'"),
    ],
)
def test_unusable_times_are_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(SlotValueError, match=message):
        parse_posting_time(text, NOW)


def test_the_horizon_is_thirty_days() -> None:
    assert timedelta(days=30) == POSTING_HORIZON
    assert parse_posting_time("in 30 days", NOW) == NOW + timedelta(days=30)
    with pytest.raises(SlotValueError, match="more than 30 days ahead"):
        parse_posting_time("in 31 days", NOW)


def test_a_moment_ago_still_counts_and_aware_now_is_converted() -> None:
    # "today at 14:17", typed at 14:20, is fine (it was meant as now); 14:10 is not.
    assert parse_posting_time("today at 14:17", NOW) == at(30, 14, 17, month=11)
    with pytest.raises(SlotValueError, match="already past"):
        parse_posting_time("today at 14:10", NOW)
    assert parse_posting_time("in 2 hours", NOW.replace(tzinfo=UTC, second=42)) == at(
        30, 16, 20, month=11
    )


def test_a_weekday_that_is_today_moves_a_week_on_once_its_time_has_passed() -> None:
    friday = datetime(2026, 12, 4, 10, 0)
    assert parse_posting_time("friday 18:00", friday) == at(4, 18)
    assert parse_posting_time("friday 9am", friday) == at(11, 9)
    assert parse_posting_time("next friday 18:00", friday) == at(11, 18)


def test_a_year_less_date_long_gone_means_next_year() -> None:
    late_december = datetime(2026, 12, 20, 12, 0)
    assert parse_posting_time("jan 3 9am", late_december) == datetime(2027, 1, 3, 9, 0)
    assert (
        posting_time_label(datetime(2027, 1, 3, 9, 0), late_december) == "Sun 3 Jan 2027 09:00 UTC"
    )


def test_labels_any_time_and_next_full_hour() -> None:
    assert posting_time_label(at(4, 9)) == "Fri 4 Dec 09:00 UTC"
    assert next_full_hour(NOW) == at(30, 15, month=11)
    assert next_full_hour(at(30, 15, month=11)) == at(30, 16, month=11)
    for text in ["not sure", "you pick", "Whenever", "no idea", "up to you", "I don’t know"]:
        assert wants_any_time(text), text
    for text in ["tomorrow at 9", "now", "surely friday"]:
        assert not wants_any_time(text), text
