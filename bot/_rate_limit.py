"""Rate limits for the public (customer) side of the REST channel.

Standard library only (runs under Rasa's Python 3.10 and the tests' 3.11).

A customer on the public widget is anonymous, so the channel limits what one chat
session and one network address may send: a token bucket per key, refilled at a
steady rate up to a burst. Staff requests (valid bearer token) are never limited.
The buckets live in memory, per process, bounded in number (least recently used
keys are forgotten first): enough for one Rasa replica; several replicas behind a
load balancer would need a shared store (Redis) instead.
"""

from __future__ import annotations

import math
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

SESSION_RATE_ENV = "BEACON_CUSTOMER_MESSAGES_PER_MINUTE"
ADDRESS_RATE_ENV = "BEACON_CUSTOMER_ADDRESS_MESSAGES_PER_MINUTE"
MAX_CHARS_ENV = "BEACON_CUSTOMER_MAX_CHARS"
#: A person typing rarely sends more than one message every few seconds.
DEFAULT_SESSION_PER_MINUTE = 20
#: Several customers may share one address (an office, a mobile carrier's NAT).
DEFAULT_ADDRESS_PER_MINUTE = 120
#: Longest customer message; support questions are short (the widget's input stops here too).
DEFAULT_CUSTOMER_MAX_CHARS = 1000
#: Keys remembered per limiter before the least recently used are forgotten.
MAX_KEYS = 50_000

RATE_LIMITED_MESSAGE = (
    "You're sending messages faster than I can answer. Please wait a few seconds and try again."
)


@dataclass(frozen=True)
class CustomerLimits:
    """How much one customer session and one address may send.

    Attributes:
        session_per_minute: Messages per minute per chat session (sender id).
        address_per_minute: Messages per minute per client address.
        max_chars: Longest message a customer may send.
    """

    session_per_minute: int = DEFAULT_SESSION_PER_MINUTE
    address_per_minute: int = DEFAULT_ADDRESS_PER_MINUTE
    max_chars: int = DEFAULT_CUSTOMER_MAX_CHARS

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> CustomerLimits:
        """Limits from the environment, with the defaults for anything unset.

        Raises:
            ValueError: A variable is set but is not a positive whole number.
        """
        env = os.environ if environ is None else environ
        return cls(
            session_per_minute=_positive_int(env, SESSION_RATE_ENV, DEFAULT_SESSION_PER_MINUTE),
            address_per_minute=_positive_int(env, ADDRESS_RATE_ENV, DEFAULT_ADDRESS_PER_MINUTE),
            max_chars=_positive_int(env, MAX_CHARS_ENV, DEFAULT_CUSTOMER_MAX_CHARS),
        )


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(
            f"{name} must be a positive whole number (got {raw!r}); unset it for {default}"
        )
    return int(raw)


class TokenBuckets:
    """One token bucket per key: ``burst`` tokens at most, ``per_minute`` refilled a minute.

    Args:
        per_minute: Sustained messages per minute per key.
        burst: Messages a key may send at once after a quiet spell (default half a
            minute's worth, at least one).
        clock: Seconds, monotonic (injectable for tests).
        max_keys: Keys remembered; the least recently used are forgotten beyond it.
    """

    def __init__(
        self,
        per_minute: int,
        burst: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = MAX_KEYS,
    ) -> None:
        if per_minute < 1:
            raise ValueError(f"per_minute must be at least 1 (got {per_minute})")
        self.rate_per_s = per_minute / 60.0
        self.burst = float(burst if burst is not None else max(1, per_minute // 2))
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def _level(self, key: str, now: float) -> float:
        tokens, then = self._buckets.get(key, (self.burst, now))
        return min(self.burst, tokens + (now - then) * self.rate_per_s)

    def retry_after(self, key: str) -> float:
        """Seconds until ``key`` may send again (0 when it may send now)."""
        missing = 1.0 - self._level(key, self._clock())
        return 0.0 if missing <= 0 else missing / self.rate_per_s

    def take(self, key: str) -> bool:
        """Spend one token of ``key``; False (and nothing spent) when its bucket is empty."""
        now = self._clock()
        tokens = self._level(key, now)
        allowed = tokens >= 1.0
        self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
        self._buckets.move_to_end(key)
        while len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)
        return allowed


class CustomerRateLimiter:
    """The public channel's limits: per session and per address, both must allow a message."""

    def __init__(self, limits: CustomerLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.sessions = TokenBuckets(limits.session_per_minute, clock=clock)
        self.addresses = TokenBuckets(limits.address_per_minute, clock=clock)

    def check(self, session: str, address: str) -> int | None:
        """None when the message may go ahead, else whole seconds to wait (at least 1).

        A message refused by one limit spends nothing from the other, so a customer
        held back by a busy shared address keeps their own session's allowance.
        """
        if self.sessions.retry_after(session) > 0:
            return max(1, math.ceil(self.sessions.retry_after(session)))
        if not self.addresses.take(address):
            return max(1, math.ceil(self.addresses.retry_after(address)))
        self.sessions.take(session)
        return None
