"""Pure functions that turn slot values and user text into analytics arguments.

Tested without a tracker; the actions only call them.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from beacon.workspace import PLATFORMS

PLATFORM_ALIASES = {
    "x": "twitter", "tw": "twitter", "tweets": "twitter", "tweet": "twitter",
    "ig": "instagram", "insta": "instagram", "gram": "instagram",
    "fb": "facebook", "meta": "facebook",
    "li": "linkedin", "yt": "youtube", "tt": "tiktok",
    "support chats": "support", "support chat": "support", "chats": "support",
    "customer chats": "support", "support conversations": "support", "widget": "support",
    "customer support": "support", "support widget": "support", "helpdesk": "support",
}  # fmt: skip

ALL_PLATFORMS = {"all", "everywhere", "all platforms", "overall", "any", "every platform"}


class SlotValueError(ValueError):
    """A slot value cannot be used; the message is said to the user."""


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
        raise SlotValueError(
            f"I don't know the platform '{value}'. I have data for: "
            + ", ".join(p for p in PLATFORMS if p != "other")
            + "."
        )
    return cleaned


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


_STOP_WORDS = {"the", "test", "a", "an", "our", "experiment", "exp", "ab", "a/b", "one", "split"}


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
    if not value:
        return None
    wanted = _tokens(value)
    scored = sorted(
        ((len(wanted & (_tokens(eid) | _tokens(name))), eid) for eid, name in experiments),
        reverse=True,
    )
    if not scored or scored[0][0] == 0 or (len(scored) > 1 and scored[1][0] == scored[0][0]):
        return None
    return scored[0][1]


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
    for match in _DAY_MONTH_RE.finditer(text):
        if match.group(2) in _MONTH_NAMES:
            year = int(match.group(3)) if match.group(3) else None
            return _calendar_day(int(match.group(1)), _MONTH_NAMES[match.group(2)], year, today)
    for match in _MONTH_DAY_RE.finditer(text):
        if match.group(1) in _MONTH_NAMES:
            year = int(match.group(3)) if match.group(3) else None
            return _calendar_day(int(match.group(2)), _MONTH_NAMES[match.group(1)], year, today)
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
