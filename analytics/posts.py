"""The brand's own posts: engagement per post, best and worst posts, medians with intervals.

"Own posts" are the posts of the workspace's ``own_accounts`` (the brand's accounts, one
per platform in the demo). A post's **engagement rate** is ``(likes + comments + shares)
/ followers`` where the follower count at posting time is known; where it is not, raw
interactions (``likes + comments + shares``) are the only measure, and a ranking never
mixes the two (:func:`top_posts`). Differences between two groups of posts are
differences in medians with a percentile-bootstrap interval (:func:`median_difference`):
engagement is skewed, so a mean would follow the one viral post.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

import duckdb
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from analytics.exceptions import AnalysisInputError
from analytics.periods import Period
from foundation.workspace import get_meta

__all__ = [
    "MAX_POSTS",
    "METRICS",
    "METRIC_NAMES",
    "MedianDifference",
    "RankedPost",
    "TopPosts",
    "median_difference",
    "metric_values",
    "own_accounts",
    "own_posts",
    "top_posts",
]

#: What a ranking can be by; ``engagement_rate`` is the default.
METRICS: Final = ("engagement_rate", "likes", "comments", "shares", "views")
#: How replies name each metric.
METRIC_NAMES: Final = {
    "engagement_rate": "engagement rate",
    "interactions": "interactions",
    "likes": "likes",
    "comments": "comments",
    "shares": "shares",
    "views": "views",
}
#: The longest best/worst list.
MAX_POSTS: Final = 20
#: Fewest posts per group for an interval of a median.
MIN_GROUP = 3


def own_accounts(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The brand's own (pseudonymised) accounts, from the workspace's ``own_accounts`` meta.

    Raises:
        AnalysisInputError: The workspace does not say which accounts are the brand's.
    """
    accounts = [str(a) for a in get_meta(con, "own_accounts", []) or []]
    if not accounts:
        raise AnalysisInputError(
            "The workspace doesn't say which accounts are the brand's own yet, so I can't "
            "rank its posts; set own_accounts (beacon demo does) and ask again."
        )
    return accounts


def own_posts(
    con: duckdb.DuckDBPyConnection,
    start: date,
    end: date,
    *,
    platform: str | None = None,
    campaign_id: str | None = None,
) -> pd.DataFrame:
    """The brand's own posts from ``start`` to ``end`` (UTC days, both included).

    Args:
        con: Workspace connection (read-only is enough).
        start: First day.
        end: Last day.
        platform: Only this platform; None for all.
        campaign_id: Only posts of this campaign; None for every post.

    Returns:
        One row per post with the ``posts`` columns ``post_id, platform, account, text,
        posted_at, followers, likes, comments, shares, views, campaign_id`` plus
        ``interactions`` (likes + comments + shares) and ``engagement_rate``
        (interactions / followers; NaN where followers are unknown or zero), ordered by
        ``posted_at``.
    """
    sql = """
        SELECT post_id, platform, account, text, posted_at, followers, likes, comments,
               shares, views, campaign_id
        FROM posts
        WHERE list_contains(?, account) AND CAST(posted_at AS DATE) BETWEEN ? AND ?"""
    params: list[Any] = [own_accounts(con), start, end]
    if platform:
        sql += " AND platform = ?"
        params.append(platform)
    if campaign_id:
        sql += " AND campaign_id = ?"
        params.append(campaign_id)
    frame = con.execute(sql + " ORDER BY posted_at, post_id", params).df()
    frame["interactions"] = frame[["likes", "comments", "shares"]].sum(axis=1).astype(float)
    followers = pd.to_numeric(frame["followers"], errors="coerce").astype(float)
    frame["engagement_rate"] = frame["interactions"] / followers.where(followers > 0)
    return frame


def metric_values(frame: pd.DataFrame, metric: str) -> tuple[pd.Series, str]:
    """Each post's value of ``metric``, for the posts that have one, and what it measures.

    ``engagement_rate`` is the rate for the posts with a follower count; when no post has
    one, it falls back to raw interactions for all of them. ``views`` exist only for
    videos. The other metrics are counts every post has.

    Returns:
        ``(values, basis)``: the values indexed like ``frame`` (posts without a value left
        out) and the measure used: a key of :data:`METRIC_NAMES`.

    Raises:
        AnalysisInputError: ``metric`` is not one of :data:`METRICS`.
    """
    if metric not in METRICS:
        raise AnalysisInputError(f"metric must be one of {', '.join(METRICS)} (got {metric!r})")
    if metric == "engagement_rate":
        rates = frame["engagement_rate"].dropna()
        if len(rates) or frame.empty:
            return rates.astype(float), "engagement_rate"
        return frame["interactions"].astype(float), "interactions"
    values = pd.to_numeric(frame[metric], errors="coerce").dropna().astype(float)
    return values, metric


@dataclass(frozen=True)
class RankedPost:
    """One post of a best/worst list.

    Attributes:
        rank: 1 for the first post shown.
        post_id: The post.
        platform: Its workspace platform.
        account: Its (pseudonymised) account.
        posted_at: When it went out (naive UTC).
        text: Its full text.
        value: Its value of the ranked measure (a rate in [0, 1+] or a count).
        account_median: The median of the measure over the same account's posts on the
            same platform in the same selection: what is normal for that account.
        account_posts: How many posts that median is over.
        likes: Likes.
        comments: Comments.
        shares: Shares.
        views: Views (None when not known).
        followers: Followers at posting time (None when not known).
    """

    rank: int
    post_id: str
    platform: str
    account: str
    posted_at: datetime
    text: str
    value: float
    account_median: float
    account_posts: int
    likes: int
    comments: int
    shares: int
    views: int | None
    followers: int | None

    def excerpt(self, limit: int = 80) -> str:
        """The text on one line, cut at a word boundary to at most ``limit`` characters."""
        flat = " ".join(self.text.split())
        if len(flat) <= limit:
            return flat
        cut = flat[: limit - 1]
        if " " in cut[limit // 2 :]:
            cut = cut[: cut.rindex(" ")]
        return cut.rstrip(" ,.;:-") + "…"

    @property
    def versus_median(self) -> float | None:
        """``value / account_median`` (None when the median is 0)."""
        return self.value / self.account_median if self.account_median > 0 else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {
            "rank": self.rank,
            "post_id": self.post_id,
            "platform": self.platform,
            "posted_at": self.posted_at.isoformat(),
            "excerpt": self.excerpt(),
            "text": self.text,
            "value": self.value,
            "account_median": self.account_median,
            "account_posts": self.account_posts,
            "versus_median": self.versus_median,
            "likes": self.likes,
            "comments": self.comments,
            "shares": self.shares,
            "views": self.views,
            "followers": self.followers,
        }


@dataclass(frozen=True)
class TopPosts:
    """The best (or worst) of the brand's own posts in a period.

    Attributes:
        period: The days read.
        platform: Only this platform, or None for all.
        metric: What was asked for (one of :data:`METRICS`).
        basis: What was measured (a key of :data:`METRIC_NAMES`): ``interactions`` when
            an engagement rate was asked for but no post has a follower count.
        worst: Whether the list is the worst posts (lowest first).
        requested: How many posts were asked for.
        posts: The posts, best (or worst) first; fewer than ``requested`` when the
            period holds fewer.
        ranked: How many posts were ranked.
        left_out: Posts in the period without the measure (no followers, no views).
        campaign_id: Only this campaign's posts, or None.
    """

    period: Period
    platform: str | None
    metric: str
    basis: str
    worst: bool
    requested: int
    posts: tuple[RankedPost, ...]
    ranked: int
    left_out: int
    campaign_id: str | None = None

    @property
    def is_rate(self) -> bool:
        """Whether values are engagement rates (shown as percentages), not counts."""
        return self.basis == "engagement_rate"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (the ``beacon posts top --json`` payload)."""
        return {
            "period": {
                "start": self.period.start.isoformat(),
                "end": self.period.end.isoformat(),
                "label": self.period.describe(),
            },
            "platform": self.platform,
            "metric": self.metric,
            "basis": self.basis,
            "worst": self.worst,
            "requested": self.requested,
            "ranked": self.ranked,
            "left_out": self.left_out,
            "campaign_id": self.campaign_id,
            "posts": [p.to_dict() for p in self.posts],
        }


def _optional_int(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def top_posts(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    *,
    platform: str | None = None,
    metric: str = "engagement_rate",
    n: int = 3,
    worst: bool = False,
    campaign_id: str | None = None,
) -> TopPosts:
    """The ``n`` best (or worst) own posts in ``period`` by ``metric``.

    Each post comes with the median of the same measure over its account's posts on the
    same platform in the period, so "2.4%" can be read as "twice what is normal there".
    Ties go to the more recent post.

    Args:
        con: Workspace connection (read-only is enough).
        period: The days to read.
        platform: Only this platform; None for all.
        metric: One of :data:`METRICS` (see :func:`metric_values`).
        n: How many posts, 1 to :data:`MAX_POSTS`.
        worst: Lowest first instead of highest first.
        campaign_id: Only posts of this campaign.

    Raises:
        AnalysisInputError: Unknown metric, ``n`` out of range, or no own accounts.
    """
    if not 1 <= n <= MAX_POSTS:
        raise AnalysisInputError(f"n must be between 1 and {MAX_POSTS} (got {n})")
    frame = own_posts(con, period.start, period.end, platform=platform, campaign_id=campaign_id)
    values, basis = metric_values(frame, metric)
    chosen = frame.loc[values.index].assign(value=values)
    medians = chosen.groupby(["account", "platform"])["value"].agg(["median", "count"])
    ordered = chosen.sort_values(
        ["value", "posted_at", "post_id"], ascending=[worst, False, True], kind="mergesort"
    ).head(n)
    posts = tuple(
        RankedPost(
            rank=rank,
            post_id=str(row.post_id),
            platform=str(row.platform),
            account=str(row.account),
            posted_at=pd.Timestamp(row.posted_at).to_pydatetime(),
            text=str(row.text),
            value=float(row.value),
            account_median=float(medians.loc[(row.account, row.platform), "median"]),
            account_posts=int(medians.loc[(row.account, row.platform), "count"]),
            likes=int(row.likes),
            comments=int(row.comments),
            shares=int(row.shares),
            views=_optional_int(row.views),
            followers=_optional_int(row.followers),
        )
        for rank, row in enumerate(ordered.itertuples(index=False), start=1)
    )
    return TopPosts(
        period=period,
        platform=platform,
        metric=metric,
        basis=basis,
        worst=worst,
        requested=n,
        posts=posts,
        ranked=len(chosen),
        left_out=len(frame) - len(chosen),
        campaign_id=campaign_id,
    )


@dataclass(frozen=True)
class MedianDifference:
    """The medians of two groups and their difference, with a bootstrap interval.

    Attributes:
        left_median: Median of the left group.
        right_median: Median of the right group.
        left_n: Values in the left group.
        right_n: Values in the right group.
        difference: ``left_median − right_median``.
        ci: Percentile-bootstrap interval of ``difference`` (None when a group has fewer
            than three values).
        relative: ``left_median / right_median − 1`` (None when the right median is 0).
        relative_ci: Bootstrap interval of ``relative`` (None when it can't be had).
        confidence: Level of the intervals (0.95).
    """

    left_median: float
    right_median: float
    left_n: int
    right_n: int
    difference: float
    ci: tuple[float, float] | None
    relative: float | None
    relative_ci: tuple[float, float] | None
    confidence: float = 0.95

    @property
    def significant(self) -> bool:
        """True when the interval of the difference excludes zero."""
        return self.ci is not None and (self.ci[0] > 0 or self.ci[1] < 0)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {
            "left_median": self.left_median,
            "right_median": self.right_median,
            "left_n": self.left_n,
            "right_n": self.right_n,
            "difference": self.difference,
            "ci": None if self.ci is None else list(self.ci),
            "relative": self.relative,
            "relative_ci": None if self.relative_ci is None else list(self.relative_ci),
            "confidence": self.confidence,
            "significant": self.significant,
        }


def median_difference(
    left: ArrayLike,
    right: ArrayLike,
    *,
    confidence: float = 0.95,
    resamples: int = 2000,
    random_state: int | None = 0,
) -> MedianDifference:
    """Difference of two medians with a percentile-bootstrap interval.

    Each group is resampled with replacement on its own (independent groups), ``resamples``
    times; the interval is the central ``confidence`` share of the resampled differences
    (and of the resampled ratios for ``relative``).

    Args:
        left: array-like of shape (n_left,): one group's values (NaN left out).
        right: array-like of shape (n_right,): the other group's values.
        confidence: Level of the intervals, in (0, 1).
        resamples: Bootstrap resamples.
        random_state: Seed, so the same data give the same interval.

    Raises:
        AnalysisInputError: A group is empty, or ``confidence`` is not in (0, 1).
    """
    if not 0.0 < confidence < 1.0:
        raise AnalysisInputError(f"confidence must be between 0 and 1 (got {confidence!r})")
    a = np.asarray(left, dtype=float)
    b = np.asarray(right, dtype=float)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    if not len(a) or not len(b):
        raise AnalysisInputError(f"both groups need at least one value (got {len(a)} and {len(b)})")
    left_median, right_median = float(np.median(a)), float(np.median(b))
    relative = left_median / right_median - 1.0 if right_median > 0 else None
    ci = relative_ci = None
    if len(a) >= MIN_GROUP and len(b) >= MIN_GROUP:
        rng = np.random.default_rng(random_state)
        boot_a = np.median(rng.choice(a, size=(resamples, len(a)), replace=True), axis=1)
        boot_b = np.median(rng.choice(b, size=(resamples, len(b)), replace=True), axis=1)
        tail = 100 * (1 - confidence) / 2
        low, high = np.percentile(boot_a - boot_b, [tail, 100 - tail])
        ci = (float(low), float(high))
        if relative is not None and np.all(boot_b > 0):
            low, high = np.percentile(boot_a / boot_b - 1.0, [tail, 100 - tail])
            relative_ci = (float(low), float(high))
    return MedianDifference(
        left_median=left_median,
        right_median=right_median,
        left_n=len(a),
        right_n=len(b),
        difference=left_median - right_median,
        ci=ci,
        relative=relative,
        relative_ci=relative_ci,
        confidence=confidence,
    )
