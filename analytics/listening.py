"""Social listening over the workspace: how people talk about the brand.

"Talk about the brand" is every post that mentions the brand (any of the
workspace's ``brand_terms``, when set) and was not written by one of its own
accounts (``own_accounts``), scored by one sentiment model version: an
:class:`analytics.scope.Scope`. Changes against the previous period come with a 95%
interval so a reply says "up 5 points" only when that is more than noise.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import pandas as pd

from analytics._figures import new_figure, save_png
from analytics.exceptions import AnalysisInputError
from analytics.periods import Period
from analytics.scope import Scope
from analytics.sentiment import LABELS

if TYPE_CHECKING:
    from analytics.anomalies import Driver

Z_95 = 1.959964


def percent(share: float) -> str:
    """A share as people read it in answers and on the dashboard: ``0.234`` → ``"23%"``."""
    return f"{100 * share:.0f}%"


@dataclass(frozen=True)
class ShareChange:
    """Change of one label's share between two periods, in percentage points."""

    label: str
    points: float
    ci_low: float
    ci_high: float

    @property
    def significant(self) -> bool:
        """True when the 95% interval excludes zero."""
        return self.ci_low > 0 or self.ci_high < 0


@dataclass(frozen=True)
class SentimentSummary:
    """Sentiment of brand talk in one period, with the previous period for comparison.

    Attributes:
        period: The period asked about.
        previous: The same-length period just before.
        platform: Platform filter, or None for all.
        topic: Keyword/hashtag/campaign filter, or None.
        model_version: The scorer whose labels were counted.
        counts: Posts per label in ``period``.
        previous_counts: Posts per label in ``previous``.
        changes: Share change per label with its 95% interval (empty when either
            period has no posts).
        by_platform: Posts and label shares per platform in ``period``.
    """

    period: Period
    previous: Period
    platform: str | None
    topic: str | None
    model_version: str
    counts: dict[str, int]
    previous_counts: dict[str, int]
    changes: list[ShareChange] = field(default_factory=list)
    by_platform: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def previous_total(self) -> int:
        return sum(self.previous_counts.values())

    def share(self, label: str) -> float:
        """Share of ``label`` in ``period`` (0 when there are no posts)."""
        return self.counts.get(label, 0) / self.total if self.total else 0.0

    def previous_share(self, label: str) -> float:
        return (
            self.previous_counts.get(label, 0) / self.previous_total if self.previous_total else 0.0
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["total"] = self.total
        data["previous_total"] = self.previous_total
        data["shares"] = {label: self.share(label) for label in LABELS}
        return data


def _brand_talk(scope: Scope) -> tuple[str, list[Any]]:
    """``FROM ... WHERE ...`` of the scope's scored brand talk (posts ``p``, scores ``s``)."""
    where, params = scope.where()
    sql = f"""
        FROM posts p JOIN scores s ON s.post_id = p.post_id AND s.model_version = ?
        WHERE CAST(p.posted_at AS DATE) BETWEEN ? AND ?
          AND NOT list_contains(?, p.account){where}
        """
    period = scope.period
    return sql, [scope.model_version, period.start, period.end, [*scope.exclude_accounts], *params]


def _counts_by(
    con: duckdb.DuckDBPyConnection, key: str, scope: Scope
) -> list[tuple[Any, str, int]]:
    """``(key value, label, posts)`` rows of brand talk; ``key`` is a SQL expression."""
    selection, params = _brand_talk(scope)
    rows: list[tuple[Any, str, int]] = con.execute(
        f"SELECT {key}, s.sentiment_label, count(*) {selection} GROUP BY ALL", params
    ).fetchall()
    return rows


def _label_counts(con: duckdb.DuckDBPyConnection, scope: Scope) -> dict[str, dict[str, int]]:
    result: dict[str, dict[str, int]] = {}
    for platform_name, label, count in _counts_by(con, "p.platform", scope):
        result.setdefault(platform_name, dict.fromkeys(LABELS, 0))[label] = int(count)
    return result


def _total(per_platform: dict[str, dict[str, int]]) -> dict[str, int]:
    return {label: sum(counts[label] for counts in per_platform.values()) for label in LABELS}


def share_change(label: str, now: dict[str, int], before: dict[str, int]) -> ShareChange:
    """Difference of two proportions with a Wald 95% interval, in points."""
    n1, n0 = sum(now.values()), sum(before.values())
    p1, p0 = now[label] / n1, before[label] / n0
    se = math.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
    diff = p1 - p0
    return ShareChange(label, 100 * diff, 100 * (diff - Z_95 * se), 100 * (diff + Z_95 * se))


def sentiment_summary(con: duckdb.DuckDBPyConnection, scope: Scope) -> SentimentSummary:
    """Counts, shares and changes of sentiment labels in the scope vs the period before.

    Args:
        con: Workspace connection (read-only is enough).
        scope: The posts to count (see :meth:`analytics.scope.Scope.for_brand`); the
            previous period is the same length, just before ``scope.period``.
    """
    previous = scope.period.previous()
    current = _label_counts(con, scope)
    before = _label_counts(con, scope.replace(period=previous))
    counts, previous_counts = _total(current), _total(before)
    changes = (
        [share_change(label, counts, previous_counts) for label in LABELS]
        if sum(counts.values()) and sum(previous_counts.values())
        else []
    )
    by_platform = {
        name: {"posts": float(sum(c.values()))}
        | {label: c[label] / sum(c.values()) for label in LABELS}
        for name, c in sorted(current.items())
        if sum(c.values())
    }
    return SentimentSummary(
        period=scope.period,
        previous=previous,
        platform=scope.platform,
        topic=scope.topic,
        model_version=scope.model_version,
        counts=counts,
        previous_counts=previous_counts,
        changes=changes,
        by_platform=by_platform,
    )


@dataclass(frozen=True)
class Theme:
    """A term that sets one sentiment's posts apart, with posts that show it.

    Attributes:
        label: ``"positive"`` or ``"negative"``.
        term: The word or hashtag.
        z: Weighted log-odds z-score against the period's other posts.
        count: Posts-with-this-label occurrences of the term.
        examples: Up to two ``(post_id, text)`` pairs as evidence.
    """

    label: str
    term: str
    z: float
    count: int
    examples: tuple[tuple[str, str], ...] = ()


def sentiment_themes(
    con: duckdb.DuckDBPyConnection, scope: Scope, *, top: int = 3, min_count: int = 3
) -> dict[str, list[Theme]]:
    """The themes that drive positive and negative talk in ``scope.period``.

    For each of ``positive`` and ``negative``, the posts with that label are compared with
    the period's other brand-talk posts by weighted log-odds with an informative Dirichlet
    prior (Monroe et al. 2008, :func:`analytics.anomalies.distinctive_terms`); words shared
    by every kind of post (the brand's own name) cancel out. Same selection as
    :func:`sentiment_summary`.

    Args:
        con: Workspace connection (read-only is enough).
        scope: The posts to read.
        top: Themes per label.
        min_count: Minimum occurrences of a term among the label's posts.

    Returns:
        ``{"positive": [...], "negative": [...]}``, most distinctive first. Only terms whose
        z-score reaches 1.96 count, and a term that mostly occurs in the same posts as a
        stronger one is left out, so lists may be short or empty.
    """
    from analytics.anomalies import distinctive_terms, tokenize

    selection, params = _brand_talk(scope)
    rows = con.execute(
        f"SELECT p.post_id, p.text, s.sentiment_label {selection} ORDER BY p.posted_at, p.post_id",
        params,
    ).fetchall()
    themes: dict[str, list[Theme]] = {}
    for label in ("positive", "negative"):
        mine = [(str(pid), str(text)) for pid, text, lab in rows if lab == label]
        others = [str(text) for _, text, lab in rows if lab != label]
        drivers: list[Driver] = distinctive_terms(
            [text for _, text in mine], others, top=4 * top, min_count=min_count
        )
        found: list[Theme] = []
        covered: list[set[str]] = []
        for driver in drivers:
            if driver.z < Z_95 or len(found) == top:
                continue
            posts = [(pid, text) for pid, text in mine if driver.term in tokenize(text)]
            ids = {pid for pid, _ in posts}
            # Words of one recurring phrase ("gave me blisters") are one theme, not three.
            if any(len(ids & other) >= 0.8 * len(ids) for other in covered):
                continue
            covered.append(ids)
            examples: list[tuple[str, str]] = []
            for post_id, text in posts:
                if text not in {t for _, t in examples}:
                    examples.append((post_id, text))
                if len(examples) == 2:
                    break
            found.append(Theme(label, driver.term, driver.z, driver.count, tuple(examples)))
        themes[label] = found
    return themes


@dataclass(frozen=True)
class SentimentExample:
    """One post of brand talk shown as an example, with its sentiment.

    Attributes:
        post_id: The post's id.
        platform: Its platform.
        posted_at: When it was posted (naive UTC).
        label: Its sentiment label.
        confidence: The model's probability of that label.
        text: Its (pseudonymised) text.
    """

    post_id: str
    platform: str
    posted_at: datetime
    label: str
    confidence: float
    text: str


def example_posts(
    con: duckdb.DuckDBPyConnection, scope: Scope, *, label: str | None = None, limit: int = 5
) -> list[SentimentExample]:
    """The clearest examples of brand talk in ``scope``: "show me a few of those".

    Same selection as :func:`sentiment_summary`; with ``label``, only posts with that
    sentiment, most confident first, one post per distinct text (retweets and copies
    say nothing new).

    Raises:
        AnalysisInputError: ``label`` is not one of :data:`LABELS`.
    """
    if label is not None and label not in LABELS:
        raise AnalysisInputError(f"label must be one of {', '.join(LABELS)} (got {label!r})")
    selection, params = _brand_talk(scope)
    probability = "greatest(s.p_negative, s.p_neutral, s.p_positive)"
    extra, extra_params = (" AND s.sentiment_label = ?", [label]) if label else ("", [])
    rows = con.execute(
        f"SELECT p.post_id, p.platform, p.posted_at, s.sentiment_label, {probability}, p.text "
        f"{selection}{extra} ORDER BY {probability} DESC, p.posted_at DESC, p.post_id",
        params + extra_params,
    ).fetchall()
    found: list[SentimentExample] = []
    seen: set[str] = set()
    for post_id, platform, posted_at, row_label, confidence, text in rows:
        if text in seen:
            continue
        seen.add(text)
        found.append(
            SentimentExample(post_id, platform, posted_at, row_label, float(confidence), text)
        )
        if len(found) == limit:
            break
    return found


def daily_sentiment(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    """Posts per day and label in the scope (same selection as :func:`sentiment_summary`).

    Returns:
        DataFrame indexed by every day of ``scope.period`` (days without posts are 0) with
        one column per label in :data:`LABELS`.
    """
    rows = _counts_by(con, "CAST(p.posted_at AS DATE)", scope)
    days = pd.date_range(scope.period.start, scope.period.end, freq="D")
    frame = pd.DataFrame(0, index=days, columns=list(LABELS))
    for day, label, count in rows:
        frame.loc[pd.Timestamp(day), label] = int(count)
    return frame


def plot_sentiment_trend(daily: pd.DataFrame, path: Path, title: str) -> Path:
    """Stacked daily volume by label with the negative share as a line; writes a PNG."""
    colours = {"negative": "#d62728", "neutral": "#bbbbbb", "positive": "#2ca02c"}
    figure = new_figure(8, 3.6)
    volume_axis = figure.subplots()
    bottom = np.zeros(len(daily))
    for label in LABELS:
        volume_axis.bar(
            daily.index, daily[label], bottom=bottom, color=colours[label], label=label, width=0.9
        )
        bottom += daily[label].to_numpy()
    volume_axis.set_ylabel("posts per day")
    share_axis = volume_axis.twinx()
    totals = daily.sum(axis=1).replace(0, np.nan)
    share_axis.plot(
        daily.index,
        100 * daily["negative"] / totals,
        color="black",
        linewidth=1.5,
        label="negative share",
    )
    share_axis.set_ylabel("negative share (%)")
    share_axis.set_ylim(0, 100)
    volume_axis.legend(loc="upper left", fontsize=8, frameon=False)
    volume_axis.set_title(title, fontsize=10)
    figure.autofmt_xdate()
    return save_png(figure, path)
