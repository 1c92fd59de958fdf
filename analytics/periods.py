"""Reading periods such as "this month", "last week" or "2026-W47" into date ranges.

The bot's ``period`` entity, the CLI's ``--week`` and the digest all go through
:func:`parse_period`, so one phrase always means one range.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from analytics.exceptions import AnalysisInputError

DEFAULT_PERIOD = "last 30 days"

_MONTHS = (
    {name.lower(): index for index, name in enumerate(calendar.month_name) if name}
    | {name.lower(): index for index, name in enumerate(calendar.month_abbr) if name}
    | {"sept": 9}
)
_WEEKDAYS = {name.lower(): index for index, name in enumerate(calendar.day_name)}
_UNITS = {
    "day": 1,
    "days": 1,
    "week": 7,
    "weeks": 7,
    "fortnight": 14,
    "fortnights": 14,
    "month": 30,
    "months": 30,
}
_NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "ten": 10,
    "fourteen": 14,
    "thirty": 30,
    "ninety": 90,
    # Vague counts, read as the smallest they usually mean.
    "couple": 2,
    "few": 3,
}


@dataclass(frozen=True)
class Period:
    """An inclusive range of days.

    Attributes:
        start: First day.
        end: Last day (inclusive).
        label: How to say it ("this month (1–30 Nov 2026)").
    """

    start: date
    end: date
    label: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of the same length that ends the day before this one starts."""
        end = self.start - timedelta(days=1)
        start = end - timedelta(days=self.days - 1)
        label = "the previous day" if self.days == 1 else f"the previous {self.days} days"
        return Period(start, end, label)

    def describe(self) -> str:
        """``label (d Mon – d Mon yyyy)`` for replies."""
        dates = format_range(self.start, self.end)
        return dates if self.label == dates else f"{self.label} ({dates})"


def format_range(start: date, end: date) -> str:
    """``1–30 Nov 2026``, ``28 Oct – 3 Nov 2026`` or ``1 Dec 2025 – 5 Jan 2026``."""
    if start == end:
        return f"{end.day} {end:%b %Y}"
    if start.year != end.year:
        return f"{start.day} {start:%b %Y} – {end.day} {end:%b %Y}"
    if start.month != end.month:
        return f"{start.day} {start:%b} – {end.day} {end:%b %Y}"
    return f"{start.day}–{end.day} {end:%b %Y}"


def _month(year: int, month: int, label: str, today: date) -> Period:
    last = calendar.monthrange(year, month)[1]
    return Period(date(year, month, 1), min(date(year, month, last), today), label)


def _quarter(year: int, quarter: int, label: str, today: date) -> Period:
    first_month = 3 * (quarter - 1) + 1
    start = date(year, first_month, 1)
    last_month = first_month + 2
    end = date(year, last_month, calendar.monthrange(year, last_month)[1])
    return Period(start, min(end, today), label)


def _number(token: str) -> int:
    return int(token) if token.isdigit() else _NUMBER_WORDS[token]


def parse_period(text: str | None, today: date) -> Period:
    """Turn a phrase into a :class:`Period` ending no later than ``today``.

    Args:
        text: "today", "yesterday", "this/last week|month|quarter|year", "last N days",
            "past 2 weeks", a month name ("october", "in oct 2026"), "q3", "since monday",
            an ISO week ("2026-W47"), an ISO date, or "2026-10-01 to 2026-10-31".
            None or "" means :data:`DEFAULT_PERIOD`.
        today: The reference day.

    Raises:
        AnalysisInputError: The phrase is not a period Beacon understands.
    """
    phrase = re.sub(r"\s+", " ", (text or DEFAULT_PERIOD).strip().lower())
    phrase = re.sub(r"^(in|during|for|over|from|of) (the )?", "", phrase).strip(" ?.!")
    # Chat spelling: "october-ish", "couple of months", "fortnite".
    phrase = re.sub(r"-?ish$", "", phrase).strip()
    phrase = re.sub(r"\b(couple|few) of\b", r"\1", phrase)
    phrase = re.sub(r"\bfortnite\b", "fortnight", phrase)
    match = re.fullmatch(
        r"since (?:the )?(?:start|beginning) of (?:the |this )?(week|month|quarter|year)", phrase
    )
    if match:
        phrase = f"this {match.group(1)}"
    if phrase in ("lately", "recently", "late", "these days"):  # no span named: the default
        phrase = DEFAULT_PERIOD
    if phrase in ("today", "now", "right now", "rn"):
        return Period(today, today, "today")
    if phrase == "yesterday":
        day = today - timedelta(days=1)
        return Period(day, day, "yesterday")
    if phrase in ("this week", "the week", "week"):
        return Period(today - timedelta(days=today.weekday()), today, "this week")
    if phrase in ("last week", "previous week", "past week"):
        start = today - timedelta(days=today.weekday() + 7)
        return Period(start, start + timedelta(days=6), "last week")
    if phrase in ("this month", "the month", "month", "mtd", "month to date"):
        return _month(today.year, today.month, "this month", today)
    if phrase in ("last month", "previous month", "past month"):
        first = date(today.year, today.month, 1) - timedelta(days=1)
        return _month(first.year, first.month, "last month", today)
    if phrase in ("this quarter", "quarter", "qtd"):
        return _quarter(today.year, (today.month - 1) // 3 + 1, "this quarter", today)
    if phrase in ("last quarter", "previous quarter"):
        quarter = (today.month - 1) // 3
        year = today.year if quarter else today.year - 1
        return _quarter(year, quarter or 4, "last quarter", today)
    if phrase in ("this year", "ytd", "year to date"):
        return Period(date(today.year, 1, 1), today, "this year")
    if phrase in ("last year", "previous year"):
        return Period(date(today.year - 1, 1, 1), date(today.year - 1, 12, 31), "last year")

    phrase = re.sub(
        r"^((?:the |these |those )?(?:last|past|previous)) fortnight$", r"\1 1 fortnight", phrase
    )
    match = re.fullmatch(
        r"(?:the |these |those )?(?:last|past|previous) (\d+|[a-z]+) "
        r"(days?|weeks?|fortnights?|months?)",
        phrase,
    )
    if match and (match.group(1).isdigit() or match.group(1) in _NUMBER_WORDS):
        days = _number(match.group(1)) * _UNITS[match.group(2)]
        if days < 1:
            raise AnalysisInputError(f"a period must cover at least one day (got {text!r})")
        return Period(today - timedelta(days=days - 1), today, f"the last {days} days")

    match = re.fullmatch(r"q([1-4])(?: (\d{4}))?", phrase)
    if match:
        quarter, year = int(match.group(1)), int(match.group(2) or today.year)
        if not match.group(2) and date(year, 3 * (quarter - 1) + 1, 1) > today:
            year -= 1
        return _quarter(year, quarter, f"Q{quarter} {year}", today)

    match = re.fullmatch(r"([a-z]+)(?: (\d{4}))?", phrase)
    if match and match.group(1) in _MONTHS:
        month, year = _MONTHS[match.group(1)], int(match.group(2) or today.year)
        if not match.group(2) and date(year, month, 1) > today:
            year -= 1
        return _month(year, month, f"{calendar.month_name[month]} {year}", today)

    match = re.fullmatch(r"since ([a-z]+)", phrase)
    if match and match.group(1) in _WEEKDAYS:
        back = (today.weekday() - _WEEKDAYS[match.group(1)]) % 7 or 7
        return Period(today - timedelta(days=back), today, f"since {match.group(1).title()}")

    match = re.fullmatch(r"(\d{4})-w(\d{1,2})", phrase)
    if match:
        try:
            start = date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
        except ValueError:
            raise AnalysisInputError(f"{text!r} is not an ISO week (expected YYYY-Www)") from None
        return Period(
            start, start + timedelta(days=6), f"week {match.group(1)}-W{int(match.group(2)):02d}"
        )

    match = re.fullmatch(r"(\d{4}-\d{2}-\d{2})(?: (?:to|until|-|–) (\d{4}-\d{2}-\d{2}))?", phrase)
    if match:
        try:
            start = date.fromisoformat(match.group(1))
            end = date.fromisoformat(match.group(2)) if match.group(2) else start
        except ValueError:
            raise AnalysisInputError(f"{text!r} has a date that does not exist") from None
        if end < start:
            raise AnalysisInputError(f"the period {text!r} ends before it starts")
        return Period(start, end, format_range(start, end))

    raise AnalysisInputError(
        f"I can't read {text!r} as a period; try 'this month', 'last week', 'last 30 days', "
        "'october', 'q3' or '2026-10-01 to 2026-10-31'"
    )


#: Phrases :func:`find_period` looks for inside a message, most specific first.
_PERIOD_PHRASES = re.compile(
    r"since (?:the )?(?:start|beginning) of (?:the |this )?(?:week|month|quarter|year)"
    r"|(?:the |these |those )?(?:last|past|previous) (?:\d+ |[a-z]+ (?:of )?)?"
    r"(?:days?|weeks?|fortnights?|fortnite|months?)"
    r"|\d{4}-\d{2}-\d{2}(?: (?:to|until|-|–) \d{4}-\d{2}-\d{2})?"
    r"|\d{4}-w\d{1,2}"
    r"|(?:this|last|previous|past) (?:week|month|quarter|year)"
    r"|since (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
    r"|\bq[1-4](?: \d{4})?\b"
    r"|\byesterday\b|\btoday\b"
    # A month by its full name; "may" and "march" are verbs too, so only after "in".
    r"|\b(?:january|february|april|june|july|august|september|october|november|december)"
    r"(?: \d{4})?\b"
    r"|\b(?:in|during) (?:may|march)(?: \d{4})?\b"
)


def find_period(text: str, today: date) -> tuple[str, Period] | None:
    """The first period a whole message names, as (its phrase, the period), or None.

    For when the entity extractor took a piece of the phrase ("weeks" out of "these
    past two weeks"): the message itself still says what was meant. Only phrases that
    cannot be anything but a period are looked for (a month by its full name; "may"
    and "march", which are verbs too, only after "in" or "during").

    Args:
        text: What the user wrote.
        today: The reference day.
    """
    found = find_periods(text, today)
    return found[0] if found else None


def find_periods(text: str, today: date) -> list[tuple[str, Period]]:
    """Every period a whole message names, in order, as :func:`find_period` reads them.

    "last quarter vs this quarter" gives both, for comparisons whose entities came out
    clipped ("this").
    """
    lowered = re.sub(r"\s+", " ", text.lower())
    found: list[tuple[str, Period]] = []
    for match in _PERIOD_PHRASES.finditer(lowered):
        try:
            found.append((match.group(0), parse_period(match.group(0), today)))
        except AnalysisInputError:
            continue
    return found
