"""Anomaly detection over the demo workspace and over simulated spike-free series."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import duckdb
import numpy as np
import pytest

from analytics.anomalies import (
    MIN_HISTORY_DAYS,
    AnomalyReport,
    detect_anomalies,
    distinctive_terms,
)
from analytics.exceptions import AnalysisInputError
from analytics.periods import Period, parse_period
from analytics.scope import Scope
from beacon.scoring import current_scorer
from tests.conftest import DemoWorkspace


def _detect(
    demo: DemoWorkspace,
    period: Period,
    platform: str | None = None,
    topic: str | None = None,
    **kwargs: Any,
) -> AnomalyReport:
    with demo.workspace.connect(read_only=True) as con:
        scope = Scope(period, current_scorer().version, platform, topic).for_brand(con)
        return detect_anomalies(con, scope, **kwargs)


def _spike(demo: DemoWorkspace) -> tuple[date, date]:
    spike = demo.manifest["sentiment_spike"]
    return date.fromisoformat(spike["start"]), date.fromisoformat(spike["end"])


def test_planted_spike_is_found_with_its_drivers(demo: DemoWorkspace) -> None:
    start, end = _spike(demo)
    period = Period(start - timedelta(days=10), end + timedelta(days=7), "around the spike")
    report = _detect(demo, period)
    assert report.alerts, report.text()
    assert {a.platform for a in report.alerts} == {"twitter"}
    share = next(a for a in report.alerts if a.metric == "negative share")
    volume = next(a for a in report.alerts if a.metric == "volume")
    for alert in (share, volume):
        assert (alert.start, alert.end) == (start, end)
        assert alert.direction == "up"
        assert alert.z >= 4
        assert {"sole", "peeling"} & {d.term for d in alert.drivers[:3]}
        assert 1 <= len(alert.examples) <= 3
        assert alert.top_accounts
    assert share.observed > 2 * share.expected
    assert "Negative talk on Twitter/X jumped to" in share.text()
    assert "21–23 Oct 2026" in share.text()
    assert "robust SDs above normal" in share.text()


def test_cooldown_zero_keeps_consecutive_days_together(demo: DemoWorkspace) -> None:
    start, end = _spike(demo)
    report = _detect(demo, Period(start, end, "spike"), platform="twitter", cooldown_days=0)
    share = [a for a in report.alerts if a.metric == "negative share"]
    assert len(share) == 1 and share[0].days == (start, start + timedelta(days=1), end)


def test_topic_filter_narrows_the_series(demo: DemoWorkspace) -> None:
    start, end = _spike(demo)
    period = Period(start - timedelta(days=3), end + timedelta(days=3), "around the spike")
    on_topic = _detect(demo, period, platform="twitter", topic="glue")
    assert any(a.metric == "volume" and a.start >= start for a in on_topic.alerts)
    off_topic = _detect(demo, period, platform="twitter", topic="refund")
    assert off_topic.alerts == ()


def test_normal_weekly_rhythm_is_not_flagged(demo: DemoWorkspace) -> None:
    report = _detect(demo, parse_period("2026-11-01 to 2026-11-30", demo.end_date))
    assert report.alerts == ()
    assert report.text().startswith("Nothing unusual on")
    assert "normal weekly rhythm (sensitivity 4 robust SDs)" in report.text()
    # The weekday rhythm is real in these data: weekends are ~0.7x weekdays.
    volume = [c for c in report.checks if c.platform == "twitter" and c.metric == "volume"]
    weekend = np.mean([c.expected for c in volume if c.day.weekday() >= 5])
    weekday = np.mean([c.expected for c in volume if c.day.weekday() < 5])
    assert weekend < 0.85 * weekday


def test_the_first_weeks_of_data_are_not_jumps_from_nothing(demo: DemoWorkspace) -> None:
    with demo.workspace.connect(read_only=True) as con:
        (first,) = con.execute("SELECT min(CAST(posted_at AS DATE)) FROM posts").fetchone() or (
            None,
        )
    assert first is not None
    report = _detect(demo, Period(first, first + timedelta(days=27), "the first four weeks"))
    assert [a for a in report.alerts if a.metric == "volume"] == []
    volume = [c for c in report.checks if c.metric == "volume"]
    untested = {c.day for c in volume if not c.tested}
    assert untested == {first + timedelta(days=k) for k in range(MIN_HISTORY_DAYS)}
    twitter = [c for c in volume if c.tested and c.platform == "twitter"]
    assert twitter and all(c.expected > 0 for c in twitter)  # baselines from real days only


def test_false_alarm_rate_on_demo_days_outside_the_spike(demo: DemoWorkspace) -> None:
    start, end = _spike(demo)
    window_start = date.fromisoformat(demo.manifest["window"]["start"])
    period = Period(window_start + timedelta(days=56), demo.end_date, "all checkable days")
    report = _detect(demo, period)
    quiet = [c for c in report.checks if c.tested and not start <= c.day <= end]
    false_alarms = [c for c in quiet if abs(c.z) >= report.sensitivity]
    rate = len(false_alarms) / len(quiet)
    print(f"demo false-alarm rate: {len(false_alarms)}/{len(quiet)} = {rate:.4f}")
    assert len(quiet) > 400
    assert rate < 0.01


def _simulated_workspace(days: int, seed: int) -> tuple[duckdb.DuckDBPyConnection, date]:
    """Spike-free Poisson mentions with a weekday rhythm and 15% negative posts."""
    rng = np.random.default_rng(seed)
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE posts (post_id VARCHAR, platform VARCHAR, account VARCHAR, "
        "text VARCHAR, posted_at TIMESTAMP)"
    )
    con.execute(
        "CREATE TABLE scores (post_id VARCHAR, model_version VARCHAR, sentiment_label VARCHAR)"
    )
    first = date(2023, 1, 2)
    posts, scores = [], []
    words = ("great", "shoes", "late", "order", "grip", "trail", "comfy", "refund")
    for offset in range(days):
        day = first + timedelta(days=offset)
        rate = 12 * (0.7 if day.weekday() >= 5 else 1.0)
        for n in range(int(rng.poisson(rate))):
            post_id = f"p{offset}-{n}"
            label = str(rng.choice(["negative", "neutral", "positive"], p=[0.15, 0.3, 0.55]))
            text = "acme " + " ".join(rng.choice(words, size=4))
            posts.append((post_id, "twitter", f"acct_{rng.integers(300)}", text, day))
            scores.append((post_id, "sim", label))
    con.executemany("INSERT INTO posts VALUES (?, ?, ?, ?, ?)", posts)
    con.executemany("INSERT INTO scores VALUES (?, ?, ?)", scores)
    return con, first


def test_false_alarm_rate_on_1000_simulated_spike_free_days() -> None:
    baseline = 56
    con, first = _simulated_workspace(1000 + baseline, seed=11)
    period = Period(first + timedelta(days=baseline), first + timedelta(days=1055), "sim")
    report = detect_anomalies(con, Scope(period, "sim", brand_terms=("acme",)))
    rate = report.anomalous_days / report.tested_days
    print(f"simulated false-alarm rate: {report.anomalous_days}/{report.tested_days} = {rate:.4f}")
    assert report.tested_days > 1500
    assert rate < 0.01


def _plant(con: duckdb.DuckDBPyConnection, day: date, tag: str, n: int = 30) -> None:
    con.executemany(
        "INSERT INTO posts VALUES (?, 'twitter', ?, ?, ?)",
        [(f"{tag}{i}", f"acct_{i % 5}", "acme zipper broke again #zipfail", day) for i in range(n)],
    )
    con.executemany(
        "INSERT INTO scores VALUES (?, 'sim', 'negative')", [(f"{tag}{i}",) for i in range(n)]
    )


def _detect_sim(con: duckdb.DuckDBPyConnection, period: Period, **kwargs: Any) -> AnomalyReport:
    return detect_anomalies(con, Scope(period, "sim", brand_terms=("acme",)), **kwargs)


def test_simulated_spike_is_found() -> None:
    con, first = _simulated_workspace(120, seed=3)
    day = first + timedelta(days=100)
    _plant(con, day, "s")
    report = _detect_sim(con, Period(day - timedelta(days=5), day + timedelta(days=5), "sim"))
    assert {(a.metric, a.start, a.end) for a in report.alerts} == {
        ("volume", day, day),
        ("negative share", day, day),
    }
    assert report.alerts[0].drivers[0].term in {"zipper", "#zipfail", "broke"}


@pytest.mark.parametrize(("cooldown", "alerts"), [(0, 2), (1, 1), (3, 1)])
def test_cooldown_merges_nearby_anomalous_days(cooldown: int, alerts: int) -> None:
    con, first = _simulated_workspace(120, seed=5)
    day = first + timedelta(days=100)
    _plant(con, day, "a")
    _plant(con, day + timedelta(days=2), "b")
    period = Period(day - timedelta(days=3), day + timedelta(days=6), "sim")
    report = _detect_sim(con, period, cooldown_days=cooldown)
    volume = [a for a in report.alerts if a.metric == "volume"]
    assert len(volume) == alerts
    assert {d for a in volume for d in a.days} == {day, day + timedelta(days=2)}


def test_distinctive_terms_ranks_planted_words_first() -> None:
    background = ["love the new shoes great grip on trails", "fast delivery, comfy shoes"] * 40
    target = background[:20] + ["the zipper broke, terrible zipper #zipfail"] * 15
    terms = [d.term for d in distinctive_terms(target, background, top=3)]
    assert set(terms) == {"zipper", "#zipfail", "broke"}
    assert terms[0] == "zipper"
    assert distinctive_terms([], background) == []


def test_distinctive_terms_drop_stop_words_and_mentions() -> None:
    background = ["nice run today"] * 10
    target = ["@u_1a2b3c the the the and peeling @u_1a2b3c"] * 5
    terms = [d.term for d in distinctive_terms(target, background)]
    assert terms == ["peeling"]


def test_empty_period_is_rejected(demo: DemoWorkspace) -> None:
    empty = Period(date(2026, 11, 10), date(2026, 11, 9), "backwards")
    with pytest.raises(AnalysisInputError, match="is empty"):
        _detect(demo, empty)


def test_unknown_platform_is_rejected(demo: DemoWorkspace) -> None:
    with pytest.raises(AnalysisInputError, match="unknown platform 'myspace'; expected one of"):
        _detect(demo, parse_period("this month", demo.end_date), platform="myspace")


def test_unscored_model_version_is_rejected(demo: DemoWorkspace) -> None:
    with (
        demo.workspace.connect(read_only=True) as con,
        pytest.raises(AnalysisInputError, match="no posts are scored with model version 'nope'"),
    ):
        detect_anomalies(con, Scope(parse_period("this month", demo.end_date), "nope"))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sensitivity": 0}, "sensitivity must be positive"),
        ({"baseline_days": 7}, "baseline_days must be at least 14"),
        ({"cooldown_days": -1}, "cooldown_days must be zero or more"),
    ],
)
def test_bad_parameters_are_rejected(
    demo: DemoWorkspace, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(AnalysisInputError, match=message):
        _detect(demo, parse_period("this month", demo.end_date), **kwargs)
