"""The engagement actions on an ensemble trained on the demo brand's own posts."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import shutil
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.engagement import ActionExplainPost, ActionPredictEngagement, ActionRecommendContent
from actions.formatting import platform_name
from actions.parsing import PostReference, post_reference
from actions.sentiment import ActionSentimentSummary
from actions.services import ENGAGEMENT_UNAVAILABLE, Services
from foundation.exceptions import ConfigError
from foundation.workspace import get_meta
from tests.actions.conftest import FIXTURES, ActionRun, run_action
from tests.leaks import leaks

pytestmark = pytest.mark.filterwarnings("ignore:You are using an old version of rasa")


def test_prediction_gives_probability_reasons_and_clears_the_draft(services: Services) -> None:
    run = run_action(ActionPredictEngagement(), "staff_predict_engagement.json")
    text = run.text
    # The saved tracker predates the posting_time slot: the next full hour is used.
    assert re.match(
        r"Draft for Instagram, posted \w{3} \d{1,2} \w{3} \d\d:00 UTC, text only:", text
    )
    # Said as ">99%" or "<1%" at the ends (the posting hour moves with the clock).
    probability = re.search(r"Chance of landing in this account's top 30%: [<>]?(\d+)%", text)
    assert probability and 0 <= int(probability.group(1)) <= 100
    assert "Strongest reasons:" in text
    assert run.remembered is not None and run.remembered["kind"] == "prediction"
    assert run.other_events == [
        {"event": "slot", "timestamp": None, "name": "draft_text", "value": None},
        {"event": "slot", "timestamp": None, "name": "posting_time", "value": None},
    ]
    with services.workspace.connect() as con:
        assert con.execute("SELECT kind FROM audit").fetchall() == [("engagement_prediction",)]


def test_explain_post_compares_outcome_and_reasons(services: Services) -> None:
    text = run_action(ActionExplainPost(), "staff_explain_post.json").text
    with services.workspace.connect() as con:
        engagement = con.execute(
            "SELECT likes + comments + shares FROM posts WHERE post_id = 'ig-000045'"
        ).fetchall()[0][0]
    assert text.startswith("ig-000045 on Instagram (")
    assert f"it got {engagement:,} likes+comments+shares" in text
    assert "Strongest reasons:" in text


def test_a_damaged_model_file_is_one_clear_sentence_and_the_rest_still_works(
    services: Services, tmp_path: Path
) -> None:
    damaged = tmp_path / "damaged-model"
    shutil.copytree(services.engagement_dir or Path(), damaged)
    (damaged / "model.json").write_text('{"version": "truncated')
    services.engagement_dir = damaged
    run = run_action(ActionPredictEngagement(), "staff_predict_engagement.json")
    assert run.text == ENGAGEMENT_UNAVAILABLE
    assert not leaks(run.text) and str(tmp_path) not in run.text
    sentiment = run_action(ActionSentimentSummary(), "staff_sentiment_twitter_this_month.json")
    assert "Twitter/X" in sentiment.text and "posts" in sentiment.text


def test_explain_refuses_posts_that_are_not_ours(services: Services) -> None:
    text = run_action(ActionExplainPost(), "staff_explain_customer_post.json").text
    assert text == (
        "tw-m000001 is not one of our own posts, so the model has no history to compare it with."
    )


def test_recommendations_use_the_latest_post_as_template(services: Services) -> None:
    text = run_action(ActionRecommendContent(), "staff_recommend_instagram.json").text
    assert text.startswith("For Instagram, using our latest Instagram post (ig-")
    assert "What would raise it:" in text
    assert re.search(r"• .+: \d+% → \d+% \((high|medium|low) confidence\)", text)


# ---------------------------------------------------------------- "our post from Tuesday"
def test_predictions_read_posts_that_arrived_after_training(services: Services) -> None:
    trained = services.engagement()
    assert services.engagement() is trained  # nothing new: the same object
    with services.workspace.connect() as con:
        own = get_meta(con, "own_accounts", [])[0]
        key = f"{own}@instagram"
        last = trained.history_.times[key][-1]
        for day in range(1, 31):  # a month of posts after training, far above the usual
            con.execute(
                "INSERT INTO posts (post_id, platform, account, text, posted_at, likes, comments,"
                " shares, media_type, source, ingested_at) VALUES (?, 'instagram', ?, 'new drop',"
                " to_timestamp(?)::TIMESTAMP, 5000000, 0, 0, 'image', 'test', now()::TIMESTAMP)",
                [f"ig-new-{day}", own, int(last) + day * 86_400],
            )
    live = services.engagement()
    when = pd.Timestamp(int(last) + 31 * 86_400, unit="s")
    assert live.history_.context(key, when)["trailing_median"] == pytest.approx(np.log1p(5e6))
    assert trained.history_.context(key, when)["trailing_median"] < 10
    assert live.trained_until() == trained.trained_until()
    assert services.engagement() is live


def test_a_model_from_an_older_beacon_is_named_not_fatal(
    services: Services, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    old = tmp_path / "old-model"
    assert services.engagement_dir is not None
    shutil.copytree(services.engagement_dir, old)
    meta = json.loads((old / "model.json").read_text())
    (old / "model.json").write_text(json.dumps({**meta, "version": "engagement-ensemble-1"}))
    stale = dataclasses.replace(services, engagement_dir=old)
    stale.warm_up()  # the action server still starts
    assert "engagement model not loaded at start-up" in caplog.text
    with pytest.raises(ConfigError, match="retrain it with `beacon engagement train`"):
        stale.engagement()
    assert "engagement-ensemble-1" in caplog.text  # the detail is in the log, not the reply


def _tracker(
    text: str, post_id: str | None = None, entities: list[dict[str, Any]] | None = None
) -> Tracker:
    """The saved explain tracker with another user message (and ``post_id`` slot)."""
    data = json.loads((FIXTURES / "staff_explain_post.json").read_text())
    data["slots"]["post_id"] = post_id
    for message in (data["latest_message"], data["events"][-1]["parse_data"]):
        message["text"] = text
        message["entities"] = entities or []
    data["events"][-1]["text"] = text
    return Tracker.from_dict(data)


def _run(text: str, post_id: str | None = None, **kwargs: Any) -> ActionRun:
    dispatcher = CollectingDispatcher()
    tracker = _tracker(text, post_id, **kwargs)
    events = asyncio.run(ActionExplainPost().run(dispatcher, tracker, {}))
    return ActionRun(events=list(events), messages=dispatcher.messages)


def _own_posts(services: Services, where: str, params: list[Any]) -> list[tuple[str, str]]:
    with services.workspace.connect() as con:
        own = get_meta(con, "own_accounts", [])
        return con.execute(
            "SELECT post_id, platform FROM posts WHERE list_contains(?, account) AND "
            f"{where} ORDER BY posted_at DESC, post_id",
            [own, *params],
        ).fetchall()


def _day(text: str, today: date) -> date | None:
    reference = post_reference(text, today)
    assert reference is not None
    return reference.day


def test_post_reference_reads_days_platforms_and_latest() -> None:
    monday = date(2026, 11, 30)
    assert post_reference("why did our post from Tuesday do so well?", monday) == PostReference(
        date(2026, 11, 24), "Tuesday 24 Nov 2026", None
    )
    assert post_reference("explain yesterday's instagram post", monday) == PostReference(
        date(2026, 11, 29), "Sunday 29 Nov 2026", "instagram"
    )
    latest = post_reference("why did our last tweet flop", monday)
    assert latest == PostReference(None, "latest", "twitter")
    assert latest.latest
    assert post_reference("the post on 12 Oct", monday) == PostReference(
        date(2026, 10, 12), "Monday 12 Oct 2026", None
    )
    # A day still to come this year means last year's; a weekday always means a past one.
    assert _day("our post on December 3rd", monday) == date(2025, 12, 3)
    assert post_reference("monday's fb post", monday) == PostReference(
        date(2026, 11, 23), "Monday 23 Nov 2026", "facebook"
    )
    assert _day("the tiktok video from sat", monday) == date(2026, 11, 28)
    assert _day("post from 2026-10-03", monday) == date(2026, 10, 3)
    # Not a reference: no post named, no day, a date that does not exist, "sun" as a word.
    assert post_reference("how is sentiment on tuesday", monday) is None
    assert post_reference("why did this post underperform", monday) is None
    assert post_reference("the post on 31 feb", monday) is None
    assert post_reference("why did our post about sun protection do well", monday) is None


def test_post_from_a_day_with_several_posts_asks_which_with_buttons(services: Services) -> None:
    today = services.today()
    tuesday = today - timedelta(days=(today.weekday() - 1) % 7 or 7)
    expected = _own_posts(services, "CAST(posted_at AS DATE) = ?", [tuesday])
    assert len(expected) > 1  # the demo brand posts several times a day
    run = _run("why did our post from Tuesday do so well?")
    assert run.events == []
    [message] = run.messages
    assert message["text"].startswith(
        f"On {tuesday:%A} {tuesday.day} {tuesday:%b %Y} we published {len(expected)} posts. "
        "Which one should I explain?"
    )
    for post_id, _ in expected:
        assert f"• {post_id} (" in message["text"]
    assert [b["payload"] for b in message["buttons"]] == [
        f'/explain_post{{"post_id": "{post_id}"}}' for post_id, _ in expected
    ]


def test_post_from_yesterday_on_one_platform_is_explained(services: Services) -> None:
    yesterday = services.today() - timedelta(days=1)
    [(post_id, _)] = _own_posts(
        services, "platform = 'instagram' AND CAST(posted_at AS DATE) = ?", [yesterday]
    )
    run = _run("why did yesterday's instagram post do so badly?")
    assert run.text.startswith(f"{post_id} on {platform_name('instagram')} ({yesterday:%d %b %Y} ")
    assert "Strongest reasons:" in run.text
    assert run.other_events == [
        {"event": "slot", "timestamp": None, "name": "post_id", "value": post_id}
    ]
    assert run.remembered is not None and run.remembered["ids"] == [post_id]


def test_last_tweet_is_our_latest_twitter_post(services: Services) -> None:
    latest = _own_posts(
        services, "platform = 'twitter' AND CAST(posted_at AS DATE) <= ?", [services.today()]
    )[0][0]
    twitter = platform_name("twitter")
    assert _run("explain our last tweet").text.startswith(f"{latest} on {twitter} (")


def test_no_post_on_that_day_names_the_day(services: Services) -> None:
    run = _run("why did our linkedin post from yesterday flop?")
    yesterday = services.today() - timedelta(days=1)
    assert run.text == (
        f"I found none of our {platform_name('linkedin')} posts on {yesterday:%A} {yesterday.day} {yesterday:%b %Y} "
        "(UTC). If it went out another day, give me its id, like tw-000123 or ig-000045."
    )


def test_a_named_post_id_wins_over_a_stale_reference(services: Services) -> None:
    # The button's payload sets post_id; its text names no day, so the id is explained.
    run = _run(
        '/explain_post{"post_id": "ig-000045"}',
        post_id="ig-000045",
        entities=[{"entity": "post_id", "value": "ig-000045"}],
    )
    assert run.text.startswith("ig-000045 on Instagram (")
    assert run.other_events == []
    assert run.remembered is not None and run.remembered["ids"] == ["ig-000045"]
