"""Checks of bot/slack.py that need Rasa: run by test_slack_channel.py under .venv-bot.

Run as a script (``.venv-bot/bin/python tests/bot/_slack_channel_checks.py``) with the
repository root on ``PYTHONPATH``; prints ``all checks passed`` or fails on an assert.
"""

from __future__ import annotations

import json
import os
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
        "channel": "C1",
        "ts": "17.1",
        "text": "<@UBOT> hi there",
    }
    return {
        "type": "event_callback",
        "team_id": "T1",
        "event_id": "Ev1",
        "event": {**base, **event},
        "authorizations": [{"user_id": "UBOT", "is_bot": True}],
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
    assert turn.sender_id == "slack-C1-17.1" and turn.audience == "staff"
    assert turn.metadata() == {
        "audience": "staff",
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
    assert external is not None and external.audience == "customer"
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
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": "U2", "team_id": "T1"},
        "team": {"id": "T1"},
        "channel": {"id": "C1"},
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
    payload["actions"] = [{"type": "button", "action_id": "beacon_feedback_up", "value": "maybe"}]
    assert channel._click(payload)[0] is None
    payload["actions"] = [{"type": "button", "action_id": "someone_elses", "value": "x"}]
    assert channel._click(payload)[0] is None


if __name__ == "__main__":
    check_unconfigured()
    check_signatures()
    check_events()
    check_clicks()
    print(json.dumps("all checks passed"))
