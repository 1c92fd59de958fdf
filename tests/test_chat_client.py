"""The REST client behind `beacon chat`, against a mock transport."""

from __future__ import annotations

import json

import httpx
import pytest

from beacon.chat import BotClient, render_message
from foundation.exceptions import ServiceUnavailableError


def test_sends_token_and_returns_messages() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=[{"recipient_id": "s", "text": "hi"}])

    with BotClient(
        "http://bot:5005/", staff_token="tok", transport=httpx.MockTransport(handler)
    ) as client:
        assert client.send("s", "hello") == [{"recipient_id": "s", "text": "hi"}]
    assert str(seen[0].url) == "http://bot:5005/webhooks/rest/webhook"
    assert seen[0].headers["Authorization"] == "Bearer tok"
    assert json.loads(seen[0].content) == {"sender": "s", "message": "hello"}


def test_unreachable_bot_is_a_clear_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client = BotClient("http://bot:5005", transport=httpx.MockTransport(handler))
    with pytest.raises(
        ServiceUnavailableError,
        match="can't reach Beacon at http://bot:5005 \\(ConnectError\\); start it with `make run`",
    ):
        client.send("s", "hi")


def test_error_status_is_reported() -> None:
    client = BotClient(
        "http://bot", transport=httpx.MockTransport(lambda r: httpx.Response(400, text="bad"))
    )
    with pytest.raises(ServiceUnavailableError, match="answered 400: bad"):
        client.send("s", "hi")


def test_render_message() -> None:
    assert render_message(
        {"text": "a", "image": "http://x/c.png", "buttons": [{"title": "👍"}]}
    ) == ("a\n[image] http://x/c.png\n[👍]")
