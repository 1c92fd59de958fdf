"""Beacon's REST channel for Rasa 3.6, and the guard around calls to the action server.

Loaded by Rasa from credentials.yml (``bot.channels.BeaconRestInput``). It runs in
the bot environment (Python 3.10, Rasa 3.6), so it imports only Rasa, the standard
library and the metadata contract it shares with the actions
(:mod:`foundation.channel_metadata`).

Why a channel of our own instead of Rasa's ``rest``:

- the audience (staff or customer) must come from authentication, never from the
  request body: Rasa's ``RestInput`` copies the client's ``metadata`` into the
  tracker, so a customer could claim to be staff;
- a malformed request must get a 400, not a 500;
- Rasa 3.6 waits up to 5 minutes for the action server and, when it is down,
  logs the error and says nothing; :func:`install_action_guard` bounds the wait
  and makes the bot say so in one friendly sentence instead.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import unicodedata
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot._rate_limit import RATE_LIMITED_MESSAGE, CustomerLimits, CustomerRateLimiter
from foundation.channel_metadata import (
    CUSTOMER,
    STAFF,
    UserMetadata,
    action_server_error,
    user_metadata,
)

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 4000
MAX_SENDER_CHARS = 128
#: Customers' conversation ids start with this, so no customer can ever continue
#: (or read the follow-ups of) a staff conversation by guessing its sender id.
CUSTOMER_PREFIX = "customer:"
DEFAULT_ACTION_TIMEOUT_S = 20.0
ACTION_SERVER_DOWN_MESSAGE = (
    "Sorry, my analytics service isn't answering right now, so I can't work that out. "
    "Please try again in a minute."
)

_GUARD_INSTALLED = False


def install_action_guard(timeout_s: float) -> None:
    """Bound each custom-action call to ``timeout_s`` and apologise when it fails.

    Rasa 3.6 offers no setting for either, so this wraps ``RemoteAction.run``
    once per process. Rejections (``ActionExecutionRejection``, used by forms)
    pass through untouched.
    """
    global _GUARD_INSTALLED
    if _GUARD_INSTALLED:
        return
    from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
    from rasa.shared.core.events import BotUttered
    from rasa.shared.exceptions import RasaException

    original_run = RemoteAction.run

    async def guarded_run(
        self: Any, output_channel: Any, nlg: Any, tracker: Any, domain: Any
    ) -> list[Any]:
        try:
            return await asyncio.wait_for(
                original_run(self, output_channel, nlg, tracker, domain), timeout=timeout_s
            )
        except ActionExecutionRejection:
            raise
        except (asyncio.TimeoutError, RasaException) as error:
            logger.error("custom action %s failed: %s (%r)", self.name(), error, error.__cause__)
            return [BotUttered(text=ACTION_SERVER_DOWN_MESSAGE, metadata=action_server_error())]

    RemoteAction.run = guarded_run  # type: ignore[method-assign,unused-ignore]
    _GUARD_INSTALLED = True


def install_action_guard_from_env() -> None:
    """:func:`install_action_guard` with ``BEACON_ACTION_TIMEOUT`` seconds (default 20)."""
    install_action_guard(float(os.environ.get("BEACON_ACTION_TIMEOUT") or DEFAULT_ACTION_TIMEOUT_S))


def _bearer(request: Request) -> str | None:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else None


def visible_text(text: str) -> str:
    """``text`` without control and invisible format characters (tabs and newlines stay).

    A message of nothing but such characters has no tokens, which Rasa's classifier
    does not survive (a 500); channels refuse it once this leaves it blank.
    """
    return "".join(
        ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf")
    )


class BeaconRestInput(InputChannel):
    """REST channel: ``POST /webhooks/rest/webhook`` with ``{"sender": ..., "message": ...}``.

    A request with ``Authorization: Bearer <BEACON_STAFF_TOKEN>`` is a staff
    conversation; any other request is a customer conversation, whose sender id is
    namespaced (:data:`CUSTOMER_PREFIX`), whose messages are at most
    ``limits.max_chars`` long, and which is rate limited per session and per address
    (429 with ``Retry-After`` over the limit).
    """

    def __init__(
        self, staff_token: str | None = None, limits: CustomerLimits | None = None
    ) -> None:
        self.staff_token = staff_token
        self.limiter = CustomerRateLimiter(limits or CustomerLimits())

    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> BeaconRestInput:
        credentials = credentials or {}
        install_action_guard_from_env()
        return cls(
            staff_token=credentials.get("staff_token")
            or os.environ.get("BEACON_STAFF_TOKEN")
            or None,
            limits=CustomerLimits.from_env(),
        )

    def audience(self, request: Request) -> str:
        token = _bearer(request)
        if self.staff_token and token and hmac.compare_digest(token, self.staff_token):
            return STAFF
        return CUSTOMER

    def get_metadata(self, request: Request) -> UserMetadata:
        # Only what the server decides; anything the client sends is ignored.
        return user_metadata(self.audience(request))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("beacon_rest_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                body = request.json
            except Exception:  # sanic raises on unparsable JSON
                body = None
            if not isinstance(body, dict):
                return response.json(
                    {"error": "expected a JSON object with 'sender' and 'message'"}, status=400
                )
            sender, text = body.get("sender"), body.get("message")
            if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_CHARS:
                return response.json(
                    {
                        "error": f"'sender' must be a non-empty string of at most {MAX_SENDER_CHARS} characters"
                    },
                    status=400,
                )
            audience = self.audience(request)
            max_chars = MAX_MESSAGE_CHARS if audience == STAFF else self.limiter.limits.max_chars
            if not isinstance(text, str) or len(text) > max_chars:
                return response.json(
                    {"error": f"'message' must be a string of at most {max_chars} characters"},
                    status=400,
                )
            text = visible_text(text)
            if not text.strip():
                return response.json(
                    {"error": "'message' has no visible text; send at least one character"},
                    status=400,
                )
            if audience == CUSTOMER:
                wait_s = self.limiter.check(sender, request.ip or "unknown")
                if wait_s is not None:
                    logger.warning("customer rate limit: %s from %s", sender[:32], request.ip)
                    return response.json(
                        {"error": RATE_LIMITED_MESSAGE, "retry_after_s": wait_s},
                        status=429,
                        headers={"Retry-After": str(wait_s)},
                    )
                sender = CUSTOMER_PREFIX + sender
            collector = CollectingOutputChannel()
            await on_new_message(
                UserMessage(
                    text,
                    collector,
                    sender,
                    input_channel=self.name(),
                    metadata=self.get_metadata(request),
                )
            )
            return response.json(collector.messages)

        return webhook
