"""The demo workspace carries the structure its manifest promises."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np

from beacon.demo import build_demo
from tests.conftest import DemoWorkspace


def _rates(demo: DemoWorkspace, group: str) -> dict[str, float]:
    """Mean engagement rate per group, each post's rate divided by its platform's median."""
    with demo.workspace.connect(read_only=True) as con:
        rows = con.execute(
            f"""WITH own AS (
                    SELECT *, likes / followers AS rate FROM posts WHERE list_contains(?, account)),
                norm AS (
                    SELECT own.*, rate / median(rate) OVER (PARTITION BY platform) AS rel FROM own)
                SELECT {group} AS g, avg(rel) FROM norm GROUP BY 1""",
            [demo.manifest["own_accounts"]],
        ).fetchall()
    return {str(g): float(r) for g, r in rows}


def test_window_platforms_and_counts(demo: DemoWorkspace) -> None:
    window = demo.manifest["window"]
    assert date.fromisoformat(window["end"]) == demo.end_date
    assert date.fromisoformat(window["end"]) - date.fromisoformat(window["start"]) == timedelta(
        days=181
    )
    with demo.workspace.connect(read_only=True) as con:
        platforms = dict(con.execute("SELECT platform, count(*) FROM posts GROUP BY 1").fetchall())
        campaigns = con.execute("SELECT count(*) FROM campaigns").fetchall()[0][0]
        experiments = con.execute(
            "SELECT count(DISTINCT experiment_id) FROM experiment_units"
        ).fetchall()[0][0]
    assert set(platforms) == {"twitter", "instagram", "facebook", "support"}
    assert platforms["support"] == demo.manifest["support"]["messages"]
    assert campaigns == 3 and experiments == 3


def test_media_and_evening_effects_are_present(demo: DemoWorkspace) -> None:
    media = _rates(demo, "media_type")
    assert media["video"] > 1.15 * media["image"] > 1.15 * media["link"]
    hours = _rates(
        demo, "CASE WHEN hour(posted_at) BETWEEN 17 AND 20 THEN 'evening' ELSE 'other' END"
    )
    assert hours["evening"] > 1.15 * hours["other"]


def test_weekend_engagement_and_volume_rhythm(demo: DemoWorkspace) -> None:
    weekday = _rates(
        demo, "CASE WHEN dayofweek(posted_at) IN (0, 6) THEN 'weekend' ELSE 'weekday' END"
    )
    assert weekday["weekend"] > 1.1 * weekday["weekday"]
    with demo.workspace.connect(read_only=True) as con:
        daily = con.execute(
            """SELECT dayofweek(posted_at) IN (0, 6), count(*) / count(DISTINCT CAST(posted_at AS DATE))
               FROM posts WHERE NOT list_contains(?, account) AND platform = 'instagram' GROUP BY 1""",
            [demo.manifest["own_accounts"]],
        ).fetchall()
    per_day = {bool(weekend): float(n) for weekend, n in daily}
    assert per_day[True] < 0.85 * per_day[False]


def test_experiment_effects_are_as_planted(demo: DemoWorkspace) -> None:
    with demo.workspace.connect(read_only=True) as con:
        rows = con.execute(
            "SELECT experiment_id, variant, count(*), avg(clicked) FROM experiment_units GROUP BY 1, 2"
        ).fetchall()
    stats = {(e, v): (n, rate) for e, v, n, rate in rows}
    assert (
        stats[("exp-subject-line", "question")][1] - stats[("exp-subject-line", "plain")][1] > 0.015
    )
    assert (
        abs(stats[("exp-button-colour", "orange")][1] - stats[("exp-button-colour", "green")][1])
        < 0.015
    )
    assert stats[("exp-free-shipping", "banner")][0] < stats[("exp-free-shipping", "no-banner")][0]


def test_same_seed_same_workspace(demo: DemoWorkspace, tmp_path: Path) -> None:
    from foundation.workspace import Workspace

    other = Workspace(tmp_path / "again.duckdb")
    build_demo(other, demo.pseudonymizer, end_date=demo.end_date)
    query = "SELECT sum(likes), sum(length(text)) FROM posts"
    with demo.workspace.connect(read_only=True) as a, other.connect(read_only=True) as b:
        assert np.array_equal(a.execute(query).fetchall(), b.execute(query).fetchall())
