"""Inputs and results of influencer ranking (frozen dataclasses)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from analytics.influencers._format import display_handle


@dataclass(frozen=True)
class CreatorPost:
    """One post of a creator.

    Attributes:
        post_id: The post's id.
        posted_at: When it was posted (naive UTC).
        text: The (pseudonymised) text.
        followers: The creator's followers at posting time, when known.
        likes: Likes.
        comments: Comments (replies).
        shares: Shares / reposts.
    """

    post_id: str
    posted_at: datetime
    text: str
    followers: int | None
    likes: int
    comments: int
    shares: int

    @property
    def engagements(self) -> int:
        """Likes + comments + shares."""
        return self.likes + self.comments + self.shares


@dataclass(frozen=True)
class CreatorProfile:
    """A creator as the ranking sees it: an account summary plus, when known, its posts.

    Attributes:
        creator_id: Stable id (``inf-...`` in the workspace).
        handle: The account handle (pseudonymised when it came from the workspace).
        platform: Platform name (``instagram``, ...).
        followers: Current follower count, when known.
        posts_count: Lifetime number of posts, when known.
        avg_likes: Average likes per post, when known.
        engagement_rate: Reported engagement rate as a fraction (0.0139 for 1.39%), when known.
        country: Country, when known.
        topics: Free-text topics (``"trail running, ultra"``), when known.
        cost_per_post: Price of one sponsored post (rate card), when known.
        posts: The creator's own posts, oldest first (may be empty).
        audience_texts: Replies and mentions of the creator written by others (may be empty).
        source: Where the profile came from.
    """

    creator_id: str
    handle: str
    platform: str = "instagram"
    followers: int | None = None
    posts_count: int | None = None
    avg_likes: float | None = None
    engagement_rate: float | None = None
    country: str | None = None
    topics: str | None = None
    cost_per_post: float | None = None
    posts: tuple[CreatorPost, ...] = ()
    audience_texts: tuple[str, ...] = ()
    source: str = ""

    @property
    def display(self) -> str:
        """Short handle for plain-language lines (``@u_1a2b3c…`` for pseudonyms)."""
        return display_handle(self.handle)

    def latest_followers(self) -> int | None:
        """Followers from the profile, else from the newest post that has them."""
        if self.followers:
            return self.followers
        for post in reversed(self.posts):
            if post.followers:
                return post.followers
        return None


def _num(value: float | None, digits: int = 6) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits)


@dataclass(frozen=True)
class EngagementEstimate:
    """Engagement rate of one creator, raw and shrunk toward its follower tier.

    Rates are fractions (engagements per follower per post).

    Attributes:
        raw_rate: The creator's own rate (mean over its posts, or the reported rate).
        rate: Empirical-Bayes (shrunk) rate.
        low: Lower end of the interval of ``rate``.
        high: Upper end of the interval of ``rate``.
        level: Interval level (0.95).
        tier: Follower tier (nano, micro, mid, macro, mega).
        tier_rate: The typical rate of the tier the creator is shrunk toward.
        tier_basis: What the tier mean was estimated from (``"micro tier, 9 creators"``).
        weight_own: Weight of the creator's own data in the estimate (0..1).
        evidence_posts: Posts behind the raw rate (assumed for profile-only rows).
        from_posts: Whether the raw rate came from the creator's posts.
    """

    raw_rate: float
    rate: float
    low: float
    high: float
    level: float
    tier: str
    tier_rate: float
    tier_basis: str
    weight_own: float
    evidence_posts: int
    from_posts: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "raw_rate": _num(self.raw_rate),
            "rate": _num(self.rate),
            "interval": [_num(self.low), _num(self.high)],
            "level": self.level,
            "tier": self.tier,
            "tier_rate": _num(self.tier_rate),
            "tier_basis": self.tier_basis,
            "weight_own": _num(self.weight_own, 4),
            "evidence_posts": self.evidence_posts,
            "from_posts": self.from_posts,
        }


@dataclass(frozen=True)
class AuthenticityFlag:
    """A reason to doubt a creator's numbers.

    Attributes:
        kind: ``engagement_above_audience``, ``engagement_below_audience``,
            ``few_comments`` or ``follower_jump``.
        message: Plain-language description with the numbers.
        score: The statistic behind it (robust z, or the jump as a fraction).
    """

    kind: str
    message: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message, "score": _num(self.score, 3)}


@dataclass(frozen=True)
class AudienceSentiment:
    """Sentiment of what the audience writes to or about a creator.

    Attributes:
        positive: Share of positive texts.
        neutral: Share of neutral texts.
        negative: Share of negative texts.
        n: Texts scored.
        basis: ``"audience"`` (replies and mentions) or ``"own posts"``.
        model_version: The sentiment scorer's version.
    """

    positive: float
    neutral: float
    negative: float
    n: int
    basis: str
    model_version: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "positive": _num(self.positive, 4),
            "neutral": _num(self.neutral, 4),
            "negative": _num(self.negative, 4),
            "n": self.n,
            "basis": self.basis,
            "model_version": self.model_version,
        }


@dataclass(frozen=True)
class Consistency:
    """How regularly a creator posts.

    Attributes:
        posts_per_week: Posts per week over the window.
        regularity: 1 / (1 + coefficient of variation of the gaps between posts), 0..1.
        n_posts: Posts in the window.
        window_days: Length of the window in days.
    """

    posts_per_week: float
    regularity: float
    n_posts: int
    window_days: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "posts_per_week": _num(self.posts_per_week, 3),
            "regularity": _num(self.regularity, 3),
            "n_posts": self.n_posts,
            "window_days": self.window_days,
        }


@dataclass(frozen=True)
class CostEfficiency:
    """Expected engagements per unit of money from one sponsored post.

    Attributes:
        cost_per_post: Price of one post.
        expected_engagements: Shrunk rate x followers (per post).
        per_1000: Expected engagements per 1,000 units of ``currency``.
        low: Lower end of ``per_1000`` (from the engagement-rate interval).
        high: Upper end of ``per_1000``.
        currency: Currency label of the rate card.
        posts_affordable: Posts the budget buys, when a budget was given.
    """

    cost_per_post: float
    expected_engagements: float
    per_1000: float
    low: float
    high: float
    currency: str
    posts_affordable: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "cost_per_post": _num(self.cost_per_post, 2),
            "expected_engagements": _num(self.expected_engagements, 1),
            "per_1000": _num(self.per_1000, 1),
            "interval": [_num(self.low, 1), _num(self.high, 1)],
            "currency": self.currency,
            "posts_affordable": self.posts_affordable,
        }


@dataclass(frozen=True)
class RankedCreator:
    """One creator in a ranking with every score behind its place.

    Attributes:
        position: 1-based place in the ranking (after diversity re-ordering).
        creator: The profile.
        brief: The brief the fit was measured against.
        fit: Mean cosine similarity of recent posts (or topics) to the brief, or None.
        fit_basis: ``"posts"``, ``"topics"`` or ``"none"``.
        engagement: Shrunk engagement rate, or None without followers/engagement data.
        sentiment: Audience sentiment, or None without texts.
        consistency: Posting regularity, or None without dated posts.
        flags: Authenticity flags (empty when none).
        cost: Cost efficiency, or None without a rate card entry.
        components: Each scored component in 0..1 (fit, engagement, sentiment,
            consistency, cost), only those available.
        contributions: Weighted contribution of each component to ``score``.
        score: The combined score (weights renormalised over available components,
            multiplied by the flag penalty).
        flag_multiplier: The factor flags applied to the score (1.0 with no flags).
        similar_to: Creator id of the higher-placed creator this one is most similar to.
        similarity: Cosine similarity of topic embeddings to ``similar_to`` (0 when none).
    """

    position: int
    creator: CreatorProfile
    brief: str
    fit: float | None
    fit_basis: str
    engagement: EngagementEstimate | None
    sentiment: AudienceSentiment | None
    consistency: Consistency | None
    flags: tuple[AuthenticityFlag, ...]
    cost: CostEfficiency | None
    components: dict[str, float] = field(default_factory=dict)
    contributions: dict[str, float] = field(default_factory=dict)
    score: float = 0.0
    flag_multiplier: float = 1.0
    similar_to: str | None = None
    similarity: float = 0.0

    @property
    def creator_id(self) -> str:
        return self.creator.creator_id

    def reason_line(self) -> str:
        """One plain line: fit, shrunk engagement with interval, sentiment, cost, flags."""
        from analytics.influencers._format import reason_line

        return reason_line(self)

    def to_dict(self) -> dict[str, Any]:
        c = self.creator
        return {
            "position": self.position,
            "creator_id": c.creator_id,
            "handle": c.handle,
            "platform": c.platform,
            "followers": c.latest_followers(),
            "country": c.country,
            "score": _num(self.score, 4),
            "fit": _num(self.fit, 4),
            "fit_basis": self.fit_basis,
            "engagement": self.engagement.to_dict() if self.engagement else None,
            "sentiment": self.sentiment.to_dict() if self.sentiment else None,
            "consistency": self.consistency.to_dict() if self.consistency else None,
            "cost": self.cost.to_dict() if self.cost else None,
            "flags": [f.to_dict() for f in self.flags],
            "flag_multiplier": _num(self.flag_multiplier, 4),
            "components": {k: _num(v, 4) for k, v in self.components.items()},
            "contributions": {k: _num(v, 4) for k, v in self.contributions.items()},
            "similar_to": self.similar_to,
            "similarity": _num(self.similarity, 4),
            "reason": self.reason_line(),
        }
