"""Each action run on saved trackers: returned events and dispatched messages."""

from __future__ import annotations

import asyncio
import json
import re

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.anomalies import ActionAnomalies
from actions.base import GENERIC_FAILURE, BeaconAction
from actions.core import ActionHelp, ActionRecordFeedback
from actions.sentiment import ActionSentimentSummary
from actions.services import Services
from analytics.listening import sentiment_summary
from analytics.periods import parse_period
from analytics.scope import Scope
from foundation.exceptions import ConfigError
from foundation.workspace import get_meta
from tests.actions.conftest import FIXTURES, run_action
from tests.conftest import answered_from_public_pages

pytestmark = pytest.mark.filterwarnings("ignore:You are using an old version of rasa")


def test_sentiment_reply_carries_workspace_numbers(services: Services) -> None:
    run = run_action(ActionSentimentSummary(), "staff_sentiment_twitter_this_month.json")
    with services.workspace.connect() as con:
        expected = sentiment_summary(
            con,
            Scope(
                parse_period("this month", services.today()),
                services.scorer.version,
                platform="twitter",
                exclude_accounts=tuple(get_meta(con, "own_accounts")),
                brand_terms=tuple(get_meta(con, "brand_terms")),
            ),
        )
        audits = con.execute("SELECT kind, conversation_id, model_version FROM audit").fetchall()
    assert run.other_events == []
    assert run.remembered is not None and run.remembered["kind"] == "sentiment"
    assert run.remembered["params"]["platform"] == "twitter"
    assert len(run.messages) == 2
    chart = services.charts.path_of(str(run.messages[1]["image"]).rsplit("/", 1)[1])
    assert chart is not None and chart.read_bytes()[:4] == b"\x89PNG"
    text = run.text
    assert "Twitter/X" in text and "this month (1–30 Nov 2026)" in text
    assert f"across {expected.total:,} posts" in text
    assert f"{100 * expected.share('positive'):.0f}% positive" in text
    assert "previous 30 days (2–31 Oct 2026)" in text
    assert f"scored by {services.scorer.version}." in text
    assert "Negative talk is driven by" in text and "Positive talk is driven by" in text
    assert audits == [("sentiment_summary", "staff-1", services.scorer.version)]


@pytest.mark.parametrize(
    ("action", "fixture"),
    [
        (ActionSentimentSummary(), "staff_sentiment_twitter_this_month.json"),
        (ActionAnomalies(), "staff_anomalies_october.json"),
    ],
)
def test_an_answer_is_computed_once_per_data_version(
    services: Services, action: BeaconAction, fixture: str
) -> None:
    first = run_action(action, fixture)
    again = run_action(action, fixture)
    assert again.messages == first.messages  # the same text and the same chart URL
    assert len(list(services.charts.folder.glob("*.png"))) == 1
    assert (services.answers.hits, services.answers.misses) == (1, 1)
    with services.workspace.connect() as con:
        assert con.execute("SELECT count(*) FROM audit").fetchall() == [(2,)]  # both audited
        con.execute(  # new data: a post, as `beacon ingest` would add it
            "INSERT INTO posts SELECT * REPLACE ('cache-test' AS post_id, now() AS ingested_at) "
            "FROM posts LIMIT 1"
        )
    fresh = run_action(action, fixture)
    assert services.answers.misses == 2
    assert len(list(services.charts.folder.glob("*.png"))) == 2
    assert fresh.messages[1] != first.messages[1]  # a chart drawn for the new data


@pytest.mark.parametrize("fixture", ["customer_sentiment.json", "no_audience_sentiment.json"])
def test_staff_only_action_answers_customers_from_the_public_pages_and_records_it(
    services: Services, fixture: str
) -> None:
    run = run_action(ActionSentimentSummary(), fixture)
    assert answered_from_public_pages(run.text), run.text
    assert not re.search(r"\d+%", run.text)
    with services.workspace.connect() as con:
        kinds = [r[0] for r in con.execute("SELECT kind FROM audit ORDER BY created_at").fetchall()]
        collections = con.execute(
            "SELECT json_extract_string(inputs, '$.collection') FROM audit "
            "WHERE kind = 'knowledge_answer'"
        ).fetchall()
    assert kinds == ["refused_staff_only", "knowledge_answer"]
    assert collections == [("public",)]


def test_bad_slot_values_get_a_readable_reply(services: Services) -> None:
    period = run_action(ActionSentimentSummary(), "staff_sentiment_bad_period.json")
    assert period.text.startswith("I can't read 'whenever' as a period; try 'this month'")
    platform = run_action(ActionSentimentSummary(), "staff_sentiment_unknown_platform.json")
    assert platform.text.startswith("I don't know the platform 'myspace'")
    # The value is cleared, so "and on facebook?" next doesn't hit the same wall.
    assert {"event": "slot", "name": "period", "value": None} in [
        {k: e.get(k) for k in ("event", "name", "value")} for e in period.events
    ]
    assert {"event": "slot", "name": "platform", "value": None} in [
        {k: e.get(k) for k in ("event", "name", "value")} for e in platform.events
    ]


def test_a_period_cut_short_by_the_extractor_is_read_from_the_message(
    services: Services,
) -> None:
    """NLU kept "weeks" out of "these past two weeks": the message still says 14 days."""
    data = json.loads((FIXTURES / "staff_sentiment_bad_period.json").read_text())
    data["slots"]["period"] = "weeks"
    data["latest_message"]["text"] = "what's the vibe on ig these past two weeks?"
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionSentimentSummary().run(dispatcher, Tracker.from_dict(data), {}))
    text = " ".join(m.get("text") or "" for m in dispatcher.messages)
    assert "the last 14 days" in text and "can't read" not in text
    # The slot now holds the whole phrase, so a follow-up ("and on facebook?") reads it.
    periods = [e.get("value") for e in events if e.get("name") == "period"]
    assert periods == ["these past two weeks"]


def test_unexpected_errors_are_not_shown_to_users(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr("actions.sentiment.sentiment_summary", explode)
    run = run_action(ActionSentimentSummary(), "staff_sentiment_twitter_this_month.json")
    assert run.text == GENERIC_FAILURE
    assert "secret" not in run.text


@pytest.mark.parametrize(
    "message",
    [
        "no model at /srv/beacon/var/models/engagement; train one first",
        "cannot read beacon.duckdb",
        "IOException: could not set lock",
    ],
)
def test_error_messages_written_for_the_cli_are_not_shown_in_chat(
    services: Services, monkeypatch: pytest.MonkeyPatch, message: str
) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise ConfigError(message)

    monkeypatch.setattr("actions.sentiment.sentiment_summary", refuse)
    run = run_action(ActionSentimentSummary(), "staff_sentiment_twitter_this_month.json")
    assert run.text == GENERIC_FAILURE


def test_feedback_is_stored_against_the_last_answer(services: Services) -> None:
    run_action(ActionSentimentSummary(), "staff_sentiment_twitter_this_month.json")
    run = run_action(ActionRecordFeedback(), "staff_feedback_correction.json")
    assert "saved it against my last answer (sentiment summary)" in run.text
    with services.workspace.connect() as con:
        rows = con.execute(
            "SELECT f.verdict, f.correction, a.kind FROM feedback f JOIN audit a ON a.audit_id = f.audit_id"
        ).fetchall()
    assert rows == [("correction", "that's wrong, it should be negative", "sentiment_summary")]


def test_help_depends_on_audience(services: Services) -> None:
    customer = run_action(ActionHelp(), "customer_help.json").text
    staff = run_action(ActionHelp(), "staff_help.json").text
    assert "sentiment" not in customer and "Trailbird's support assistant" in customer
    assert "how is sentiment on twitter this month?" in staff
    assert "tag the image in ig-000045" in staff


def test_form_questions_name_what_the_workspace_has(services: Services) -> None:
    from actions.forms import ActionAskExperiment, ActionAskPlatform

    experiment = run_action(ActionAskExperiment(), "staff_help.json").text
    assert experiment == (
        "Which experiment should I look at? I have: Button colour test, "
        "Free-shipping banner test, Subject-line test."
    )
    platform = run_action(ActionAskPlatform(), "staff_help.json").text
    assert platform.startswith("Which platform is it for? (") and "Instagram" in platform
