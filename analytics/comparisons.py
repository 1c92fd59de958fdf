"""Side-by-side comparisons: two platforms in one period, or one platform in two periods.

Two measures, each with a 95% interval for the difference so a reply calls a gap real
only when it is more than noise:

- **sentiment** of brand talk (:func:`analytics.listening.sentiment_summary` on each side):
  the difference in the share of positive, neutral and negative posts, as two independent
  proportions (:func:`analytics.listening.share_change`);
- **engagement** of the brand's own posts: the difference in median engagement rate,
  with a percentile-bootstrap interval (:func:`analytics.posts.median_difference`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import duckdb

from analytics.exceptions import AnalysisInputError
from analytics.listening import ShareChange, sentiment_summary, share_change
from analytics.periods import Period
from analytics.posts import MedianDifference, median_difference, metric_values, own_posts
from analytics.scope import Scope
from analytics.sentiment import LABELS
from foundation.workspace import platform_name

__all__ = [
    "COMPARISON_METRICS",
    "EngagementComparison",
    "SentimentComparison",
    "Side",
    "compare_engagement",
    "compare_sentiment",
]

#: What can be compared.
COMPARISON_METRICS: Final = ("sentiment", "engagement")


@dataclass(frozen=True)
class Side:
    """One side of a comparison: a period, on one platform or all.

    Attributes:
        period: The days.
        platform: The workspace platform, or None for all.
    """

    period: Period
    platform: str | None = None

    def label(self, other: Side) -> str:
        """How to name this side next to ``other``: by what differs between them."""
        parts = []
        if self.platform != other.platform:
            parts.append(platform_name(self.platform))
        if self.period != other.period or not parts:
            parts.append(self.period.describe())
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {
            "platform": self.platform,
            "start": self.period.start.isoformat(),
            "end": self.period.end.isoformat(),
            "period": self.period.describe(),
        }


def _check_sides(left: Side, right: Side) -> None:
    if left == right:
        raise AnalysisInputError(
            "Both sides of the comparison are the same; name two platforms "
            "('instagram vs facebook') or two periods ('this month vs last month')."
        )


@dataclass(frozen=True)
class SentimentComparison:
    """Sentiment of brand talk on two sides.

    Attributes:
        left: The first side.
        right: The second side.
        topic: Only posts about this, or None.
        model_version: The sentiment model whose labels were counted.
        left_counts: Posts per label on the left.
        right_counts: Posts per label on the right.
        differences: Per label, the left share minus the right share in points with a 95%
            interval (empty when a side has no posts).
    """

    left: Side
    right: Side
    topic: str | None
    model_version: str
    left_counts: dict[str, int]
    right_counts: dict[str, int]
    differences: tuple[ShareChange, ...]

    @property
    def left_total(self) -> int:
        return sum(self.left_counts.values())

    @property
    def right_total(self) -> int:
        return sum(self.right_counts.values())

    def share(self, side: str, label: str) -> float:
        """Share of ``label`` on ``side`` (``"left"`` or ``"right"``); 0 without posts."""
        counts = self.left_counts if side == "left" else self.right_counts
        total = sum(counts.values())
        return counts.get(label, 0) / total if total else 0.0

    def difference(self, label: str) -> ShareChange | None:
        """The difference for ``label``, or None when there is none."""
        return next((d for d in self.differences if d.label == label), None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (``beacon compare --metric sentiment --json``)."""
        return {
            "metric": "sentiment",
            "left": self.left.to_dict()
            | {"label": self.left.label(self.right), "counts": self.left_counts},
            "right": self.right.to_dict()
            | {"label": self.right.label(self.left), "counts": self.right_counts},
            "topic": self.topic,
            "model_version": self.model_version,
            "differences": {
                d.label: {
                    "points": d.points,
                    "ci": [d.ci_low, d.ci_high],
                    "significant": d.significant,
                }
                for d in self.differences
            },
        }


def compare_sentiment(
    con: duckdb.DuckDBPyConnection,
    left: Side,
    right: Side,
    *,
    model_version: str,
    topic: str | None = None,
) -> SentimentComparison:
    """Shares of positive, neutral and negative brand talk on two sides, and their gaps.

    Args:
        con: Workspace connection (read-only is enough).
        left: The first side.
        right: The second side.
        model_version: Whose sentiment labels to count (``scores.model_version``).
        topic: Only posts about this (see :class:`analytics.scope.Scope`).

    Raises:
        AnalysisInputError: The two sides are the same.
    """
    _check_sides(left, right)
    counts = []
    for side in (left, right):
        scope = Scope(
            period=side.period, model_version=model_version, platform=side.platform, topic=topic
        ).for_brand(con)
        counts.append(sentiment_summary(con, scope).counts)
    differences: tuple[ShareChange, ...] = ()
    if sum(counts[0].values()) and sum(counts[1].values()):
        differences = tuple(share_change(label, counts[0], counts[1]) for label in LABELS)
    return SentimentComparison(
        left=left,
        right=right,
        topic=topic,
        model_version=model_version,
        left_counts=counts[0],
        right_counts=counts[1],
        differences=differences,
    )


@dataclass(frozen=True)
class EngagementComparison:
    """Engagement of the brand's own posts on two sides.

    Attributes:
        left: The first side.
        right: The second side.
        basis: The measure (``engagement_rate``; ``interactions`` when a side has no
            follower counts).
        left_posts: Posts on the left.
        right_posts: Posts on the right.
        difference: Left median minus right median with its bootstrap interval (None when
            a side has no posts).
    """

    left: Side
    right: Side
    basis: str
    left_posts: int
    right_posts: int
    difference: MedianDifference | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (``beacon compare --metric engagement --json``)."""
        return {
            "metric": "engagement",
            "left": self.left.to_dict()
            | {"label": self.left.label(self.right), "posts": self.left_posts},
            "right": self.right.to_dict()
            | {"label": self.right.label(self.left), "posts": self.right_posts},
            "basis": self.basis,
            "difference": None if self.difference is None else self.difference.to_dict(),
        }


def compare_engagement(
    con: duckdb.DuckDBPyConnection, left: Side, right: Side, *, random_state: int | None = 0
) -> EngagementComparison:
    """Median engagement rate of the brand's own posts on two sides, and the gap.

    Args:
        con: Workspace connection (read-only is enough).
        left: The first side.
        right: The second side.
        random_state: Seed of the bootstrap.

    Raises:
        AnalysisInputError: The two sides are the same, or the workspace does not say
            which accounts are the brand's.
    """
    _check_sides(left, right)
    frames = [
        own_posts(con, side.period.start, side.period.end, platform=side.platform)
        for side in (left, right)
    ]
    (left_values, left_basis), (right_values, right_basis) = (
        metric_values(frame, "engagement_rate") for frame in frames
    )
    basis = left_basis
    if left_basis != right_basis:
        left_values, right_values = (frame["interactions"] for frame in frames)
        basis = "interactions"
    difference = (
        median_difference(left_values, right_values, random_state=random_state)
        if len(left_values) and len(right_values)
        else None
    )
    return EngagementComparison(
        left=left,
        right=right,
        basis=basis,
        left_posts=len(left_values),
        right_posts=len(right_values),
        difference=difference,
    )
