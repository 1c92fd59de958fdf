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
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections import OrderedDict
from collections.abc import Callable

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
    if not hmac.compare_digest(sign(secret, timestamp, body), signature):
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
