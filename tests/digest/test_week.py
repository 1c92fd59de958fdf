"""ISO weeks for --week: parsing, the default, and the week before."""

from __future__ import annotations

from datetime import date

import pytest

from beacon.digest import IsoWeek, last_complete_week, parse_week
from foundation.exceptions import InputError

TODAY = date(2026, 11, 30)  # a Monday


def test_week_dates_and_the_week_before() -> None:
    week = parse_week("2026-W48", TODAY)
    assert (week.start, week.end) == (date(2026, 11, 23), date(2026, 11, 29))
    assert week.previous() == IsoWeek(2026, 47)
    assert week.describe() == "2026-W48 (23–29 Nov 2026)"
    assert parse_week("2026-w01", TODAY).previous() == IsoWeek(2025, 52)
    assert IsoWeek(2027, 1).previous() == IsoWeek(2026, 53)  # 2026 has 53 ISO weeks


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 11, 30), IsoWeek(2026, 48)),  # Monday: the week that just ended
        (date(2026, 12, 6), IsoWeek(2026, 48)),  # Sunday: this week is not over yet
        (date(2027, 1, 4), IsoWeek(2026, 53)),  # across the year boundary
    ],
)
def test_default_is_the_last_complete_week(today: date, expected: IsoWeek) -> None:
    assert last_complete_week(today) == expected
    assert parse_week(None, today) == expected
    assert parse_week("  ", today) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("last week", r"--week must be an ISO week like 2026-W48 \(got 'last week'\)"),
        ("2026-48", r"--week must be an ISO week like 2026-W48"),
        ("2026-W4", r"--week must be an ISO week like 2026-W48"),
        ("2025-W53", r"--week '2025-W53' does not exist: 2025 has weeks W01 to W52"),
        ("2026-W00", r"--week '2026-W00' does not exist"),
        (
            "2026-W49",
            r"week 2026-W49 is not over yet \(it ends on Sun 06 Dec 2026\); "
            r"the last complete week is 2026-W48",
        ),
    ],
)
def test_bad_weeks_are_one_line_errors(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as error:
        parse_week(text, TODAY)
    assert "\n" not in str(error.value)
