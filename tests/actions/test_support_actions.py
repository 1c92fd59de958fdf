"""Customer support actions: frustration offers, hand-off to Slack, ratings, greetings."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

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
from beacon.support import SupportDesk, support_post_id
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


def _block_texts(params: dict[str, Any]) -> str:
    """Every text object of a posted message's blocks, one per line."""
    texts = []
    for block in params.get("blocks") or []:
        objects = [block.get("text"), *(block.get("elements") or [])]
        texts += [o["text"] for o in objects if isinstance(o, dict) and "text" in o]
    return "\n".join(texts)


def _reference(text: str) -> str:
    found = re.search(r"reference (H-[0-9A-F]{6})", text)
    assert found, text
    return found.group(1)


def _handoff_rows(services: Services, conversation_id: str) -> list[dict[str, Any]]:
    services.workspace.flush()
    with services.workspace.connect() as con:
        rows = con.execute(
            "SELECT inputs FROM audit WHERE kind = 'handoff' AND conversation_id = ? "
            "ORDER BY created_at",
            [conversation_id],
        ).fetchall()
    return [json.loads(row[0]) for row in rows]


class _Clock:
    """Monotonic seconds the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


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
    quoted = _block_texts(message)
    assert "my order is two weeks late" in quoted and "First question" in quoted
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


def test_customer_markup_reaches_slack_escaped_and_pings_nobody(
    services: Services, slack: FakeSlack
) -> None:
    evil = "<!channel> <https://evil.example|Your Slack session expired> <@U0ADMIN> & <!here>"
    chat = Chat(audience="customer", sender="customer:web-evil")
    run = chat.say(f"{evil} I want a person", "request_human", ActionRequestHuman())
    assert "passed our conversation" in run.messages[0]["text"]
    (posted,) = slack.calls_to("chat.postMessage")
    message = posted.params
    assert message["unfurl_links"] is False and message["unfurl_media"] is False
    # The notification text holds only Beacon's words; the customer's are in the blocks.
    assert "evil.example" not in message["text"]
    everything = json.dumps(message)
    for control in ("<!channel>", "<!here>", "<@U0ADMIN>", "<https://"):
        assert control not in everything, control
    quoted = _block_texts(message)
    assert "&lt;!channel&gt; &lt;https://evil.example|Your Slack session expired&gt;" in quoted
    assert "&lt;@U0ADMIN&gt; &amp; &lt;!here&gt;" in quoted
    customer_blocks = [
        b["text"]
        for b in message["blocks"]
        if "evil.example" in (b.get("text") or {}).get("text", "")
    ]
    assert customer_blocks and all(t["verbatim"] is True for t in customer_blocks)


def test_card_numbers_and_ibans_never_reach_slack(services: Services, slack: FakeSlack) -> None:
    chat = Chat(audience="customer", sender="customer:web-card")
    said = (
        "you charged my card 4111 1111 1111 1111 twice, refund to GB82 WEST 1234 5698 7654 32, "
        "call me on 07700 900123"
    )
    chat.say(f"{said}. I want a person", "request_human", ActionRequestHuman())
    (posted,) = slack.calls_to("chat.postMessage")
    quoted = _block_texts(posted.params)
    assert "1111" not in quoted and "WEST" not in quoted and "5698" not in quoted
    assert "&lt;card_" in quoted and "&lt;iban_" in quoted
    assert "07700 900123" in quoted  # staff may need the number to call back


def test_a_second_request_keeps_the_reference_and_posts_nothing(
    services: Services, slack: FakeSlack
) -> None:
    chat = Chat(audience="customer", sender="customer:web-twice")
    first = chat.say("my parcel never came, I want a person", "request_human", ActionRequestHuman())
    reference = _reference(first.messages[0]["text"])
    again = chat.say("hello?? a person please", "request_human", ActionRequestHuman())
    assert _reference(again.messages[0]["text"]) == reference
    assert "already with the Trailbird support team" in again.messages[0]["text"]
    assert len(slack.calls_to("chat.postMessage")) == 1
    assert [row["reference"] for row in _handoff_rows(services, "customer:web-twice")] == [
        reference
    ]
    # Another process (a fresh desk) finds the open hand-off in the workspace.
    services.support = SupportDesk()
    third = chat.say("still nobody?", "request_human", ActionRequestHuman())
    assert _reference(third.messages[0]["text"]) == reference
    assert len(slack.calls_to("chat.postMessage")) == 1


def test_hand_offs_over_the_cap_are_kept_not_posted_and_go_out_later(
    services: Services, slack: FakeSlack
) -> None:
    clock = _Clock()
    services.support = SupportDesk(max_per_minute=2, clock=clock)
    replies = [
        Chat(audience="customer", sender=f"customer:web-cap-{i}").say(
            "I want a person", "request_human", ActionRequestHuman()
        )
        for i in range(3)
    ]
    assert len(slack.calls_to("chat.postMessage")) == 2
    held = replies[2].messages[0]["text"]
    assert "saved yours with reference" in held and "pick it up" in held
    (row,) = _handoff_rows(services, "customer:web-cap-2")
    assert row["held"] is True and row["delivered"] is False
    assert "BEACON_HANDOFF_MAX_PER_MINUTE" in row["error"]
    # A minute on, the held conversation asking again is posted under its reference.
    clock.now += 61
    chat = Chat(audience="customer", sender="customer:web-cap-2")
    again = chat.say("anyone?", "request_human", ActionRequestHuman())
    assert _reference(again.messages[0]["text"]) == row["reference"]
    assert "passed our conversation" in again.messages[0]["text"]
    posted = slack.calls_to("chat.postMessage")
    assert len(posted) == 3 and row["reference"] in posted[-1].params["text"]


def test_the_staff_channel_is_looked_up_once_per_process(
    services: Services, slack: FakeSlack
) -> None:
    for i in range(3):
        Chat(audience="customer", sender=f"customer:web-look-{i}").say(
            "I want a person", "request_human", ActionRequestHuman()
        )
    assert len(slack.calls_to("chat.postMessage")) == 3
    assert len(slack.calls_to("conversations.list")) == 1


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


def test_a_conversation_is_rated_once(services: Services) -> None:
    chat = Chat(audience="customer", sender="customer:web-rate-twice")
    rate = '/rate_conversation{"rating": "%d"}'
    first = chat.say(
        rate % 5,
        "rate_conversation",
        ActionRateConversation(),
        entities=[{"entity": "rating", "value": "5"}],
    )
    assert "(5/5)" in first.text
    second = chat.say(
        rate % 1,
        "rate_conversation",
        ActionRateConversation(),
        entities=[{"entity": "rating", "value": "1"}],
    )
    assert "already rated this chat (5/5)" in second.text
    assert "/request_human" not in _buttons(second.messages)
    bye = chat.say("bye", "goodbye", ActionGoodbye())
    assert "/rate_conversation" not in "".join(_buttons(bye.messages))
    services.workspace.flush()
    with services.workspace.connect() as con:
        rows = con.execute(
            "SELECT rating FROM support_ratings WHERE conversation_id = ?",
            ["customer:web-rate-twice"],
        ).fetchall()
    assert rows == [(5,)]
    # Another process (a fresh desk) finds the rating in the workspace.
    services.support = SupportDesk()
    third = chat.say(
        rate % 3,
        "rate_conversation",
        ActionRateConversation(),
        entities=[{"entity": "rating", "value": "3"}],
    )
    assert "already rated this chat (5/5)" in third.text


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
