"""What each dashboard view shows, computed by the analytics functions the bot's answers use.

Every function takes a read-only workspace connection and the view's filters and
returns plain values and pandas frames; the Streamlit app only draws them. Keeping the
numbers here (not in the app) lets tests check them without a browser, and keeps the
dashboard's numbers the chat's to the digit: the same :class:`~analytics.scope.Scope`,
the same functions.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import duckdb
import pandas as pd

from analytics.anomalies import AnomalyReport, detect_anomalies
from analytics.engagement import Draft, EngagementModel, own_account_key
from analytics.exceptions import AnalysisInputError
from analytics.experiments import ExperimentResult, analyze_workspace_experiment
from analytics.influencers import Ranking, load_creators_from_workspace, rank_creators
from analytics.listening import (
    Z_95,
    SentimentExample,
    SentimentSummary,
    Theme,
    daily_sentiment,
    example_posts,
    percent,
    sentiment_summary,
    sentiment_themes,
)
from analytics.periods import Period, format_range, parse_period
from analytics.posts import TopPosts, own_accounts, top_posts
from analytics.scope import Scope
from analytics.sentiment import SentimentScorer
from analytics.support import SUPPORT_PLATFORM
from foundation.workspace import queries
from foundation.workspace.queries import PinnedTile

#: Days a view shows when its link names no period: the chat's default (the last 30 days).
DEFAULT_DAYS = 30


@dataclass(frozen=True)
class Filters:
    """A view's filters, as a link carries them.

    Attributes:
        start: First day read.
        end: Last day read (inclusive).
        platform: A workspace platform, or None for all.
        topic: A keyword, hashtag or campaign id, or None.
    """

    start: date
    end: date
    platform: str | None = None
    topic: str | None = None

    @classmethod
    def from_link(cls, values: Mapping[str, str], today: date) -> Filters:
        """Filters from a link's values; the last :data:`DEFAULT_DAYS` days when it names none.

        Raises:
            AnalysisInputError: A date is not ``YYYY-MM-DD`` or the period ends before it starts.
        """
        try:
            end = date.fromisoformat(values["end"]) if values.get("end") else today
            start = (
                date.fromisoformat(values["start"])
                if values.get("start")
                else end - timedelta(days=DEFAULT_DAYS - 1)
            )
        except ValueError as error:
            raise AnalysisInputError(
                f"a dashboard period is two dates as YYYY-MM-DD ({error})"
            ) from error
        if end < start:
            raise AnalysisInputError(
                f"the period {start} to {end} ends before it starts; pick an end after the start"
            )
        return cls(start, end, values.get("platform") or None, values.get("topic") or None)

    @property
    def period(self) -> Period:
        return Period(self.start, self.end, format_range(self.start, self.end))

    def scope(self, con: duckdb.DuckDBPyConnection, model_version: str) -> Scope:
        """The brand-talk scope these filters select (the chat's :class:`Scope`)."""
        return Scope(
            period=self.period,
            model_version=model_version,
            platform=self.platform,
            topic=self.topic,
        ).for_brand(con)


def daily_shares(daily: pd.DataFrame) -> pd.DataFrame:
    """Each day's share of each label with a 95% Wilson interval.

    Args:
        daily: Posts per day and label, shape (days, labels), as
            :func:`analytics.listening.daily_sentiment` returns.

    Returns:
        Long frame with columns ``day``, ``label``, ``posts`` (that day's total),
        ``share``, ``low`` and ``high`` (fractions); days without posts have NaN shares.
    """
    rows = []
    for day, counts in daily.iterrows():
        total = int(counts.sum())
        for label, count in counts.items():
            if total:
                share = count / total
                centre = (share + Z_95**2 / (2 * total)) / (1 + Z_95**2 / total)
                half = (Z_95 / (1 + Z_95**2 / total)) * math.sqrt(
                    share * (1 - share) / total + Z_95**2 / (4 * total**2)
                )
                low, high = max(0.0, centre - half), min(1.0, centre + half)
            else:
                share = low = high = math.nan
            rows.append((pd.Timestamp(day), str(label), total, share, low, high))
    return pd.DataFrame(rows, columns=["day", "label", "posts", "share", "low", "high"])


@dataclass(frozen=True)
class BrandHealth:
    """The brand-health view.

    Attributes:
        summary: The chat's sentiment summary for the same scope.
        shares: :func:`daily_shares` of the scope.
        anomalies: Unusual days (None when there are too few scored posts to check).
        themes: What drives positive and negative talk.
        examples: The clearest posts of the scope, most confident first.
    """

    summary: SentimentSummary
    shares: pd.DataFrame
    anomalies: AnomalyReport | None
    themes: dict[str, list[Theme]]
    examples: list[SentimentExample]


def brand_summary(
    con: duckdb.DuckDBPyConnection, filters: Filters, model_version: str
) -> SentimentSummary:
    """The brand-health view's headline: the chat's sentiment summary for the filters.

    Drawn before the rest of :func:`brand_health`, so the numbers show first.
    """
    return sentiment_summary(con, filters.scope(con, model_version))


def brand_health(
    con: duckdb.DuckDBPyConnection,
    filters: Filters,
    model_version: str,
    *,
    label: str | None = None,
    examples: int = 20,
    summary: SentimentSummary | None = None,
) -> BrandHealth:
    """Sentiment over time with intervals, anomalies, drivers and the posts behind them.

    Args:
        con: Workspace connection (read-only).
        filters: Platform, period and topic.
        model_version: Whose sentiment labels to count (the model the bot uses).
        label: Only example posts with this sentiment.
        examples: How many example posts.
        summary: :func:`brand_summary` of the same filters, when already worked out.
    """
    scope = filters.scope(con, model_version)
    try:
        anomalies: AnomalyReport | None = detect_anomalies(con, scope)
    except AnalysisInputError:
        anomalies = None
    return BrandHealth(
        summary=summary or sentiment_summary(con, scope),
        shares=daily_shares(daily_sentiment(con, scope)),
        anomalies=anomalies,
        themes=sentiment_themes(con, scope),
        examples=example_posts(con, scope, label=label, limit=examples),
    )


def posts_on(
    con: duckdb.DuckDBPyConnection, scope: Scope, day: date, *, limit: int = 50
) -> list[SentimentExample]:
    """The brand-talk posts of one day of ``scope``: what a click on the chart shows."""
    one_day = scope.replace(period=Period(day, day, format_range(day, day)))
    return example_posts(con, one_day, limit=limit)


@dataclass(frozen=True)
class OurPosts:
    """The "our posts" view.

    Attributes:
        daily: The brand's own posts per day: ``day``, ``posts``, ``engagement`` (likes,
            comments and shares) and ``engagement_rate`` (per follower, NaN without
            follower counts).
        best: The best posts by engagement rate (the chat's "top posts").
        worst: The worst posts by engagement rate.
    """

    daily: pd.DataFrame
    best: TopPosts | None
    worst: TopPosts | None


def our_posts(con: duckdb.DuckDBPyConnection, filters: Filters, *, n: int = 5) -> OurPosts:
    """Engagement of the brand's own posts over time, and the best and worst of them."""
    period = filters.period
    best: TopPosts | None
    worst: TopPosts | None
    try:
        best = top_posts(con, period, platform=filters.platform, n=n, campaign_id=filters.topic)
        worst = top_posts(
            con, period, platform=filters.platform, n=n, worst=True, campaign_id=filters.topic
        )
    except AnalysisInputError:  # no own accounts configured
        best = worst = None
    accounts = own_accounts(con)
    if not accounts:
        daily = pd.DataFrame(columns=["day", "posts", "engagement", "engagement_rate"])
    else:
        clauses = ["account IN (SELECT unnest(?))", "CAST(posted_at AS DATE) BETWEEN ? AND ?"]
        params: list[object] = [accounts, period.start, period.end]
        if filters.platform:
            clauses.append("platform = ?")
            params.append(filters.platform)
        if filters.topic:
            clauses.append("campaign_id = ?")
            params.append(filters.topic)
        daily = con.execute(
            f"""SELECT CAST(posted_at AS DATE) AS day, count(*) AS posts,
                       sum(likes + comments + shares) AS engagement,
                       sum(likes + comments + shares) / nullif(sum(followers), 0)
                           AS engagement_rate
                FROM posts WHERE {" AND ".join(clauses)} GROUP BY 1 ORDER BY 1""",
            params,
        ).df()
    return OurPosts(daily=daily, best=best, worst=worst)


def experiments(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """Every workspace experiment as ``(experiment_id, name)``, as the chat matches them."""
    return queries.experiments(con)


def experiment(con: duckdb.DuckDBPyConnection, experiment_id: str) -> ExperimentResult:
    """The chat's analysis of one experiment: lifts, intervals, SRM, sequential p-values, ROI.

    Raises:
        AnalysisInputError: No experiment with that id, or too little data to analyse.
    """
    return analyze_workspace_experiment(con, experiment_id)


def experiment_headline(result: ExperimentResult) -> list[tuple[str, str]]:
    """The experiments view's headline, ``(label, value)``: units, the sample-ratio check,
    and on the first metric the variant most likely to beat control, with its lift."""
    units = sum(variant.n for variant in result.metrics[0].variants) if result.metrics else 0
    headline = [
        ("Units", f"{units:,}"),
        ("Sample ratio", "mismatch" if result.srm.warning else "fine"),
    ]
    if result.metrics:
        metric = result.metrics[0]
        challengers = [v for v in metric.variants if not v.is_control]
        if challengers:
            best = max(challengers, key=lambda v: v.prob_beats_control or 0.0)
            lift = "" if best.rel_lift is None else f" ({best.rel_lift:+.1%})"
            headline.append((f"Best on {metric.name}", best.name + lift))
            if best.prob_beats_control is not None:
                headline.append(("P(beats control)", percent(best.prob_beats_control)))
    return headline


def experiment_table(result: ExperimentResult) -> pd.DataFrame:
    """One row per metric and variant: mean, lifts with intervals and the sequential view."""
    rows = []
    for metric in result.metrics:
        for variant in metric.variants:
            rows.append(
                {
                    "metric": metric.name,
                    "variant": variant.name + (" (control)" if variant.is_control else ""),
                    "units": variant.n,
                    "mean": variant.mean,
                    "relative lift": variant.rel_lift,
                    "lift 95% low": variant.rel_lift_ci[0] if variant.rel_lift_ci else None,
                    "lift 95% high": variant.rel_lift_ci[1] if variant.rel_lift_ci else None,
                    "p-value (adjusted)": variant.p_value_adjusted,
                    "always-valid p-value": variant.always_valid_p_value,
                    "P(beats control)": variant.prob_beats_control,
                }
            )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class SupportActivity:
    """The support view.

    Attributes:
        daily: Per day: ``day``, ``messages`` (customer messages), ``chats`` (distinct
            conversations), ``negative_share`` (of scored messages), ``handoffs`` and
            ``ratings`` (count) and ``mean_rating``.
    """

    daily: pd.DataFrame

    @property
    def totals(self) -> dict[str, float]:
        """Messages, hand-offs and ratings over the period, and the mean rating."""
        daily = self.daily
        rated = int(daily["ratings"].sum()) if len(daily) else 0
        mean = float((daily["mean_rating"] * daily["ratings"]).sum() / rated) if rated else math.nan
        return {
            "messages": int(daily["messages"].sum()) if len(daily) else 0,
            "handoffs": int(daily["handoffs"].sum()) if len(daily) else 0,
            "ratings": rated,
            "mean_rating": mean,
        }


def support_activity(
    con: duckdb.DuckDBPyConnection, filters: Filters, model_version: str
) -> SupportActivity:
    """Support chats, their tone, hand-offs and ratings per day of the filters' period."""
    start, end = filters.start, filters.end
    daily = con.execute(
        """
        WITH days AS (
            SELECT CAST(unnest(generate_series(CAST(? AS DATE), CAST(? AS DATE),
                                               INTERVAL 1 DAY)) AS DATE) AS day
        ),
        chats AS (
            SELECT CAST(p.posted_at AS DATE) AS day, count(*) AS messages,
                   count(DISTINCT p.account) AS chats,
                   avg(CASE WHEN s.sentiment_label IS NULL THEN NULL
                            WHEN s.sentiment_label = 'negative' THEN 1.0 ELSE 0.0 END)
                       AS negative_share
            FROM posts p LEFT JOIN scores s
              ON s.post_id = p.post_id AND s.model_version = ?
            WHERE p.platform = ? AND CAST(p.posted_at AS DATE) BETWEEN ? AND ?
            GROUP BY 1
        ),
        handoffs AS (
            SELECT CAST(created_at AS DATE) AS day, count(*) AS handoffs FROM audit
            WHERE kind = 'handoff' AND CAST(created_at AS DATE) BETWEEN ? AND ? GROUP BY 1
        ),
        ratings AS (
            SELECT CAST(created_at AS DATE) AS day, count(*) AS ratings,
                   avg(rating) AS mean_rating
            FROM support_ratings WHERE CAST(created_at AS DATE) BETWEEN ? AND ? GROUP BY 1
        )
        SELECT days.day,
               coalesce(chats.messages, 0) AS messages, coalesce(chats.chats, 0) AS chats,
               chats.negative_share, coalesce(handoffs.handoffs, 0) AS handoffs,
               coalesce(ratings.ratings, 0) AS ratings, ratings.mean_rating
        FROM days
        LEFT JOIN chats USING (day) LEFT JOIN handoffs USING (day) LEFT JOIN ratings USING (day)
        ORDER BY days.day
        """,
        [start, end, model_version, SUPPORT_PLATFORM, start, end, start, end, start, end],
    ).df()
    return SupportActivity(daily=daily)


def creator_ranking(
    con: duckdb.DuckDBPyConnection,
    brief: str,
    scorer: SentimentScorer,
    *,
    platform: str | None = None,
    budget: float | None = None,
    top_k: int = 10,
) -> Ranking:
    """Creators ranked for ``brief`` exactly as the chat ranks them (same weights, same model).

    Args:
        con: Workspace connection (read-only).
        brief: What the campaign is about.
        scorer: The sentiment model the bot uses (for audience sentiment).
        platform: Only creators on this platform.
        budget: Leave out creators whose post costs more.
        top_k: How many creators.
    """
    creators = load_creators_from_workspace(con, platform=platform)
    return rank_creators(
        creators,
        brief,
        budget=budget,
        top_k=top_k,
        platform=platform,
        scorer=scorer,
        currency="EUR",
    )


def creator_headline(ranking: Ranking) -> list[tuple[str, str]]:
    """The creators view's headline, ``(label, value)``: how many were ranked and the top one."""
    headline = [("Creators", str(len(ranking.items)))]
    if ranking.items:
        top = ranking.items[0]
        headline += [("#1", top.creator.handle), ("#1 score", f"{top.score:.3f}")]
    return headline


def creator_table(ranking: Ranking) -> pd.DataFrame:
    """One row per ranked creator: place, score, the evidence behind it and its flags."""
    return pd.DataFrame(
        [
            {
                "#": item.position,
                "creator": item.creator.handle,
                "platform": item.creator.platform,
                "score": round(item.score, 3),
                "fit": None if item.fit is None else round(item.fit, 3),
                "why": item.reason_line(),
                "authenticity flags": "; ".join(flag.message for flag in item.flags) or "none",
            }
            for item in ranking.items
        ]
    )


@dataclass(frozen=True)
class TileView:
    """A pinned tile worked out again on current data.

    Attributes:
        title: The question it answers.
        period: The days it covers now (None when it has no period).
        metrics: Headline numbers, ``(label, value)``.
        table: Rows behind them, or None.
        view: The dashboard view that shows more, and its filters.
        filters: Filters of ``view``.
    """

    title: str
    period: str | None
    metrics: list[tuple[str, str]]
    table: pd.DataFrame | None
    view: str
    filters: dict[str, str]


def tile_period(params: Mapping[str, object], today: date) -> Period:
    """A tile's period today: its phrase read again ("this month" moves on), else its dates."""
    for key in ("period", "label"):
        phrase = str(params.get(key) or "").strip()
        for candidate in (phrase, phrase.removeprefix("the ")):
            if not candidate:
                continue
            try:
                return parse_period(candidate, today)
            except AnalysisInputError:
                continue
    if params.get("start") and params.get("end"):
        start, end = (date.fromisoformat(str(params[key])) for key in ("start", "end"))
        return Period(start, end, format_range(start, end))
    return parse_period(None, today)


def tile_view(
    con: duckdb.DuckDBPyConnection,
    tile: PinnedTile,
    model_version: str,
    today: date,
    rank: Callable[[str, str | None, float | None], Ranking],
) -> TileView:
    """What ``tile`` shows on current data, computed as the chat computes its answer.

    Args:
        con: Workspace connection (read-only).
        tile: The pinned tile.
        model_version: The sentiment model the bot uses.
        today: The day relative periods ("this month") are read against.
        rank: Ranks creators for ``(brief, platform, budget)`` (cached by the app).

    Raises:
        AnalysisInputError: The tile's kind is unknown, or its parameters no longer fit
            the workspace (an experiment that was removed).
    """
    params = tile.params
    title = tile.question or tile.kind
    platform = str(params["platform"]) if params.get("platform") else None
    if tile.kind in ("sentiment", "anomaly"):
        period = tile_period(params, today)
        topic = str(params["topic"]) if params.get("topic") else None
        filters = Filters(period.start, period.end, platform, topic)
        scope = filters.scope(con, model_version)
        link = {"start": period.start.isoformat(), "end": period.end.isoformat()}
        link |= {"platform": platform or "", "topic": topic or ""}
        if tile.kind == "sentiment":
            summary = sentiment_summary(con, scope)
            metrics = [("Posts", f"{summary.total:,}")] + [
                (label.capitalize(), percent(summary.share(label)))
                for label in ("positive", "neutral", "negative")
            ]
            return TileView(title, period.describe(), metrics, None, "brand", link)
        report = detect_anomalies(con, scope)
        table = pd.DataFrame({"unusual days": [alert.text() for alert in report.alerts]})
        metrics = [("Alerts", str(len(report.alerts)))]
        return TileView(title, period.describe(), metrics, table, "brand", link)
    if tile.kind == "experiment":
        experiment_id = str(params.get("experiment") or "")
        result = experiment(con, experiment_id)
        metrics = experiment_headline(result)
        return TileView(
            title,
            None,
            metrics,
            experiment_table(result),
            "experiments",
            {"experiment": experiment_id},
        )
    if tile.kind == "ranking":
        brief = str(params.get("brief") or "")
        budget = float(params["budget"]) if params.get("budget") else None
        ranking = rank(brief, platform, budget)
        table = creator_table(ranking)
        metrics = creator_headline(ranking)
        return TileView(
            title, None, metrics, table, "creators", {"brief": brief, "platform": platform or ""}
        )
    if tile.kind == "top_posts":
        period = tile_period(params, today)
        ranked = top_posts(
            con,
            period,
            platform=platform,
            metric=str(params.get("metric") or "engagement_rate"),
            n=int(params.get("n") or 3),
            worst=bool(params.get("worst")),
        )
        table = pd.DataFrame([post.to_dict() for post in ranked.posts])
        metrics = [("Posts", str(len(ranked.posts)))]
        link = {
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "platform": platform or "",
        }
        return TileView(title, period.describe(), metrics, table, "posts", link)
    raise AnalysisInputError(f"a tile of kind {tile.kind!r} can't be shown; unpin it from chat")


def draft_explanation(
    con: duckdb.DuckDBPyConnection,
    model: EngagementModel,
    text: str,
    platform: str,
    posted_at: datetime,
) -> str:
    """How a draft on ``platform`` at ``posted_at`` will do and why: the chat's prediction.

    Raises:
        AnalysisInputError: The draft is empty, or the model has no history for the
            brand's account on ``platform``.
    """
    if not text.strip():
        raise AnalysisInputError("write the draft's text first")
    account = own_account_key(con, platform, model)
    if account is None:
        raise AnalysisInputError(
            f"there is no post history for our {platform} account, so no prediction there yet"
        )
    return model.explain(Draft(text=text, account=account, posted_at=posted_at)).text()


def post_explanation(con: duckdb.DuckDBPyConnection, model: EngagementModel, post_id: str) -> str:
    """One of our posts' outcome next to what the model would have said before it went out.

    Raises:
        AnalysisInputError: No such post, or not one of the brand's own.
    """
    row = queries.post_outcome(con, post_id)
    if row is None:
        raise AnalysisInputError(f"there is no post with the id {post_id} in the workspace")
    platform, text, posted_at, media_type, engagement, account = row
    key = f"{account}@{platform}"
    if key not in set(model.history_.times):
        raise AnalysisInputError(f"{post_id} is not one of our own posts")
    draft = Draft(text=text, account=key, posted_at=posted_at, media_type=media_type)
    explanation = model.explain(draft, now=posted_at)
    return (
        f"{post_id} got {engagement:,} likes+comments+shares. "
        f"Before it went out, the model would have said: {explanation.text()}"
    )
