"""Unusual days in brand talk: volume and negative-share anomalies per platform.

Each day of the asked period is compared with a rolling, weekday-aware baseline of the
``baseline_days`` before it:

- **volume**: counts are put on the Anscombe scale 2·√(x + 3/8), where Poisson noise has
  standard deviation ≈ 1 whatever the level (so small counts are not over-flagged); the
  baseline is the median of the same weekday in the window, and the scale is 1.4826·MAD of
  the window's residuals (value − its weekday median), floored at 1 (pure Poisson noise) so
  quiet series with tiny MADs do not explode. The reported expected value is the median
  count of the same weekday.
- **negative share** (days with at least :data:`MIN_SHARE_POSTS` posts): expected = median of
  the baseline's daily shares; the scale is the binomial standard error √(p(1−p)/n) times a
  robust over-dispersion factor (≥ 1) from the MAD of the baseline's standardised residuals.

The baseline only counts days since the platform's data begins, and a day is tested only
once :data:`MIN_HISTORY_DAYS` of data precede it, so a new workspace's first posts are not
"jumps" from the empty days before it.

A day is anomalous when its robust z (observed − expected) / scale reaches ``sensitivity``
in absolute value. Anomalous days of the same platform, metric and direction separated by at
most ``cooldown_days`` quiet days merge into one :class:`Alert` (consecutive days always do), whose drivers are the most distinctive
terms (weighted log-odds with an informative Dirichlet prior, Monroe et al. 2008), example
posts and the most active accounts of those days.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from analytics._figures import new_figure, save_png
from analytics.exceptions import AnalysisInputError
from analytics.periods import Period, format_range
from analytics.scope import Scope
from foundation.workspace import platform_name

__all__ = [
    "MIN_HISTORY_DAYS",
    "MIN_SHARE_POSTS",
    "Alert",
    "AnomalyReport",
    "DayCheck",
    "Driver",
    "ExamplePost",
    "detect_anomalies",
    "distinctive_terms",
    "plot_anomalies",
]

MAD_TO_SD = 1.4826
MIN_SHARE_POSTS = 10
#: Days of data a platform needs before a day can be tested: before that, the baseline
#: would be mostly the empty days before the workspace's data begins.
MIN_HISTORY_DAYS = 14

_STOP_WORDS_TEXT = """a about above after again against all am an and any are as at be because
been before being below between both but by can could did do does doing don't down during each few
for from further had has have having he her here hers him his how i i'm i've if in into is it it's
its just me more most my myself no nor not now of off on once only or other our ours out over own
same she should so some such than that the their them then there these they this those through to
too under until up very was we were what when where which while who whom why will with would you
your yours yourself via get got one two"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())
_TOKEN_RE = re.compile(r"[@#]?[a-z0-9_][a-z0-9_']*")
_PLACEHOLDER_RE = re.compile(r"<(?:email|phone)_[^>]*>")


@dataclass(frozen=True)
class Driver:
    """A term that sets the anomalous days' posts apart from the baseline.

    Attributes:
        term: The token (a lower-case word or hashtag).
        z: Weighted log-odds z-score against the baseline (larger = more distinctive).
        count: How often it occurs in the anomalous days' posts.
    """

    term: str
    z: float
    count: int


@dataclass(frozen=True)
class ExamplePost:
    """One post from the anomalous days."""

    post_id: str
    text: str


@dataclass(frozen=True)
class DayCheck:
    """One day of one platform's metric, as tested.

    Attributes:
        day: The day.
        platform: Platform name.
        metric: ``"volume"`` or ``"negative share"``.
        observed: Posts that day, or the negative share (0–1).
        expected: The weekday-aware baseline value.
        z: Robust z-score (0 when the day could not be tested).
        posts: Brand-talk posts that day.
        tested: False when the day had too few posts to test its share.
    """

    day: date
    platform: str
    metric: str
    observed: float
    expected: float
    z: float
    posts: int
    tested: bool = True


@dataclass(frozen=True)
class Alert:
    """A run of anomalous days of one platform and metric.

    Attributes:
        platform: Platform name.
        metric: ``"volume"`` or ``"negative share"``.
        start: First anomalous day.
        end: Last anomalous day.
        observed: Mean posts per day (volume) or pooled negative share (0–1) over the
            anomalous days.
        expected: Mean baseline value over the same days.
        z: The largest robust z-score among the days (signed).
        direction: ``"up"`` or ``"down"``.
        days: The anomalous days (gaps up to the cooldown are merged, not listed).
        posts: Brand-talk posts on the anomalous days.
        drivers: Most distinctive terms of those days' posts against the baseline.
        examples: Up to three example posts.
        top_accounts: Most active (pseudonymised) accounts with their post counts.
    """

    platform: str
    metric: str
    start: date
    end: date
    observed: float
    expected: float
    z: float
    direction: str
    days: tuple[date, ...]
    posts: int
    drivers: tuple[Driver, ...] = ()
    examples: tuple[ExamplePost, ...] = ()
    top_accounts: tuple[tuple[str, int], ...] = ()

    def text(self) -> str:
        """One plain paragraph describing the alert."""
        where = platform_name(self.platform)
        verb = "jumped" if self.direction == "up" else "dropped"
        dates = format_range(self.start, self.end)
        if self.metric == "volume":
            head = (
                f"Talk about the brand on {where} {verb} to {self.observed:.0f} posts a day "
                f"on {dates} (usually {self.expected:.0f}"
            )
        else:
            head = (
                f"Negative talk on {where} {verb} to {100 * self.observed:.0f}% on {dates} "
                f"(usually {100 * self.expected:.0f}%"
            )
        side = "above" if self.z > 0 else "below"
        parts = [f"{head}; {abs(self.z):.1f} robust SDs {side} normal)."]
        if self.drivers:
            terms = ", ".join(f"'{d.term}'" for d in self.drivers)
            parts.append(f"Likely drivers: {terms}.")
        if self.examples:
            parts.append(f'Example: "{self.examples[0].text}" ({self.examples[0].post_id}).')
        if self.top_accounts:
            accounts = ", ".join(f"{a} ({n})" for a, n in self.top_accounts)
            parts.append(f"Most active accounts: {accounts}.")
        return " ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "platform": self.platform,
            "metric": self.metric,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "observed": self.observed,
            "expected": self.expected,
            "z": self.z,
            "direction": self.direction,
            "days": [d.isoformat() for d in self.days],
            "posts": self.posts,
            "drivers": [{"term": d.term, "z": d.z, "count": d.count} for d in self.drivers],
            "examples": [{"post_id": e.post_id, "text": e.text} for e in self.examples],
            "top_accounts": [list(a) for a in self.top_accounts],
            "text": self.text(),
        }


@dataclass(frozen=True)
class AnomalyReport:
    """Anomalies found in one period.

    Attributes:
        period: The period checked.
        platforms: The platforms checked.
        sensitivity: The |robust z| threshold used.
        baseline_days: Length of the rolling baseline window.
        cooldown_days: Anomalous days separated by at most this many quiet days merge.
        alerts: The alerts, strongest first.
        checks: Every day tested, per platform and metric.
    """

    period: Period
    platforms: tuple[str, ...]
    sensitivity: float
    baseline_days: int
    cooldown_days: int
    alerts: tuple[Alert, ...] = ()
    checks: tuple[DayCheck, ...] = field(default=(), repr=False)

    @property
    def anomalous_days(self) -> int:
        """Number of tested day×platform×metric cells at or over the threshold."""
        return sum(1 for c in self.checks if c.tested and abs(c.z) >= self.sensitivity)

    @property
    def tested_days(self) -> int:
        """Number of tested day×platform×metric cells."""
        return sum(1 for c in self.checks if c.tested)

    def text(self) -> str:
        """A short summary for a reply."""
        where = ", ".join(platform_name(p) for p in self.platforms)
        if not self.alerts:
            return (
                f"Nothing unusual on {where} in {self.period.describe()}: volumes and negative "
                f"share stayed within the normal weekly rhythm "
                f"(sensitivity {self.sensitivity:g} robust SDs)."
            )
        count = len(self.alerts)
        head = (
            f"{count} unusual {'change' if count == 1 else 'changes'} on {where} in "
            f"{self.period.describe()} (sensitivity {self.sensitivity:g} robust SDs):"
        )
        return "\n".join([head, *(f"- {alert.text()}" for alert in self.alerts)])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (without the per-day checks)."""
        return {
            "period": {
                "start": self.period.start.isoformat(),
                "end": self.period.end.isoformat(),
                "label": self.period.label,
            },
            "platforms": list(self.platforms),
            "sensitivity": self.sensitivity,
            "baseline_days": self.baseline_days,
            "cooldown_days": self.cooldown_days,
            "alerts": [a.to_dict() for a in self.alerts],
            "tested_days": self.tested_days,
            "anomalous_days": self.anomalous_days,
            "text": self.text(),
        }


def tokenize(text: str) -> list[str]:
    """Lower-case words and hashtags, without stop words, numbers and @mentions."""
    cleaned = _PLACEHOLDER_RE.sub(" ", text.lower())
    tokens = []
    for token in _TOKEN_RE.findall(cleaned):
        token = token.strip("'")
        if token.startswith("@") or token in STOP_WORDS or len(token.lstrip("#")) < 2:
            continue
        if token.lstrip("#").isdigit():
            continue
        tokens.append(token)
    return tokens


def distinctive_terms(
    target_texts: Sequence[str],
    background_texts: Sequence[str],
    top: int = 5,
    *,
    min_count: int = 2,
) -> list[Driver]:
    """Terms over-represented in ``target_texts`` relative to ``background_texts``.

    Weighted log-odds ratio with an informative Dirichlet prior (Monroe, Colaresi & Quinn
    2008, "Fightin' Words"): the prior for each term is its count in both corpora together,
    so frequent words need large differences and rare words are shrunk towards zero.

    Args:
        target_texts: Texts of interest (e.g. the anomalous days' posts).
        background_texts: Comparison texts (e.g. the baseline's posts).
        top: How many terms to return.
        min_count: Minimum occurrences in ``target_texts`` for a term to count.

    Returns:
        Up to ``top`` drivers with positive z, most distinctive first.
    """
    target = Counter(t for text in target_texts for t in tokenize(text))
    background = Counter(t for text in background_texts for t in tokenize(text))
    prior = target + background
    n_t, n_b, a0 = sum(target.values()), sum(background.values()), sum(prior.values())
    if not n_t:
        return []
    drivers = []
    for term, y_t in target.items():
        if y_t < min_count:
            continue
        a_w, y_b = prior[term], background.get(term, 0)
        log_odds_t = math.log((y_t + a_w) / (n_t + a0 - y_t - a_w))
        log_odds_b = math.log((y_b + a_w) / (n_b + a0 - y_b - a_w))
        z = (log_odds_t - log_odds_b) / math.sqrt(1 / (y_t + a_w) + 1 / (y_b + a_w))
        if z > 0:
            drivers.append(Driver(term, round(z, 2), y_t))
    drivers.sort(key=lambda d: (-d.z, d.term))
    return drivers[:top]


def _median_mad(values: np.ndarray) -> tuple[float, float]:
    median = float(np.median(values))
    return median, float(np.median(np.abs(values - median)))


def _anscombe(counts: np.ndarray) -> np.ndarray:
    """Variance-stabilising transform: Poisson counts get standard deviation ≈ 1."""
    return 2.0 * np.sqrt(counts + 0.375)


def _volume_checks(
    platform: str,
    days: list[date],
    totals: np.ndarray,
    first: int,
    baseline_days: int,
    data_start: int,
) -> list[DayCheck]:
    weekdays = np.array([d.weekday() for d in days])
    stabilised = _anscombe(totals)
    checks = []
    for i in range(first, len(days)):
        if i - data_start < MIN_HISTORY_DAYS:
            checks.append(
                DayCheck(
                    days[i],
                    platform,
                    "volume",
                    float(totals[i]),
                    0.0,
                    0.0,
                    int(totals[i]),
                    tested=False,
                )
            )
            continue
        window = slice(max(i - baseline_days, data_start), i)
        raw, values, wds = totals[window], stabilised[window], weekdays[window]
        profile = {wd: float(np.median(values[wds == wd])) for wd in set(wds.tolist())}
        centre = profile.get(int(weekdays[i]), float(np.median(values)))
        residuals = values - np.array([profile[int(wd)] for wd in wds])
        scale = max(MAD_TO_SD * _median_mad(residuals)[1], 1.0)
        z = (float(stabilised[i]) - centre) / scale
        same_day = raw[wds == weekdays[i]]
        expected = float(np.median(same_day)) if same_day.size else float(np.median(raw))
        checks.append(
            DayCheck(days[i], platform, "volume", float(totals[i]), expected, z, int(totals[i]))
        )
    return checks


def _share_checks(
    platform: str,
    days: list[date],
    totals: np.ndarray,
    negatives: np.ndarray,
    first: int,
    baseline_days: int,
    data_start: int,
) -> list[DayCheck]:
    checks = []
    for i in range(first, len(days)):
        n_i = int(totals[i])
        share = negatives[i] / n_i if n_i else 0.0
        window = slice(max(i - baseline_days, data_start), i)
        n, k = totals[window], negatives[window]
        usable = n >= MIN_SHARE_POSTS
        if n_i < MIN_SHARE_POSTS or usable.sum() < 7:
            checks.append(
                DayCheck(days[i], platform, "negative share", share, 0.0, 0.0, n_i, tested=False)
            )
            continue
        shares = k[usable] / n[usable]
        p0 = min(max(float(np.median(shares)), 0.02), 0.98)
        standardised = (shares - p0) / np.sqrt(p0 * (1 - p0) / n[usable])
        dispersion = max(1.0, MAD_TO_SD * _median_mad(standardised)[1])
        z = (share - p0) / (math.sqrt(p0 * (1 - p0) / n_i) * dispersion)
        checks.append(DayCheck(days[i], platform, "negative share", share, p0, z, n_i))
    return checks


def _runs(flagged: list[DayCheck], cooldown_days: int) -> list[list[DayCheck]]:
    runs: list[list[DayCheck]] = []
    for check in sorted(flagged, key=lambda c: c.day):
        last = runs[-1][-1] if runs else None
        if (
            last is not None
            and (check.z > 0) == (last.z > 0)
            and (check.day - last.day).days - 1 <= cooldown_days
        ):
            runs[-1].append(check)
        else:
            runs.append([check])
    return runs


def _posts(
    con: duckdb.DuckDBPyConnection,
    scope: Scope,
    days: Iterable[date],
    platform: str,
    negative_only: bool,
) -> list[tuple[str, str, str]]:
    """``(post_id, account, text)`` of the scope's brand talk on ``platform`` on ``days``."""
    where, params = scope.where(support_chats=False)
    negative = " AND s.sentiment_label = 'negative'" if negative_only else ""
    rows = con.execute(
        f"""
        SELECT p.post_id, p.account, p.text
        FROM posts p JOIN scores s ON s.post_id = p.post_id AND s.model_version = ?
        WHERE list_contains(?, CAST(p.posted_at AS DATE)) AND p.platform = ?
          AND NOT list_contains(?, p.account){negative}{where}
        ORDER BY p.posted_at, p.post_id
        """,
        [scope.model_version, sorted(days), platform, [*scope.exclude_accounts], *params],
    ).fetchall()
    return [(str(a), str(b), str(c)) for a, b, c in rows]


def _alert(
    con: duckdb.DuckDBPyConnection, scope: Scope, run: list[DayCheck], baseline: list[date]
) -> Alert:
    platform, metric = run[0].platform, run[0].metric
    peak = max(run, key=lambda c: abs(c.z))
    posts = sum(c.posts for c in run)
    if metric == "volume":
        observed = posts / len(run)
    else:
        observed = sum(c.observed * c.posts for c in run) / posts if posts else 0.0
    expected = sum(c.expected for c in run) / len(run)
    up = peak.z > 0
    negative_only = metric == "negative share" and up
    days = [c.day for c in run]
    target = _posts(con, scope, days, platform, negative_only)
    background = _posts(con, scope, baseline, platform, negative_only)
    drivers: list[Driver] = []
    examples: list[ExamplePost] = []
    accounts: list[tuple[str, int]] = []
    if up:
        drivers = distinctive_terms([t for _, _, t in target], [t for _, _, t in background])
        top_terms = {d.term for d in drivers[:3]}
        ranked = sorted(target, key=lambda row: -len(top_terms & set(tokenize(row[2]))))
        seen: set[str] = set()
        for post_id, _, text in ranked:
            if text not in seen and len(examples) < 3:
                seen.add(text)
                examples.append(ExamplePost(post_id, text))
        accounts = Counter(account for _, account, _ in target).most_common(3)
    return Alert(
        platform=platform,
        metric=metric,
        start=days[0],
        end=days[-1],
        observed=observed,
        expected=expected,
        z=round(peak.z, 2),
        direction="up" if up else "down",
        days=tuple(days),
        posts=posts,
        drivers=tuple(drivers),
        examples=tuple(examples),
        top_accounts=tuple(accounts),
    )


def detect_anomalies(
    con: duckdb.DuckDBPyConnection,
    scope: Scope,
    *,
    sensitivity: float = 4.0,
    baseline_days: int = 56,
    cooldown_days: int = 3,
) -> AnomalyReport:
    """Find days in ``scope.period`` whose brand-talk volume or negative share is unusual.

    Args:
        con: Workspace connection (read-only is enough).
        scope: The posts to read. Each day of its period is compared with the
            ``baseline_days`` before it; without a platform, every platform with scored
            posts is checked. Support chats are left out: they follow the widget's
            traffic, not public talk.
        sensitivity: Alert when |robust z| is at least this (4 ≈ one false alarm in
            several hundred quiet days per series).
        baseline_days: Length of the rolling baseline window (at least 14, whole weeks
            recommended so every weekday is represented equally).
        cooldown_days: Anomalous days separated by at most this many quiet days merge into
            one alert (consecutive days always merge).

    Returns:
        The alerts (strongest first) and every day tested.

    Raises:
        AnalysisInputError: The period is empty, a parameter is out of range, the platform
            is unknown, or there are no scored posts for ``scope.model_version``.
    """
    period, model_version, platform = scope.period, scope.model_version, scope.platform
    if period.end < period.start:
        raise AnalysisInputError(
            f"the period {period.describe()} is empty (it ends before it starts); "
            "give a period of at least one day"
        )
    if sensitivity <= 0:
        raise AnalysisInputError(f"sensitivity must be positive (got {sensitivity})")
    if baseline_days < 14:
        raise AnalysisInputError(
            f"baseline_days must be at least 14 so every weekday appears twice "
            f"(got {baseline_days})"
        )
    if cooldown_days < 0:
        raise AnalysisInputError(f"cooldown_days must be zero or more (got {cooldown_days})")
    known = [
        row[0]
        for row in con.execute(
            "SELECT DISTINCT p.platform FROM posts p JOIN scores s ON s.post_id = p.post_id "
            "AND s.model_version = ? ORDER BY 1",
            [model_version],
        ).fetchall()
    ]
    if not known:
        raise AnalysisInputError(
            f"no posts are scored with model version {model_version!r}; "
            "score the workspace first (`beacon sentiment score`)"
        )
    if platform is not None and platform not in known:
        raise AnalysisInputError(
            f"unknown platform {platform!r}; expected one of {', '.join(known)}"
        )
    platforms = [platform] if platform else known
    first_day = period.start - timedelta(days=baseline_days)
    days = [first_day + timedelta(days=i) for i in range(baseline_days + period.days)]
    index = {d: i for i, d in enumerate(days)}
    where, params = scope.where(support_chats=False)
    rows = con.execute(
        f"""
        SELECT p.platform, CAST(p.posted_at AS DATE) AS day, count(*),
               count(*) FILTER (WHERE s.sentiment_label = 'negative')
        FROM posts p JOIN scores s ON s.post_id = p.post_id AND s.model_version = ?
        WHERE CAST(p.posted_at AS DATE) BETWEEN ? AND ?
          AND NOT list_contains(?, p.account){where}
        GROUP BY ALL
        """,
        [model_version, first_day, period.end, [*scope.exclude_accounts], *params],
    ).fetchall()
    series = {name: (np.zeros(len(days)), np.zeros(len(days))) for name in platforms}
    for name, day, total, negative in rows:
        if name in series:
            series[name][0][index[day]] = total
            series[name][1][index[day]] = negative
    # Where each platform's data begins (any post, brand talk or not), as an index in days.
    began = dict(
        con.execute(
            "SELECT platform, min(CAST(posted_at AS DATE)) FROM posts GROUP BY 1"
        ).fetchall()
    )
    data_start = {
        name: max(0, (began[name] - first_day).days) if name in began else 0 for name in platforms
    }
    checks: list[DayCheck] = []
    alerts: list[Alert] = []
    baseline = days[:baseline_days]
    for name in platforms:
        totals, negatives = series[name]
        for metric_checks in (
            _volume_checks(name, days, totals, baseline_days, baseline_days, data_start[name]),
            _share_checks(
                name, days, totals, negatives, baseline_days, baseline_days, data_start[name]
            ),
        ):
            checks += metric_checks
            flagged = [c for c in metric_checks if c.tested and abs(c.z) >= sensitivity]
            for run in _runs(flagged, cooldown_days):
                alerts.append(_alert(con, scope, run, baseline))
    alerts.sort(key=lambda a: -abs(a.z))
    return AnomalyReport(
        period=period,
        platforms=tuple(platforms),
        sensitivity=sensitivity,
        baseline_days=baseline_days,
        cooldown_days=cooldown_days,
        alerts=tuple(alerts),
        checks=tuple(checks),
    )


def plot_anomalies(report: AnomalyReport, path: Path, title: str) -> Path:
    """Daily volume and negative share per platform against their baselines; writes a PNG.

    Solid lines are what happened, dashed lines the weekday-aware expectation, and red
    dots the days at or over the report's sensitivity.

    Args:
        report: A :func:`detect_anomalies` result.
        path: Where to write the PNG.
        title: Chart title.

    Returns:
        ``path``.
    """
    figure = new_figure(8, 5)
    axes = figure.subplots(2, 1, sharex=True)
    panels = (("volume", "posts per day", 1.0), ("negative share", "negative share (%)", 100.0))
    for axis, (metric, ylabel, scale) in zip(axes, panels, strict=True):
        for index, platform in enumerate(report.platforms):
            checks = [c for c in report.checks if c.platform == platform and c.metric == metric]
            tested = [c for c in checks if c.tested]
            if not tested:
                continue
            colour = f"C{index}"
            name = platform_name(platform)
            axis.plot(
                [c.day for c in tested],
                [scale * c.observed for c in tested],
                color=colour,
                linewidth=1.4,
                label=name,
            )
            axis.plot(
                [c.day for c in tested],
                [scale * c.expected for c in tested],
                color=colour,
                linewidth=1,
                linestyle="--",
                alpha=0.7,
            )
            flagged = [c for c in tested if abs(c.z) >= report.sensitivity]
            axis.scatter(
                [c.day for c in flagged],
                [scale * c.observed for c in flagged],
                color="#d62728",
                zorder=3,
                s=28,
            )
        axis.set_ylabel(ylabel)
    axes[0].legend(loc="upper left", fontsize=8, frameon=False, ncol=3)
    axes[0].set_title(f"{title}\n(dashed: expected for that weekday; red: unusual)", fontsize=10)
    figure.autofmt_xdate()
    return save_png(figure, path)
