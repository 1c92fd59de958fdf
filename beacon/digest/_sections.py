"""Each digest section computed from the workspace, with the parameters that reproduce it.

Every function returns ``(section, params)``: ``params`` is what the audit row records
as the section's query (selection, periods, thresholds), so each number can be traced
back to the rows it came from.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
from scipy import stats

from analytics.anomalies import detect_anomalies
from analytics.experiments import (
    ExperimentResult,
    analyze_workspace_experiment,
    describe_lifts,
)
from analytics.influencers import (
    AuthenticityChecker,
    EngagementShrinker,
    display_handle,
    load_creators_from_workspace,
    observe_engagement,
)
from analytics.listening import daily_sentiment, sentiment_summary
from analytics.periods import Period
from analytics.scope import Scope, brand_pattern
from analytics.sentiment import LABELS
from analytics.support import SUPPORT_PLATFORM
from beacon.digest._types import (
    AnomaliesSection,
    CreatorMention,
    CreatorsSection,
    Driver,
    EngagementRow,
    EngagementSection,
    ExperimentOutcome,
    ExperimentsSection,
    PostHighlight,
    RateChange,
    SentimentSection,
    SupportSection,
    VolumeRow,
    VolumeSection,
)
from beacon.digest._week import IsoWeek
from foundation.exceptions import BeaconError

if TYPE_CHECKING:
    from analytics.engagement import EngagementModel

Z_95 = 1.959964
DISPERSION_WEEKS = 8
BASELINE_WEEKS = 12
MIN_DRIVER_POSTS = 5
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DAY_PARTS = (  # (name, first hour, last hour) in UTC, the hours posted_at is stored in
    ("night (21–05 UTC)", 21, 5),
    ("morning (06–09 UTC)", 6, 9),
    ("midday (10–16 UTC)", 10, 16),
    ("evening (17–20 UTC)", 17, 20),
)
BRAND_TALK = (
    "posts whose text contains one of brand_terms (case-insensitive), not written by "
    "exclude_accounts, with a score from model_version (analytics.listening)"
)


def _brand_talk(scope: Scope) -> dict[str, Any]:
    """How the listening sections selected posts, for their audit rows."""
    return {
        "brand_talk": BRAND_TALK,
        "model_version": scope.model_version,
        "exclude_accounts": list(scope.exclude_accounts),
        "brand_terms": list(scope.brand_terms),
    }


def _both_weeks(week: IsoWeek) -> Period:
    previous = week.previous()
    return Period(previous.start, week.end, f"{previous.label} and {week.label}")


def _days(period: Period) -> list[date]:
    return [period.start + timedelta(days=i) for i in range(period.days)]


# ----------------------------------------------------------------------------- volume
def poisson_ratio(now: int, before: int, dispersion: float = 1.0) -> RateChange | None:
    """Ratio of two counts with a (quasi-)Poisson 95% interval; None when either is 0."""
    if now <= 0 or before <= 0:
        return None
    ratio = now / before
    se = math.sqrt(dispersion * (1 / now + 1 / before))
    method = "Poisson rate ratio" + (
        f", over-dispersion {dispersion:.2f} from the {DISPERSION_WEEKS} weeks before"
        if dispersion > 1
        else ""
    )
    return RateChange(ratio, ratio * math.exp(-Z_95 * se), ratio * math.exp(Z_95 * se), method)


def _dispersion(weekly: list[int]) -> float:
    """How much noisier than Poisson the weekly counts are (≥ 1).

    Robust (MAD) variance over the median, so one spike week in the history does not
    make every later change look like noise.
    """
    counts = np.array([c for c in weekly if c > 0], float)
    if len(counts) < 4:
        return 1.0
    median = float(np.median(counts))
    mad = 1.4826 * float(np.median(np.abs(counts - median)))
    return max(1.0, mad**2 / median)


def volume_section(
    con: duckdb.DuckDBPyConnection, week: IsoWeek, scope: Scope
) -> tuple[VolumeSection, dict[str, Any]]:
    """Brand-talk and own posts per platform, this week vs the previous one."""
    history = Period(
        week.previous().start - timedelta(weeks=DISPERSION_WEEKS), week.end, "volume history"
    )
    totals = daily_sentiment(con, scope.replace(period=history))
    platforms = sorted(
        {
            p
            for w in (week, week.previous())
            for p in sentiment_summary(con, scope.replace(period=w.period())).by_platform
        }
    )
    per_platform: dict[str, dict[date, int]] = {}
    for platform in platforms:
        frame = daily_sentiment(con, scope.replace(period=history, platform=platform))
        per_platform[platform] = {ts.date(): int(n) for ts, n in frame.sum(axis=1).items()}
    own = dict.fromkeys(platforms, (0, 0))
    exclude = list(scope.exclude_accounts)
    for platform, this_week, last_week in con.execute(
        """SELECT platform,
                  count(*) FILTER (WHERE CAST(posted_at AS DATE) BETWEEN ? AND ?),
                  count(*) FILTER (WHERE CAST(posted_at AS DATE) BETWEEN ? AND ?)
           FROM posts WHERE list_contains(?, account) GROUP BY 1""",
        [week.start, week.end, week.previous().start, week.previous().end, exclude],
    ).fetchall():
        if this_week or last_week:
            own[str(platform)] = (int(this_week), int(last_week))

    def row(name: str, daily: dict[date, int], own_counts: tuple[int, int]) -> VolumeRow:
        now = sum(daily.get(d, 0) for d in _days(week.period()))
        before = sum(daily.get(d, 0) for d in _days(week.previous().period()))
        weekly = [
            sum(daily.get(week.previous().start - timedelta(weeks=k, days=-i), 0) for i in range(7))
            for k in range(1, DISPERSION_WEEKS + 1)
        ]
        return VolumeRow(
            name,
            now,
            before,
            own_counts[0],
            own_counts[1],
            poisson_ratio(now, before, _dispersion(weekly)),
        )

    rows = tuple(row(p, per_platform.get(p, {}), own[p]) for p in sorted(own))
    all_daily = {ts.date(): int(n) for ts, n in totals.sum(axis=1).items()}
    total = row(
        "all", all_daily, (sum(r.own_posts for r in rows), sum(r.previous_own_posts for r in rows))
    )
    shown = _both_weeks(week)
    daily = {
        d.isoformat(): {p: per_platform.get(p, {}).get(d, 0) for p in platforms}
        for d in _days(shown)
    }
    params = {
        **_brand_talk(scope),
        "own_posts": "posts whose account is in exclude_accounts (the brand's own accounts)",
        "days": "CAST(posted_at AS DATE), UTC",
        "interval": f"quasi-Poisson 95% CI of the rate ratio; dispersion = (1.4826 MAD)² / "
        f"median of the weekly counts in the {DISPERSION_WEEKS} weeks before the previous week",
    }
    return VolumeSection(rows, total, daily), params


# -------------------------------------------------------------------------- sentiment
def sentiment_section(
    con: duckdb.DuckDBPyConnection, week: IsoWeek, scope: Scope
) -> tuple[SentimentSection, dict[str, Any]]:
    """Label shares this week vs the week before, with share_change's 95% intervals."""
    summary = sentiment_summary(con, scope.replace(period=week.period()))
    frame = daily_sentiment(con, scope.replace(period=_both_weeks(week)))
    daily = {
        ts.date().isoformat(): {label: int(frame.loc[ts, label]) for label in LABELS}
        for ts in frame.index
    }
    params = {
        **_brand_talk(scope),
        "function": "analytics.listening.sentiment_summary (previous = the 7 days before)",
        "interval": "Wald 95% CI of the difference of two proportions (share_change)",
    }
    return SentimentSection(summary, daily), params


# ------------------------------------------------------------------------- engagement
OWN_POSTS_SQL = """
SELECT post_id, platform, account, posted_at, media_type, text,
       likes + comments + shares AS engagements, followers
FROM posts
WHERE list_contains(?, account) AND CAST(posted_at AS DATE) BETWEEN ? AND ?
ORDER BY posted_at, post_id
"""


def _day_part(hour: int) -> str:
    for name, first, last in DAY_PARTS:
        inside = first <= hour <= last if first <= last else hour >= first or hour <= last
        if inside:
            return name
    raise AssertionError(f"hour {hour} is in no day part")  # unreachable: the parts cover 0-23


def _traits(posted_at: datetime, media_type: str) -> dict[str, str]:
    return {
        "media": media_type,
        "weekday": WEEKDAYS[posted_at.weekday()],
        "time of day": _day_part(posted_at.hour),
    }


def _log_rate(engagements: int, followers: int) -> float:
    return math.log((engagements + 0.5) / followers)


def welch_ratio(now: list[float], before: list[float]) -> RateChange | None:
    """Ratio of geometric means of two samples of log rates, Welch 95% interval."""
    if len(now) < 2 or len(before) < 2:
        return None
    a, b = np.asarray(now), np.asarray(before)
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = math.sqrt(va + vb)
    diff = float(a.mean() - b.mean())
    if se == 0:
        return RateChange(math.exp(diff), math.exp(diff), math.exp(diff), "Welch t (no spread)")
    dof = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    t = float(stats.t.ppf(0.975, dof))
    return RateChange(
        math.exp(diff),
        math.exp(diff - t * se),
        math.exp(diff + t * se),
        f"Welch t on log rates ({dof:.0f} df)",
    )


def engagement_section(
    con: duckdb.DuckDBPyConnection,
    week: IsoWeek,
    scope: Scope,
    model: EngagementModel | None = None,
) -> tuple[EngagementSection, dict[str, Any]]:
    """Our own posts' engagement rates (the scope's ``exclude_accounts``); the best and worst."""
    own = list(scope.exclude_accounts)
    baseline_start = week.start - timedelta(weeks=BASELINE_WEEKS)
    rows = con.execute(OWN_POSTS_SQL, [own, baseline_start, week.end]).fetchall()
    posts = [
        dict(
            zip(
                (
                    "post_id",
                    "platform",
                    "account",
                    "posted_at",
                    "media_type",
                    "text",
                    "engagements",
                    "followers",
                ),
                r,
                strict=True,
            )
        )
        for r in rows
    ]
    rated = [p for p in posts if p["followers"]]
    for p in rated:
        p["rate"] = p["engagements"] / p["followers"]
        p["log"] = _log_rate(p["engagements"], p["followers"])
    in_week = [p for p in rated if p["posted_at"].date() >= week.start]
    in_prev = [p for p in rated if week.previous().start <= p["posted_at"].date() < week.start]
    baseline = [p for p in rated if p["posted_at"].date() < week.start]
    without = sum(1 for p in posts if not p["followers"] and p["posted_at"].date() >= week.start)

    table = []
    for platform in sorted({p["platform"] for p in in_week + in_prev}):
        now = [p["log"] for p in in_week if p["platform"] == platform]
        before = [p["log"] for p in in_prev if p["platform"] == platform]
        table.append(
            EngagementRow(
                platform,
                len(now),
                len(before),
                math.exp(float(np.mean(now))) if now else None,
                math.exp(float(np.mean(before))) if before else None,
                welch_ratio(now, before),
            )
        )

    typical: dict[str, float] = {}
    for platform in {p["platform"] for p in in_week}:
        ref = [p["rate"] for p in baseline if p["platform"] == platform] or [
            p["rate"] for p in in_week if p["platform"] == platform
        ]
        typical[platform] = float(np.median(ref))
    for p in in_week:
        p["relative"] = p["rate"] / typical[p["platform"]] if typical[p["platform"]] else math.nan
    ranked = sorted(
        (p for p in in_week if math.isfinite(p["relative"])),
        key=lambda p: (p["relative"], p["post_id"]),
    )
    best = _highlight(ranked[-1], baseline, typical, model) if ranked else None
    worst = _highlight(ranked[0], baseline, typical, model) if len(ranked) > 1 else None
    section = EngagementSection(
        rows=tuple(table),
        best=best,
        worst=worst,
        baseline_weeks=BASELINE_WEEKS,
        without_followers=without,
        model_version=model.version if model is not None else None,
    )
    params = {
        "query": " ".join(OWN_POSTS_SQL.split()),
        "query_params": [own, baseline_start.isoformat(), week.end.isoformat()],
        "rate": "(likes + comments + shares) / followers per post",
        "typical": f"median rate of the platform's own posts in the {BASELINE_WEEKS} weeks "
        "before the week",
        "comparison": "geometric means this week vs the week before, Welch 95% CI on "
        "log((engagements + 0.5) / followers)",
        "best_worst": "highest and lowest rate / typical rate among the week's posts",
        "drivers": f"median rate of baseline posts sharing the trait / typical rate "
        f"(traits with at least {MIN_DRIVER_POSTS} baseline posts)",
    }
    return section, params


def _highlight(
    post: dict[str, Any],
    baseline: list[dict[str, Any]],
    typical: dict[str, float],
    model: EngagementModel | None,
) -> PostHighlight:
    platform = post["platform"]
    peers = [p for p in baseline if p["platform"] == platform]
    drivers = []
    for trait, value in _traits(post["posted_at"], post["media_type"]).items():
        same = [
            p["rate"] for p in peers if _traits(p["posted_at"], p["media_type"])[trait] == value
        ]
        if len(same) >= MIN_DRIVER_POSTS and typical[platform]:
            drivers.append(
                Driver(trait, value, float(np.median(same)) / typical[platform], len(same))
            )
    return PostHighlight(
        post_id=str(post["post_id"]),
        platform=platform,
        posted_at=post["posted_at"],
        media_type=str(post["media_type"]),
        text=str(post["text"]),
        engagements=int(post["engagements"]),
        followers=int(post["followers"]),
        rate=float(post["rate"]),
        typical_rate=typical[platform],
        relative=float(post["relative"]),
        drivers=tuple(drivers),
        model_text=_model_text(model, post),
    )


def _model_text(model: EngagementModel | None, post: dict[str, Any]) -> str | None:
    """The engagement model's explanation of the post as it was before it went out."""
    if model is None:
        return None
    from analytics.engagement import Draft

    key = f"{post['account']}@{post['platform']}"
    if key not in set(model.history_.times):
        return None
    draft = Draft(
        text=str(post["text"]),
        account=key,
        posted_at=post["posted_at"],
        media_type=str(post["media_type"]),
    )
    try:
        return model.explain(draft, now=post["posted_at"]).text()
    except BeaconError:
        return None


# ------------------------------------------------------------------------ experiments
ENDED_SQL = """
SELECT experiment_id, name, started_at, ended_at FROM experiments
WHERE CAST(ended_at AS DATE) BETWEEN ? AND ? ORDER BY ended_at, experiment_id
"""


def _outcome(result: ExperimentResult, row: tuple[Any, ...]) -> ExperimentOutcome:
    experiment_id, name, started_at, ended_at = row
    winners = sorted(
        {
            v.name
            for m in result.metrics
            for v in m.variants
            if not v.is_control and v.abs_lift_ci is not None and v.abs_lift_ci[0] > 0
        }
    )
    losers = any(
        v.abs_lift_ci is not None and v.abs_lift_ci[1] < 0
        for m in result.metrics
        for v in m.variants
        if not v.is_control
    )
    verdict = (
        "srm" if result.srm.warning else "winner" if winners else "loser" if losers else "no_effect"
    )
    return ExperimentOutcome(
        experiment_id=str(experiment_id),
        name=str(name),
        started=started_at.date() if started_at else None,
        ended=ended_at.date(),
        units=sum(result.srm.observed.values()),
        verdict=verdict,
        winners=tuple(winners),
        control=result.control,
        metric_lines=tuple(
            line for m in result.metrics for line in describe_lifts(m, result.control)
        ),
        warnings=tuple(result.warnings),
    )


def experiments_section(
    con: duckdb.DuckDBPyConnection, week: IsoWeek
) -> tuple[ExperimentsSection, dict[str, Any]]:
    """Experiments whose ``ended_at`` falls in the week, each analysed."""
    rows = con.execute(ENDED_SQL, [week.start, week.end]).fetchall()
    previous = con.execute(ENDED_SQL, [week.previous().start, week.previous().end]).fetchall()
    outcomes = tuple(_outcome(analyze_workspace_experiment(con, str(r[0])), r) for r in rows)
    params = {
        "query": " ".join(ENDED_SQL.split()),
        "query_params": [week.start.isoformat(), week.end.isoformat()],
        "analysis": "analytics.experiments.analyze_workspace_experiment (alpha 0.05, Holm, "
        "CUPED when pre_period is present, SRM check)",
        "experiment_ids": [str(r[0]) for r in rows],
    }
    return ExperimentsSection(outcomes, len(previous)), params


# -------------------------------------------------------------------------- anomalies
def anomalies_section(
    con: duckdb.DuckDBPyConnection, week: IsoWeek, scope: Scope
) -> tuple[AnomaliesSection, dict[str, Any]]:
    """Unusual days in the week (and how many alerts the week before had)."""
    report = detect_anomalies(con, scope.replace(period=week.period()))
    previous = detect_anomalies(con, scope.replace(period=week.previous().period()))
    params = {
        **_brand_talk(scope),
        "function": "analytics.anomalies.detect_anomalies",
        "sensitivity": report.sensitivity,
        "baseline_days": report.baseline_days,
        "cooldown_days": report.cooldown_days,
    }
    return AnomaliesSection(report, len(previous.alerts)), params


# --------------------------------------------------------------------------- creators
MENTIONS_SQL = """
SELECT i.influencer_id, p.post_id, p.posted_at, p.text, p.likes + p.comments + p.shares
FROM posts p JOIN influencers i ON p.account = i.handle
WHERE CAST(p.posted_at AS DATE) BETWEEN ? AND ? AND regexp_matches(lower(p.text), ?)
ORDER BY i.influencer_id, p.posted_at
"""


def creators_section(
    con: duckdb.DuckDBPyConnection, week: IsoWeek, brand: str, scope: Scope
) -> tuple[CreatorsSection, dict[str, Any]]:
    """Tracked creators whose posts this week mention the brand, with shrunk rates and flags."""
    terms = list(scope.brand_terms or [brand])
    pattern = brand_pattern(terms)
    rows = con.execute(MENTIONS_SQL, [week.start, week.end, pattern]).fetchall()
    previous = con.execute(
        MENTIONS_SQL, [week.previous().start, week.previous().end, pattern]
    ).fetchall()
    tracked, posted = con.execute(
        """SELECT count(DISTINCT i.influencer_id),
                  count(DISTINCT i.influencer_id) FILTER (WHERE p.post_id IS NOT NULL)
           FROM influencers i LEFT JOIN posts p ON p.account = i.handle
                AND CAST(p.posted_at AS DATE) BETWEEN ? AND ?""",
        [week.start, week.end],
    ).fetchall()[0]
    by_creator: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for r in rows:
        by_creator[str(r[0])].append(r)
    mentions: list[CreatorMention] = []
    if by_creator:
        as_of = datetime.combine(week.end, time(23, 59, 59))
        creators = load_creators_from_workspace(con)
        checker = AuthenticityChecker().fit(creators, as_of=as_of)
        flags = {c.creator_id: checker.flags(c) for c in creators}
        observations = {c.creator_id: observe_engagement(c, as_of=as_of) for c in creators}
        present = [o for o in observations.values() if o is not None]
        shrinker = (
            EngagementShrinker().fit(present, exclude=[cid for cid, f in flags.items() if f])
            if present
            else None
        )
        profiles = {c.creator_id: c for c in creators}
        for creator_id, posts in sorted(by_creator.items()):
            profile = profiles[creator_id]
            obs = observations.get(creator_id)
            estimate = shrinker.estimate(obs) if shrinker is not None and obs else None
            example = max(posts, key=lambda r: (r[4], r[1]))
            mentions.append(
                CreatorMention(
                    creator_id=creator_id,
                    handle=display_handle(profile.handle),
                    platform=profile.platform,
                    followers=profile.latest_followers(),
                    mentions=len(posts),
                    post_ids=tuple(str(r[1]) for r in posts),
                    example=str(example[3]),
                    engagements=int(sum(r[4] for r in posts)),
                    rate=estimate.rate if estimate else None,
                    low=estimate.low if estimate else None,
                    high=estimate.high if estimate else None,
                    tier=estimate.tier if estimate else "unknown",
                    flags=tuple(f.message for f in flags.get(creator_id, ())),
                )
            )
        mentions.sort(key=lambda m: (-m.engagements, m.creator_id))
    section = CreatorsSection(
        tuple(mentions), len({str(r[0]) for r in previous}), int(tracked), int(posted)
    )
    params = {
        "query": " ".join(MENTIONS_SQL.split()),
        "query_params": [week.start.isoformat(), week.end.isoformat(), pattern],
        "engagement": "analytics.influencers: EngagementShrinker (empirical Bayes toward the "
        "follower tier, 180-day window as of the week's end), AuthenticityChecker flags",
    }
    return section, params


# ---------------------------------------------------------------------------- support
SUPPORT_CHATS_SQL = """
SELECT count(DISTINCT account) FILTER (WHERE CAST(posted_at AS DATE) BETWEEN ? AND ?),
       count(DISTINCT account) FILTER (WHERE CAST(posted_at AS DATE) BETWEEN ? AND ?)
FROM posts WHERE platform = ?
"""
RATINGS_SQL = """
SELECT count(*) FILTER (WHERE CAST(created_at AS DATE) BETWEEN ? AND ?),
       avg(rating) FILTER (WHERE CAST(created_at AS DATE) BETWEEN ? AND ?),
       avg(rating) FILTER (WHERE CAST(created_at AS DATE) BETWEEN ? AND ?)
FROM support_ratings
"""
HANDOFFS_SQL = """
SELECT count(*), count(*) FILTER (WHERE NOT CAST(json_extract(inputs, '$.delivered') AS BOOLEAN))
FROM audit WHERE kind = 'handoff' AND CAST(created_at AS DATE) BETWEEN ? AND ?
"""


def support_section(
    con: duckdb.DuckDBPyConnection, week: IsoWeek, scope: Scope
) -> tuple[SupportSection, dict[str, Any]]:
    """Support chats, their tone, hand-offs and ratings, this week vs the week before."""
    before = week.previous()
    chats, previous_chats = con.execute(
        SUPPORT_CHATS_SQL, [week.start, week.end, before.start, before.end, SUPPORT_PLATFORM]
    ).fetchall()[0]
    summary = sentiment_summary(con, scope.replace(period=week.period(), platform=SUPPORT_PLATFORM))
    change = next((c for c in summary.changes if c.label == "negative"), None)
    ratings, mean, previous_mean = con.execute(
        RATINGS_SQL, [week.start, week.end, week.start, week.end, before.start, before.end]
    ).fetchall()[0]
    handoffs, undelivered = con.execute(HANDOFFS_SQL, [week.start, week.end]).fetchall()[0]
    section = SupportSection(
        chats=int(chats),
        previous_chats=int(previous_chats),
        messages=summary.total,
        negative=summary.share("negative") if summary.total else None,
        previous_negative=summary.previous_share("negative") if summary.previous_total else None,
        negative_change=change,
        handoffs=int(handoffs),
        undelivered_handoffs=int(undelivered or 0),
        ratings=int(ratings),
        mean_rating=None if mean is None else float(mean),
        previous_mean_rating=None if previous_mean is None else float(previous_mean),
    )
    params = {
        "platform": SUPPORT_PLATFORM,
        "model_version": scope.model_version,
        "chats": "distinct pseudonymised chat sessions with a customer message in the week",
        "sentiment": "analytics.listening.sentiment_summary(platform='support'), Wald 95% CI",
        "handoffs": "audit rows of kind 'handoff'",
        "ratings": "support_ratings (1-5) given in the week",
    }
    return section, params
