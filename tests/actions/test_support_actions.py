"""Customer support actions: frustration offers, hand-off to Slack, ratings, greetings."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from actions.base import HANDOFF_OFFER
from actions.knowledge import ActionKnowledgeAnswer
from actions.sentiment import ActionSentimentSummary
from actions.services import Services
from actions.support import (
    ActionGoodbye,
    ActionGreet,
    ActionRateConversation,
    ActionRequestHuman,
    ActionThank,
    parse_rating,
)
from beacon.support import support_post_id
from tests.actions.conftest import Chat, run_action
from tests.conftest import answered_from_public_pages
from tests.fakes.slack import FakeSlack


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
        monkeypatch.setenv("BEACON_SLACK_API_URL", fake.base_url)
        yield fake


def _buttons(run_messages: list[dict]) -> list[str]:
    return [b["payload"] for m in run_messages for b in (m.get("buttons") or [])]


def test_a_repeated_angry_question_is_answered_and_offered_a_person(services: Services) -> None:
    run = run_action(ActionKnowledgeAnswer(), "customer_frustrated_repeat.json")
    assert run.messages[-1]["text"] == HANDOFF_OFFER
    assert _buttons(run.messages) == ["/request_human", "/deny"]
    assert "refund" in run.messages[0]["text"].lower()  # the answer still comes first
    post_id = support_post_id("customer:web-frustrated", "m2")
    with services.workspace.connect() as con:
        row = con.execute(
            "SELECT p.platform, p.account, p.text, s.p_negative FROM posts p "
            "JOIN scores s USING (post_id) WHERE post_id = ?",
            [post_id],
        ).fetchone()
    assert row is not None
    platform, account, text, negative = row
    assert platform == "support" and account.startswith("acct_")
    assert text.startswith("WHERE IS MY REFUND") and 0.0 <= negative <= 1.0


def test_a_calm_refund_question_gets_no_offer(services: Services) -> None:
    run = run_action(ActionKnowledgeAnswer(), "customer_calm_refund_question.json")
    assert HANDOFF_OFFER not in run.text
    assert "/request_human" not in _buttons(run.messages)


def test_the_same_turn_is_stored_once(services: Services) -> None:
    run_action(ActionKnowledgeAnswer(), "customer_calm_refund_question.json")
    run_action(ActionKnowledgeAnswer(), "customer_calm_refund_question.json")
    with services.workspace.connect() as con:
        count = con.execute(
            "SELECT count(*) FROM posts WHERE post_id = ?",
            [support_post_id("customer:web-calm", "m1")],
        ).fetchone()
    assert count == (1,)


def test_a_staff_question_from_an_angry_customer_still_offers_a_person(
    services: Services,
) -> None:
    run = run_action(ActionSentimentSummary(), "customer_frustrated_repeat.json")
    assert answered_from_public_pages(run.messages[0]["text"])
    assert run.messages[-1]["text"] == HANDOFF_OFFER


def test_hand_off_posts_the_summary_to_the_staff_channel(
    services: Services, slack: FakeSlack
) -> None:
    run = run_action(ActionRequestHuman(), "customer_request_human.json")
    posted = slack.calls_to("chat.postMessage")
    assert len(posted) == 1
    message = posted[0].params
    assert message["channel"] == "C0SUPPORT"
    assert "my order is two weeks late" in message["text"]
    assert "First question" in message["text"]
    reference = message["text"].split("Support hand-off ")[1].split(":")[0]
    assert reference.startswith("H-") and reference in run.messages[0]["text"]
    assert "support@trailbird.example" in run.messages[0]["text"]
    assert "/rate_conversation" in _buttons(run.messages)[0]
    with services.workspace.connect() as con:
        inputs = con.execute(
            "SELECT inputs FROM audit WHERE kind = 'handoff' AND conversation_id = ?",
            ["customer:web-handoff"],
        ).fetchone()
    assert inputs is not None and json.loads(inputs[0])["delivered"] is True


def test_hand_off_survives_a_rate_limit_and_a_server_error_and_posts_once(
    services: Services, slack: FakeSlack
) -> None:
    slack.fail_next("chat.postMessage", 429, retry_after=0)
    slack.fail_next("chat.postMessage", 500)
    run = run_action(ActionRequestHuman(), "customer_request_human.json")
    assert len(slack.failed) == 2
    (posted,) = slack.calls_to("chat.postMessage")
    reference = posted.params["text"].split("Support hand-off ")[1].split(":")[0]
    assert "passed our conversation" in run.messages[0]["text"]
    assert reference in run.messages[0]["text"]


def test_hand_off_without_slack_is_honest_and_still_recorded(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    run = run_action(ActionRequestHuman(), "customer_request_human.json")
    assert "couldn't reach the support team" in run.messages[0]["text"]
    with services.workspace.connect() as con:
        row = con.execute("SELECT inputs FROM audit WHERE kind = 'handoff'").fetchone()
    assert row is not None
    inputs = json.loads(row[0])
    assert inputs["delivered"] is False and "SLACK_BOT_TOKEN" in inputs["error"]


def test_hand_off_when_slack_is_down_is_honest(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeSlack() as fake:
        down_url = fake.base_url
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("BEACON_SLACK_API_URL", down_url)
    run = run_action(ActionRequestHuman(), "customer_request_human.json")
    assert "couldn't reach the support team" in run.messages[0]["text"]
    assert "H-" in run.messages[0]["text"]


def test_customer_goodbye_asks_for_a_rating_and_greeting_is_the_support_one(
    services: Services,
) -> None:
    bye = run_action(ActionGoodbye(), "customer_goodbye.json")
    assert _buttons(bye.messages)[0] == '/rate_conversation{"rating": "5"}'
    hello = run_action(ActionGreet(), "customer_greet.json").text
    assert "Trailbird's support assistant" in hello and "marketing" not in hello
    staff_hello = run_action(ActionGreet(), "staff_help.json").text
    assert "marketing assistant" in staff_hello


@pytest.mark.parametrize(
    ("audience", "text", "answered"),
    [
        ("customer", "thanks!", False),
        ("customer", "thanks so much for all your help today", False),
        ("customer", "thanks, and how long do returns take to be refunded?", True),
        ("customer", "hey, quick one - why? thanks", True),  # not in the pages: said so
        ("staff", "cheers, that is really helpful", False),
    ],
)
def test_a_thanks_that_carries_a_question_gets_it_answered(
    services: Services, audience: str, text: str, answered: bool
) -> None:
    run = Chat(audience=audience).say(text, "thank", ActionThank())
    if answered:
        assert answered_from_public_pages(run.text), run.text
    else:
        assert [m.get("response") for m in run.messages] == ["utter_you_are_welcome"], run.messages


def test_a_low_rating_is_kept_and_offers_a_person(services: Services) -> None:
    run = run_action(ActionRateConversation(), "customer_rate_low.json")
    assert "(2/5)" in run.text and "/request_human" in _buttons(run.messages)
    with services.workspace.connect() as con:
        rows = con.execute(
            "SELECT rating FROM support_ratings WHERE conversation_id = ?", ["customer:web-rate"]
        ).fetchall()
    assert rows == [(2,)]


@pytest.mark.parametrize(
    ("entities", "text", "expected"),
    [
        ([{"entity": "rating", "value": "4"}], "", 4),
        ([{"entity": "rating", "value": "9"}], "", None),
        ([], "I'd give it 3 out of 5", 3),
        ([], "great, thanks", 5),
        ([], "no idea", None),
    ],
)
def test_parse_rating(entities: list[dict], text: str, expected: int | None) -> None:
    assert parse_rating(entities, text) == expected
