"""Inputs and results of the engagement model (frozen dataclasses)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


def percent(p: float) -> str:
    """A probability for people: ``>99%`` and ``<1%`` rather than false certainty."""
    if p > 0.99:
        return ">99%"
    if p < 0.01:
        return "<1%"
    return f"{p:.0%}"


@dataclass(frozen=True)
class Draft:
    """A post before publishing.

    Attributes:
        text: The post text.
        account: The (pseudonymised) account it will go out on; ``None`` uses the
            model's only account when it knows exactly one.
        posted_at: Planned publishing time (naive UTC); ``None`` means now.
        media_type: ``none``, ``image``, ``video`` or ``link``.
    """

    text: str
    account: str | None = None
    posted_at: datetime | None = None
    media_type: str = "none"


@dataclass(frozen=True)
class Prediction:
    """How a draft is expected to do.

    Attributes:
        probability: Calibrated probability that the post lands in the top 30%
            of its account's recent posts.
        expected_engagement: Expected likes + comments + shares.
        interval: 80% interval of likes + comments + shares (low, high).
        members: Each member's raw probability.
        account_history: Earlier posts of the account the context was built from.
    """

    probability: float
    expected_engagement: float
    interval: tuple[float, float]
    members: dict[str, float]
    account_history: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Reason:
    """One human feature's push on the probability (SHAP on the LightGBM member).

    Attributes:
        feature: Human name ("posting hour", "hashtag count", ...).
        value: The draft's value in words ("19:00", "3", ...).
        points: Approximate change of the probability in percentage points.
    """

    feature: str
    value: str
    points: float

    @property
    def direction(self) -> str:
        return "raises" if self.points > 0 else "lowers"


@dataclass(frozen=True)
class WordEffect:
    """How much removing one word changes the ensemble's probability (occlusion)."""

    word: str
    points: float


@dataclass(frozen=True)
class Explanation:
    """Why the model expects what it expects for one draft."""

    prediction: Prediction
    reasons: list[Reason]
    helped: list[WordEffect]
    hurt: list[WordEffect]

    def text(self) -> str:
        """The explanation in plain language."""
        p = self.prediction
        lines = [
            f"Chance of landing in this account's top 30%: {percent(p.probability)} "
            f"(expected about {p.expected_engagement:,.0f} likes+comments+shares, "
            f"80% range {p.interval[0]:,.0f}–{p.interval[1]:,.0f})."
        ]
        if self.reasons:
            lines.append("Strongest reasons:")
            for reason in self.reasons:
                lines.append(
                    f"- {reason.feature} ({reason.value}) {reason.direction} it by about "
                    f"{abs(reason.points):.1f} points"
                )
        if self.helped:
            words = ", ".join(f"'{w.word}' (+{w.points:.1f})" for w in self.helped)
            lines.append(f"Words that helped: {words}.")
        if self.hurt:
            words = ", ".join(f"'{w.word}' ({w.points:.1f})" for w in self.hurt)
            lines.append(f"Words that hurt: {words}.")
        if p.account_history < 5:
            lines.append("Caution: this account has little history, so the estimate is rough.")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "text": self.text()}


@dataclass(frozen=True)
class Recommendation:
    """One change to the draft and what the model expects it to do.

    Attributes:
        change: What to change, in words.
        kind: ``time``, ``media``, ``hashtags`` or ``length``.
        before: Calibrated probability of the draft as written.
        after: Calibrated probability with the change.
        agreement: Share of members whose own probability also rises.
        confidence: ``high``, ``medium`` or ``low`` (size of the gain and agreement).
        changes_meaning: True when the change edits the words of the message.
        draft: The changed draft.
    """

    change: str
    kind: str
    before: float
    after: float
    agreement: float
    confidence: str
    changes_meaning: bool
    draft: Draft = field(repr=False)

    def text(self) -> str:
        """One plain sentence."""
        note = (
            " (this edits the message itself: check it still says what you mean)"
            if self.changes_meaning
            else ""
        )
        return (
            f"{self.change}: {percent(self.before)} → {percent(self.after)} "
            f"({self.confidence} confidence){note}"
        )
