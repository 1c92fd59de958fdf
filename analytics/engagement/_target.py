"""The leakage-free target and the account context, from each account's own past.

Engagement is ``likes + comments + shares`` on a log scale (``log1p``). For a
post at time *t* by account *a*, only *a*'s posts strictly before *t* are used:

- ``trailing_median`` / ``trailing_q70``: median and 70th percentile of the
  last ``window`` posts' log engagement; ``recent_median`` of the last 5;
- ``posts_7d``: *a*'s posts in the 7 days before *t*; ``hours_since_prev``;
- ``recent_hit_rate``: the share of *a*'s last ``HIT_WINDOW`` labelled posts that
  were hits themselves (each beat the q70 of the ``window`` posts before it): how
  the account is doing against its own bar right now, with no absolute level in it;
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
HIT_WINDOW = 20
KEEP = 200  # past posts kept per account in a saved model
REQUIRED = ("account", "text", "posted_at", "likes", "comments", "shares")
#: What the account context needs (no text).
HISTORY_COLUMNS = ("account", "posted_at", "likes", "comments", "shares")
CONTEXT_COLUMNS = (
    "trailing_median",
    "trailing_q70",
    "recent_median",
    "history_len",
    "posts_7d",
    "hours_since_prev",
    "recent_hit_rate",
)
#: The context columns that are the account's absolute engagement level (log scale).
#: Multiplying every engagement count of an account by a constant moves all three
#: by the same amount and leaves every label unchanged, so a model should read
#: them relative to each other (``LightGBMMember``'s level shift relies on this).
LEVEL_COLUMNS = ("trailing_median", "trailing_q70", "recent_median")


def log_engagement(posts: pd.DataFrame) -> pd.Series:
    """``log1p(likes + comments + shares)`` per post."""
    total = sum(
        pd.to_numeric(posts[c], errors="coerce").fillna(0) for c in ("likes", "comments", "shares")
    )
    return np.log1p(pd.Series(total, index=posts.index).clip(lower=0).astype(float))


def past_hits(values: np.ndarray, start: int, end: int) -> np.ndarray:
    """Whether posts ``start..end-1`` of one account beat their own trailing bar.

    Args:
        values: float array of shape (n,), the account's log engagement in time order.
        start: First post to judge.
        end: One past the last post to judge.

    Returns:
        float array of shape (end - start,): 1.0 when the post's value is above the
        :data:`TOP_QUANTILE` quantile of the :data:`WINDOW` posts before it, 0.0 when not,
        NaN while it had fewer than :data:`MIN_HISTORY` earlier posts.
    """
    hits = np.full(max(0, end - start), np.nan)
    for position in range(max(start, MIN_HISTORY), end):
        bar = np.quantile(values[max(0, position - WINDOW) : position], TOP_QUANTILE)
        hits[position - start] = float(values[position] > bar)
    return hits


def context_at(
    times: np.ndarray, values: np.ndarray, when: int, hits: np.ndarray | None = None
) -> dict[str, float]:
    """Account context at ``when`` from the account's past posts.

    Args:
        times: int64 array of shape (n,), posting times in seconds, ascending.
        values: float array of shape (n,), their log engagement.
        when: The new post's time in seconds.
        hits: Optional float array of shape (n,), :func:`past_hits` of all n posts,
            when the caller already has them (training); computed here otherwise.

    Returns:
        The :data:`CONTEXT_COLUMNS` values (NaN where there is no past).
    """
    end = int(np.searchsorted(times, when, side="left"))
    past = values[max(0, end - WINDOW) : end]
    nan = float("nan")
    start = max(0, end - HIT_WINDOW)
    recent_hits = hits[start:end] if hits is not None else past_hits(values, start, end)
    recent_hits = recent_hits[~np.isnan(recent_hits)]
    week = end - int(np.searchsorted(times, when - 7 * 86400, side="left"))
    return {
        "trailing_median": float(np.median(past)) if len(past) else nan,
        "trailing_q70": float(np.quantile(past, TOP_QUANTILE)) if len(past) else nan,
        "recent_median": float(np.median(past[-RECENT:])) if len(past) else nan,
        "history_len": float(min(end, WINDOW)),
        "posts_7d": float(week),
        "hours_since_prev": (when - int(times[end - 1])) / 3600.0 if end else nan,
        "recent_hit_rate": float(recent_hits.mean()) if len(recent_hits) else nan,
    }


def _seconds(stamps: pd.Series) -> np.ndarray:
    values = pd.to_datetime(stamps)
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    return np.asarray(values.astype("datetime64[s]").astype("int64"))


def check_posts(posts: pd.DataFrame, required: tuple[str, ...] = REQUIRED) -> None:
    """Raise :class:`AnalysisInputError` unless ``posts`` has the ``required`` columns."""
    missing = [c for c in required if c not in posts.columns]
    if missing:
        raise AnalysisInputError(
            f"posts need the columns {', '.join(required)}; missing {', '.join(missing)} "
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
        hits = past_hits(values, 0, len(values))
        for position, row in enumerate(rows):
            found = context_at(
                times[:position], values[:position], int(seconds[row]), hits[:position]
            )
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
    # past_hits of each account's stored posts, computed on first use: a recommendation
    # scores many posting times of one account, and each would otherwise judge the last
    # HIT_WINDOW posts again.
    _hits: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

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

    def merged(self, posts: pd.DataFrame) -> AccountHistory:
        """This history brought up to date with ``posts``.

        Args:
            posts: Canonical posts (account, posted_at, likes, comments, shares), for
                example every post of the brand's accounts in the workspace.

        Returns:
            A new history. For each account in ``posts``, its posts there replace the
            stored ones within their time span, and stored posts before or after that span
            stay, so a table that holds every post over some period is the truth for that
            period. The last :data:`KEEP` are kept; accounts not in ``posts`` are unchanged.
        """
        merged = AccountHistory(dict(self.times), dict(self.values))
        if posts.empty:
            return merged
        frame = pd.DataFrame(
            {
                "account": posts["account"].astype(str).to_numpy(),
                "seconds": _seconds(posts["posted_at"]),
                "value": log_engagement(posts).to_numpy(),
            }
        ).sort_values("seconds", kind="stable")
        for account, rows in frame.groupby("account", sort=False):
            times, values = rows["seconds"].to_numpy(np.int64), rows["value"].to_numpy(float)
            old_times = self.times.get(str(account), np.zeros(0, dtype=np.int64))
            old_values = self.values.get(str(account), np.zeros(0))
            outside = (old_times < times[0]) | (old_times > times[-1])
            all_times = np.concatenate([old_times[outside], times])
            order = np.argsort(all_times, kind="stable")[-KEEP:]
            merged.times[str(account)] = all_times[order]
            merged.values[str(account)] = np.concatenate([old_values[outside], values])[order]
        return merged

    def context(self, account: str, when: pd.Timestamp) -> dict[str, float]:
        """:func:`context_at` for ``account`` at ``when`` (all NaN for an unknown account)."""
        stamp = pd.Timestamp(when)
        if stamp.tzinfo is not None:
            stamp = stamp.tz_convert("UTC").tz_localize(None)
        seconds = int(stamp.value // 10**9)
        times = self.times.get(account, np.zeros(0, dtype=np.int64))
        values = self.values.get(account, np.zeros(0))
        if account not in self._hits:
            self._hits[account] = past_hits(values, 0, len(values))
        return context_at(times, values, seconds, self._hits[account])
