"""The action server's token check (actions/server.py), without starting the server.

Starting it loads every model (its warm-up), so the check is called as Sanic calls a
request middleware: with the request, answering a response to refuse or None to go on.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from sanic.response import HTTPResponse

from actions.server import create_action_app

TOKEN = "s3cret-token"

Check = Callable[[Any], Coroutine[Any, Any, HTTPResponse | None]]

# rasa-sdk warns that Rasa 3.6 is older than itself; we pin and test that pairing.
pytestmark = pytest.mark.filterwarnings("ignore:You are using an old version of rasa")


@dataclass
class StubRequest:
    """What the token check reads of a request."""

    headers: dict[str, str]
    path: str = "/webhook"
    method: str = "POST"
    json: Any = field(default_factory=lambda: {"next_action": "action_help"})


@pytest.fixture(scope="module")
def require_token() -> Check:
    app = create_action_app(TOKEN)
    (check,) = [m.func for m in app.request_middleware if m.func.__name__ == "require_token"]
    return cast(Check, check)


def _status(check: Check, authorization: str | None) -> int:
    headers = {} if authorization is None else {"Authorization": authorization}
    refusal = asyncio.run(check(StubRequest(headers)))
    return 200 if refusal is None else refusal.status


@pytest.mark.parametrize(
    ("authorization", "status"),
    [
        (f"Bearer {TOKEN}", 200),
        (None, 401),
        ("Bearer nope", 401),
        # Non-ASCII, and undecodable bytes as sanic keeps them: a 401, not a 500.
        ("Bearer s3cret-tokén", 401),
        ("Bearer \udcff\udcfe", 401),
    ],
)
def test_only_the_right_token_passes_and_odd_headers_get_401(
    require_token: Check,
    authorization: str | None,
    status: int,
) -> None:
    assert _status(require_token, authorization) == status


def test_the_refusal_says_what_to_send(
    require_token: Check,
) -> None:
    refusal = asyncio.run(require_token(StubRequest({"Authorization": "Bearer é"})))
    assert refusal is not None and refusal.body is not None
    assert json.loads(refusal.body) == {
        "error": "missing or wrong token: send 'Authorization: Bearer <BEACON_ACTION_TOKEN>'"
    }
