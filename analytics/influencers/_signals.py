"""Per-creator signals: topic fit to a brief, audience sentiment, consistency, cost efficiency."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime

import numpy as np

from analytics.influencers._engagement import window_posts
from analytics.influencers._types import (
    AudienceSentiment,
    Consistency,
    CostEfficiency,
    CreatorProfile,
    EngagementEstimate,
)
from analytics.sentiment import LABELS, SentimentScorer

Encoder = Callable[[Sequence[str]], np.ndarray]

FIT_POSTS = 20
MIN_AUDIENCE_TEXTS = 5
SENTIMENT_TEXTS = 200


def topic_texts(
    creator: CreatorProfile, as_of: datetime, window_days: int
) -> tuple[list[str], str]:
    """Texts that describe what a creator posts about, and their basis.

    The most recent :data:`FIT_POSTS` posts of the window (``"posts"``), else the
    profile's topics (``"topics"``), else nothing (``"none"``).
    """
    posts = [p.text for p in window_posts(creator, as_of, window_days) if p.text.strip()]
    if posts:
        return posts[-FIT_POSTS:], "posts"
    if creator.topics and creator.topics.strip():
        return [creator.topics.strip()], "topics"
    return [], "none"


def embed_creators(
    creators: Sequence[CreatorProfile],
    brief: str,
    encoder: Encoder,
    *,
    as_of: datetime,
    window_days: int,
) -> tuple[dict[str, float], dict[str, str], dict[str, np.ndarray]]:
    """Fit of each creator to the brief and a topic vector per creator.

    Fit is the mean cosine similarity between the brief and the creator's recent
    posts (or its topics); the topic vector is the normalised mean of those
    post embeddings (used for diversity). One encoder call for everything.

    Returns:
        (fit by creator id, basis by creator id, topic vector (384,) by creator id);
        creators without texts have no fit and no vector.
    """
    texts: list[str] = [brief]
    spans: dict[str, tuple[int, int]] = {}
    basis: dict[str, str] = {}
    for creator in creators:
        own, kind = topic_texts(creator, as_of, window_days)
        basis[creator.creator_id] = kind
        if own:
            spans[creator.creator_id] = (len(texts), len(texts) + len(own))
            texts.extend(own)
    if not spans:
        return {}, basis, {}
    vectors = np.asarray(encoder(texts), dtype=np.float64)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = vectors / np.where(norms > 0, norms, 1.0)
    brief_vector = vectors[0]
    fits: dict[str, float] = {}
    topics: dict[str, np.ndarray] = {}
    for creator_id, (start, stop) in spans.items():
        block = vectors[start:stop]
        fits[creator_id] = float(np.mean(block @ brief_vector))
        centroid = block.mean(axis=0)
        norm = float(np.linalg.norm(centroid))
        topics[creator_id] = centroid / norm if norm > 0 else centroid
    return fits, basis, topics


def audience_sentiment(
    creators: Sequence[CreatorProfile],
    scorer: SentimentScorer,
    *,
    as_of: datetime,
    window_days: int,
) -> dict[str, AudienceSentiment]:
    """Share of positive/neutral/negative texts about each creator.

    Replies and mentions by others when there are at least
    :data:`MIN_AUDIENCE_TEXTS`, else the creator's own posts. One scorer call.
    """
    texts: list[str] = []
    spans: dict[str, tuple[int, int, str]] = {}
    for creator in creators:
        audience = [t for t in creator.audience_texts if t.strip()]
        if len(audience) >= MIN_AUDIENCE_TEXTS:
            chosen, kind = audience[-SENTIMENT_TEXTS:], "audience"
        else:
            chosen = [p.text for p in window_posts(creator, as_of, window_days) if p.text.strip()]
            chosen, kind = chosen[-SENTIMENT_TEXTS:], "own posts"
        if chosen:
            spans[creator.creator_id] = (len(texts), len(texts) + len(chosen), kind)
            texts.extend(chosen)
    if not texts:
        return {}
    labels = scorer.predict(texts)
    result: dict[str, AudienceSentiment] = {}
    for creator_id, (start, stop, kind) in spans.items():
        block = labels[start:stop]
        n = len(block)
        shares = {label: block.count(label) / n for label in LABELS}
        result[creator_id] = AudienceSentiment(
            positive=shares["positive"],
            neutral=shares["neutral"],
            negative=shares["negative"],
            n=n,
            basis=kind,
            model_version=scorer.version,
        )
    return result


def posting_consistency(
    creator: CreatorProfile, *, as_of: datetime, window_days: int
) -> Consistency | None:
    """Posts per week and regularity of the gaps; None with fewer than 3 dated posts."""
    posts = window_posts(creator, as_of, window_days)
    if len(posts) < 3:
        return None
    times = np.array([p.posted_at.timestamp() for p in posts]) / 86_400.0
    gaps = np.diff(np.sort(times))
    span_days = max(float(as_of.timestamp() / 86_400.0 - times.min()), 7.0)
    mean_gap = float(gaps.mean())
    cv = float(gaps.std() / mean_gap) if mean_gap > 0 else float("inf")
    return Consistency(
        posts_per_week=len(posts) / (span_days / 7.0),
        regularity=1.0 / (1.0 + cv) if math.isfinite(cv) else 0.0,
        n_posts=len(posts),
        window_days=window_days,
    )


def cost_efficiency(
    creator: CreatorProfile,
    engagement: EngagementEstimate | None,
    *,
    currency: str,
    budget: float | None,
) -> CostEfficiency | None:
    """Expected engagements per 1,000 of money from one post, with the rate's interval."""
    cost = creator.cost_per_post
    followers = creator.latest_followers()
    if cost is None or cost <= 0 or engagement is None or not followers:
        return None
    expected = engagement.rate * followers
    return CostEfficiency(
        cost_per_post=cost,
        expected_engagements=expected,
        per_1000=1000.0 * expected / cost,
        low=1000.0 * engagement.low * followers / cost,
        high=1000.0 * engagement.high * followers / cost,
        currency=currency,
        posts_affordable=None if budget is None else int(budget // cost),
    )
