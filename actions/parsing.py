"""Pure functions that turn slot values and user text into analytics arguments.

Tested without a tracker; the actions only call them.
"""

from __future__ import annotations

import re

from beacon.workspace import PLATFORMS

PLATFORM_ALIASES = {
    "x": "twitter", "tw": "twitter", "tweets": "twitter", "tweet": "twitter",
    "ig": "instagram", "insta": "instagram", "gram": "instagram",
    "fb": "facebook", "meta": "facebook",
    "li": "linkedin", "yt": "youtube", "tt": "tiktok",
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
            f"I don't know the platform '{value}'. I have data for: {', '.join(PLATFORMS[:-1])}."
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
