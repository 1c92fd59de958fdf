"""Support conversations: is the customer frustrated or in a hurry, and what to hand over.

Pure functions over texts; the sentiment probability comes from the caller (the
action server scores each customer message once with Beacon's sentiment model and
stores the score). Two kinds of evidence are combined, each one named in the result
so a person can see why a hand-off was offered:

- the sentiment model's probability that the message is negative;
- simple cues: asking for a person, money back, urgency, shouting, and asking the
  same question again (the customer did not get what they needed).

Asking for a person always offers a hand-off; otherwise it takes two pieces of
evidence (a negative tone counts as one), so "what is your refund policy?" is
answered, and "I want my money back NOW, third time I'm asking" is offered a person.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

#: The workspace platform that support conversations are stored under.
SUPPORT_PLATFORM = "support"
#: P(negative) from which a message's tone counts as evidence of frustration.
NEGATIVE_TONE = 0.5
#: Token-set overlap (Jaccard) from which a message repeats an earlier one.
REPEAT_OVERLAP = 0.6
#: Pieces of evidence (cues, a negative tone) that offer a hand-off without a request.
EVIDENCE_FOR_HANDOFF = 2

_PERSON = re.compile(
    r"\b(agent|human|real person|a person|someone real|representative|operator|"
    r"speak to (?:someone|somebody|a manager)|talk to (?:someone|somebody|a manager)|"
    r"manager|supervisor|call me)\b"
)
_MONEY = re.compile(
    r"\b(refund|refunded|money back|chargeback|charge back|compensation|reimburse\w*)\b"
)
_URGENT = re.compile(
    r"\b(urgent\w*|asap|immediately|right now|right away|now(?=\s*!)|emergency|"
    r"still (?:waiting|nothing|no)|(?:two|three|2|3) weeks|no one|nobody|today(?=\s*!))\b"
)
_WORD = re.compile(r"[a-z0-9']+")
_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "i",
        "my",
        "me",
        "we",
        "our",
        "you",
        "your",
        "it",
        "is",
        "are",
        "was",
        "be",
        "to",
        "of",
        "and",
        "or",
        "in",
        "on",
        "for",
        "with",
        "at",
        "this",
        "that",
        "do",
        "does",
        "did",
        "can",
        "could",
        "would",
        "will",
        "please",
        "hi",
        "hello",
        "hey",
    ]
)


@dataclass(frozen=True)
class Frustration:
    """How frustrated or urgent one customer message looks, and why.

    Attributes:
        negative: The sentiment model's probability that the message is negative.
        cues: The cues found, in words ("asks for a person", "mentions money back", ...).
        asks_for_person: The customer asked for a person.
        offer_handoff: Whether to offer a hand-off to a person.
    """

    negative: float
    cues: tuple[str, ...]
    asks_for_person: bool
    offer_handoff: bool

    @property
    def evidence(self) -> tuple[str, ...]:
        """Every reason, the negative tone included when it counts."""
        tone = (f"negative tone ({self.negative:.0%})",) if self.negative >= NEGATIVE_TONE else ()
        return tone + self.cues


def _tokens(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


def repeats_earlier(message: str, earlier: Sequence[str]) -> bool:
    """Whether ``message`` asks again what an earlier message asked (token-set overlap)."""
    words = _tokens(message)
    if len(words) < 2:
        return False
    for previous in earlier:
        other = _tokens(previous)
        if other and len(words & other) / len(words | other) >= REPEAT_OVERLAP:
            return True
    return False


def _shouting(message: str) -> bool:
    letters = [c for c in message if c.isalpha()]
    upper = sum(c.isupper() for c in letters)
    return "!!" in message or (len(letters) >= 8 and upper / len(letters) >= 0.6)


def assess_frustration(message: str, earlier: Sequence[str], negative: float) -> Frustration:
    """Judge one customer message.

    Args:
        message: The customer's latest message.
        earlier: The customer's earlier messages in this conversation, oldest first.
        negative: The sentiment model's P(negative) for ``message``, in [0, 1].

    Raises:
        ValueError: ``negative`` is not a probability.
    """
    if not 0.0 <= negative <= 1.0:
        raise ValueError(f"negative must be a probability in [0, 1] (got {negative!r})")
    lowered = message.lower()
    cues: list[str] = []
    asks_for_person = bool(_PERSON.search(lowered))
    if asks_for_person:
        cues.append("asks for a person")
    if _MONEY.search(lowered):
        cues.append("mentions money back")
    if _URGENT.search(lowered):
        cues.append("sounds urgent or long-waiting")
    if _shouting(message):
        cues.append("shouting")
    if repeats_earlier(message, earlier):
        cues.append("asks the same thing again")
    evidence = len(cues) + (negative >= NEGATIVE_TONE)
    return Frustration(
        negative=negative,
        cues=tuple(cues),
        asks_for_person=asks_for_person,
        offer_handoff=asks_for_person or evidence >= EVIDENCE_FOR_HANDOFF,
    )


@dataclass(frozen=True)
class Turn:
    """One message of a conversation: ``who`` is ``"customer"`` or ``"bot"``."""

    who: str
    text: str


@dataclass(frozen=True)
class HandoffSummary:
    """What the person taking over a support conversation needs.

    The customer's words are kept apart from Beacon's own (counts and mood), so a
    channel that renders markup can quote them safely.

    Attributes:
        first_question: The customer's first message, clipped; None when they asked for
            a person before saying anything else.
        customer_messages: How many messages the customer wrote.
        mood: ``"negative"``, ``"mixed"`` or ``"calm"``.
        mean_negative: Average P(negative) of the customer's messages.
        max_negative: Highest P(negative) of the customer's messages.
        latest: The latest turns, oldest first, each text clipped to one line.
    """

    first_question: str | None
    customer_messages: int
    mood: str
    mean_negative: float
    max_negative: float
    latest: tuple[Turn, ...]

    def overview(self) -> str:
        """One line in Beacon's words: the message count and the mood."""
        if self.first_question is None:
            return "The customer asked for a person before saying anything else."
        plural = "s" if self.customer_messages != 1 else ""
        return (
            f"{self.customer_messages} customer message{plural}; mood {self.mood} "
            f"(average chance of a negative message {self.mean_negative:.0%}, "
            f"highest {self.max_negative:.0%})."
        )

    def as_text(self) -> str:
        """The whole summary as plain text (what the audit keeps)."""
        if self.first_question is None:
            return self.overview()
        lines = [f"First question: “{self.first_question}”", self.overview(), "Latest turns:"]
        lines += [f"• {t.who}: {t.text}" for t in self.latest]
        return "\n".join(lines)


def summarize_handoff(
    turns: Sequence[Turn], negative: Sequence[float], max_turns: int = 8
) -> HandoffSummary:
    """A short summary for the person taking over: what was asked, the mood, the last turns.

    Args:
        turns: The conversation, oldest first.
        negative: P(negative) of each customer message, in order.
        max_turns: How many of the latest turns to quote.
    """
    asked = [t.text for t in turns if t.who == "customer"]
    mean = sum(negative) / len(negative) if negative else 0.0
    highest = max(negative, default=0.0)
    mood = "negative" if mean >= NEGATIVE_TONE else "mixed" if highest >= NEGATIVE_TONE else "calm"
    return HandoffSummary(
        first_question=_clip(asked[0]) if asked else None,
        customer_messages=len(asked),
        mood=mood,
        mean_negative=mean,
        max_negative=highest,
        latest=tuple(Turn(t.who, _clip(t.text)) for t in turns[-max_turns:]) if asked else (),
    )


def handoff_summary(turns: Sequence[Turn], negative: Sequence[float], max_turns: int = 8) -> str:
    """:func:`summarize_handoff` as plain text."""
    return summarize_handoff(turns, negative, max_turns).as_text()


def _clip(text: str, limit: int = 280) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"
