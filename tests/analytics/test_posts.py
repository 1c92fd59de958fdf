"""Best and worst own posts, and differences of medians with bootstrap intervals."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from analytics.exceptions import AnalysisInputError
from analytics.periods import Period, parse_period
from analytics.posts import median_difference, own_posts, top_posts
from foundation.workspace import Workspace, set_meta
from tests.conftest import DemoWorkspace

DAYS = Period(date(2026, 11, 1), date(2026, 11, 30), "November")


def _post(post_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "post_id": post_id,
        "platform": "instagram",
        "account": "own",
        "text": f"post {post_id}",
        "posted_at": datetime(2026, 11, 10, 12),
        "followers": 1000,
        "likes": 10,
        "comments": 0,
        "shares": 0,
        "views": None,
        "media_type": "none",
        "media_path": None,
        "campaign_id": None,
        "source": "test",
        "ingested_at": datetime(2026, 12, 1),
    } | fields


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """Own posts on two platforms; one post without followers, one video with views."""
    rows = [
        _post("ig-1", likes=50, comments=5, shares=5),  # 6.0%
        _post("ig-2", likes=20),  # 2.0%
        _post("ig-3", likes=30, posted_at=datetime(2026, 11, 12, 9)),  # 3.0%
        _post("ig-4", likes=30, posted_at=datetime(2026, 11, 14, 9), views=900),  # 3.0%, newer
        _post("ig-5", likes=999, followers=None),  # no rate
        _post("tw-1", platform="twitter", likes=5, followers=500),  # 1.0%
        _post("tw-2", platform="twitter", likes=1, followers=500, views=4000),  # 0.2%
        _post("ig-x", account="someone", likes=900),  # not ours
        _post("ig-old", likes=900, posted_at=datetime(2026, 10, 1)),  # outside the period
    ]
    ws = Workspace(tmp_path / "w.duckdb")
    with ws.connect() as con:
        set_meta(con, "own_accounts", ["own"])
        columns = list(rows[0])
        con.executemany(
            f"INSERT INTO posts ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            [[row[c] for c in columns] for row in rows],
        )
    return ws


def test_best_posts_by_rate_with_the_account_median(workspace: Workspace) -> None:
    with workspace.connect(read_only=True) as con:
        result = top_posts(con, DAYS)
    assert [p.post_id for p in result.posts] == ["ig-1", "ig-4", "ig-3"]  # tie: newer first
    assert result.basis == "engagement_rate" and result.ranked == 6 and result.left_out == 1
    best = result.posts[0]
    assert best.value == pytest.approx(0.06)
    assert best.account_median == pytest.approx(0.03) and best.account_posts == 4
    assert best.versus_median == pytest.approx(2.0)
    assert result.to_dict()["posts"][0]["excerpt"] == "post ig-1"


def test_worst_posts_platform_and_count(workspace: Workspace) -> None:
    with workspace.connect(read_only=True) as con:
        worst = top_posts(con, DAYS, worst=True, n=2)
        twitter = top_posts(con, DAYS, platform="twitter", metric="likes", n=5)
    assert [p.post_id for p in worst.posts] == ["tw-2", "tw-1"]
    assert [p.post_id for p in twitter.posts] == ["tw-1", "tw-2"] and twitter.requested == 5
    assert twitter.posts[0].account_median == pytest.approx(3.0)


def test_views_only_for_posts_that_have_them(workspace: Workspace) -> None:
    with workspace.connect(read_only=True) as con:
        result = top_posts(con, DAYS, metric="views")
    assert [(p.post_id, p.views) for p in result.posts] == [("tw-2", 4000), ("ig-4", 900)]
    assert result.left_out == 5


def test_raw_interactions_when_no_post_has_followers(workspace: Workspace) -> None:
    with workspace.connect() as con:
        con.execute("UPDATE posts SET followers = NULL")
        result = top_posts(con, DAYS, n=1)
    assert result.basis == "interactions" and result.posts[0].post_id == "ig-5"
    assert result.posts[0].value == 999 and result.left_out == 0


def test_bad_requests_say_what_is_expected(workspace: Workspace, tmp_path: Path) -> None:
    with workspace.connect(read_only=True) as con:
        with pytest.raises(AnalysisInputError, match=r"n must be between 1 and 20 \(got 0\)"):
            top_posts(con, DAYS, n=0)
        with pytest.raises(AnalysisInputError, match=r"metric must be one of .*\(got 'reach'\)"):
            top_posts(con, DAYS, metric="reach")
    with (
        Workspace(tmp_path / "empty.duckdb").connect() as con,
        pytest.raises(AnalysisInputError, match="which accounts are the brand's own"),
    ):
        own_posts(con, DAYS.start, DAYS.end)


def test_demo_instagram_posts_are_the_brands_and_sorted(demo: DemoWorkspace) -> None:
    period = parse_period("last month", demo.end_date)
    with demo.workspace.connect(read_only=True) as con:
        result = top_posts(con, period, platform="instagram", n=5)
        all_rates = own_posts(con, period.start, period.end, platform="instagram")
    values = [p.value for p in result.posts]
    assert values == sorted(values, reverse=True) and len(values) == 5
    assert values[0] == pytest.approx(all_rates["engagement_rate"].max())
    assert all(p.post_id.startswith("ig-0") for p in result.posts)
    assert result.posts[0].account_median == pytest.approx(all_rates["engagement_rate"].median())


def test_median_difference_interval_covers_a_known_gap() -> None:
    rng = np.random.default_rng(3)
    left, right = rng.normal(12, 2, 300), rng.normal(10, 2, 300)
    found = median_difference(left, right, random_state=1)
    assert found.difference == pytest.approx(np.median(left) - np.median(right))
    assert found.ci is not None and found.ci[0] < 2 < found.ci[1] and found.significant
    assert found.relative is not None and found.relative_ci is not None
    assert found.relative_ci[0] < found.relative < found.relative_ci[1]
    assert median_difference(left, right, random_state=1) == found  # seeded
    same = median_difference(rng.normal(10, 2, 200), rng.normal(10, 2, 200))
    assert not same.significant


def test_median_difference_small_and_bad_groups() -> None:
    tiny = median_difference([1.0, 2.0], [1.0, 2.0, 3.0])
    assert tiny.ci is None and not tiny.significant and tiny.difference == pytest.approx(-0.5)
    with pytest.raises(
        AnalysisInputError, match=r"both groups need at least one value \(got 0 and 1\)"
    ):
        median_difference([float("nan")], [1.0])
    with pytest.raises(AnalysisInputError, match=r"confidence must be between 0 and 1 \(got 95\)"):
        median_difference([1.0], [1.0], confidence=95)
