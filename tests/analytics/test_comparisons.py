"""Side-by-side sentiment and engagement on the demo workspace."""

from __future__ import annotations

import pytest

from analytics.comparisons import Side, compare_engagement, compare_sentiment
from analytics.exceptions import AnalysisInputError
from analytics.listening import sentiment_summary, share_change
from analytics.periods import parse_period
from analytics.scope import Scope
from beacon.scoring import current_scorer
from tests.conftest import DemoWorkspace


def test_two_platforms_match_their_own_summaries(demo: DemoWorkspace) -> None:
    version = current_scorer().version
    quarter = parse_period("this quarter", demo.end_date)
    left, right = Side(quarter, "instagram"), Side(quarter, "facebook")
    with demo.workspace.connect(read_only=True) as con:
        result = compare_sentiment(con, left, right, model_version=version)
        alone = [
            sentiment_summary(
                con, Scope(period=quarter, model_version=version, platform=p).for_brand(con)
            ).counts
            for p in ("instagram", "facebook")
        ]
    assert (result.left_counts, result.right_counts) == (alone[0], alone[1])
    negative = result.difference("negative")
    assert negative == share_change("negative", alone[0], alone[1])
    assert result.share("left", "positive") == pytest.approx(
        alone[0]["positive"] / sum(alone[0].values())
    )
    assert (left.label(right), right.label(left)) == ("Instagram", "Facebook")
    assert result.to_dict()["differences"]["positive"]["significant"] is False


def test_the_planted_twitter_spike_shows_between_periods(demo: DemoWorkspace) -> None:
    """October holds the planted negative spike on Twitter; November does not."""
    version = current_scorer().version
    october, november = (parse_period(p, demo.end_date) for p in ("october", "november"))
    with demo.workspace.connect(read_only=True) as con:
        result = compare_sentiment(
            con, Side(november, "twitter"), Side(october, "twitter"), model_version=version
        )
    negative = result.difference("negative")
    assert negative is not None and negative.significant and negative.points < 0


def test_instagram_engages_more_than_twitter(demo: DemoWorkspace) -> None:
    """The demo plants a 2% base rate on Instagram and 0.4% on Twitter."""
    month = parse_period("last 90 days", demo.end_date)
    with demo.workspace.connect(read_only=True) as con:
        result = compare_engagement(con, Side(month, "instagram"), Side(month, "twitter"))
        same = compare_engagement(
            con,
            Side(parse_period("this month", demo.end_date)),
            Side(parse_period("last month", demo.end_date)),
        )
    assert result.basis == "engagement_rate" and result.difference is not None
    assert (
        result.difference.significant
        and result.difference.left_median > 3 * result.difference.right_median
    )
    assert (result.left_posts, result.right_posts) == (90, 180)
    assert same.difference is not None and not same.difference.significant


def test_both_sides_the_same_is_refused(demo: DemoWorkspace) -> None:
    month = parse_period("this month", demo.end_date)
    with (
        demo.workspace.connect(read_only=True) as con,
        pytest.raises(AnalysisInputError, match="Both sides of the comparison are the same"),
    ):
        compare_engagement(con, Side(month, "twitter"), Side(month, "twitter"))


def test_a_side_without_posts_has_no_difference(demo: DemoWorkspace) -> None:
    month = parse_period("this month", demo.end_date)
    with demo.workspace.connect(read_only=True) as con:
        result = compare_engagement(con, Side(month, "instagram"), Side(month, "tiktok"))
        talk = compare_sentiment(
            con,
            Side(month, "instagram"),
            Side(month, "tiktok"),
            model_version=current_scorer().version,
        )
    assert result.difference is None and result.right_posts == 0
    assert talk.differences == () and talk.right_total == 0
