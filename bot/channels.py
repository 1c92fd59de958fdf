"""Beacon's REST channel for Rasa 3.6, and the guard around calls to the action server.

Loaded by Rasa from credentials.yml (``bot.channels.BeaconRestInput``). It runs in
the bot environment (Python 3.10, Rasa 3.6), so it imports only Rasa, the standard
library and the metadata contract it shares with the actions
(:mod:`foundation.channel_metadata`).

Why a channel of our own instead of Rasa's ``rest``:

- the audience (staff or customer) must come from authentication, never from the
  request body: Rasa's ``RestInput`` copies the client's ``metadata`` into the
  tracker, so a customer could claim to be staff;
- a malformed request must get a 400, not a 500, and a body over
  :data:`MAX_REQUEST_BYTES` a 413 before anything parses it (Sanic's default is 100 MB);
- Rasa 3.6 waits up to 5 minutes for the action server and, when it is down,
  logs the error and says nothing; :func:`install_action_guard` bounds the wait
  and makes the bot say so in one friendly sentence instead.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot._rate_limit import (
    DAILY_LIMIT_MESSAGE,
    FRESH_SESSION_NOTE,
    RATE_LIMITED_MESSAGE,
    CustomerLimits,
    CustomerRateLimiter,
)
from bot._shared_state import SharedRateLimiter, redis_client, shared_url
from foundation.channel_metadata import (
    CUSTOMER,
    STAFF,
    UserMetadata,
    action_server_error,
    user_metadata,
)
from foundation.exceptions import ConfigError
from foundation.networks import Network, client_address, networks_from_env
from foundation.staff_tokens import TOKENS_FILE_ENV, StaffTokenStore
from foundation.text import install_log_filter, visible_text

logger = logging.getLogger(__name__)

LOOPBACK_NETWORKS: tuple[Network, ...] = (
    ipaddress.ip_network("127.0.0.0/8"),
    ipaddress.ip_network("::1/128"),
)

MAX_MESSAGE_CHARS = 4000
MAX_SENDER_CHARS = 128
#: Largest request body the bot's server reads: a chat message is at most a few KB,
#: a Slack event a few tens of KB (Rasa's HTTP API, which takes model uploads, is off).
MAX_REQUEST_BYTES = 256 * 1024
#: Customers' conversation ids start with this, so no customer can ever continue
#: (or read the follow-ups of) a staff conversation by guessing its sender id.
CUSTOMER_PREFIX = "customer:"
DEFAULT_ACTION_TIMEOUT_S = 20.0
#: Comma-separated networks (CIDR) from which staff tokens are accepted.
STAFF_NETWORKS_ENV = "BEACON_STAFF_NETWORKS"
#: How many reverse proxies in front of Rasa append to ``X-Forwarded-For`` (nginx: 1).
PROXY_COUNT_ENV = "BEACON_PROXY_COUNT"
STAFF_FROM_OUTSIDE_MESSAGE = (
    "staff tokens are accepted only from the staff networks (BEACON_STAFF_NETWORKS, "
    "loopback by default); ask in Slack, or connect from inside"
)
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


def _seconds_to_utc_midnight() -> int:
    now = time.time()
    return max(1, int(86_400 - now % 86_400))


def proxy_count_from_env() -> int:
    """``BEACON_PROXY_COUNT``: trusted reverse proxies in front of Rasa (0 when unset).

    Raises:
        ConfigError: The value is not a whole number from 0 to 10.
    """
    raw = (os.environ.get(PROXY_COUNT_ENV) or "0").strip()
    if not raw.isdigit() or int(raw) > 10:
        raise ConfigError(
            f"{PROXY_COUNT_ENV} must be the number of reverse proxies in front of Rasa, "
            f"0 to 10 (1 behind one nginx); got {raw[:20]!r}"
        )
    return int(raw)


class BeaconRestInput(InputChannel):
    """REST channel: ``POST /webhooks/rest/webhook`` with ``{"sender": ..., "message": ...}``.

    A request with ``Authorization: Bearer <token>``, where the token is
    ``BEACON_STAFF_TOKEN`` or an active per-person token (``beacon token create``), is
    a staff conversation, but only from the staff networks (loopback unless
    ``BEACON_STAFF_NETWORKS`` says otherwise): on the public side a staff token gets a
    403, so a leaked token is no use from outside. Any other request is a customer
    conversation, whose sender id is namespaced (:data:`CUSTOMER_PREFIX`), whose
    messages are at most ``limits.max_chars`` long, and which is rate limited
    (429 with ``Retry-After`` over a limit).

    Behind reverse proxies, ``proxy_count`` (``BEACON_PROXY_COUNT``) says how many of them
    append to ``X-Forwarded-For``: the client's address is then read from that header,
    counting from the right past the trusted proxies (what a client writes there itself
    is never trusted), for the staff networks and the per-address limits alike. Without
    it, every customer behind the proxy would share the proxy's address, and a proxy on
    loopback would make everyone look like a staff network.
    """

    def __init__(
        self,
        staff_token: str | None = None,
        limits: CustomerLimits | None = None,
        *,
        staff_tokens: StaffTokenStore | None = None,
        staff_networks: tuple[Network, ...] = LOOPBACK_NETWORKS,
        proxy_count: int = 0,
        limiter: CustomerRateLimiter | SharedRateLimiter | None = None,
    ) -> None:
        self.staff_token = staff_token
        self.staff_tokens = staff_tokens
        self.staff_networks = staff_networks
        self.proxy_count = proxy_count
        self.limiter = limiter or CustomerRateLimiter(limits or CustomerLimits())

    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> BeaconRestInput:
        credentials = credentials or {}
        install_action_guard_from_env()
        install_log_filter()  # senders and messages are the client's words
        tokens_file = os.environ.get(TOKENS_FILE_ENV)
        limits = CustomerLimits.from_env()
        url = shared_url()  # several Rasa replicas share the limits in Redis
        return cls(
            staff_token=credentials.get("staff_token")
            or os.environ.get("BEACON_STAFF_TOKEN")
            or None,
            limits=limits,
            limiter=SharedRateLimiter(limits, redis_client(url)) if url else None,
            staff_tokens=StaffTokenStore(Path(tokens_file)) if tokens_file else None,
            staff_networks=networks_from_env(STAFF_NETWORKS_ENV, LOOPBACK_NETWORKS),
            proxy_count=proxy_count_from_env(),
        )

    def audience(self, request: Request) -> str:
        token = _bearer(request)
        # As bytes: compare_digest raises on a non-ASCII str (a 500, not a 401); sanic
        # keeps undecodable header bytes as surrogates, which "surrogatepass" encodes too.
        if (
            self.staff_token
            and token
            and hmac.compare_digest(token.encode(errors="surrogatepass"), self.staff_token.encode())
        ):
            return STAFF
        if self.staff_tokens is not None and token and self.staff_tokens.check(token):
            return STAFF
        return CUSTOMER

    @staticmethod
    def client_ip(request: Request) -> str:
        """The client's address: forwarded by the trusted proxies, else the peer's."""
        # remote_addr is "" unless PROXIES_COUNT is set (limit_request_size sets it).
        return request.remote_addr or request.ip or ""

    def from_staff_network(self, request: Request) -> bool:
        """True when the request comes from an address where staff tokens are accepted."""
        address = client_address(self.client_ip(request))
        return address is not None and any(address in net for net in self.staff_networks)

    def _refusal(self, sender: str, address: str) -> HTTPResponse | None:
        """The 429 for a customer over a limit, or None when the message may go ahead."""
        if self.limiter.over_daily_limit(sender):
            logger.warning("customer daily limit: %s from %s", sender[:32], address)
            until_tomorrow = _seconds_to_utc_midnight()
            return response.json(
                {"error": DAILY_LIMIT_MESSAGE, "retry_after_s": until_tomorrow},
                status=429,
                headers={"Retry-After": str(until_tomorrow)},
            )
        wait_s = self.limiter.check(sender, address)
        if wait_s is None:
            return None
        logger.warning("customer rate limit: %s from %s", sender[:32], address)
        return response.json(
            {"error": RATE_LIMITED_MESSAGE, "retry_after_s": wait_s},
            status=429,
            headers={"Retry-After": str(wait_s)},
        )

    def get_metadata(self, request: Request) -> UserMetadata:
        # Only what the server decides; anything the client sends is ignored.
        return user_metadata(self.audience(request))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("beacon_rest_webhook", __name__)

        @webhook.listener("before_server_start")
        async def limit_request_size(app: Any, _loop: Any) -> None:
            # Read by each new connection, so bodies over the cap get a 413 unparsed.
            app.config.REQUEST_MAX_SIZE = min(app.config.REQUEST_MAX_SIZE, MAX_REQUEST_BYTES)
            if self.proxy_count:
                # Sanic then reads request.remote_addr from X-Forwarded-For, skipping
                # this many proxies' entries from the right.
                app.config.PROXIES_COUNT = self.proxy_count

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
            if audience == STAFF and not self.from_staff_network(request):
                logger.warning(
                    "staff token used from outside the staff networks: %s", self.client_ip(request)
                )
                return response.json({"error": STAFF_FROM_OUTSIDE_MESSAGE}, status=403)
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
            metadata = self.get_metadata(request)
            fresh_session = False
            if audience == CUSTOMER:
                refused = self._refusal(sender, self.client_ip(request) or "unknown")
                if refused is not None:
                    return refused
                sender = CUSTOMER_PREFIX + sender
                fresh_session = self.limiter.turns.next_turn(sender)
                if fresh_session:
                    # Rasa loads (and sends the actions) only the latest session's events.
                    logger.info("customer session %s reached its turn cap", sender[:40])
                    await on_new_message(
                        UserMessage(
                            "/session_start",
                            CollectingOutputChannel(),
                            sender,
                            input_channel=self.name(),
                            metadata=metadata,
                        )
                    )
            collector = CollectingOutputChannel()
            await on_new_message(
                UserMessage(text, collector, sender, input_channel=self.name(), metadata=metadata)
            )
            messages = list(collector.messages)
            if fresh_session:
                messages.insert(0, {"recipient_id": sender, "text": FRESH_SESSION_NOTE})
            return response.json(messages)

        return webhook
