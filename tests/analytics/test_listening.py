"""Sentiment summaries over the demo workspace."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from analytics.listening import (
    SentimentSummary,
    daily_sentiment,
    plot_sentiment_trend,
    sentiment_summary,
    sentiment_themes,
    share_change,
)
from analytics.periods import parse_period
from analytics.scope import Scope
from beacon.scoring import current_scorer
from foundation.workspace import get_meta
from tests.conftest import DemoWorkspace


def _scope(
    con: duckdb.DuckDBPyConnection,
    demo: DemoWorkspace,
    phrase: str,
    platform: str | None = None,
    topic: str | None = None,
) -> Scope:
    period = parse_period(phrase, demo.end_date)
    return Scope(period, current_scorer().version, platform, topic).for_brand(con)


def _summary(
    demo: DemoWorkspace, phrase: str, platform: str | None = None, topic: str | None = None
) -> SentimentSummary:
    with demo.workspace.connect(read_only=True) as con:
        return sentiment_summary(con, _scope(con, demo, phrase, platform, topic))


def test_a_scope_for_the_brand_reads_the_workspace_selection(demo: DemoWorkspace) -> None:
    with demo.workspace.connect(read_only=True) as con:
        scope = _scope(con, demo, "this month", "twitter", topic="peeling")
        assert scope.exclude_accounts == tuple(get_meta(con, "own_accounts"))
        assert scope.brand_terms == tuple(get_meta(con, "brand_terms"))
    assert (scope.platform, scope.topic) == ("twitter", "peeling")
    assert scope.period == parse_period("this month", demo.end_date)
    assert scope.replace(platform=None).platform is None and scope.platform == "twitter"
    assert hash(scope) == hash(scope.replace())  # frozen and hashable: usable as a cache key


def test_the_brand_named_as_a_topic_is_all_brand_talk(demo: DemoWorkspace) -> None:
    with demo.workspace.connect(read_only=True) as con:
        named = _scope(con, demo, "last 30 days", "twitter", "Trailbird")
        plain = _scope(con, demo, "last 30 days", "twitter")
    assert named.topic is None and named == plain
    assert _summary(demo, "last 30 days", "twitter", "trailbird").total > 0


def test_counts_match_a_direct_query(demo: DemoWorkspace) -> None:
    summary = _summary(demo, "this month", "twitter")
    with demo.workspace.connect(read_only=True) as con:
        direct = dict(
            con.execute(
                """SELECT s.sentiment_label, count(*) FROM posts p JOIN scores s USING (post_id)
                   WHERE p.platform = 'twitter' AND p.posted_at >= '2026-11-01'
                     AND p.posted_at < '2026-12-01' AND NOT list_contains(?, p.account)
                     AND (contains(lower(p.text), 'trailbird') OR contains(p.text, ?))
                   GROUP BY 1""",
                [demo.manifest["own_accounts"], demo.pseudonymizer.mention("trailbird")],
            ).fetchall()
        )
    assert summary.counts == {
        label: direct.get(label, 0) for label in ("negative", "neutral", "positive")
    }
    assert summary.total > 100
    assert abs(sum(summary.share(label) for label in summary.counts) - 1) < 1e-9


def test_own_posts_are_excluded(demo: DemoWorkspace) -> None:
    with demo.workspace.connect(read_only=True) as con:
        own = sentiment_summary(
            con,
            Scope(
                parse_period("this month", demo.end_date),
                current_scorer().version,
                platform="twitter",
            ),
        )
    assert own.total - _summary(demo, "this month", "twitter").total == 60  # 2 brand tweets a day


def test_posts_not_mentioning_the_brand_are_not_brand_talk(demo: DemoWorkspace) -> None:
    with demo.workspace.connect(read_only=True) as con:
        everything = sentiment_summary(
            con,
            Scope(
                parse_period("this month", demo.end_date),
                current_scorer().version,
                platform="instagram",
                exclude_accounts=tuple(get_meta(con, "own_accounts")),
            ),
        )
    brand_only = _summary(demo, "this month", "instagram")
    assert 0 < brand_only.total < everything.total  # the demo creators' own posts drop out


def test_planted_spike_shows_as_a_significant_rise_in_negative_share(demo: DemoWorkspace) -> None:
    spike = demo.manifest["sentiment_spike"]
    summary = _summary(demo, f"{spike['start']} to {spike['end']}", "twitter")
    negative = next(c for c in summary.changes if c.label == "negative")
    assert negative.significant and negative.points > 25
    assert summary.counts["negative"] > summary.counts["positive"]


def test_topic_filter_finds_the_spike_theme(demo: DemoWorkspace) -> None:
    spike = demo.manifest["sentiment_spike"]
    summary = _summary(demo, f"{spike['start']} to {spike['end']}", "twitter", topic="peeling")
    assert summary.total > 0 and summary.share("negative") > 0.5


def test_all_platforms_breakdown(demo: DemoWorkspace) -> None:
    summary = _summary(demo, "this month")
    # Support chats count as brand talk whether or not they name the brand.
    assert set(summary.by_platform) == {"twitter", "instagram", "facebook", "support"}
    assert sum(int(s["posts"]) for s in summary.by_platform.values()) == summary.total


def test_empty_period_has_no_changes(demo: DemoWorkspace) -> None:
    summary = _summary(demo, "2020-01-01 to 2020-01-31")
    assert summary.total == 0 and summary.changes == []
    assert summary.period.start == date(2020, 1, 1)


def test_share_change_interval_matches_the_wald_formula() -> None:
    change = share_change(
        "negative",
        {"negative": 30, "neutral": 30, "positive": 40},
        {"negative": 20, "neutral": 40, "positive": 40},
    )
    assert round(change.points, 6) == 10.0
    half = 1.959964 * ((0.3 * 0.7 / 100 + 0.2 * 0.8 / 100) ** 0.5) * 100
    assert abs((change.ci_high - change.ci_low) / 2 - half) < 1e-6
    assert not change.significant


def test_daily_counts_add_up_to_the_summary_and_plot(demo: DemoWorkspace, tmp_path: Path) -> None:
    summary = _summary(demo, "this month", "twitter")
    with demo.workspace.connect(read_only=True) as con:
        daily = daily_sentiment(con, _scope(con, demo, "this month", "twitter"))
    assert len(daily) == 30
    assert daily.sum().to_dict() == summary.counts
    png = plot_sentiment_trend(daily, tmp_path / "trend.png", "test")
    assert png.read_bytes()[:4] == b"\x89PNG"


def _themes(demo: DemoWorkspace, phrase: str, platform: str | None = None) -> dict:
    with demo.workspace.connect(read_only=True) as con:
        return sentiment_themes(con, _scope(con, demo, phrase, platform))


def test_spike_month_themes_name_its_cause_with_evidence(demo: DemoWorkspace) -> None:
    assert demo.manifest["sentiment_spike"]["start"].startswith("2026-10")
    themes = _themes(demo, "october")
    negative_terms = [theme.term for theme in themes["negative"]]
    assert {"sole", "peeling", "soles"} & set(negative_terms), negative_terms
    top = themes["negative"][0]
    assert top.z >= 1.96 and top.count >= 3
    assert top.examples and all(top.term in text.lower() for _, text in top.examples)
    with demo.workspace.connect(read_only=True) as con:
        labels = {
            label
            for (label,) in con.execute(
                "SELECT s.sentiment_label FROM scores s WHERE s.model_version = ? "
                "AND list_contains(?, s.post_id)",
                [current_scorer().version, [pid for pid, _ in top.examples]],
            ).fetchall()
        }
    assert labels == {"negative"}  # evidence comes from the posts of that label


def test_themes_are_distinct_and_brand_words_cancel_out(demo: DemoWorkspace) -> None:
    themes = _themes(demo, "last 90 days")
    for label in ("positive", "negative"):
        terms = [theme.term for theme in themes[label]]
        assert terms and len(terms) == len(set(terms)) <= 3
        assert "trailbird" not in terms
        assert [t.z for t in themes[label]] == sorted((t.z for t in themes[label]), reverse=True)
    assert not {t.term for t in themes["positive"]} & {t.term for t in themes["negative"]}


def test_no_posts_means_no_themes(demo: DemoWorkspace) -> None:
    assert _themes(demo, "2020-01-01 to 2020-01-31") == {"positive": [], "negative": []}


def test_scope_where_turns_each_filter_into_one_clause() -> None:
    period = parse_period("2026-11-01 to 2026-11-30", date(2026, 12, 1))
    assert Scope(period, "m").where() == ("", [])
    scope = Scope(period, "m", platform="twitter", topic="dry fit", brand_terms=("Trail.bird",))
    listening, params = scope.where()
    assert listening.startswith(" AND (p.platform = 'support' OR regexp_matches(")
    assert params == ["trail\\.bird", "twitter", "dry fit", "dry-fit"]
    assert listening.count("?") == len(params)
    anomalies, same = scope.where(support_chats=False)
    assert anomalies.startswith(" AND p.platform <> 'support' AND regexp_matches(")
    assert same == params and anomalies.count("?") == len(params)
