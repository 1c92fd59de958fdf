"""The digest's numbers against direct SQL on the demo workspace, and its audit trail."""

from __future__ import annotations

import json
import math
import re
import statistics
from datetime import timedelta
from typing import Any

import pytest

from analytics.listening import share_change
from beacon.digest import AUDIT_KIND, SECTION_TITLES, IsoWeek
from foundation.workspace import Workspace, get_meta
from tests.conftest import DemoWorkspace
from tests.digest.conftest import EXPERIMENT_WEEK, LAST_WEEK, SPIKE_WEEK, DemoDigests

BRAND_TALK_SQL = """
SELECT p.platform, s.sentiment_label, count(*)
FROM posts p JOIN scores s ON s.post_id = p.post_id AND s.model_version = ?
WHERE CAST(p.posted_at AS DATE) BETWEEN ? AND ? AND NOT list_contains(?, p.account)
  AND (p.platform = 'support' OR regexp_matches(lower(p.text), ?))
GROUP BY ALL
"""


def _brand_talk(ws: Workspace, version: str, week: IsoWeek) -> dict[tuple[str, str], int]:
    with ws.connect() as con:
        own, terms = get_meta(con, "own_accounts"), get_meta(con, "brand_terms")
        pattern = "|".join(re.escape(t.lower()) for t in terms)
        rows = con.execute(BRAND_TALK_SQL, [version, week.start, week.end, own, pattern]).fetchall()
    return {(platform, label): n for platform, label, n in rows}


def _own_posts(ws: Workspace, week: IsoWeek) -> list[dict[str, Any]]:
    with ws.connect() as con:
        own = get_meta(con, "own_accounts")
        rows = con.execute(
            "SELECT post_id, platform, posted_at, likes + comments + shares, followers FROM posts "
            "WHERE list_contains(?, account) AND CAST(posted_at AS DATE) BETWEEN ? AND ?",
            [own, week.start, week.end],
        ).fetchall()
    keys = ("post_id", "platform", "posted_at", "engagements", "followers")
    return [dict(zip(keys, r, strict=True)) for r in rows]


@pytest.mark.parametrize("week", [SPIKE_WEEK, LAST_WEEK])
def test_volume_and_sentiment_match_sql(demo_digests: DemoDigests, week: IsoWeek) -> None:
    digest = demo_digests.digests[week]
    now = _brand_talk(demo_digests.workspace, demo_digests.model_version, week)
    before = _brand_talk(demo_digests.workspace, demo_digests.model_version, week.previous())
    for row in digest.volume.rows:
        assert row.brand_posts == sum(n for (p, _), n in now.items() if p == row.platform)
        assert row.previous_brand_posts == sum(
            n for (p, _), n in before.items() if p == row.platform
        )
        assert row.own_posts == sum(
            1 for p in _own_posts(demo_digests.workspace, week) if p["platform"] == row.platform
        )
    assert digest.volume.total.brand_posts == sum(now.values())
    assert sum(sum(day.values()) for day in list(digest.volume.daily.values())[7:]) == sum(
        now.values()
    )
    counts = {
        label: sum(n for (_, lab), n in now.items() if lab == label)
        for label in ("negative", "neutral", "positive")
    }
    previous = {
        label: sum(n for (_, lab), n in before.items() if lab == label)
        for label in ("negative", "neutral", "positive")
    }
    summary = digest.sentiment.summary
    assert summary.counts == counts and summary.previous_counts == previous
    for change in summary.changes:
        expected = share_change(change.label, counts, previous)
        assert change.points == pytest.approx(expected.points)
        assert change.significant == expected.significant


def test_spike_week_says_negative_talk_rose_beyond_noise(demo_digests: DemoDigests) -> None:
    digest = demo_digests.digests[SPIKE_WEEK]
    negative = next(c for c in digest.sentiment.summary.changes if c.label == "negative")
    assert negative.significant and negative.points > 10
    assert "negative up" in digest.sentiment.headline()
    quiet = demo_digests.digests[LAST_WEEK]
    assert not any(c.significant for c in quiet.sentiment.summary.changes)
    assert "no share moved beyond noise" in quiet.sentiment.headline()


def test_engagement_rates_and_best_worst_match_sql(demo_digests: DemoDigests) -> None:
    digest = demo_digests.digests[LAST_WEEK]
    posts = _own_posts(demo_digests.workspace, LAST_WEEK)
    previous = _own_posts(demo_digests.workspace, LAST_WEEK.previous())
    for row in digest.engagement.rows:
        logs = [
            math.log((p["engagements"] + 0.5) / p["followers"])
            for p in posts
            if p["platform"] == row.platform
        ]
        logs_before = [
            math.log((p["engagements"] + 0.5) / p["followers"])
            for p in previous
            if p["platform"] == row.platform
        ]
        assert row.posts == len(logs)
        assert row.rate == pytest.approx(math.exp(statistics.fmean(logs)))
        assert row.previous_rate == pytest.approx(math.exp(statistics.fmean(logs_before)))
        assert row.change is not None and row.rate and row.previous_rate
        assert row.change.ratio == pytest.approx(row.rate / row.previous_rate)
    # "typical" = median rate of the platform's own posts in the 12 weeks before the week
    with demo_digests.workspace.connect() as con:
        typical = dict(
            con.execute(
                """SELECT platform, median((likes + comments + shares) / followers) FROM posts
               WHERE list_contains(?, account) AND CAST(posted_at AS DATE) >= ?
                 AND CAST(posted_at AS DATE) < ? GROUP BY 1""",
                [
                    get_meta(con, "own_accounts"),
                    LAST_WEEK.start - timedelta(weeks=12),
                    LAST_WEEK.start,
                ],
            ).fetchall()
        )
    relative = {
        p["post_id"]: p["engagements"] / p["followers"] / typical[p["platform"]] for p in posts
    }
    best, worst = digest.engagement.best, digest.engagement.worst
    assert best is not None and worst is not None
    assert best.post_id == max(relative, key=lambda k: relative[k])
    assert worst.post_id == min(relative, key=lambda k: relative[k])
    assert best.relative == pytest.approx(relative[best.post_id])
    assert best.typical_rate == pytest.approx(typical[best.platform])
    assert {d.trait for d in best.drivers} <= {"media", "weekday", "time of day"}
    assert best.model_text is None  # no engagement model was given


def test_concluded_experiments_match_the_planted_outcomes(
    demo_digests: DemoDigests, demo: DemoWorkspace
) -> None:
    digest = demo_digests.digests[EXPERIMENT_WEEK]
    verdicts = {o.experiment_id: o for o in digest.experiments.concluded}
    assert set(verdicts) == set(demo.manifest["experiments"])  # all three ended on 14 Nov
    assert verdicts["exp-subject-line"].verdict == "winner"
    assert verdicts["exp-subject-line"].winners == ("question",)
    assert verdicts["exp-button-colour"].verdict == "no_effect"
    assert verdicts["exp-free-shipping"].verdict == "srm"
    assert all(o.ended.isoformat() == "2026-11-14" for o in verdicts.values())
    assert demo_digests.digests[LAST_WEEK].experiments.concluded == ()
    assert (
        demo_digests.digests[LAST_WEEK]
        .experiments.headline()
        .startswith("No experiment ended this week")
    )


def test_spike_week_anomaly_and_quiet_week(demo_digests: DemoDigests, demo: DemoWorkspace) -> None:
    spike = demo.manifest["sentiment_spike"]
    alerts = demo_digests.digests[SPIKE_WEEK].anomalies.report.alerts
    negative = [
        a for a in alerts if a.metric == "negative share" and a.platform == spike["platform"]
    ]
    assert negative and negative[0].start.isoformat() == spike["start"]
    assert negative[0].end.isoformat() == spike["end"]
    assert demo_digests.digests[LAST_WEEK].anomalies.report.alerts == ()


def test_recommended_actions_come_from_findings(demo_digests: DemoDigests) -> None:
    spike = demo_digests.digests[SPIKE_WEEK].actions.items
    rules = {a.rule: a for a in spike}
    assert rules["negative_spike"].finding == "anomalies"
    alert = next(
        a
        for a in demo_digests.digests[SPIKE_WEEK].anomalies.report.alerts
        if a.metric == "negative share" and a.platform == "twitter"
    )
    text = rules["negative_spike"].text
    assert "Twitter/X" in text and f"{100 * alert.observed:.0f}%" in text
    assert rules["negative_share_up"].finding == "sentiment"
    experiments = {a.rule: a for a in demo_digests.digests[EXPERIMENT_WEEK].actions.items}
    assert "Roll out question from the Subject-line test" in experiments["experiment_winner"].text
    assert "+1.9 points" in experiments["experiment_winner"].text
    assert experiments["experiment_srm"].text.startswith(
        "Fix the assignment of the Free-shipping banner test"
    )
    assert experiments["experiment_no_effect"].finding == "experiments"
    quiet = demo_digests.digests[LAST_WEEK].actions.items
    assert not {a.rule for a in quiet} & {
        "negative_spike",
        "negative_share_up",
        "experiment_winner",
    }
    for digest in demo_digests.digests.values():
        assert all(a.finding in SECTION_TITLES for a in digest.actions.items)


def test_every_section_has_an_audit_row(demo_digests: DemoDigests) -> None:
    digest = demo_digests.digests[SPIKE_WEEK]
    assert set(digest.audit_ids) == set(SECTION_TITLES)
    with demo_digests.workspace.connect() as con:
        for key, audit_id in digest.audit_ids.items():
            kind, inputs, sources, output = con.execute(
                "SELECT kind, inputs, sources, output FROM audit WHERE audit_id = ?", [audit_id]
            ).fetchall()[0]
            inputs, sources, output = json.loads(inputs), json.loads(sources), json.loads(output)
            assert kind == AUDIT_KIND
            assert inputs["week"] == "2026-W43" and inputs["section"] == key
            assert inputs["period"] == {"start": "2026-10-19", "end": "2026-10-25"}
            assert inputs["previous"]["start"] == "2026-10-12"
            assert inputs["parameters"] and sources
            assert output == json.loads(json.dumps(digest.section(key).to_dict(), default=str))
        volume = json.loads(
            con.execute(
                "SELECT inputs FROM audit WHERE audit_id = ?", [digest.audit_ids["volume"]]
            ).fetchall()[0][0]
        )
    assert volume["parameters"]["model_version"] == demo_digests.model_version
    assert volume["parameters"]["exclude_accounts"] and volume["parameters"]["brand_terms"]


def test_creators_who_mentioned_the_brand(demo_digests: DemoDigests, demo: DemoWorkspace) -> None:
    """The demo plants brand mentions in the last complete week by a steady and a fake creator."""
    planted = demo.manifest["creators"]
    assert planted["brand_mentions"]["week_start"] == LAST_WEEK.start.isoformat()
    fake, steady = planted["fake_engagement"][0], planted["steady_peers_of_lucky"][0]
    assert set(planted["brand_mentions"]["creators"]) == {fake, steady}
    digest = demo_digests.digests[LAST_WEEK]
    mentions = {m.creator_id: m for m in digest.creators.mentions}
    assert set(mentions) == {fake, steady}
    with demo.workspace.connect(read_only=True) as con:
        for creator_id, mention in mentions.items():
            texts = con.execute(
                "SELECT p.text FROM posts p JOIN influencers i ON i.handle = p.account "
                "WHERE i.influencer_id = ? AND list_contains(?, p.post_id)",
                [creator_id, list(mention.post_ids)],
            ).fetchall()
            assert texts and all("trailbird" in text.lower() or "@u_" in text for (text,) in texts)
    assert mentions[fake].flags, "a planted bought-engagement creator is flagged"
    assert not mentions[steady].flags
    steady_rate = mentions[steady]
    assert steady_rate.rate is not None and steady_rate.low is not None
    assert steady_rate.high is not None
    assert steady_rate.low <= steady_rate.rate <= steady_rate.high
    rules = {a.rule: a.text for a in digest.actions.items if a.finding == "creators"}
    assert rules["creator_flagged"].startswith(f"Vet {mentions[fake].handle}")
    assert rules["creator_outreach"].startswith(f"Thank {mentions[steady].handle}")
    assert "2 tracked creators mentioned us" in digest.creators.headline()


SUPPORT_SQL = """
SELECT count(DISTINCT p.account), count(*), avg((s.sentiment_label = 'negative')::INTEGER)
FROM posts p JOIN scores s ON s.post_id = p.post_id AND s.model_version = ?
WHERE p.platform = 'support' AND CAST(p.posted_at AS DATE) BETWEEN ? AND ?
"""


@pytest.mark.parametrize("week", [SPIKE_WEEK, LAST_WEEK])
def test_support_section_matches_sql(demo_digests: DemoDigests, week: IsoWeek) -> None:
    support = demo_digests.digests[week].support
    with demo_digests.workspace.connect() as con:
        chats, messages, negative = con.execute(
            SUPPORT_SQL, [demo_digests.model_version, week.start, week.end]
        ).fetchall()[0]
        ratings = con.execute(
            "SELECT count(*), avg(rating) FROM support_ratings "
            "WHERE CAST(created_at AS DATE) BETWEEN ? AND ?",
            [week.start, week.end],
        ).fetchall()[0]
    assert chats > 0 and (support.chats, support.messages) == (chats, messages)
    assert support.negative == pytest.approx(negative)
    assert support.ratings == ratings[0] and support.mean_rating == pytest.approx(ratings[1])
    assert f"{support.chats} support chats" in support.headline()
    assert json.loads(json.dumps(support.to_dict()))["chats"] == chats


def test_sole_peeling_week_makes_support_chats_more_negative(demo_digests: DemoDigests) -> None:
    spike = demo_digests.digests[SPIKE_WEEK].support
    assert spike.negative is not None and spike.previous_negative is not None
    assert spike.negative > spike.previous_negative
