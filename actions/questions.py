"""Pure functions that read the parameters of a question from the user's words.

For the questions whose parameters the NLU does not tag as entities: how many posts and
by what ("my 5 worst tweets by likes"), what to compare ("instagram vs facebook
sentiment"), and a test plan ("2 points on a 4% conversion at 90% power"). Tested
without a tracker; the actions only call them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from actions.parsing import parse_platform

DEFAULT_POSTS: Final = 3
MAX_POSTS: Final = 20

_NUMBER_WORDS: Final = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20,
    "couple": 2, "few": 3, "handful": 5, "dozen": 12,
}  # fmt: skip
_COUNT = r"(\d{1,2}|" + "|".join(_NUMBER_WORDS) + r")"
_RANK = r"(?:top|bottom|best|worst|highest|lowest|weakest|strongest|biggest|poorest)"
_NOT_A_COUNT = (
    r"(?!\s*(?:days?|weeks?|months?|quarters?|years?|hours?|hrs?|%|percent|k\b|am\b|pm\b))"
)
_COUNT_AFTER_RE = re.compile(rf"\b{_RANK}\s+{_COUNT}\b{_NOT_A_COUNT}")
_COUNT_BEFORE_RE = re.compile(
    rf"(?<![\w.,/:-]){_COUNT}\s+(?:{_RANK}|most|least|posts?|tweets?|reels?|videos?|updates?|"
    r"ones?|performers?|flops?)\b"
)
_WORST_RE = re.compile(
    r"(?<!\bat )\b(worst|bottom|lowest|weakest|poorest|least|fewest|flops?|flopped|tanked|bombed|"
    r"underperform\w*|under-perform\w*|did (?:the )?(?:worst|badly|poorly)|losers?|duds?)\b"
)
_METRIC_WORDS: Final = (
    ("views", re.compile(r"\b(views?|viewed|watch(?:ed|es)?|plays?|impressions)\b")),
    ("shares", re.compile(r"\b(shares?|shared|retweets?|rts?|reposts?|reposted)\b")),
    ("comments", re.compile(r"\b(comments?|commented|replies|repl(?:y|ied))\b")),
    ("likes", re.compile(r"\b(likes?|liked|hearts?|faves?|favou?rites?)\b")),
    ("engagement_rate", re.compile(r"\b(engagement|engaging|interactions?|er|rate)\b")),
)


def read_post_count(text: str, default: int = DEFAULT_POSTS) -> int:
    """How many posts a request asks for: "top 3", "5 worst", "best ten", "a few".

    A number counts only next to a ranking word or a post noun, so "last 30 days", "q3"
    and a post id are never a count. Capped at :data:`MAX_POSTS`.
    """
    lowered = text.lower()
    match = _COUNT_AFTER_RE.search(lowered) or _COUNT_BEFORE_RE.search(lowered)
    if match is None:
        return default
    word = match.group(1)
    count = int(word) if word.isdigit() else _NUMBER_WORDS[word]
    return max(1, min(count, MAX_POSTS))


def wants_worst(text: str) -> bool:
    """Whether a request asks for the worst posts ("bottom 5", "what flopped")."""
    return bool(_WORST_RE.search(text.lower()))


def read_post_metric(text: str, default: str = "engagement_rate") -> str:
    """What to rank by: ``likes``, ``comments``, ``shares``, ``views`` or ``engagement_rate``.

    The first metric word that appears decides ("most liked" → likes); without one,
    ``default`` (the engagement rate, or what the previous question ranked by).
    """
    lowered = text.lower()
    found = [(m.start(), metric) for metric, rx in _METRIC_WORDS if (m := rx.search(lowered))]
    return min(found)[1] if found else default


# --- comparisons ---------------------------------------------------------------------

_SENTIMENT_RE = re.compile(
    r"\b(sentiment|mood|feel\w*|vibes?|positive|negative|neutral|brand health|tone|"
    r"opinions?|happ(?:y|ier)|angr(?:y|ier)|reputation|perception|talk|chatter|buzz)\b"
)
_ENGAGEMENT_RE = re.compile(
    r"\b(engagement|engaging|engaged|likes?|interactions?|perform\w*|reach|er|"
    r"comments?|shares?|clicks?)\b"
)
_PREVIOUS_RE = re.compile(
    r"\b(the (?:one|period|week|month|quarter|year) before|before that|previous|prior|"
    r"preceding|the one prior|last time)\b"
)
# Platform words looked for in the text when the NLU tagged fewer than two.
_PLATFORM_WORDS_RE = re.compile(
    r"\b(twitter|tweets?|x|instagram|insta|ig|facebook|fb|tiktok|tik tok|youtube|yt|"
    r"linkedin|reddit|support chats?)\b"
)


def read_comparison_metric(text: str) -> str:
    """``sentiment`` or ``engagement``: what a comparison is about (sentiment by default)."""
    lowered = text.lower()
    sentiment = _SENTIMENT_RE.search(lowered)
    engagement = _ENGAGEMENT_RE.search(lowered)
    if engagement and (not sentiment or engagement.start() < sentiment.start()):
        return "engagement"
    return "sentiment"


_COMPARE_RE = re.compile(
    r"\b(vs\.?|v|versus|compar\w*|against|than|stack\w* up|side by side|next to|"
    r"differen\w*|contrast\w*|or|before|previous|prior)\b"
)


def asks_to_compare(text: str) -> bool:
    """Whether a message asks for two things side by side ("vs", "compared to", "or", ...).

    "how is sentiment on twitter this month?" names one side only: it is a plain
    question, however close its words are to a comparison's.
    """
    return bool(_COMPARE_RE.search(text.lower()))


def wants_previous(text: str) -> bool:
    """Whether a comparison is with the period before ("vs the one before", "previous")."""
    return bool(_PREVIOUS_RE.search(text.lower()))


def entity_values(entities: Iterable[Mapping[str, Any]] | None, name: str) -> list[str]:
    """The values of every ``name`` entity in a message, in the order they appear."""
    found = [
        (int(e.get("start") or 0), str(e["value"]))
        for e in entities or ()
        if e.get("entity") == name and e.get("value")
    ]
    return [value for _, value in sorted(found, key=lambda pair: pair[0])]


def compared_platforms(entity_platforms: Sequence[str], text: str) -> list[str | None]:
    """The distinct platforms a comparison names, in order: the NLU's, else the text's.

    Raises:
        SlotValueError: A tagged platform is not one Beacon knows.
    """
    found: list[str | None] = []
    for value in entity_platforms:
        platform = parse_platform(value)
        if platform not in found:
            found.append(platform)
    if len(found) < 2:
        for match in _PLATFORM_WORDS_RE.finditer(text.lower()):
            platform = parse_platform(match.group(1))
            if platform not in found:
                found.append(platform)
    return found


# --- sample size ---------------------------------------------------------------------

_NUM = r"(\d+(?:\.\d+)?)"
_PCT = rf"{_NUM}\s*(?:%|percent\b|pct\b)"
_SEP = r"\s*(?:is|of|at|=|:|around|about|roughly|~|equal to|currently)?\s*(?:of\s+|at\s+)?"
_POWER_RE = re.compile(rf"{_PCT}\s*(?:statistical\s+)?power|\bpower{_SEP}{_NUM}\s*%?")
_CONFIDENCE_RE = re.compile(
    rf"{_PCT}\s*(?:confidence|confident|sure|certain)|\bconfidence(?: level)?{_SEP}{_PCT}"
)
_ALPHA_RE = re.compile(
    rf"{_PCT}\s*(?:significance|alpha|sig\b|false positive)|"
    rf"(?:\balpha|\bsignificance(?: level)?|\bsig level|α){_SEP}{_NUM}\s*(%)?"
)
_FROM_TO_RE = re.compile(rf"\bfrom\s*{_PCT}\s*to\s*{_PCT}")
_POINTS_RE = re.compile(
    rf"\+?{_NUM}\s*(?:percentage[- ]points?|percent(?:age)? pts?|pp\b|p\.p\.|pts?\b|points?\b)"
)
_LIFT_WORDS = (
    r"(?:relative\s+)?(?:lift|uplift|increase|improvement|boost|jump|rise|gain|change|effect|"
    r"difference|bump|better|more|higher|mde|delta|swing|growth)"
)
_RELATIVE_RE = re.compile(
    rf"\+?{_PCT}\s*{_LIFT_WORDS}|"
    rf"\b(?:lift|uplift|increase|improvement|boost|effect|change|difference|mde|detect|see|"
    rf"spot|catch|notice|measure|pick up)\s*(?:of|by|in)?\s*(?:an?\s+)?(?:\+\s*)?{_PCT}"
)
_RATE_WORDS = (
    r"(?:baseline|base rate|conversion(?: rate)?|conv(?:ersion)?s?|cvr|cr|ctr|click[- ]?through"
    r"(?: rate)?|click(?: rate)?s?|open rate|rate|converting|convert)"
)
_BASELINE_RE = re.compile(
    rf"{_PCT}\s*(?:baseline\s*)?{_RATE_WORDS}|\b{_RATE_WORDS}(?:\s+rate)?{_SEP}{_PCT}"
)
_CLICK_RE = re.compile(r"\b(clicks?|clicked|ctr|click[- ]?through|click rate)\b")
_CONVERT_RE = re.compile(r"\b(conver(?:t|ts|ted|sions?)|cvr|purchases?|sales?|orders?)\b")
_AMOUNT = r"(\d[\d,]*(?:\.\d+)?)\s*(k\b|thousand\b)?"
_TRAFFIC_RE = re.compile(
    rf"{_AMOUNT}\s*(?:[a-z]+\s+){{0,2}}?(?:a|per|/|each|every)\s*(day|week)\b|"
    rf"{_AMOUNT}\s*(daily|weekly)\b|"
    rf"\b(daily|weekly)\s+(?:traffic|visitors|users|sessions|visits)?{_SEP}{_AMOUNT}"
)
_DAYS_RE = re.compile(
    r"\b(?:in|within|for|over|run(?:s|ning)? for|lasts?|only have|have|got)\s+(?:only\s+)?"
    r"(\d{1,3}|a|one|two|three|four|six|eight)\s+(days?|weeks?)\b"
)
_BARE_PCT_RE = re.compile(_PCT)
_SMALL_WORDS: Final = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "six": 6, "eight": 8}


@dataclass(frozen=True)
class PowerQuestion:
    """What a sample-size question gives.

    Attributes:
        effect: The smallest effect worth detecting (relative or absolute), or None.
        relative: Whether ``effect`` is relative (0.1 = +10%) or absolute (0.02 = 2 points).
        baseline: The current rate, in (0, 1), or None.
        metric: ``converted`` or ``clicked``: what the rate is of.
        power: The power asked for (default 0.8).
        alpha: The two-sided significance level (default 0.05).
        daily_units: Units per day (both arms), or None.
        days: A run length the user has, for the smallest detectable lift, or None.
    """

    effect: float | None = None
    relative: bool = True
    baseline: float | None = None
    metric: str = "converted"
    power: float = 0.8
    alpha: float = 0.05
    daily_units: float | None = None
    days: int | None = None


def _blank(text: str, match: re.Match[str]) -> str:
    """``text`` with the match's span blanked, so later patterns don't read it again."""
    return text[: match.start()] + " " * (match.end() - match.start()) + text[match.end() :]


def _amount(number: str, thousands: str | None) -> float:
    value = float(number.replace(",", ""))
    return value * 1000 if thousands else value


def _share(number: str) -> float:
    """A percentage or a fraction as a fraction: "80" → 0.8, "0.9" → 0.9."""
    value = float(number)
    return value / 100 if value >= 1 else value


def read_power_question(text: str, previous: Mapping[str, Any] | None = None) -> PowerQuestion:
    """The effect, baseline, power, significance, traffic and run length in a question.

    Read: "a 10% lift" (relative), "2 points" / "half a point" / "+1pp" (absolute), "from
    3% to 3.5%" (baseline and absolute effect), "on a 4% conversion" / "ctr is 12%"
    (baseline), "at 90% power", "95% confidence" / "alpha 0.01", "2,000 visitors a day" /
    "3k daily", "in 2 weeks" (a run length). A lone percentage left over is the lift when
    none was found, else the baseline.

    Args:
        text: The question.
        previous: The parameters of the plan just answered (a follow-up: "and with 90%
            power?"); whatever the question doesn't say is taken from them.
    """
    found = _power_fields(text)
    kept = {
        name: value
        for name, value in (previous or {}).items()
        if name in _POWER_FIELDS and value is not None and name not in found
    }
    if "effect" in found:  # a new effect comes with its own kind (relative or points)
        kept.pop("relative", None)
    return PowerQuestion(**{"metric": "converted", **kept, **found})


#: The :class:`PowerQuestion` fields a follow-up can keep from the plan before.
_POWER_FIELDS = frozenset(
    {"effect", "relative", "baseline", "metric", "power", "alpha", "daily_units", "days"}
)
_HALF_POINT_RE = re.compile(r"\bhalf (?:of )?an? (?:percentage )?point\b")


def _power_fields(text: str) -> dict[str, Any]:
    """The fields of :class:`PowerQuestion` that ``text`` states."""
    rest = " ".join(text.lower().replace("’", "'").split())
    rest = _HALF_POINT_RE.sub("0.5 points", rest)
    found: dict[str, Any] = {}
    if match := _POWER_RE.search(rest):
        found["power"] = _share(match.group(1) or match.group(2))
        rest = _blank(rest, match)
    if match := _CONFIDENCE_RE.search(rest):
        found["alpha"] = round(1 - _share(match.group(1) or match.group(2)), 10)
        rest = _blank(rest, match)
    if match := _ALPHA_RE.search(rest):
        if match.group(1):
            found["alpha"] = float(match.group(1)) / 100
        else:
            value = float(match.group(2))
            found["alpha"] = value / 100 if match.group(3) or value >= 1 else value
        rest = _blank(rest, match)
    if match := _TRAFFIC_RE.search(rest):
        groups = match.groups()
        if groups[0] is not None:
            units, per = _amount(groups[0], groups[1]), groups[2]
        elif groups[3] is not None:
            units, per = _amount(groups[3], groups[4]), groups[5]
        else:
            units, per = _amount(groups[7], groups[8]), groups[6]
        found["daily_units"] = units / 7 if per.startswith("week") else units
        rest = _blank(rest, match)
    if match := _DAYS_RE.search(rest):
        amount = match.group(1)
        count = int(amount) if amount.isdigit() else _SMALL_WORDS[amount]
        found["days"] = count * (7 if match.group(2).startswith("week") else 1)
        rest = _blank(rest, match)
    if match := _FROM_TO_RE.search(rest):
        start, end = float(match.group(1)) / 100, float(match.group(2)) / 100
        found.update(baseline=start, effect=round(end - start, 10), relative=False)
        rest = _blank(rest, match)
    if "effect" not in found and (match := _POINTS_RE.search(rest)):
        found.update(effect=float(match.group(1)) / 100, relative=False)
        rest = _blank(rest, match)
    if "effect" not in found and (match := _RELATIVE_RE.search(rest)):
        found.update(effect=float(match.group(1) or match.group(2)) / 100, relative=True)
        rest = _blank(rest, match)
    if "baseline" not in found and (match := _BASELINE_RE.search(rest)):
        found["baseline"] = float(match.group(1) or match.group(2)) / 100
        rest = _blank(rest, match)
    for match in _BARE_PCT_RE.finditer(rest):
        value = float(match.group(1)) / 100
        if "effect" not in found:
            found.update(effect=value, relative=True)
        elif "baseline" not in found:
            found["baseline"] = value
    if _CLICK_RE.search(text.lower()):
        found["metric"] = "clicked"
    elif _CONVERT_RE.search(text.lower()):
        found["metric"] = "converted"
    return found
