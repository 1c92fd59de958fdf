"""Pure functions that turn slot values and user text into analytics arguments.

Tested without a tracker; the actions only call them.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from analytics.exceptions import AnalysisInputError
from analytics.periods import Period, find_period, parse_period
from foundation.workspace import PLATFORMS

PLATFORM_ALIASES = {
    "x": "twitter", "tw": "twitter", "tweets": "twitter", "tweet": "twitter",
    "retweets": "twitter", "retweet": "twitter",  # only Twitter/X has them
    "ig": "instagram", "insta": "instagram", "gram": "instagram",
    "fb": "facebook", "meta": "facebook",
    "li": "linkedin", "yt": "youtube", "tt": "tiktok",
    "support chats": "support", "support chat": "support", "chats": "support",
    "customer chats": "support", "support conversations": "support", "widget": "support",
    "customer support": "support", "support widget": "support", "helpdesk": "support",
}  # fmt: skip

ALL_PLATFORMS = {"all", "everywhere", "all platforms", "overall", "any", "every platform"}


class SlotValueError(ValueError):
    """A slot value cannot be used; the message is said to the user.

    Args:
        message: What the user is told.
        slot: The slot that holds the bad value, when one does: the action clears it,
            so the value doesn't spoil the turns that follow.
    """

    def __init__(self, message: str, slot: str | None = None) -> None:
        super().__init__(message)
        self.slot = slot


def read_period(value: str | None, today: date) -> Period:
    """The ``period`` slot as a :class:`Period` (None or "" for the default period).

    Raises:
        SlotValueError: The slot is not a period Beacon reads (slot ``period``, so the
            action clears it).
    """
    try:
        return parse_period(value, today)
    except AnalysisInputError as error:
        raise SlotValueError(str(error), slot="period") from error


def repaired_period(value: str | None, message: str, today: date) -> str | None:
    """A readable period phrase for a ``period`` slot that can't be read, from the message.

    The entity extractor sometimes keeps only part of a phrase ("weeks" out of "these
    past two weeks"); the message itself still says what was meant.

    Returns:
        The phrase the message names ("these past two weeks"), or None when the slot
        is empty or readable, or when the message names no period either.
    """
    if not value:
        return None
    try:
        parse_period(value, today)
    except AnalysisInputError:
        found = find_period(message, today)
        return found[0] if found else None
    return None


def parse_platform(value: str | None) -> str | None:
    """Normalise a platform slot ("IG", "insta", "X") to a workspace platform; None = all.

    Raises:
        SlotValueError: The value names no platform Beacon knows.
    """
    if value is None:
        return None
    cleaned = re.sub(r"[^a-z ]", "", value.strip().lower()).strip()
    if not cleaned or cleaned in ALL_PLATFORMS:
        return None
    cleaned = PLATFORM_ALIASES.get(cleaned, cleaned)
    if cleaned not in PLATFORMS:
        cleaned = _platform_in_words(cleaned) or cleaned
    if cleaned not in PLATFORMS:
        raise SlotValueError(
            f"I don't know the platform '{value}'. I have data for: "
            + ", ".join(p for p in PLATFORMS if p != "other")
            + ".",
            slot="platform",
        )
    return cleaned


def _platform_in_words(phrase: str) -> str | None:
    """The one platform the words of a clipped or misspelt phrase name ("twiter past").

    A word counts when it is a platform or an alias, or a platform's name with one letter
    added, dropped, changed or two swapped (names of five letters or more, so "tik" or
    "red" are never guessed).
    """
    found = set()
    for word in phrase.split():
        word = PLATFORM_ALIASES.get(word, word)
        if word in PLATFORMS:
            found.add(word)
        elif len(word) >= 5:
            found.update(p for p in PLATFORMS if len(p) >= 5 and _one_edit_apart(word, p))
    return found.pop() if len(found) == 1 else None


def _one_edit_apart(a: str, b: str) -> bool:
    """Whether ``a`` becomes ``b`` by one insertion, deletion, substitution or swap."""
    if a == b or abs(len(a) - len(b)) > 1:
        return a == b
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        return len(diff) == 1 or (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


NEGATIVE_FEEDBACK = re.compile(
    r"^(no|nah)\b|\b(wrong|incorrect|not (right|correct|true|accurate)|bad answer|inaccurate|mistake|"
    r"that'?s not|nope|useless|doesn'?t make sense|should (be|have been))\b"
)
POSITIVE_FEEDBACK = re.compile(
    r"\b(right|correct|great|good|helpful|perfect|spot on|accurate|thanks?|nice|love it|useful)\b"
)


def feedback_verdict(text: str) -> str:
    """``'correction'``, ``'down'`` or ``'up'`` for a feedback message.

    A negative cue with more words after it ("that's wrong, it should be negative")
    is a correction; a bare negative cue is a thumbs-down; otherwise thumbs-up when
    a positive cue is present, else thumbs-down (we never assume praise).
    """
    lowered = text.lower()
    negative = NEGATIVE_FEEDBACK.search(lowered)
    if negative:
        rest = lowered[negative.end() :].strip(" ,.!-:;")
        return "correction" if len(rest.split()) >= 2 else "down"
    return "up" if POSITIVE_FEEDBACK.search(lowered) else "down"


_STOP_WORDS = {
    "the", "test", "a", "an", "our", "experiment", "exp", "ab", "a/b", "one", "split",
    # Short common words that variant names contain ("no-banner"): never a test's name.
    "no", "not", "and", "or", "of", "to", "in", "on", "for", "with", "is", "it", "vs",
}  # fmt: skip


def _tokens(text: str) -> set[str]:
    words = re.findall(r"[a-z0-9]+", text.lower().replace("color", "colour"))
    return {w for w in words if w not in _STOP_WORDS}


def match_experiment(value: str | None, experiments: list[tuple[str, str]]) -> str | None:
    """The id of the experiment a user means ("the subject line test" → ``exp-subject-line``).

    Args:
        value: What the user called it (the ``experiment`` slot).
        experiments: ``(experiment_id, name)`` pairs from the workspace.

    Returns:
        The best-matching id, or None when no experiment shares a word with ``value``
        or two match equally well.
    """
    found = experiment_match(value, experiments)
    return found[0] if found else None


def experiment_match(
    value: str | None, experiments: list[tuple[str, str]]
) -> tuple[str, set[str]] | None:
    """:func:`match_experiment`'s id with the words ``value`` shares with it, or None."""
    if not value:
        return None
    wanted = _tokens(value)
    scored = sorted(
        ((wanted & (_tokens(eid) | _tokens(name)), eid) for eid, name in experiments),
        key=lambda pair: len(pair[0]),
        reverse=True,
    )
    if (
        not scored
        or not scored[0][0]
        or (len(scored) > 1 and len(scored[1][0]) == len(scored[0][0]))
    ):
        return None
    return scored[0][1], scored[0][0]


_BUDGET_RE = re.compile(
    r"(?:under|below|less than|max(?:imum)?|up to|budget(?: of)?|for|of|[€$£])\s*[€$£]?\s*"
    r"(\d[\d,.]*)\s*(k|m|thousand|million)?\b",
)
_MULTIPLIERS = {"k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6}


def parse_budget(text: str | None) -> float | None:
    """A budget in a request ("under 50k", "budget of €5,000", "up to 2.5m"), or None."""
    if not text:
        return None
    match = _BUDGET_RE.search(text.lower())
    if not match:
        return None
    number = float(match.group(1).replace(",", "").rstrip("."))
    return number * _MULTIPLIERS.get(match.group(2) or "", 1.0)


_BRIEF_NOISE = re.compile(
    r"\b(who|which|what|should|could|would|we|us|our|work|partner|with|for|the|a|an|best|top|"
    r"influencers?|creators?|fit|fits|to|do|you|recommend|suggest|under|below|budget|of|up|"
    r"less|than|max|me|find|rank|good|campaign|\d[\d,.]*\s*(k|m)?)\b|[€$£?!.,]",
)


def brief_from_request(topic: str | None, text: str) -> str:
    """What the campaign is about: the ``topic`` slot, else the request minus filler words."""
    if topic and topic.strip():
        return topic.strip()
    brief = re.sub(r"\s+", " ", _BRIEF_NOISE.sub(" ", text.lower())).strip()
    return brief or text.strip()


_LABEL_RE = re.compile(r"\b(negative|neutral|positive)\b")
_NEGATED_RE = re.compile(r"(\bnot|n't|\bnor|\binstead of|\brather than)\s+(really\s+|a\s+)?$")
_POST_ID_RE = re.compile(r"\b[a-z]{2,}-[a-z0-9][a-z0-9_-]*\b")


def corrected_label(text: str) -> str | None:
    """The sentiment label a correction asks for, or None when it names none or several.

    "fb-m000324 is negative, not positive" → ``negative``; labels after a negation
    ("not", "isn't", "instead of") are what the answer said, not the correction.
    """
    lowered = text.lower()
    wanted = {
        match.group(1)
        for match in _LABEL_RE.finditer(lowered)
        if not _NEGATED_RE.search(lowered[: match.start()])
    }
    return wanted.pop() if len(wanted) == 1 else None


def mentioned_post_ids(text: str) -> list[str]:
    """Tokens shaped like post ids (``fb-m000324``, ``tw-123``), in order; check them against the workspace."""
    return _POST_ID_RE.findall(text.lower())


_NOT_TOP_RE = re.compile(
    r"\b(did|does|went|performed|was doing)\s+(really\s+|very\s+|so\s+|quite\s+)?"
    r"(badly|poorly|terribly|awfully|bad|badly)\b|\b(flopped|flop|tanked|bombed|underperformed|"
    r"under-performed)\b|\b(did ?n[o']t|did not|didn't)\s+(do|perform|go)\s+(well|great|good)\b|"
    r"\b(not|never|n't|wasn't|isn't)\s+(been\s+|be\s+)?an?\s+(top|hit|winner)\b|"
    r"\bshould(n't| not| never)\s+(have\s+)?been\s+an?\s+top\b|\bnot\s+(in\s+)?the\s+top\b"
)
_TOP_RE = re.compile(
    r"\b(did|does|went|performed)\s+(really\s+|very\s+|so\s+|quite\s+)?(well|great|brilliantly)\b|"
    r"\b(should\s+(have\s+)?been|was|is|ended up)\s+(actually\s+|really\s+)?an?\s+"
    r"(top|hit|winner)\b|\b(went viral|took off|outperformed|over-performed|blew up|was a hit)\b|"
    r"\b(made|in)\s+(it\s+(in)?to\s+)?the\s+top\b"
)


def engagement_outcome(text: str) -> str | None:
    """The outcome an engagement correction states: ``top``, ``not_top``, or None.

    "ig-000045 actually did badly" → ``not_top``; "tw-000123 should have been a top
    post" → ``top``; "it wasn't a top post" → ``not_top``. None when the text states no
    outcome or both.
    """
    lowered = text.lower().replace("’", "'")
    bad = _NOT_TOP_RE.search(lowered)
    # Drop what the negative pattern matched so "wasn't a top post" is not also read as "top".
    rest = _NOT_TOP_RE.sub(" ", lowered)
    good = _TOP_RE.search(rest)
    if bool(bad) == bool(good):
        return None
    return "not_top" if bad else "top"


_MEDIA_URL_RE = re.compile(r"<?([a-z][a-z0-9+.-]*://[^\s<>|\"']+)", re.IGNORECASE)
_MEDIA_PATH_RE = re.compile(
    r"(?:^|[\s(\"'`])((?:~|\.{1,2})?/?[\w./\\-]*[\w-]\.(?:jpe?g|png|gif|bmp|webp|tiff?|mp4|m4v|mov|"
    r"avi|mkv|webm|mpe?g|wmv|flv|3gp))(?=$|[\s)\"'`,;:!?]|\.(?:\s|$))",
    re.IGNORECASE,
)


def media_reference(text: str) -> tuple[str, str] | None:
    """The image or video a message points at: ``("url", URL)``, ``("path", PATH)`` or None.

    A URL (``http://…``; any ``scheme://``, so the caller can refuse the others; also in
    Slack's ``<url|label>`` form) wins over a
    path; a path is any token ending in an image or video file extension
    (``media/ig-000045.jpg``, ``/srv/beacon/var/clip.mp4``). Trailing punctuation is
    not part of either. Whether the file or URL may be used is decided by the caller.
    """
    url = _MEDIA_URL_RE.search(text)
    if url:
        return "url", url.group(1).rstrip(".,;:!?)")
    path = _MEDIA_PATH_RE.search(text)
    if path:
        return "path", path.group(1)
    return None


_WEEKDAY_NAMES = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5,
    "sunday": 6, "mon": 0, "tue": 1, "tues": 1, "wed": 2, "thu": 3, "thur": 3, "thurs": 3,
    "fri": 4, "sat": 5, "sun": 6,
}  # fmt: skip
# Short weekday names only count after these words ("from sat"), not in "sun protection".
_WEEKDAY_RE = re.compile(
    r"\b(?:(monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?|"
    r"(?:from|on|last|since) (mon|tues?|wed|thu(?:rs?)?|fri|sat|sun))\b"
)
_MONTH_NAMES = (
    {name.lower(): index for index, name in enumerate(calendar.month_name) if name}
    | {name.lower(): index for index, name in enumerate(calendar.month_abbr) if name}
    | {"sept": 9}
)
# Words that name a platform in "yesterday's instagram post" (not the short, ambiguous aliases).
_REFERENCE_PLATFORMS = {
    "twitter": "twitter", "tweet": "twitter", "tweets": "twitter", "x": "twitter",
    "instagram": "instagram", "insta": "instagram", "ig": "instagram", "reel": "instagram",
    "reels": "instagram", "facebook": "facebook", "fb": "facebook", "linkedin": "linkedin",
    "tiktok": "tiktok", "youtube": "youtube", "yt": "youtube", "reddit": "reddit",
}  # fmt: skip
_POST_NOUN = r"(?:post|posts|tweet|tweets|reel|reels|video|videos|update|upload|thread)"
_HAS_POST_RE = re.compile(rf"\b{_POST_NOUN}\b")
_LATEST_RE = re.compile(
    rf"\b(?:last|latest|most recent|newest|previous)\s+(?:[a-z]+\s+)?{_POST_NOUN}\b"
)
_DAY_MONTH_RE = re.compile(
    r"\b(\d{1,2})(?:st|nd|rd|th)?(?:\s+of)?\s+([a-z]{3,9})\.?(?:\s+(\d{4}))?\b"
)
_MONTH_DAY_RE = re.compile(r"\b([a-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s+(\d{4}))?")
_ISO_DATE_RE = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")


@dataclass(frozen=True)
class PostReference:
    """A post named by when (and where) it went out, e.g. "our post from Tuesday".

    Attributes:
        day: The UTC day it went out; None when the latest post is meant.
        label: How to say the day ("Tuesday 24 Nov 2026"), or "latest".
        platform: The workspace platform named ("twitter" for "tweet"), or None.
    """

    day: date | None
    label: str
    platform: str | None

    @property
    def latest(self) -> bool:
        return self.day is None


def _day_label(day: date) -> str:
    return f"{day:%A} {day.day} {day:%b %Y}"


def _calendar_day(day: int, month: int, year: int | None, today: date) -> date | None:
    """The day, in ``year`` or else the latest such day not after ``today``."""
    try:
        found = date(year or today.year, month, day)
        if year is None and found > today:
            found = date(today.year - 1, month, day)
    except ValueError:
        return None
    return found


def _named_date(text: str) -> tuple[int, int, int | None] | None:
    """``(day, month, year or None)`` for "12 Oct", "3rd of december 2026", "Dec 3, 2026"."""
    for match in _DAY_MONTH_RE.finditer(text):
        if match.group(2) in _MONTH_NAMES:
            year = int(match.group(3)) if match.group(3) else None
            return int(match.group(1)), _MONTH_NAMES[match.group(2)], year
    for match in _MONTH_DAY_RE.finditer(text):
        if match.group(1) in _MONTH_NAMES:
            year = int(match.group(3)) if match.group(3) else None
            return int(match.group(2)), _MONTH_NAMES[match.group(1)], year
    return None


def _referenced_day(text: str, today: date) -> date | None:
    if re.search(r"\byesterday", text):
        return today - timedelta(days=1)
    if re.search(r"\b(today|this morning|this afternoon|tonight)\b", text):
        return today
    iso = _ISO_DATE_RE.search(text)
    if iso:
        try:
            return date.fromisoformat(iso.group(1))
        except ValueError:
            return None
    named = _named_date(text)
    if named is not None:
        return _calendar_day(*named, today)
    weekday = _WEEKDAY_RE.search(text)
    if weekday:
        back = (today.weekday() - _WEEKDAY_NAMES[weekday.group(1) or weekday.group(2)]) % 7 or 7
        return today - timedelta(days=back)
    return None


def post_reference(text: str, today: date) -> PostReference | None:
    """Read a reference to one of our posts by day and platform, or None.

    "our post from Tuesday" → the latest Tuesday before ``today``; "yesterday's
    instagram post" → yesterday on Instagram; "our last tweet" → the latest post on
    Twitter; "the post on 12 Oct" → 12 October (this year, or last year if that is
    still to come). A weekday always means the past one, a week back at most.
    None when the text names no post or no day (then ask for the post's id).

    Args:
        text: The user's message.
        today: The reference day (UTC).
    """
    lowered = text.lower().replace("’", "'")
    if not _HAS_POST_RE.search(lowered):
        return None
    words = re.findall(r"\b[a-z]+\b", lowered)
    platform = next((_REFERENCE_PLATFORMS[w] for w in words if w in _REFERENCE_PLATFORMS), None)
    day = _referenced_day(lowered, today)
    if day is not None:
        return PostReference(day, _day_label(day), platform)
    if _LATEST_RE.search(lowered):
        return PostReference(None, "latest", platform)
    return None


# ---------------------------------------------------------------------------- posting time
#: How far ahead a planned post may be: the model predicts from the account's recent history.
POSTING_HORIZON = timedelta(days=30)
#: A time this little in the past still counts (it was typed a moment ago).
_PAST_GRACE = timedelta(minutes=5)
#: The hour each fuzzy part of the day stands for (said in the reply).
PARTS_OF_DAY = {
    "morning": 9,
    "lunchtime": 12,
    "lunch": 12,
    "afternoon": 15,
    "evening": 18,
    "tonight": 20,
    "night": 20,
}
#: The hour a day named without a time stands for ("tomorrow", "Friday").
DEFAULT_HOUR = 9
_LATE_PARTS = {"afternoon", "evening", "tonight", "night"}

_NOW_RE = re.compile(r"\b(?:right now|now|right away|straight away|immediately|asap|a\.s\.a\.p)\b")
_NUMBER = (
    r"\d+(?:\.\d+)?|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"fifteen|twenty|thirty|forty[- ]five|a couple(?: of)?|couple of|a few"
)
_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20,
    "thirty": 30, "forty-five": 45, "forty five": 45, "a couple": 2, "a couple of": 2,
    "couple of": 2, "a few": 3,
}  # fmt: skip
_UNIT_MINUTES = {"m": 1, "min": 1, "mins": 1, "minute": 1, "minutes": 1, "h": 60, "hr": 60,
                 "hrs": 60, "hour": 60, "hours": 60, "d": 1440, "day": 1440, "days": 1440,
                 "w": 10080, "wk": 10080, "wks": 10080, "week": 10080, "weeks": 10080}  # fmt: skip
_RELATIVE_RE = re.compile(
    rf"\bin\s+(?:(half an? (?:hour|hr))|({_NUMBER})\s*"
    r"(minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|wks?|w))\b"
)
_AGO_RE = re.compile(
    rf"\b({_NUMBER})\s*(minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|wks?|w) ago\b"
)
_DAY_AFTER_TOMORROW_RE = re.compile(r"\b(?:the )?day after (?:tomorrow|tmrw|tmr)\b")
_TOMORROW_RE = re.compile(r"\b(?:tomorrow|tomorow|tmrw|tmr|tmw)\b")
_TODAY_RE = re.compile(r"\b(?:today|tonight|this (?:morning|lunchtime|afternoon|evening))\b")
_SHORT_WEEKDAYS = r"mon|tues?|wed|thu(?:rs?)?|fri|sat|sun"
_TIME_AHEAD = r"(?=\.?\s*(?:\d|at\b|@|morning|lunch|afternoon|evening|night))"
# Full names anywhere; short ones ("fri") only after "on/this/next" or before a time,
# so "sun hats" and "wed" in a sentence are not days.
_PLANNED_WEEKDAY_RE = re.compile(
    r"\b(?:(this|next|coming|on)\s+)?(monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b|"
    rf"\b(this|next|coming|on)\s+({_SHORT_WEEKDAYS})\b|\b({_SHORT_WEEKDAYS}){_TIME_AHEAD}"
)
_SLASH_DATE_RE = re.compile(r"(?<![\d/.])(\d{1,2})/(\d{1,2})(?:/(\d{4}|\d{2}))?(?![\d/])")
_MERIDIEM = r"(am|pm|a\.m\.?|p\.m\.?)"
_CLOCK_RE = re.compile(
    rf"(?<![\d:.-])(\d{{1,2}})[:h](\d{{2}})(?::\d{{2}})?\s*{_MERIDIEM}?(?![\d:])"
)
_AMPM_RE = re.compile(rf"(?<![\d:.-])(\d{{1,2}})\s*{_MERIDIEM}(?!\w)")
_BARE_HOUR_RE = re.compile(
    r"(?:\bat|@)\s*(\d{1,2})(?:\s*o'?clock|h)?(?![\d:/.]|\w)|"
    r"(?<![\w:.-])(\d{1,2})h(?!\w)|\b(\d{1,2})\s*o'?clock\b"
)
_NOON_RE = re.compile(r"\b(?:noon|midday)\b")
_PART_RE = re.compile(r"\b(morning|lunchtime|lunch|afternoon|evening|tonight|night)\b")
_UTC_RE = re.compile(r"(?<=\d)z\b|\s*\+00:?00\b|\b(?:utc|gmt)\b(?!\s*[+-]\s*\d)")
_OTHER_ZONE_RE = re.compile(
    r"\b(?:est|edt|cst|cdt|mst|mdt|pst|pdt|akst|hst|cet|cest|bst|ist|eet|eest|wet|west|"
    r"aest|aedt|jst|kst|sgt|hkt)\b|\b(?:utc|gmt)\s*[+-]\s*\d|(?<=\d\d:\d\d)\s*[+-]\d{1,2}(?::?\d{2})?\b"
)
_ANY_TIME_RE = re.compile(
    r"\b(?:not sure|unsure|no idea|dunno|d(?:o|id)n'?t know|do not know|not decided|undecided|"
    r"haven'?t decided|you (?:pick|choose|decide)|your call|up to you|whenever|any ?time|"
    r"doesn'?t matter|does not matter|don'?t care|no preference|tbd|not yet known|no clue)\b"
)


@dataclass(frozen=True)
class PostingTime:
    """When a draft will go out, as read from the user's words.

    Attributes:
        when: The planned time (naive UTC, like ``posts.posted_at``).
        assumed: What was assumed to get there ("morning = 09:00"), to say in the
            reply; None when the words named the time exactly.
    """

    when: datetime
    assumed: str | None = None


def next_full_hour(now: datetime) -> datetime:
    """The first full hour after ``now`` (21:50 → 22:00; 22:00 → 23:00)."""
    return now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


def posting_time_label(when: datetime, now: datetime | None = None) -> str:
    """``Fri 4 Dec 09:00 UTC`` (with the year when it is not ``now``'s)."""
    year = f" {when.year}" if now is not None and when.year != now.year else ""
    return f"{when:%a} {when.day} {when:%b}{year} {when:%H:%M} UTC"


#: A draft in quotes (straight or curly), or after a colon that follows words, not digits
#: ("at 17:00" is a time, "how will this do: New colours!" is a draft).
_QUOTED_DRAFT_RE = re.compile(
    r"[\"“”]([^\"“”]+)[\"“”]"
    # Single quotes only around words, so the apostrophes of "here's tomorrow's" are not.
    r"|(?:(?<=\s)|^)['‘]([^'‘’\s](?:[^'‘’]*[^'‘’\s])?)['’](?=[\s,.!?;:)]|$)"
)
_COLON_DRAFT_RE = re.compile(r"(?<!\d):\s+(\S.*)$", re.DOTALL)
#: A request before the draft is short ("how will this do on instagram friday 9am").
_MAX_REQUEST_WORDS = 20


def holds_quoted_text(text: str) -> bool:
    """Whether ``text`` quotes two words or more (a draft, in quotes of any kind)."""
    return any(
        len((m.group(1) or m.group(2) or "").split()) >= 2 for m in _QUOTED_DRAFT_RE.finditer(text)
    )


def inline_draft(text: str) -> tuple[str, str] | None:
    """A draft given with the request: ``(request, draft)``, or None when there is none.

    "how will this do on instagram: New colours are in!" and 'score “New colours are
    in!” for friday' carry the draft; the request is the rest of the message, which is
    where a platform or a posting time is read from (a draft's own "this Friday" is not
    the posting time). A draft has at least two words.
    """
    quoted = max(
        _QUOTED_DRAFT_RE.finditer(text), key=lambda m: len(m.group(1) or m.group(2)), default=None
    )
    if quoted is not None:
        draft = quoted.group(1) or quoted.group(2)
        request = text[: quoted.start()] + text[quoted.end() :]
    else:
        colon = _COLON_DRAFT_RE.search(text)
        if colon is None:
            return None
        draft, request = colon.group(1), text[: colon.start()]
    draft, request = draft.strip(), " ".join(request.split())
    if len(draft.split()) < 2 or len(request.split()) > _MAX_REQUEST_WORDS:
        return None
    return request, draft


#: Words of a lead-in that hand a draft over ("thinking of tweeting this:", "here's
#: tomorrow's insta caption:", "planning to post this:").
_POSTING_CUE_RE = re.compile(
    r"\b(tweet\w*|post(s|ing|ed)?|caption\w*|draft\w*|copy|publish\w*|shar(e|ing)|"
    r"schedul\w*|go(es|ing)? out|announce\w*)\b"
)


#: Words of a request that asks how a draft will do ("how likely is this to do well",
#: "scoring request", "how do we think it'll go", "thoughts?", "good or nah?").
_PREDICTION_CUE_RE = re.compile(
    r"\b(do(es)? well|perform\w*|scor\w*|rat(e|ing)|forecast\w*|predict\w*|engagement|"
    r"land|hits? top|thoughts|good idea|good or|worth|go(es)? live|lined up|"
    r"(strong|weak|good|decent|great) (post|tweet|caption|one)|"
    r"how (will|would|do|does|is|'?ll)( \w+){0,3} (do|go|land|perform)|it'?ll (do|go|land))\b"
)
#: Words of a request that asks whether a phrase is allowed ("is 'attack the hill' ok as
#: a headline or is that off brand?"): a question for the documents, not a prediction.
_RULE_CUE_RE = re.compile(
    r"\b(allow\w*|off.brand|on.brand|brand voice|voice (guide|doc)|guidelines?|playbook|"
    r"rules?|polic(y|ies)|superlatives?)\b"
)


def handed_over_draft(text: str) -> tuple[str, str, str | None] | None:
    """A draft handed over with a lead-in, whatever the message was classified as.

    "thinking of tweeting this: new trail map is live" → ``(request, draft, "twitter")``:
    an inline draft (:func:`inline_draft`) whose lead-in speaks of posting it, asks how
    it will do or names a platform ("before this goes live on insta: …"), and the
    platform the lead-in names ("tweet" is Twitter/X), or None for none. None when the
    message hands over no draft.
    """
    found = inline_draft(text)
    if found is None:
        return None
    request, draft = found
    lowered = request.lower().replace("’", "'")
    platform = "twitter" if re.search(r"\btweet", lowered) else None
    for word in re.findall(r"[a-z]+", lowered):
        named = PLATFORM_ALIASES.get(word, word)
        if named in PLATFORMS and named not in ("other", "support"):
            platform = named
    cued = _POSTING_CUE_RE.search(lowered) or _PREDICTION_CUE_RE.search(lowered)
    if not cued and platform is None:
        return None
    return request, draft, platform


def asks_how_a_draft_will_do(text: str) -> bool:
    """Whether ``text`` hands over a draft and asks how it will do, not whether it is
    allowed: "i've got a fb post lined up for friday - '…' how do we think it'll go"
    is; "is 'attack the hill' ok as a headline or is that off brand" is not.
    """
    found = inline_draft(text)
    if found is None:
        return False
    lowered = found[0].lower().replace("’", "'")
    return bool(_PREDICTION_CUE_RE.search(lowered)) and not _RULE_CUE_RE.search(lowered)


def wants_any_time(text: str) -> bool:
    """Whether an answer leaves the time to us ("not sure", "you pick", "whenever")."""
    return bool(_ANY_TIME_RE.search(text.lower().replace("’", "'")))


def _naive_utc(value: datetime) -> datetime:
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.replace(second=0, microsecond=0)


def _amount(word: str) -> float:
    return float(word) if word[0].isdigit() else float(_NUMBER_WORDS[word])


def _hour_of(hour: int, minute: int, meridiem: str | None, raw: str) -> tuple[int, int]:
    """24-hour ``(hour, minute)``; ``raw`` is the user's words for the error message."""
    if meridiem:
        pm = meridiem.startswith("p")
        if 1 <= hour <= 12:
            hour = hour % 12 + (12 if pm else 0)
        elif not (pm and hour < 24):
            raise SlotValueError(f"'{raw}' is not a time of day; write it like 9am or 17:30.")
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise SlotValueError(f"'{raw}' is not a time of day; write it like 9am or 17:30.")
    return hour, minute


def _clock(text: str) -> tuple[int, int, bool, str | None] | None:
    """``(hour, minute, exact, note)`` of a clock time in ``text``, or None.

    ``exact`` is False for a bare hour without am/pm ("at 9"), which a later part of the
    day may move to the afternoon; ``note`` says when a bare 1-6 was read as pm.
    """
    match = _CLOCK_RE.search(text)
    if match:
        hour, minute = _hour_of(
            int(match.group(1)), int(match.group(2)), match.group(3), match.group(0).strip()
        )
        return hour, minute, bool(match.group(3)) or hour >= 13, None
    match = _AMPM_RE.search(text)
    if match:
        hour, minute = _hour_of(int(match.group(1)), 0, match.group(2), match.group(0).strip())
        return hour, minute, True, None
    if _NOON_RE.search(text):
        return 12, 0, True, None
    match = _BARE_HOUR_RE.search(text)
    if match:
        raw = next(g for g in match.groups() if g is not None)
        hour, minute = _hour_of(int(raw), 0, None, match.group(0).strip())
        if 1 <= hour <= 6:  # nobody schedules a post for 5 in the morning by saying "at 5"
            return (
                hour + 12,
                0,
                False,
                f"{hour} read as {hour + 12}:00; say {hour}am for the morning",
            )
        return hour, 0, hour >= 13, None
    return None


def _slash_date(match: re.Match[str], today: date) -> tuple[int, int, int | None]:
    first, second = int(match.group(1)), int(match.group(2))
    raw = match.group(0)
    if first <= 12 and second <= 12 and first != second:
        raise SlotValueError(
            f"'{raw}' could be {first} {calendar.month_abbr[second]} or "
            f"{second} {calendar.month_abbr[first]}; write it like 'Dec 3' or "
            f"'{today.year}-12-03'."
        )
    day, month = (first, second) if first > 12 or first == second else (second, first)
    year = match.group(3)
    return (
        day,
        month,
        (int(year) + 2000 if year and len(year) == 2 else int(year) if year else None),
    )


def _upcoming_date(day: int, month: int, year: int | None, today: date) -> date:
    """The date, in ``year``; without one, this year's, or next year's if this year's is long gone."""
    try:
        found = date(year or today.year, month, day)
        if year is None and (today - found).days > 180:
            found = date(today.year + 1, month, day)
    except ValueError:
        name = calendar.month_name[month] if 1 <= month <= 12 else f"month {month}"
        raise SlotValueError(f"There is no day {day} in {name}.") from None
    return found


def _planned_day(text: str, today: date) -> tuple[date | None, timedelta | None]:
    """The day a message plans for, and how far to move it when its time has passed.

    "Friday" said on a Friday after the time means next week's (7 days on); every
    other named day stays where it is (a past time there is refused).
    """
    iso = _ISO_DATE_RE.search(text)
    if iso:
        try:
            return date.fromisoformat(iso.group(1)), None
        except ValueError:
            raise SlotValueError(
                f"'{iso.group(1)}' is not a date; write it like 2026-12-03."
            ) from None
    slash = _SLASH_DATE_RE.search(text)
    if slash:
        return _upcoming_date(*_slash_date(slash, today), today), None
    named = _named_date(text)
    if named is not None:
        return _upcoming_date(*named, today), None
    if re.search(r"\byesterday\b", text):
        return today - timedelta(days=1), None
    last = re.search(r"\blast (monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b", text)
    if last:
        return today - timedelta(
            days=(today.weekday() - _WEEKDAY_NAMES[last.group(1)]) % 7 or 7
        ), None
    if _DAY_AFTER_TOMORROW_RE.search(text):
        return today + timedelta(days=2), None
    if _TOMORROW_RE.search(text):
        return today + timedelta(days=1), None
    if _TODAY_RE.search(text):
        return today, None
    weekday = _PLANNED_WEEKDAY_RE.search(text)
    if weekday:
        modifier = weekday.group(1) or weekday.group(3)
        name = weekday.group(2) or weekday.group(4) or weekday.group(5)
        ahead = (_WEEKDAY_NAMES[name] - today.weekday()) % 7
        if ahead == 0 and modifier == "next":
            return today + timedelta(days=7), None
        return today + timedelta(days=ahead), timedelta(days=7) if ahead == 0 else None
    return None, None


def _checked(found: PostingTime, now: datetime) -> PostingTime:
    label = posting_time_label(found.when, now)
    if found.when < now - _PAST_GRACE:
        raise SlotValueError(
            f"{label} is already past (it is {posting_time_label(now)} now); "
            "give a time from now on, like 'in 2 hours' or 'tomorrow 9am'."
        )
    if found.when > now + POSTING_HORIZON:
        raise SlotValueError(
            f"{label} is more than {POSTING_HORIZON.days} days ahead; the model predicts from "
            f"the account's recent posts, so give a time within the next {POSTING_HORIZON.days} days."
        )
    return found


def read_posting_time(text: str, now: datetime) -> PostingTime | None:
    """When a draft will go out, from what a marketer types; None when it names no time.

    Read, all in UTC: "now" / "right away"; "in 2 hours", "in 30 min", "in half an
    hour", "in 3 days"; "today 5pm", "tonight", "tomorrow morning", "tomorrow at 9",
    "the day after tomorrow"; a weekday ("friday 18:00", "next monday 9am": the coming
    one, today only while the time is still ahead, and never today after "next");
    "Dec 3 14:30", "3rd of December at 2pm"; "2026-12-03 14:00" (also ISO with ``T``);
    "25/12 9am" (day/month or month/day only when one of them is over 12: "3/12" is
    refused as ambiguous); a time alone ("at 17:30", "5pm": today, or tomorrow when it
    has passed). Parts of the day are morning 09:00, lunchtime 12:00, afternoon 15:00,
    evening 18:00, tonight 20:00; a day without a time is 09:00 (today: the next full
    hour); a bare "at 1" to "at 6" is read as pm. What was assumed is in
    :attr:`PostingTime.assumed`.

    Args:
        text: The user's words.
        now: The current time (UTC; naive or aware).

    Raises:
        SlotValueError: The time is past, more than :data:`POSTING_HORIZON` ahead, not a
            real date or time, ambiguous ("3/12"), or in another time zone.
    """
    now = _naive_utc(now)
    lowered = " ".join(text.lower().replace("’", "'").split())
    lowered = re.sub(r"(\d{4}-\d{2}-\d{2})t(?=\d)", r"\1 ", lowered)
    zone = _OTHER_ZONE_RE.search(lowered)
    if zone:
        raise SlotValueError(
            f"I plan in UTC only and can't convert '{zone.group(0).strip().upper()}'; "
            "give the time in UTC, like 'Friday 17:00'."
        )
    lowered = _UTC_RE.sub(" ", lowered)
    clock = _clock(lowered)
    part = _PART_RE.search(lowered)
    relative = _RELATIVE_RE.search(lowered)
    ago = _AGO_RE.search(lowered)
    if ago:
        minutes = _amount(ago.group(1)) * _UNIT_MINUTES[ago.group(2)]
        return _checked(PostingTime(now - timedelta(minutes=round(minutes))), now)
    if relative:
        minutes = (
            30.0
            if relative.group(1)
            else (_amount(relative.group(2)) * _UNIT_MINUTES[relative.group(3)])
        )
        ahead = now + timedelta(minutes=round(minutes))
        if minutes < 1440 or (clock is None and part is None):
            return _checked(PostingTime(ahead), now)
        day: date | None = ahead.date()
        roll = None
    else:
        day, roll = _planned_day(lowered, now.date())
    if clock is None and part is None:
        if day is None:
            return _checked(PostingTime(now), now) if _NOW_RE.search(lowered) else None
        if day == now.date():
            return _checked(
                PostingTime(next_full_hour(now), "no time given: the next full hour"), now
            )
        when = datetime.combine(day, time(DEFAULT_HOUR))
        return _checked(PostingTime(when, f"no time given: {DEFAULT_HOUR:02d}:00"), now)
    note: str | None
    if clock is not None:
        hour, minute, exact, note = clock
        if part and part.group(1) in _LATE_PARTS and not exact and hour < 12:
            hour, note = hour + 12, None  # "friday evening at 7"
    else:
        assert part is not None
        hour, minute = PARTS_OF_DAY[part.group(1)], 0
        note = f"{part.group(1)} = {hour:02d}:00"
    if day is None:
        day, roll = now.date(), timedelta(days=1)
    when = datetime.combine(day, time(hour, minute))
    if roll is not None and when < now - _PAST_GRACE:
        when += roll
    return _checked(PostingTime(when, note), now)


def parse_posting_time(text: str, now: datetime) -> datetime | None:
    """The planned posting time (naive UTC) in ``text``, or None; see :func:`read_posting_time`.

    Raises:
        SlotValueError: As :func:`read_posting_time`.
    """
    found = read_posting_time(text, now)
    return None if found is None else found.when


_ORDINAL_WORDS = {
    "first": 1, "1st": 1, "top": 1, "one": 1, "second": 2, "2nd": 2, "two": 2, "third": 3,
    "3rd": 3, "three": 3, "fourth": 4, "4th": 4, "four": 4, "fifth": 5, "5th": 5, "five": 5,
    "sixth": 6, "6th": 6, "six": 6, "seventh": 7, "7th": 7, "eighth": 8, "8th": 8,
    "ninth": 9, "9th": 9, "tenth": 10, "10th": 10, "last": -1,
}  # fmt: skip
_POSITION_RE = re.compile(
    r"(?:#|\bno\.?\s*|\bnumber\s+|\bnum\s+|\bnr\.?\s*)(\d{1,2}|one|two|three|four|five|six)\b"
    r"|\bthe\s+(first|last|top|1st)\b(?!\s+\d)"
    r"|\b(second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|"
    r"2nd|3rd|4th|5th|6th|7th|8th|9th|10th)\b"
    r"|\b(first|1st)\s+(?:one|post|creator|item|influencer|result|pick|place|spot|option)\b"
)


def mentioned_positions(text: str, shown: int) -> list[int]:
    """The 1-based places of a previous answer's items a follow-up points at, in order.

    "why is number one ahead of number two?" → [1, 2]; "tell me more about the third"
    → [3]; "the last one" → [``shown``]. Places beyond ``shown`` are left out.
    """
    positions: list[int] = []
    for match in _POSITION_RE.finditer(text.lower()):
        word = next(group for group in match.groups() if group)
        place = int(word) if word.isdigit() else _ORDINAL_WORDS[word]
        place = shown if place == -1 else place
        if 1 <= place <= shown and place not in positions:
            positions.append(place)
    return positions
