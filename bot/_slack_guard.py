"""Checks on what reaches Beacon's Slack endpoints: signatures and replays.

Standard library only (runs under Rasa's Python 3.10 and the tests' 3.11).

- :func:`check_signature` implements Slack's v0 request signing
  (https://api.slack.com/authentication/verifying-requests-from-slack): an
  HMAC-SHA256 of ``v0:<timestamp>:<raw body>`` keyed with the app's signing
  secret, and a timestamp no more than five minutes away from now.
- :class:`RecentKeys` remembers event ids (and message ids) for a while, so a
  retried delivery (``X-Slack-Retry-Num``) never produces a second answer. It is
  an in-memory, bounded TTL cache: it is per process and forgotten on restart,
  which is enough for Slack's retries (three, within about five minutes of the
  first delivery) on a single Rasa replica. Several replicas behind a load
  balancer would need a shared store (Redis ``SET NX EX``) instead.
- :func:`outsider_in_payload`, :func:`outsider_channel` and :func:`outsider_user`
  decide, from a payload and from Slack's ``conversations.info`` / ``users.info``
  answers, whether a Slack user may get staff answers. They fail closed: each
  returns why the user is answered as a customer, and only a payload that proves a
  full member of the app's workspace in an unshared (and, if listed, staff) channel
  returns None. :class:`TtlCache` keeps the looked-up answers for a while.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

MAX_AGE_S = 300.0


class SlackRequestRejected(ValueError):
    """A request failed Slack's signature or timestamp check (the message says which)."""


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Slack's v0 signature (``v0=<hex>``) of ``body`` sent at ``timestamp``."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def check_signature(
    secret: str,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    now: float | None = None,
    max_age_s: float = MAX_AGE_S,
) -> None:
    """Accept a request only if Slack signed it within the last ``max_age_s`` seconds.

    Args:
        secret: The app's signing secret.
        timestamp: The ``X-Slack-Request-Timestamp`` header (Unix seconds).
        signature: The ``X-Slack-Signature`` header (``v0=<hex>``).
        body: The raw request body, exactly as received.
        now: Current Unix time (defaults to ``time.time()``).
        max_age_s: Largest accepted distance between ``timestamp`` and ``now``.

    Raises:
        SlackRequestRejected: A header is missing or malformed, the timestamp is
            too old (or too far in the future), or the signature does not match.
    """
    if not secret:
        raise SlackRequestRejected("no signing secret is configured, so no request can be trusted")
    if not timestamp or not signature:
        raise SlackRequestRejected(
            "expected X-Slack-Request-Timestamp and X-Slack-Signature headers; one is missing"
        )
    try:
        sent = int(timestamp)
    except ValueError:
        raise SlackRequestRejected(
            f"X-Slack-Request-Timestamp must be Unix seconds, got {timestamp[:20]!r}"
        ) from None
    current = time.time() if now is None else now
    if abs(current - sent) > max_age_s:
        raise SlackRequestRejected(
            f"request timestamp is {abs(current - sent):.0f} s away from now "
            f"(at most {max_age_s:.0f} s accepted); a replay or a wrong clock"
        )
    # As bytes: compare_digest raises on a non-ASCII str (a 500, not a 401); sanic
    # keeps undecodable header bytes as surrogates, which "surrogatepass" encodes too.
    if not hmac.compare_digest(
        sign(secret, timestamp, body).encode(), signature.encode(errors="surrogatepass")
    ):
        raise SlackRequestRejected("X-Slack-Signature does not match the body and signing secret")


class RecentKeys:
    """A bounded set of keys that forgets each key ``ttl_s`` seconds after it was added.

    Not thread-safe: Rasa's channels run on one asyncio event loop.

    Args:
        ttl_s: How long a key is remembered.
        max_keys: Most keys kept; the oldest are dropped first when full.
        clock: Monotonic clock (injectable for tests).
    """

    def __init__(
        self,
        ttl_s: float = 3600.0,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl_s <= 0 or max_keys <= 0:
            raise ValueError(f"ttl_s and max_keys must be positive, got {ttl_s} and {max_keys}")
        self.ttl_s = ttl_s
        self.max_keys = max_keys
        self.clock = clock
        self._added: OrderedDict[str, float] = OrderedDict()

    def __len__(self) -> int:
        self._expire(self.clock())
        return len(self._added)

    def _expire(self, now: float) -> None:
        while self._added:
            key, added = next(iter(self._added.items()))
            if now - added < self.ttl_s:
                break
            del self._added[key]

    def add(self, key: str) -> bool:
        """Remember ``key``; True if it is new, False if it was seen within ``ttl_s``."""
        now = self.clock()
        self._expire(now)
        if key in self._added:
            return False
        self._added[key] = now
        while len(self._added) > self.max_keys:
            self._added.popitem(last=False)
        return True


V = TypeVar("V")


class TtlCache(Generic[V]):
    """A bounded mapping that forgets each entry ``ttl_s`` seconds after it was stored.

    Holds Slack's answers about users and channels, so a busy thread costs one
    lookup per user every ``ttl_s`` rather than one per message; a guest made a full
    member (or the reverse) is seen within ``ttl_s``. Not thread-safe (one event loop).

    Args:
        ttl_s: How long an entry is kept.
        max_keys: Most entries kept; the oldest are dropped first when full.
        clock: Monotonic clock (injectable for tests).
    """

    def __init__(
        self, ttl_s: float, max_keys: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if ttl_s <= 0 or max_keys <= 0:
            raise ValueError(f"ttl_s and max_keys must be positive, got {ttl_s} and {max_keys}")
        self.ttl_s = ttl_s
        self.max_keys = max_keys
        self.clock = clock
        self._stored: OrderedDict[str, tuple[float, V]] = OrderedDict()

    def __len__(self) -> int:
        now = self.clock()
        return sum(1 for stored, _ in self._stored.values() if now - stored < self.ttl_s)

    def get(self, key: str) -> V | None:
        """The value stored under ``key`` within the last ``ttl_s`` seconds, else None."""
        entry = self._stored.get(key)
        if entry is None:
            return None
        if self.clock() - entry[0] >= self.ttl_s:
            del self._stored[key]
            return None
        return entry[1]

    def put(self, key: str, value: V) -> None:
        """Store ``value`` under ``key`` (replacing and renewing an older one)."""
        self._stored.pop(key, None)
        self._stored[key] = (self.clock(), value)
        while len(self._stored) > self.max_keys:
            self._stored.popitem(last=False)


@dataclass(frozen=True)
class AudienceSignals:
    """What a Slack payload says about who wrote and where.

    Attributes:
        app_team: The workspace the event was delivered for (the event's ``team_id``,
            a click's ``team.id``): the app's own workspace. None when absent.
        user_team: The writer's workspace (the event's ``user_team`` or ``team``, a
            click's ``user.team_id``). None when absent.
        ext_shared: The event's ``is_ext_shared_channel``; None when the payload does
            not say (clicks never do), so the channel is looked up.
    """

    app_team: str | None
    user_team: str | None
    ext_shared: bool | None

    @classmethod
    def read(cls, app_team: Any, user_team: Any, ext_shared: Any = None) -> AudienceSignals:
        """Signals from raw payload values; anything not of the expected type is absent."""
        return cls(
            app_team=app_team if isinstance(app_team, str) and app_team else None,
            user_team=user_team if isinstance(user_team, str) and user_team else None,
            ext_shared=ext_shared if isinstance(ext_shared, bool) else None,
        )


SHARED_CHANNEL = "the channel is shared with another organisation (Slack Connect)"


def outsider_in_payload(
    signals: AudienceSignals, channel: str, staff_channels: frozenset[str] | None = None
) -> str | None:
    """Why the payload alone makes the writer a customer, or None when it does not.

    Args:
        signals: What the payload says.
        channel: The Slack channel id of the message or click.
        staff_channels: When set, the only channels where staff answers are given
            (``BEACON_SLACK_STAFF_CHANNELS``).
    """
    if staff_channels is not None and channel not in staff_channels:
        return f"channel {channel} is not in BEACON_SLACK_STAFF_CHANNELS"
    if signals.ext_shared:
        return SHARED_CHANNEL
    if signals.app_team is None:
        return "the payload does not name the app's workspace"
    if signals.user_team is None:
        return "the payload does not say which workspace the user belongs to"
    if signals.user_team != signals.app_team:
        return f"the user belongs to workspace {signals.user_team}, not {signals.app_team}"
    return None


def outsider_channel(info: Mapping[str, Any] | None) -> str | None:
    """Why ``conversations.info``'s channel makes its members customers, or None.

    A direct message has one other member, judged by :func:`outsider_user`; any other
    channel must say ``is_ext_shared: false`` and not be pending an external share.
    """
    if info is None:
        return "the channel could not be looked up"
    if info.get("is_im") is True:
        return None
    if info.get("is_ext_shared") is not False or info.get("is_pending_ext_shared") is True:
        return SHARED_CHANNEL
    return None


def outsider_user(info: Mapping[str, Any] | None, app_team: str | None) -> str | None:
    """Why ``users.info``'s user is a customer, or None for a full member of ``app_team``.

    Guests (``is_restricted``: multi-channel, ``is_ultra_restricted``: single-channel)
    and ``is_stranger`` users (of another organisation) are customers; so is an answer
    that does not say ``is_restricted: false`` and ``is_ultra_restricted: false``.
    """
    if info is None:
        return "the user could not be looked up"
    if info.get("is_stranger") or info.get("deleted"):
        return "the user is not a member of the app's workspace"
    if info.get("is_restricted") is not False or info.get("is_ultra_restricted") is not False:
        return "the user is a guest of the workspace"
    if app_team is None or info.get("team_id") != app_team:
        return f"the user's workspace {info.get('team_id')!r} is not the app's {app_team!r}"
    return None
