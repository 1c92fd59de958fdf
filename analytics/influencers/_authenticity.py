"""Authenticity flags: engagement out of line with the audience, missing comments, follower jumps.

Three checks, each robust to the very outliers it looks for:

- **engagement vs audience**: a Huber regression of log(typical engagements per
  post) on log(followers) across all creators; a creator whose standardised
  residual (residual / 1.4826·MAD) exceeds ``z_threshold`` gets far more
  engagement than its audience predicts (bought likes), far less suggests
  bought or inactive followers. "Typical" is the median post, so a few viral
  posts do not trigger it.
- **few comments**: bought likes rarely come with comments; a creator whose
  comments-per-like ratio lies ``z_threshold`` robust SDs below its peers' is flagged.
- **follower jumps**: the largest rise in followers between two consecutive
  posts, when it is both at least ``jump_min`` (15%) and ``jump_z`` robust SDs
  above the creator's usual step.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

import numpy as np
from sklearn.linear_model import HuberRegressor

from analytics.exceptions import NotFittedError
from analytics.influencers._engagement import window_posts
from analytics.influencers._format import whole
from analytics.influencers._types import AuthenticityFlag, CreatorProfile

MAD_SCALE = 1.4826
SCALE_FLOOR = 0.25  # log scale: never flag less than a ~2.1x deviation at z = 3


def _robust_scale(values: np.ndarray, floor: float) -> tuple[float, float]:
    center = float(np.median(values))
    scale = MAD_SCALE * float(np.median(np.abs(values - center)))
    return center, max(scale, floor)


class AuthenticityChecker:
    """Flag creators whose numbers look bought.

    Args:
        z_threshold: Robust z beyond which engagement or comments are flagged.
        jump_min: Smallest relative follower rise between consecutive posts that can be a jump.
        jump_z: Robust z (against the creator's own steps) a jump must exceed.
        min_creators: Fewest creators needed for the cross-creator checks.
        window_days: Posts considered (before the newest post).

    Fitted attributes:
        coef_: Slope of log engagements on log followers.
        intercept_: Intercept of that regression.
        residual_scale_: Robust SD of its residuals.
        comment_center_: Median log comments-per-like over creators with posts.
        comment_scale_: Robust SD of it.
        as_of_: End of the window.
    """

    def __init__(
        self,
        z_threshold: float = 3.0,
        jump_min: float = 0.15,
        jump_z: float = 8.0,
        min_creators: int = 8,
        window_days: int = 180,
    ) -> None:
        self.z_threshold = z_threshold
        self.jump_min = jump_min
        self.jump_z = jump_z
        self.min_creators = min_creators
        self.window_days = window_days

    def _typical(self, creator: CreatorProfile) -> tuple[float, float] | None:
        """(followers, typical engagements per post) or None."""
        followers = creator.latest_followers()
        if not followers:
            return None
        posts = window_posts(creator, self.as_of_, self.window_days)
        if posts:
            return float(followers), float(np.median([p.engagements for p in posts]))
        if creator.avg_likes is not None:
            return float(followers), float(creator.avg_likes)
        if creator.engagement_rate is not None:
            return float(followers), float(creator.engagement_rate * followers)
        return None

    def _comment_ratio(self, creator: CreatorProfile) -> float | None:
        posts = window_posts(creator, self.as_of_, self.window_days)
        if len(posts) < 3:
            return None
        likes = sum(p.likes for p in posts)
        comments = sum(p.comments for p in posts)
        return math.log((comments + 0.5) / (likes + 0.5))

    def fit(
        self, creators: Sequence[CreatorProfile], as_of: datetime | None = None
    ) -> AuthenticityChecker:
        """Fit the cross-creator regression and comment-ratio baseline.

        Args:
            creators: All creators being compared.
            as_of: End of the window (default: the newest post, else now).

        Returns:
            self
        """
        stamps = [p.posted_at for c in creators for p in c.posts]
        self.as_of_ = as_of or (max(stamps) if stamps else datetime.now())
        pairs = [t for t in (self._typical(c) for c in creators) if t is not None]
        self.coef_: float | None = None
        self.intercept_: float | None = None
        self.residual_scale_: float | None = None
        if len(pairs) >= self.min_creators:
            x = np.log(np.array([p[0] for p in pairs]))
            y = np.log(np.array([p[1] for p in pairs]) + 1.0)
            model = HuberRegressor(epsilon=1.35, max_iter=500).fit(x.reshape(-1, 1), y)
            self.coef_ = float(model.coef_[0])
            self.intercept_ = float(model.intercept_)
            residuals = y - (self.intercept_ + self.coef_ * x)
            _, self.residual_scale_ = _robust_scale(residuals, SCALE_FLOOR)
        ratios = [r for r in (self._comment_ratio(c) for c in creators) if r is not None]
        self.comment_center_: float | None = None
        self.comment_scale_: float | None = None
        if len(ratios) >= self.min_creators:
            self.comment_center_, self.comment_scale_ = _robust_scale(np.array(ratios), SCALE_FLOOR)
        return self

    def flags(self, creator: CreatorProfile) -> tuple[AuthenticityFlag, ...]:
        """The flags of one creator (empty when none)."""
        if not hasattr(self, "as_of_"):
            raise NotFittedError(
                "This AuthenticityChecker instance is not fitted yet. Call 'fit' with all "
                "creators first."
            )
        found: list[AuthenticityFlag] = []
        typical = self._typical(creator)
        if typical is not None and self.coef_ is not None and self.intercept_ is not None:
            followers, engagements = typical
            predicted = math.exp(self.intercept_ + self.coef_ * math.log(followers)) - 1.0
            residual = math.log(engagements + 1.0) - math.log(predicted + 1.0)
            z = residual / float(self.residual_scale_ or SCALE_FLOOR)
            ratio = (engagements + 1.0) / (predicted + 1.0)
            if z > self.z_threshold:
                found.append(
                    AuthenticityFlag(
                        "engagement_above_audience",
                        f"typical post gets {ratio:.1f}× the engagement {whole(followers)} "
                        f"followers predict (robust z {z:.1f}); possibly bought likes",
                        z,
                    )
                )
            elif z < -self.z_threshold:
                found.append(
                    AuthenticityFlag(
                        "engagement_below_audience",
                        f"typical post gets {ratio:.2f}× the engagement {whole(followers)} "
                        f"followers predict (robust z {z:.1f}); possibly bought or inactive followers",
                        z,
                    )
                )
        ratio_log = self._comment_ratio(creator)
        if ratio_log is not None and self.comment_center_ is not None:
            z = (ratio_log - self.comment_center_) / float(self.comment_scale_ or SCALE_FLOOR)
            if z < -self.z_threshold:
                found.append(
                    AuthenticityFlag(
                        "few_comments",
                        f"{1000 * math.exp(ratio_log):.0f} comments per 1,000 likes vs "
                        f"{1000 * math.exp(self.comment_center_):.0f} for peers (robust z {z:.1f})",
                        z,
                    )
                )
        jump = self._follower_jump(creator)
        if jump is not None:
            found.append(jump)
        return tuple(found)

    def _follower_jump(self, creator: CreatorProfile) -> AuthenticityFlag | None:
        posts = [p for p in window_posts(creator, self.as_of_, self.window_days) if p.followers]
        if len(posts) < 5:
            return None
        counts = np.array([float(p.followers or 0) for p in posts])
        steps = np.diff(np.log(counts))
        k = int(np.argmax(steps))
        center, scale = _robust_scale(steps, 0.002)
        z = (float(steps[k]) - center) / scale
        rise = math.exp(float(steps[k])) - 1.0
        if rise < self.jump_min or z < self.jump_z:
            return None
        before, after = posts[k], posts[k + 1]
        return AuthenticityFlag(
            "follower_jump",
            f"followers jumped {100 * rise:+.0f}% ({whole(counts[k])} → {whole(counts[k + 1])}) "
            f"between {before.posted_at:%Y-%m-%d} and {after.posted_at:%Y-%m-%d}",
            rise,
        )
