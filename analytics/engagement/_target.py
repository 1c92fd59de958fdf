"""The leakage-free target and the account context, from each account's own past.

Engagement is ``likes + comments + shares`` on a log scale (``log1p``). For a
post at time *t* by account *a*, only *a*'s posts strictly before *t* are used:

- ``trailing_median`` / ``trailing_q70``: median and 70th percentile of the
  last ``window`` posts' log engagement; ``recent_median`` of the last 5;
- ``posts_7d``: *a*'s posts in the 7 days before *t*; ``hours_since_prev``;
- the label: 1 when the post's log engagement is above ``trailing_q70`` (it
  lands in the top 30% of the account's trailing history), 0 otherwise,
  undefined (NaN) while the account has fewer than ``min_history`` earlier posts.

Because the label is relative to the account's own history, follower counts
alone cannot predict it. One code path (:func:`context_at`) serves training
rows and drafts, so both see exactly the same definition.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analytics.exceptions import AnalysisInputError

WINDOW = 50
RECENT = 5
MIN_HISTORY = 5
TOP_QUANTILE = 0.7
KEEP = 200  # past posts kept per account in a saved model
REQUIRED = ("account", "text", "posted_at", "likes", "comments", "shares")
CONTEXT_COLUMNS = (
    "trailing_median", "trailing_q70", "recent_median", "history_len", "posts_7d",
    "hours_since_prev",
)  # fmt: skip


def log_engagement(posts: pd.DataFrame) -> pd.Series:
    """``log1p(likes + comments + shares)`` per post."""
    total = sum(
        pd.to_numeric(posts[c], errors="coerce").fillna(0) for c in ("likes", "comments", "shares")
    )
    return np.log1p(pd.Series(total, index=posts.index).clip(lower=0).astype(float))


def context_at(times: np.ndarray, values: np.ndarray, when: int) -> dict[str, float]:
    """Account context at ``when`` from the account's past posts.

    Args:
        times: int64 array of shape (n,), posting times in seconds, ascending.
        values: float array of shape (n,), their log engagement.
        when: The new post's time in seconds.

    Returns:
        The :data:`CONTEXT_COLUMNS` values (NaN where there is no past).
    """
    end = int(np.searchsorted(times, when, side="left"))
    past = values[max(0, end - WINDOW) : end]
    nan = float("nan")
    week = end - int(np.searchsorted(times, when - 7 * 86400, side="left"))
    return {
        "trailing_median": float(np.median(past)) if len(past) else nan,
        "trailing_q70": float(np.quantile(past, TOP_QUANTILE)) if len(past) else nan,
        "recent_median": float(np.median(past[-RECENT:])) if len(past) else nan,
        "history_len": float(min(end, WINDOW)),
        "posts_7d": float(week),
        "hours_since_prev": (when - int(times[end - 1])) / 3600.0 if end else nan,
    }


def _seconds(stamps: pd.Series) -> np.ndarray:
    values = pd.to_datetime(stamps)
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    return np.asarray(values.astype("datetime64[s]").astype("int64"))


def check_posts(posts: pd.DataFrame) -> None:
    """Raise :class:`AnalysisInputError` unless ``posts`` has the canonical columns."""
    missing = [c for c in REQUIRED if c not in posts.columns]
    if missing:
        raise AnalysisInputError(
            f"posts need the columns {', '.join(REQUIRED)}; missing {', '.join(missing)} "
            "(read files with analytics.engagement.read_posts or the workspace's posts table)"
        )


def add_context(posts: pd.DataFrame) -> pd.DataFrame:
    """Posts sorted by time with ``log_engagement``, the context columns and ``label``.

    Args:
        posts: Canonical posts (account, text, posted_at, likes, comments, shares, ...).

    Returns:
        A copy sorted by (posted_at, account), index reset.
    """
    check_posts(posts)
    frame = posts.copy()
    frame["posted_at"] = pd.to_datetime(frame["posted_at"])
    frame = frame.sort_values(["posted_at", "account"], kind="stable").reset_index(drop=True)
    frame["log_engagement"] = log_engagement(frame)
    seconds = _seconds(frame["posted_at"])
    context = {c: np.full(len(frame), np.nan) for c in CONTEXT_COLUMNS}
    for _, rows in frame.groupby("account", sort=False).indices.items():
        rows = np.sort(rows)
        times, values = seconds[rows], frame["log_engagement"].to_numpy()[rows]
        for position, row in enumerate(rows):
            found = context_at(times[:position], values[:position], int(seconds[row]))
            for column, value in found.items():
                context[column][row] = value
    for column in CONTEXT_COLUMNS:
        frame[column] = context[column]
    if "media_type" not in frame.columns:
        frame["media_type"] = "none"
    enough = frame["history_len"] >= MIN_HISTORY
    label = (frame["log_engagement"] > frame["trailing_q70"]).astype(float)
    frame["label"] = label.where(enough)
    return frame


@dataclass
class AccountHistory:
    """Each account's latest posts (time in seconds, log engagement), for scoring drafts."""

    times: dict[str, np.ndarray] = field(default_factory=dict)
    values: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def from_posts(cls, frame: pd.DataFrame) -> AccountHistory:
        """Keep the last :data:`KEEP` posts of every account in ``frame`` (from :func:`add_context`)."""
        history = cls()
        seconds = _seconds(frame["posted_at"])
        for account, rows in frame.groupby("account", sort=False).indices.items():
            rows = np.sort(rows)[-KEEP:]
            history.times[str(account)] = seconds[rows].astype(np.int64)
            history.values[str(account)] = frame["log_engagement"].to_numpy()[rows].astype(float)
        return history

    def context(self, account: str, when: pd.Timestamp) -> dict[str, float]:
        """:func:`context_at` for ``account`` at ``when`` (all NaN for an unknown account)."""
        stamp = pd.Timestamp(when)
        if stamp.tzinfo is not None:
            stamp = stamp.tz_convert("UTC").tz_localize(None)
        seconds = int(stamp.value // 10**9)
        times = self.times.get(account, np.zeros(0, dtype=np.int64))
        values = self.values.get(account, np.zeros(0))
        return context_at(times, values, seconds)
