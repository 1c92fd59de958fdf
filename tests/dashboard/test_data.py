"""The dashboard's numbers: the chat's functions, checked against SQL written here."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from analytics.engagement import Draft, EngagementModel, own_account_key, with_workspace_posts
from analytics.exceptions import AnalysisInputError
from analytics.influencers import Ranking, load_creators_from_workspace, rank_creators
from analytics.listening import percent
from analytics.periods import Period, parse_period
from analytics.posts import top_posts
from beacon.scoring import current_model_version, current_scorer
from dashboard import _data
from foundation.workspace import get_meta
from foundation.workspace.queries import PinnedTile
from tests.conftest import DemoWorkspace
from tests.dashboard.sql import brand_label_counts

START, END = date(2026, 11, 1), date(2026, 11, 30)


@pytest.fixture(scope="module")
def version() -> str:
    return current_model_version()


def test_the_model_version_is_read_from_the_card_as_the_loaded_model_reports_it() -> None:
    assert current_model_version() == current_scorer().version


def test_filters_default_to_the_chats_last_30_days_and_refuse_bad_dates() -> None:
    filters = _data.Filters.from_link({}, date(2026, 12, 7))
    assert (filters.start, filters.end) == (date(2026, 11, 8), date(2026, 12, 7))
    assert filters.period.days == _data.DEFAULT_DAYS
    picked = _data.Filters.from_link(
        {"platform": "twitter", "start": "2026-11-01", "end": "2026-11-03", "topic": "refund"},
        date(2026, 12, 7),
    )
    assert picked == _data.Filters(date(2026, 11, 1), date(2026, 11, 3), "twitter", "refund")
    with pytest.raises(AnalysisInputError, match="YYYY-MM-DD"):
        _data.Filters.from_link({"start": "last week"}, date(2026, 12, 7))
    with pytest.raises(AnalysisInputError, match="ends before it starts"):
        _data.Filters.from_link({"start": "2026-11-05", "end": "2026-11-01"}, date(2026, 12, 7))


def test_daily_shares_are_wilson_intervals_and_empty_days_have_none() -> None:
    daily = pd.DataFrame(
        {"negative": [1, 0], "neutral": [1, 0], "positive": [2, 0]},
        index=pd.to_datetime(["2026-11-01", "2026-11-02"]),
    )
    shares = _data.daily_shares(daily)
    negative = shares[(shares["label"] == "negative")].set_index("day")
    low, high = proportion_confint(1, 4, alpha=0.05, method="wilson")
    first = negative.loc[pd.Timestamp("2026-11-01")]
    assert (first["posts"], first["share"]) == (4, 0.25)
    assert first["low"] == pytest.approx(low, abs=1e-6)
    assert first["high"] == pytest.approx(high, abs=1e-6)
    assert math.isnan(negative.loc[pd.Timestamp("2026-11-02")]["share"])


@pytest.mark.parametrize("where", [{}, {"platform": "instagram"}, {"topic": "blister"}])
def test_brand_health_counts_the_posts_sql_selects(
    demo: DemoWorkspace, version: str, where: dict[str, str]
) -> None:
    filters = _data.Filters(START, END, where.get("platform"), where.get("topic"))
    with demo.workspace.connect(read_only=True) as con:
        view = _data.brand_health(con, filters, version, examples=5)
    with demo.workspace.connect(read_only=True) as con:
        expected = brand_label_counts(con, version, START, END, **where)
    assert view.summary.counts == expected
    assert sum(expected.values()) > 0
    per_day = view.shares.groupby("day")["posts"].first()
    assert per_day.sum() == sum(expected.values())
    assert len(per_day) == 30
    assert len(view.examples) == min(5, sum(expected.values()))
    assert {post.label for post in view.examples} <= set(expected)


def test_a_clicked_day_lists_that_days_posts(demo: DemoWorkspace, version: str) -> None:
    filters = _data.Filters(START, END, "instagram")
    with demo.workspace.connect(read_only=True) as con:
        view = _data.brand_health(con, filters, version)
        busiest = view.shares.groupby("day")["posts"].first().idxmax().date()
        posts = _data.posts_on(con, filters.scope(con, version), busiest, limit=500)
    day_total = int(view.shares.groupby("day")["posts"].first().max())
    assert {post.posted_at.date() for post in posts} == {busiest}
    assert {post.platform for post in posts} == {"instagram"}
    assert 0 < len(posts) <= day_total  # one post per distinct text


def test_our_posts_sum_the_brands_own_posts(demo: DemoWorkspace) -> None:
    filters = _data.Filters(START, END, "instagram")
    with demo.workspace.connect(read_only=True) as con:
        view = _data.our_posts(con, filters, n=3)
        own = get_meta(con, "own_accounts", [])
        posts, engagement = con.execute(  # type: ignore[misc]
            """SELECT count(*), sum(likes + comments + shares) FROM posts
               WHERE account IN (SELECT unnest(?)) AND platform = 'instagram'
                 AND posted_at >= ? AND posted_at < ?""",
            [own, START, END + timedelta(days=1)],
        ).fetchone()
        chat = top_posts(con, filters.period, platform="instagram", n=3)
    assert posts > 0
    assert int(view.daily["posts"].sum()) == posts
    assert int(view.daily["engagement"].sum()) == engagement
    assert view.best is not None and view.worst is not None
    assert [p.post_id for p in view.best.posts] == [p.post_id for p in chat.posts]
    assert view.best.posts[0].value >= view.worst.posts[0].value


def test_the_experiment_table_has_a_row_per_metric_and_arm(demo: DemoWorkspace) -> None:
    with demo.workspace.connect(read_only=True) as con:
        known = _data.experiments(con)
        result = _data.experiment(con, known[0][0])
        with pytest.raises(AnalysisInputError):
            _data.experiment(con, "no-such-experiment")
    table = _data.experiment_table(result)
    assert len(table) == len(result.metrics) * len(result.variants)
    control = table[table["variant"].str.endswith("(control)")]
    assert control["relative lift"].isna().all()
    treated = table[~table["variant"].str.endswith("(control)")]
    assert treated["relative lift"].notna().all()
    assert (treated["lift 95% low"] <= treated["relative lift"]).all()
    assert (treated["relative lift"] <= treated["lift 95% high"]).all()


def test_the_experiment_headline_names_the_arm_most_likely_to_beat_control(
    demo: DemoWorkspace,
) -> None:
    with demo.workspace.connect(read_only=True) as con:
        result = _data.experiment(con, "exp-button-colour")
        units = con.execute(
            "SELECT count(*) FROM experiment_units WHERE experiment_id = 'exp-button-colour'"
        ).fetchone()
    headline = dict(_data.experiment_headline(result))
    metric = result.metrics[0]
    (challenger,) = [v for v in metric.variants if not v.is_control]
    assert units is not None and headline["Units"] == f"{units[0]:,}"
    assert headline["Sample ratio"] == ("mismatch" if result.srm.warning else "fine")
    assert challenger.rel_lift is not None and challenger.prob_beats_control is not None
    assert headline[f"Best on {metric.name}"] == f"{challenger.name} ({challenger.rel_lift:+.1%})"
    assert headline["P(beats control)"] == percent(challenger.prob_beats_control)


def test_support_activity_counts_chats_handoffs_and_ratings(
    demo_copy: DemoWorkspace, version: str
) -> None:
    workspace = demo_copy.workspace
    workspace.record_audit(kind="handoff", inputs={"reason": "asked"}, output="posted")
    workspace.flush(wait=10)
    today = date.today()
    filters = _data.Filters(START, max(END, today))
    with workspace.connect(read_only=True) as con:
        view = _data.support_activity(con, filters, version)
        messages, ratings, mean = con.execute(  # type: ignore[misc]
            """SELECT (SELECT count(*) FROM posts WHERE platform = 'support'
                         AND posted_at >= ? AND posted_at < ?),
                      (SELECT count(*) FROM support_ratings WHERE created_at >= ? AND created_at < ?),
                      (SELECT avg(rating) FROM support_ratings WHERE created_at >= ? AND created_at < ?)""",
            [filters.start, filters.end + timedelta(days=1)] * 3,
        ).fetchone()
    totals = view.totals
    assert len(view.daily) == filters.period.days
    assert totals["messages"] == messages > 0
    assert totals["handoffs"] == 1
    assert totals["ratings"] == ratings
    if ratings:
        assert totals["mean_rating"] == pytest.approx(mean)
    shares = view.daily["negative_share"].dropna()
    assert ((shares >= 0) & (shares <= 1)).all()


def test_the_creator_table_is_the_chats_ranking(demo: DemoWorkspace) -> None:
    scorer = current_scorer()
    with demo.workspace.connect(read_only=True) as con:
        ranking = _data.creator_ranking(con, "trail running shoes", scorer, top_k=5)
        chat = rank_creators(
            load_creators_from_workspace(con),
            "trail running shoes",
            top_k=5,
            scorer=scorer,
            currency="EUR",
        )
    table = _data.creator_table(ranking)
    assert list(table["#"]) == list(range(1, len(ranking.items) + 1))
    assert [item.creator_id for item in ranking.items] == [item.creator_id for item in chat.items]
    assert list(table["why"]) == [item.reason_line() for item in chat.items]
    assert len(table) == 5
    headline = dict(_data.creator_headline(ranking))
    assert headline == {
        "Creators": "5",
        "#1": chat.items[0].creator.handle,
        "#1 score": f"{chat.items[0].score:.3f}",
    }


def _tile(kind: str, **params: object) -> PinnedTile:
    return PinnedTile(
        "abc123", "team", kind, f"a {kind} question", dict(params), datetime(2026, 11, 1)
    )


def test_a_tile_period_moves_with_today_when_it_was_said_in_words() -> None:
    today = date(2026, 12, 7)
    moving = _data.tile_period(
        {"label": "this month", "start": "2026-11-01", "end": "2026-11-30"}, today
    )
    assert (moving.start, moving.end) == (date(2026, 12, 1), today)
    fixed = _data.tile_period(
        {"label": "1–3 Nov 2026", "start": "2026-11-01", "end": "2026-11-03"}, today
    )
    assert (fixed.start, fixed.end) == (date(2026, 11, 1), date(2026, 11, 3))
    default = _data.tile_period({"period": None}, today)
    assert default.days == 30 and default.end == today


def test_tiles_are_worked_out_again_as_the_chat_would(demo: DemoWorkspace, version: str) -> None:
    def no_ranking(*_args: object) -> Ranking:
        raise AssertionError("no creator tile here")

    with demo.workspace.connect(read_only=True) as con:
        sentiment = _data.tile_view(
            con,
            _tile(
                "sentiment", platform="instagram", label="", start="2026-11-01", end="2026-11-30"
            ),
            version,
            END,
            no_ranking,
        )
        expected = brand_label_counts(con, version, START, END, platform="instagram")
        experiment = _data.tile_view(
            con, _tile("experiment", experiment="exp-button-colour"), version, END, no_ranking
        )
        posts = _data.tile_view(
            con,
            _tile("top_posts", period="november", platform="instagram", n=2, metric="likes"),
            version,
            END,
            no_ranking,
        )
        chat_posts = top_posts(con, posts_period(END), platform="instagram", metric="likes", n=2)
        with pytest.raises(AnalysisInputError, match="can't be shown"):
            _data.tile_view(con, _tile("campaign"), version, END, no_ranking)
    total = sum(expected.values())
    assert dict(sentiment.metrics)["Posts"] == f"{total:,}"
    assert dict(sentiment.metrics)["Negative"] == f"{100 * expected['negative'] / total:.0f}%"
    assert (sentiment.view, sentiment.filters["platform"]) == ("brand", "instagram")
    assert experiment.table is not None and len(experiment.table) > 0
    assert experiment.filters == {"experiment": "exp-button-colour"}
    assert posts.table is not None
    assert list(posts.table["post_id"]) == [post.post_id for post in chat_posts.posts]


def posts_period(today: date) -> Period:
    return parse_period("november", today)


def test_try_a_draft_gives_the_chats_prediction(
    demo: DemoWorkspace, engagement_dirs: tuple[Path, Path]
) -> None:
    model_dir, cache_dir = engagement_dirs
    model = EngagementModel.load(model_dir, cache_dir=cache_dir)
    when = datetime(2026, 12, 1, 9)
    text = "New Ridgeline colours are in! Which one is yours? #trailrunning"
    with demo.workspace.connect(read_only=True) as con:
        model = with_workspace_posts(model, con)
        said = _data.draft_explanation(con, model, text, "instagram", when)
        account = own_account_key(con, "instagram", model)
        with pytest.raises(AnalysisInputError, match="draft's text"):
            _data.draft_explanation(con, model, "  ", "instagram", when)
        with pytest.raises(AnalysisInputError, match="no post history for our linkedin account"):
            _data.draft_explanation(con, model, text, "linkedin", when)
        best = top_posts(con, parse_period("november", END), platform="instagram", n=1).posts[0]
        explained = _data.post_explanation(con, model, best.post_id)
        customer_post = con.execute(
            "SELECT post_id FROM posts WHERE account NOT IN (SELECT unnest(?)) LIMIT 1",
            [get_meta(con, "own_accounts", [])],
        ).fetchone()
        assert customer_post is not None
        with pytest.raises(AnalysisInputError, match="not one of our own posts"):
            _data.post_explanation(con, model, str(customer_post[0]))
        with pytest.raises(AnalysisInputError, match="no post with the id nope"):
            _data.post_explanation(con, model, "nope")
    engagement = best.likes + best.comments + best.shares
    assert explained.startswith(f"{best.post_id} got {engagement:,} likes+comments+shares.")
    assert "the model would have said" in explained
    assert account is not None and account.endswith("@instagram")
    assert said == model.explain(Draft(text=text, account=account, posted_at=when)).text()
    assert "%" in said
