"""Engagement rate with empirical-Bayes shrinkage toward the creator's follower tier.

Model (on the log scale, where engagement rates are roughly normal):

- each post ``j`` of creator ``i`` has log rate ``y_ij ~ N(theta_i, sigma_i^2)``;
- creators of one follower tier ``t`` have ``theta_i ~ N(mu_t, tau_t^2)``.

A creator's own mean ``ybar_i`` has sampling variance ``v_i = s_i^2 / n_i``, where
``s_i^2`` is the creator's post-to-post variance moderated toward the pooled
one (``prior_df`` pseudo-posts, as in limma), so that a creator whose few posts
swing wildly is trusted less. The posterior mean is

    theta_i* = mu_t + B_i (ybar_i - mu_t),   B_i = tau_t^2 / (tau_t^2 + v_i),

with variance ``B_i v_i``. ``mu_t`` and ``tau^2`` are estimated from the creators
themselves (method of moments; creators with authenticity flags left out); each
tier's ``tau_t^2`` is its own moment estimate moderated toward the pooled one.
Rates are reported back on the original scale as ``exp(theta + sigma^2 / 2)``,
the mean of a log-normal, so an unshrunk creator's rate matches its plain
average. A creator with a few lucky posts has a large ``v_i`` and is pulled
toward its tier; a steady creator with many posts keeps its own rate.

Profile-only creators (no posts, e.g. the Top-200 file) have just a reported
rate; their evidence is the number of posts the rate's window is expected to
hold at the account's lifetime posting pace (see :func:`observe_engagement`),
with the pooled post-to-post variance.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from scipy import stats

from analytics.exceptions import NotFittedError
from analytics.influencers._types import CreatorPost, CreatorProfile, EngagementEstimate

#: Follower tiers (name, lower bound inclusive), the usual industry cut-offs.
TIERS: tuple[tuple[str, int], ...] = (
    ("nano", 0),
    ("micro", 10_000),
    ("mid", 100_000),
    ("macro", 500_000),
    ("mega", 1_000_000),
)

#: Within-account standard deviation of log(likes / followers) per post, pooled over
#: 91 Instagram accounts (3,7k posts) of ../shared/data/engagement/instagram/
#: instagram-likes-followers.csv; re-measured by ``python -m benchmarks.influencers``.
#: Used when the creators at hand have too few posts to estimate it.
DEFAULT_POST_LOG_SD = 0.63

MIN_POOLED_DF = 10
TAU2_FLOOR = 0.005


def follower_tier(followers: float | None) -> str:
    """The tier name of a follower count (``None`` -> ``'unknown'``)."""
    if followers is None or not math.isfinite(followers):
        return "unknown"
    name = TIERS[0][0]
    for tier, lower in TIERS:
        if followers >= lower:
            name = tier
    return name


@dataclass(frozen=True)
class EngagementObservation:
    """What a creator's own data say about its engagement rate.

    Attributes:
        creator_id: The creator.
        tier: Follower tier.
        raw_rate: Mean rate over posts (or the reported rate).
        log_mean: Mean of log rates over posts (None for profile-only creators).
        log_var: Sample variance of the log rates (None with fewer than 2 posts).
        n: Posts behind the rate (for profile-only rows: ``min(posts_count, cap)``).
        from_posts: Whether it came from posts.
    """

    creator_id: str
    tier: str
    raw_rate: float
    log_mean: float | None
    log_var: float | None
    n: int
    from_posts: bool


def window_posts(creator: CreatorProfile, as_of: datetime, window_days: int) -> list[CreatorPost]:
    """The creator's posts in the ``window_days`` before ``as_of``, oldest first."""
    start = as_of - timedelta(days=window_days)
    return [p for p in creator.posts if start <= p.posted_at <= as_of]


def observe_engagement(
    creator: CreatorProfile,
    *,
    as_of: datetime,
    window_days: int = 180,
    profile_window_days: int = 60,
    account_age_days: int = 3650,
    profile_evidence_cap: int = 60,
) -> EngagementObservation | None:
    """Per-post engagement rates in the window, or the profile's rate; None without either.

    A profile's rate (e.g. the Top-200 file's 60-day rate) rests on the posts of its
    window, which the file does not count: they are estimated as lifetime posts x
    ``profile_window_days`` / ``account_age_days`` (an account posting at its lifetime
    pace), between 1 and ``profile_evidence_cap``.
    """
    followers = creator.latest_followers()
    tier = follower_tier(followers)
    rates: list[float] = []
    logs: list[float] = []
    for post in window_posts(creator, as_of, window_days):
        base = post.followers or followers
        if not base:
            continue
        rates.append(post.engagements / base)
        logs.append(math.log((post.engagements + 0.5) / base))
    if rates:
        n = len(rates)
        return EngagementObservation(
            creator_id=creator.creator_id,
            tier=tier,
            raw_rate=float(np.mean(rates)),
            log_mean=float(np.mean(logs)),
            log_var=float(np.var(logs, ddof=1)) if n >= 2 else None,
            n=n,
            from_posts=True,
        )
    rate = creator.engagement_rate
    if rate is None and creator.avg_likes is not None and followers:
        rate = creator.avg_likes / followers
    if rate is None or not math.isfinite(rate) or rate < 0:
        return None
    pace = (creator.posts_count or 0) * profile_window_days / account_age_days
    evidence = min(max(round(pace), 1), profile_evidence_cap)
    return EngagementObservation(
        creator_id=creator.creator_id,
        tier=tier,
        raw_rate=float(rate),
        log_mean=None,
        log_var=None,
        n=max(int(evidence), 1),
        from_posts=False,
    )


class EngagementShrinker:
    """Empirical-Bayes engagement rates shrunk toward each follower tier's mean.

    Args:
        post_log_sd: Post-to-post SD of log engagement rate; None estimates it from
            the creators' posts (falling back to :data:`DEFAULT_POST_LOG_SD`).
        prior_df: Pseudo-posts with which each creator's own variance is moderated
            toward the pooled one.
        min_tier_size: Fewest creators a tier needs for its own mean; smaller tiers
            shrink toward the mean of all creators.
        level: Level of the reported intervals.

    Fitted attributes:
        sigma2_: Pooled post-to-post variance of log rates.
        tau2_: Between-creator variance of true log rates within a tier, pooled over tiers.
        tier_means_: Tier name -> mean log rate (mu_t).
        tier_tau2_: Tier name -> that tier's between-creator variance, moderated toward
            ``tau2_`` with ``prior_df`` pseudo-creators.
        tier_basis_: Tier name -> what its mean was estimated from.
        global_mean_: Mean log rate over all creators.
    """

    def __init__(
        self,
        post_log_sd: float | None = None,
        prior_df: float = 4.0,
        min_tier_size: int = 3,
        level: float = 0.95,
    ) -> None:
        self.post_log_sd = post_log_sd
        self.prior_df = prior_df
        self.min_tier_size = min_tier_size
        self.level = level

    # -- helpers -----------------------------------------------------------------
    def _y(self, obs: EngagementObservation, sigma2: float) -> float:
        if obs.log_mean is not None:
            return obs.log_mean
        return math.log(max(obs.raw_rate, 1e-6)) - sigma2 / 2.0

    def _v(self, obs: EngagementObservation, sigma2: float) -> float:
        if obs.from_posts and obs.log_var is not None:
            df = obs.n - 1
            moderated = (self.prior_df * sigma2 + df * obs.log_var) / (self.prior_df + df)
            return moderated / obs.n
        return sigma2 / obs.n

    def fit(
        self, observations: Sequence[EngagementObservation], exclude: Collection[str] = ()
    ) -> EngagementShrinker:
        """Estimate the pooled variance, tier means and between-creator variance.

        Args:
            observations: One per creator (see :func:`observe_engagement`).
            exclude: Creator ids left out of the estimates (e.g. flagged accounts).

        Returns:
            self
        """
        usable = [o for o in observations if o.creator_id not in set(exclude)] or list(observations)
        if not usable:
            raise ValueError(
                "EngagementShrinker.fit needs at least one creator with engagement data"
            )
        if self.post_log_sd is not None:
            sigma2 = float(self.post_log_sd) ** 2
        else:
            with_var = [o for o in usable if o.log_var is not None]
            df = sum(o.n - 1 for o in with_var)
            if df >= MIN_POOLED_DF:
                sigma2 = sum((o.n - 1) * float(o.log_var or 0.0) for o in with_var) / df
            else:
                sigma2 = DEFAULT_POST_LOG_SD**2
        self.sigma2_ = sigma2
        y = np.array([self._y(o, sigma2) for o in usable])
        v = np.array([self._v(o, sigma2) for o in usable])
        tiers = [o.tier for o in usable]
        counts = {t: tiers.count(t) for t in set(tiers)}
        own = {t for t, n in counts.items() if n >= self.min_tier_size}
        groups = np.array([t if t in own else "__all__" for t in tiers])

        tau2 = max(float(np.var(y)) - float(np.mean(v)), TAU2_FLOOR)
        means: dict[str, float] = {}
        for _ in range(3):  # alternate weighted means and the moment estimate of tau^2
            w = 1.0 / (tau2 + v)
            global_mean = float(np.sum(w * y) / np.sum(w))
            means = {}
            for g in set(groups.tolist()):
                mask = groups == g
                means[g] = float(np.sum(w[mask] * y[mask]) / np.sum(w[mask]))
            mu = np.array([means[g] if g != "__all__" else global_mean for g in groups])
            k = len(y) - len(set(groups.tolist()))
            if k >= 1:
                tau2 = max(float(np.sum((y - mu) ** 2 - v)) / k, TAU2_FLOOR)
        self.tau2_ = tau2
        self.global_mean_ = global_mean
        self.tier_means_ = {t: means[t] for t in own}
        self.tier_basis_ = {t: f"{t} tier, {counts[t]} creators" for t in own}
        # Each tier's own spread, moderated toward the pooled one with prior_df pseudo-creators.
        self.tier_tau2_ = {}
        for t in own:
            mask = groups == t
            k = int(mask.sum()) - 1
            raw = max(float(np.sum((y[mask] - means[t]) ** 2 - v[mask])) / k, TAU2_FLOOR)
            self.tier_tau2_[t] = (self.prior_df * tau2 + k * raw) / (self.prior_df + k)
        return self

    def tier_mean(self, tier: str) -> tuple[float, str]:
        """(mean log rate, basis) the tier shrinks toward."""
        self._check_fitted()
        if tier in self.tier_means_:
            return self.tier_means_[tier], self.tier_basis_[tier]
        return self.global_mean_, f"all creators (too few in the {tier} tier)"

    def _check_fitted(self) -> None:
        if not hasattr(self, "tau2_"):
            raise NotFittedError(
                "This EngagementShrinker instance is not fitted yet. Call 'fit' with the "
                "creators' observations first."
            )

    def estimate(self, obs: EngagementObservation) -> EngagementEstimate:
        """The shrunk rate of one creator with its interval."""
        self._check_fitted()
        sigma2 = self.sigma2_
        y, v = self._y(obs, sigma2), self._v(obs, sigma2)
        mu, basis = self.tier_mean(obs.tier)
        tau2 = self.tier_tau2_.get(obs.tier, self.tau2_)
        weight = tau2 / (tau2 + v)
        theta = mu + weight * (y - mu)
        sd = math.sqrt(weight * v)
        z = float(stats.norm.ppf(0.5 + self.level / 2.0))
        half = sigma2 / 2.0
        return EngagementEstimate(
            raw_rate=obs.raw_rate,
            rate=math.exp(theta + half),
            low=math.exp(theta - z * sd + half),
            high=math.exp(theta + z * sd + half),
            level=self.level,
            tier=obs.tier,
            tier_rate=math.exp(mu + half),
            tier_basis=basis,
            weight_own=weight,
            evidence_posts=obs.n,
            from_posts=obs.from_posts,
        )
