"""Checks of bot/slack.py (and bot/channels.py) that need Rasa: run by test_slack_channel.py.

Run as a script (``.venv-bot/bin/python tests/bot/_slack_channel_checks.py``) with the
repository root on ``PYTHONPATH``; prints ``all checks passed`` or fails on an assert.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class StubRequest:
    """The two things the channel reads from a sanic request before parsing."""

    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def _signed(secret: str, body: bytes, age_s: float = 0) -> StubRequest:
    from bot._slack_guard import sign

    ts = str(int(time.time() - age_s))
    return StubRequest(
        body, {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sign(secret, ts, body)}
    )


def _event(**event: Any) -> dict[str, Any]:
    base = {
        "type": "app_mention",
        "user": "U1",
        "team": "T1",
        "channel": "C1",
        "ts": "17.1",
        "text": "<@UBOT> hi there",
    }
    return {
        "type": "event_callback",
        "team_id": "T1",
        "event_id": "Ev1",
        "is_ext_shared_channel": False,
        "event": {k: v for k, v in {**base, **event}.items() if v is not None},
        "authorizations": [{"user_id": "UBOT", "is_bot": True}],
    }


def _click_payload(
    user: str = "U2", channel: str = "C1", user_team: str | None = "T1"
) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "user": {"id": user, "team_id": user_team} if user_team else {"id": user},
        "team": {"id": "T1"},
        "channel": {"id": channel},
        "container": {"type": "message", "message_ts": "17.9", "thread_ts": "17.1"},
        "message": {"ts": "17.9", "thread_ts": "17.1"},
        "actions": [
            {
                "type": "button",
                "action_id": "beacon_feedback_up",
                "value": "up",
                "action_ts": "18.0",
            }
        ],
    }


def check_unconfigured() -> None:
    from bot.slack import BeaconSlackInput

    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "BEACON_SLACK_SECTION_CHARS"):
        os.environ.pop(name, None)
    channel = BeaconSlackInput.from_credentials(None)
    assert channel.unconfigured_reason == (
        "the Slack channel is not configured: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET "
        "in the bot's environment"
    ), channel.unconfigured_reason
    refusal = channel._refusal(_signed("s", b"{}"))  # type: ignore[arg-type]
    assert refusal is not None and refusal.status == 503, refusal
    assert refusal.body is not None and b"SLACK_SIGNING_SECRET" in refusal.body
    os.environ["SLACK_BOT_TOKEN"] = "xoxb-test"
    half = BeaconSlackInput.from_credentials({})
    assert (
        half.unconfigured_reason is not None and "SLACK_BOT_TOKEN" not in half.unconfigured_reason
    )
    os.environ["BEACON_SLACK_SECTION_CHARS"] = "50"
    try:
        BeaconSlackInput.from_credentials({})
    except ValueError as error:
        assert "between 200 and 3000, got 50" in str(error), error
    else:
        raise AssertionError("a section limit below 200 was accepted")
    os.environ.pop("BEACON_SLACK_SECTION_CHARS")


def check_signatures() -> None:
    from bot.slack import BeaconSlackInput

    channel = BeaconSlackInput("xoxb-test", "s3cret", api_url="http://127.0.0.1:9/api/")
    assert channel._refusal(_signed("s3cret", b"{}")) is None  # type: ignore[arg-type]
    for request in (
        _signed("other", b"{}"),
        _signed("s3cret", b"{}", age_s=301),
        StubRequest(b"{}"),
    ):
        refusal = channel._refusal(request)  # type: ignore[arg-type]
        assert refusal is not None and refusal.status == 401, request


def check_events() -> None:
    from bot.slack import BeaconSlackInput

    channel = BeaconSlackInput("xoxb-test", "s3cret")
    turn = channel._incoming_message(_event())
    assert turn is not None and turn.text == "hi there" and turn.thread_ts == "17.1"
    assert turn.sender_id == "slack-C1-17.1"
    # A customer until the audience is decided (check_audience) before the turn runs.
    assert turn.audience == "customer" and turn.signals.user_team == "T1"
    assert turn.metadata() == {
        "audience": "customer",
        "slack": {"user": "U1", "channel": "C1", "thread_ts": "17.1"},
    }
    in_thread = channel._incoming_message(_event(ts="17.5", thread_ts="17.1"))
    assert in_thread is not None and in_thread.sender_id == "slack-C1-17.1"
    dm = channel._incoming_message(_event(type="message", channel_type="im", text="hello"))
    assert dm is not None and dm.text == "hello"
    shared = {
        "id": "F1",
        "name": "shoe.jpg",
        "mimetype": "image/jpeg",
        "size": 2048,
        "url_private": "https://files.slack.com/files-pri/T1-F1/shoe.jpg",
        "title": "x",
    }
    with_file = channel._incoming_message(_event(files=[shared, {"id": "F2"}, "junk"]))
    assert with_file is not None
    assert with_file.metadata()["slack"]["files"] == [
        {k: v for k, v in shared.items() if k != "title"}
    ], with_file.metadata()
    assert "files" not in turn.metadata()["slack"]
    external = channel._incoming_message(_event(user_team="T-OTHER"))
    assert external is not None and external.signals.user_team == "T-OTHER"
    ignored = [
        _event(type="message", channel_type="channel"),  # arrives again as app_mention
        _event(user="UBOT"),  # the bot itself
        _event(bot_id="B9"),  # any bot
        _event(type="message", channel_type="im", subtype="message_changed"),
        _event(text="<@UBOT>"),  # nothing left to say
    ]
    for body in ignored:
        assert channel._incoming_message(body) is None, body


def check_clicks() -> None:
    from bot.slack import BeaconSlackInput

    channel = BeaconSlackInput("xoxb-test", "s3cret")
    payload = _click_payload()
    turn, key = channel._click(payload)
    assert turn is not None and turn.text == "that answer was helpful"
    assert turn.sender_id == "slack-C1-17.1" and turn.intent == "give_feedback"
    parse = turn.parse_data()
    assert parse is not None and parse["intent"]["name"] == "give_feedback"
    assert key == "click:U2:C1:17.9:18.0"
    payload["actions"] = [
        {
            "type": "button",
            "action_id": "beacon_reply_0",
            "value": '/inform{"platform":"instagram"}',
            "action_ts": "18.1",
        }
    ]
    reply, _ = channel._click(payload)
    assert (
        reply is not None
        and reply.text == '/inform{"platform":"instagram"}'
        and reply.intent is None
    )
    payload["actions"] = [
        {"type": "button", "action_id": "beacon_pin", "value": "pin", "action_ts": "18.2"}
    ]
    pin, _ = channel._click(payload)
    assert pin is not None and (pin.text, pin.intent) == ("pin this", "pin_answer")
    parse = pin.parse_data()
    assert parse is not None and parse["intent"]["name"] == "pin_answer"
    payload["actions"] = [{"type": "button", "action_id": "beacon_feedback_up", "value": "maybe"}]
    assert channel._click(payload)[0] is None
    payload["actions"] = [{"type": "button", "action_id": "someone_elses", "value": "x"}]
    assert channel._click(payload)[0] is None


async def _audiences() -> None:
    from bot.slack import BeaconSlackInput
    from tests.fakes.slack import FakeSlack

    with FakeSlack() as fake:
        channel = BeaconSlackInput("xoxb-test", "s3cret", api_url=fake.base_url)

        async def audience(body: dict[str, Any]) -> str:
            turn = channel._incoming_message(body)
            assert turn is not None, body
            return await channel._decide_audience(turn)

        fake.add_user("U1", "T1")
        assert await audience(_event()) == "staff"
        assert await audience(_event(ts="17.2")) == "staff"
        assert len(fake.calls_to("users.info")) == 1  # the answer is cached
        # Outsiders and unknowns, each decided from the payload alone.
        shared = {**_event(), "is_ext_shared_channel": True}
        assert await audience(shared) == "customer"
        assert await audience(_event(team=None)) == "customer"  # no user team: fail closed
        assert await audience(_event(user_team="T-OTHER")) == "customer"
        assert await audience({**_event(), "team_id": None}) == "customer"
        # Guests, strangers and users Slack would not describe.
        fake.add_user("UGUEST", "T1", restricted=True)
        fake.add_user("USINGLE", "T1", restricted=True, ultra_restricted=True)
        fake.add_user("USTRANGER", "T1", is_stranger=True)
        fake.add_user("UVAGUE", "T1", is_restricted=None)  # the field left out
        fake.add_user("UOTHER", "T-OTHER")
        for user in ("UGUEST", "USINGLE", "USTRANGER", "UVAGUE", "UOTHER", "UNOBODY"):
            assert await audience(_event(user=user)) == "customer", user
        # Slack failing (past the client's retries) or hanging: customer, not cached.
        fake.add_user("UFLAKY", "T1")
        fake.fail_next("users.info", 500, times=3)
        assert await audience(_event(user="UFLAKY")) == "customer"
        assert await audience(_event(user="UFLAKY")) == "staff"
        with socket.socket() as silent:  # accepts connections, never answers
            silent.bind(("127.0.0.1", 0))
            silent.listen(8)
            port = silent.getsockname()[1]
            hanging = BeaconSlackInput(
                "xoxb-test", "s3cret", api_url=f"http://127.0.0.1:{port}/api/", lookup_timeout_s=0.3
            )
            turn = hanging._incoming_message(_event())
            assert turn is not None and await hanging._decide_audience(turn) == "customer"
        # No is_ext_shared_channel in the payload: the channel is looked up.
        fake.add_channel("CSHARED", ext_shared=True)
        fake.add_channel("CPENDING", is_pending_ext_shared=True)
        unsaid = {
            k: v for k, v in _event(channel="CSHARED").items() if k != "is_ext_shared_channel"
        }
        assert await audience(unsaid) == "customer"
        unsaid["event"]["channel"] = "CPENDING"
        assert await audience(unsaid) == "customer"
        unsaid["event"]["channel"] = "CPLAIN"
        assert await audience(unsaid) == "staff"
        # Clicks never say whether the channel is shared.
        fake.add_user("U2", "T1")
        click, _ = channel._click(_click_payload())
        assert click is not None and await channel._decide_audience(click) == "staff"
        click, _ = channel._click(_click_payload(channel="CSHARED"))
        assert click is not None and await channel._decide_audience(click) == "customer"
        click, _ = channel._click(_click_payload(user_team=None))
        assert click is not None and await channel._decide_audience(click) == "customer"
        # The staff channel allowlist.
        listed = BeaconSlackInput(
            "xoxb-test", "s3cret", api_url=fake.base_url, staff_channels=frozenset({"C1"})
        )
        for name, expected in (("C1", "staff"), ("C2", "customer"), ("D1", "customer")):
            turn = listed._incoming_message(_event(channel=name))
            assert turn is not None and await listed._decide_audience(turn) == expected, name
        # The decision reaches Rasa in the message metadata.
        seen: list[Any] = []

        async def on_new_message(message: Any) -> None:
            seen.append(message.metadata["audience"])

        for body in (_event(), _event(user="UGUEST")):
            turn = channel._incoming_message(body)
            assert turn is not None
            await channel._run_turn(on_new_message, turn)
        assert seen == ["staff", "customer"], seen


def check_audience() -> None:
    from bot.slack import BeaconSlackInput

    asyncio.run(_audiences())
    os.environ["BEACON_SLACK_STAFF_CHANNELS"] = " C1, G2 ,"
    try:
        assert BeaconSlackInput.from_credentials({}).staff_channels == frozenset({"C1", "G2"})
        os.environ["BEACON_SLACK_STAFF_CHANNELS"] = "C1,#marketing"
        try:
            BeaconSlackInput.from_credentials({})
        except ValueError as error:
            assert "must be Slack channel ids" in str(error) and "'#marketing'" in str(error)
        else:
            raise AssertionError("a channel name was accepted as a channel id")
    finally:
        os.environ.pop("BEACON_SLACK_STAFF_CHANNELS")
    assert BeaconSlackInput.from_credentials({}).staff_channels is None


def check_rest_token() -> None:
    from bot.channels import BeaconRestInput

    rest = BeaconRestInput(staff_token="s3cret")
    for header, expected in (
        ("Bearer s3cret", "staff"),
        ("Bearer nope", "customer"),
        ("Bearer s3cr\u00e9t", "customer"),  # non-ASCII: compared as bytes, no TypeError
    ):
        request = StubRequest(b"", {"Authorization": header})
        assert rest.audience(request) == expected, header  # type: ignore[arg-type]


if __name__ == "__main__":
    check_unconfigured()
    check_signatures()
    check_events()
    check_clicks()
    check_audience()
    check_rest_token()
    print(json.dumps("all checks passed"))
