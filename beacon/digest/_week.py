"""ISO weeks: ``2026-W48`` ↔ dates, and "the last complete week"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from analytics.periods import Period, format_range
from foundation.exceptions import InputError

_WEEK = re.compile(r"(\d{4})-[Ww](\d{2})")


@dataclass(frozen=True, order=True)
class IsoWeek:
    """One ISO-8601 week (Monday to Sunday).

    Attributes:
        year: ISO year (may differ from the calendar year of early-January days).
        week: Week number, 1–53.
    """

    year: int
    week: int

    @property
    def label(self) -> str:
        """``2026-W48``."""
        return f"{self.year}-W{self.week:02d}"

    @property
    def start(self) -> date:
        """Its Monday."""
        return date.fromisocalendar(self.year, self.week, 1)

    @property
    def end(self) -> date:
        """Its Sunday."""
        return self.start + timedelta(days=6)

    def period(self) -> Period:
        """The week as an analytics :class:`~analytics.periods.Period`."""
        return Period(self.start, self.end, f"week {self.label}")

    def previous(self) -> IsoWeek:
        """The week before."""
        return IsoWeek.of(self.start - timedelta(days=7))

    def describe(self) -> str:
        """``2026-W48 (23–29 Nov 2026)``."""
        return f"{self.label} ({format_range(self.start, self.end)})"

    @classmethod
    def of(cls, day: date) -> IsoWeek:
        """The week ``day`` falls in."""
        year, week, _ = day.isocalendar()
        return cls(year, week)


def last_complete_week(today: date) -> IsoWeek:
    """The latest week that ended before ``today`` (on a Monday: the week just ended)."""
    return IsoWeek.of(today - timedelta(days=today.weekday() + 1))


def parse_week(text: str | None, today: date) -> IsoWeek:
    """Read ``--week``: ``YYYY-Www``, or None for the last complete week.

    Args:
        text: The option's value.
        today: The reference day; the week must have ended before it.

    Raises:
        InputError: Not of the form ``YYYY-Www``, no such week, or not over yet.
    """
    if text is None or not text.strip():
        return last_complete_week(today)
    match = _WEEK.fullmatch(text.strip())
    if match is None:
        raise InputError(
            f"--week must be an ISO week like {last_complete_week(today).label} (got {text!r})"
        )
    year, number = int(match.group(1)), int(match.group(2))
    try:
        date.fromisocalendar(year, number, 1)
    except ValueError:
        raise InputError(
            f"--week {text!r} does not exist: {year} has weeks W01 to "
            f"W{date(year, 12, 28).isocalendar()[1]:02d}"
        ) from None
    week = IsoWeek(year, number)
    if week.end >= today:
        raise InputError(
            f"week {week.label} is not over yet (it ends on {week.end:%a %d %b %Y}); "
            f"the last complete week is {last_complete_week(today).label}"
        )
    return week
