"""Empirical-Bayes shrinkage of engagement rates toward the follower tier."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from analytics.exceptions import NotFittedError
from analytics.influencers import (
    CreatorPost,
    CreatorProfile,
    EngagementShrinker,
    follower_tier,
    observe_engagement,
)

AS_OF = datetime(2026, 6, 1)


def _creator(name: str, followers: int, rates: list[float], *, seed: int = 0) -> CreatorProfile:
    posts = tuple(
        CreatorPost(
            post_id=f"{name}-{i}",
            posted_at=AS_OF - timedelta(days=2 * (len(rates) - i)),
            text="post",
            followers=followers,
            likes=int(rate * followers),
            comments=0,
            shares=0,
        )
        for i, rate in enumerate(rates)
    )
    return CreatorProfile(creator_id=name, handle=name, followers=followers, posts=posts)


def _steady(name: str, rate: float, n: int, seed: int) -> CreatorProfile:
    rng = np.random.default_rng(seed)
    return _creator(name, 40_000, list(rate * rng.lognormal(0.0, 0.35, n)))


@pytest.mark.parametrize(
    ("followers", "tier"),
    [
        (0, "nano"),
        (9_999, "nano"),
        (10_000, "micro"),
        (150_000, "mid"),
        (700_000, "macro"),
        (5_000_000, "mega"),
        (None, "unknown"),
    ],
)
def test_tiers(followers: int | None, tier: str) -> None:
    assert follower_tier(followers) == tier


def test_lucky_few_posts_shrink_below_steady_peers() -> None:
    peers = [_steady(f"steady{i}", 0.04 + 0.004 * i, 40, seed=i) for i in range(6)]
    lucky = _creator("lucky", 40_000, [0.03] * 5 + [0.30, 0.25])
    observations = [observe_engagement(c, as_of=AS_OF) for c in [*peers, lucky]]
    assert all(o is not None for o in observations)
    shrinker = EngagementShrinker().fit([o for o in observations if o is not None])
    estimates = {o.creator_id: shrinker.estimate(o) for o in observations if o is not None}
    best_peer = max(peers, key=lambda c: estimates[c.creator_id].raw_rate).creator_id
    assert estimates["lucky"].raw_rate > 1.5 * estimates[best_peer].raw_rate
    assert estimates["lucky"].rate < estimates[best_peer].rate
    # Steady creators with many posts keep (almost) their own rate; the lucky one does not.
    assert estimates[best_peer].weight_own > 5 * estimates["lucky"].weight_own
    width = {k: e.high / e.low for k, e in estimates.items()}
    assert width["lucky"] > max(width[p.creator_id] for p in peers)
    for e in estimates.values():
        assert e.low < e.rate < e.high
        assert e.tier == "micro" and e.level == 0.95


def test_shrinks_toward_tier_mean_and_uses_profiles() -> None:
    profiles = [
        CreatorProfile(
            creator_id=f"p{i}",
            handle=f"p{i}",
            followers=50_000 + i,
            posts_count=n,
            engagement_rate=rate,
        )
        for i, (n, rate) in enumerate(
            [(400, 0.02), (400, 0.04), (3, 0.12), (400, 0.03), (400, 0.05)]
        )
    ]
    observations = [observe_engagement(c, as_of=AS_OF) for c in profiles]
    shrinker = EngagementShrinker().fit([o for o in observations if o is not None])
    estimates = [shrinker.estimate(o) for o in observations if o is not None]
    few = estimates[2]
    assert not few.from_posts and few.evidence_posts == 1  # 3 lifetime posts: one in 60 days
    assert few.tier_rate < few.rate < few.raw_rate
    assert few.weight_own < min(e.weight_own for e in estimates if e is not few)


def test_small_tier_falls_back_to_all_creators() -> None:
    peers = [_steady(f"s{i}", 0.04, 20, seed=i) for i in range(4)]
    big = _creator("big", 2_000_000, [0.01] * 10)
    observations = [observe_engagement(c, as_of=AS_OF) for c in [*peers, big]]
    shrinker = EngagementShrinker().fit([o for o in observations if o is not None])
    assert "micro" in shrinker.tier_means_ and "mega" not in shrinker.tier_means_
    assert shrinker.tier_mean("mega")[1].startswith("all creators")


def test_no_data_and_not_fitted() -> None:
    assert observe_engagement(CreatorProfile(creator_id="x", handle="x"), as_of=AS_OF) is None
    obs = observe_engagement(_steady("a", 0.03, 5, seed=1), as_of=AS_OF)
    assert obs is not None
    with pytest.raises(NotFittedError, match="not fitted yet"):
        EngagementShrinker().estimate(obs)
    with pytest.raises(ValueError, match="at least one creator"):
        EngagementShrinker().fit([])
