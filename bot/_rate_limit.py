"""Rate limits for the public (customer) side of the REST channel.

Standard library only (runs under Rasa's Python 3.10 and the tests' 3.11).

A customer on the public widget is anonymous, so the channel limits what one chat
session and one network address may send: a token bucket per key, refilled at a
steady rate up to a burst, plus one bucket for all customers together (so many
addresses at once cannot crowd out staff) and a daily allowance per session. An
IPv6 client is bucketed by its /64 network, the block one subscriber usually gets,
so rotating through one's own addresses does not buy more messages. Staff requests
(valid bearer token) are never limited.

A customer conversation is also capped in turns: past ``max_turns`` the channel
starts a fresh session (Rasa then loads and sends only the new session's events),
so one client cannot make every turn of its conversation slower for ever.
The buckets live in memory, per process, bounded in number (least recently used
keys are forgotten first): enough for one Rasa replica. Several replicas behind a
load balancer share them in Redis instead (``BEACON_REDIS_URL``, :mod:`bot._shared_state`).
"""

from __future__ import annotations

import ipaddress
import math
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from foundation.networks import client_address

SESSION_RATE_ENV = "BEACON_CUSTOMER_MESSAGES_PER_MINUTE"
ADDRESS_RATE_ENV = "BEACON_CUSTOMER_ADDRESS_MESSAGES_PER_MINUTE"
MAX_CHARS_ENV = "BEACON_CUSTOMER_MAX_CHARS"
GLOBAL_RATE_ENV = "BEACON_CUSTOMER_GLOBAL_MESSAGES_PER_MINUTE"
DAILY_ENV = "BEACON_CUSTOMER_MESSAGES_PER_DAY"
MAX_TURNS_ENV = "BEACON_CUSTOMER_MAX_TURNS"
#: A person typing rarely sends more than one message every few seconds.
DEFAULT_SESSION_PER_MINUTE = 20
#: Several customers may share one address (an office, a mobile carrier's NAT).
DEFAULT_ADDRESS_PER_MINUTE = 120
#: Longest customer message; support questions are short (the widget's input stops here too).
DEFAULT_CUSTOMER_MAX_CHARS = 1000
#: All customers together; well above a busy support page, well below what starves staff.
DEFAULT_GLOBAL_PER_MINUTE = 1200
#: One chat session's messages per day: hours of real conversation.
DEFAULT_SESSION_PER_DAY = 500
#: Customer turns in one session before a fresh one starts: support chats are short, and
#: at about six events a turn this keeps a session near 300 events (a turn at 1,000
#: events is measured in docs/benchmarks/long_conversation.md).
DEFAULT_MAX_TURNS = 50
#: Keys remembered per limiter before the least recently used are forgotten.
MAX_KEYS = 50_000
#: The key of the bucket all customers share.
EVERYONE = "*"

RATE_LIMITED_MESSAGE = (
    "You're sending messages faster than I can answer. Please wait a few seconds and try again."
)
DAILY_LIMIT_MESSAGE = (
    "This chat has reached today's message limit. Please come back tomorrow, "
    "or write to our support team by e-mail."
)
FRESH_SESSION_NOTE = (
    "This chat had grown long, so I've started a fresh one: I no longer see the earlier "
    "messages, but your question is below."
)


@dataclass(frozen=True)
class CustomerLimits:
    """How much one customer session and one address may send.

    Attributes:
        session_per_minute: Messages per minute per chat session (sender id).
        address_per_minute: Messages per minute per client address.
        max_chars: Longest message a customer may send.
        global_per_minute: Messages per minute from all customers together.
        session_per_day: Messages per chat session per (UTC) day.
        max_turns: Turns of one customer session before a fresh session starts.
    """

    session_per_minute: int = DEFAULT_SESSION_PER_MINUTE
    address_per_minute: int = DEFAULT_ADDRESS_PER_MINUTE
    max_chars: int = DEFAULT_CUSTOMER_MAX_CHARS
    global_per_minute: int = DEFAULT_GLOBAL_PER_MINUTE
    session_per_day: int = DEFAULT_SESSION_PER_DAY
    max_turns: int = DEFAULT_MAX_TURNS

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
            global_per_minute=_positive_int(env, GLOBAL_RATE_ENV, DEFAULT_GLOBAL_PER_MINUTE),
            session_per_day=_positive_int(env, DAILY_ENV, DEFAULT_SESSION_PER_DAY),
            max_turns=_positive_int(env, MAX_TURNS_ENV, DEFAULT_MAX_TURNS),
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


def address_key(address: str) -> str:
    """The bucket of a client address: IPv4 as it is, IPv6 by its /64 network.

    An IPv4 address mapped into IPv6 (``::ffff:10.0.0.1``) is the IPv4 address; a
    string that is not an address (``unknown``) is its own key.
    """
    parsed = client_address(address)
    if parsed is None:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


def _utc_day() -> int:
    return int(time.time() // 86_400)


class DailyCounts:
    """Messages per key per UTC day, bounded in keys like :class:`TokenBuckets`.

    Args:
        per_day: Messages a key may send in one day.
        today: The current day number (injectable for tests).
        max_keys: Keys remembered; the least recently used are forgotten beyond it.
    """

    def __init__(
        self, per_day: int, today: Callable[[], int] = _utc_day, max_keys: int = MAX_KEYS
    ) -> None:
        self.per_day = per_day
        self._today = today
        self._max_keys = max_keys
        self._counts: OrderedDict[str, tuple[int, int]] = OrderedDict()

    def allows(self, key: str) -> bool:
        """True when ``key`` has messages left today (nothing is spent)."""
        day, count = self._counts.get(key, (self._today(), 0))
        return day != self._today() or count < self.per_day

    def spend(self, key: str) -> None:
        """Count one message of ``key`` today."""
        today = self._today()
        day, count = self._counts.get(key, (today, 0))
        self._counts[key] = (today, count + 1 if day == today else 1)
        self._counts.move_to_end(key)
        while len(self._counts) > self._max_keys:
            self._counts.popitem(last=False)


class TurnCounter:
    """Turns of each customer session, to start a fresh session after ``max_turns``.

    Kept in memory per process (bounded like the buckets): after a restart a session
    may run up to ``max_turns`` more turns before its fresh start, still bounded.
    """

    def __init__(self, max_turns: int, max_keys: int = MAX_KEYS) -> None:
        self.max_turns = max_turns
        self._max_keys = max_keys
        self._turns: OrderedDict[str, int] = OrderedDict()

    def next_turn(self, session: str) -> bool:
        """Count a turn of ``session``; True when it must start a fresh session first."""
        turns = self._turns.get(session, 0) + 1
        fresh = turns > self.max_turns
        self._turns[session] = 1 if fresh else turns
        self._turns.move_to_end(session)
        while len(self._turns) > self._max_keys:
            self._turns.popitem(last=False)
        return fresh


class CustomerRateLimiter:
    """The public channel's limits: session, address (IPv6 per /64), everyone, and per day.

    All must allow a message; one refused by a limit spends nothing from the others.
    """

    def __init__(
        self,
        limits: CustomerLimits,
        clock: Callable[[], float] = time.monotonic,
        today: Callable[[], int] = _utc_day,
    ) -> None:
        self.limits = limits
        self.sessions = TokenBuckets(limits.session_per_minute, clock=clock)
        self.addresses = TokenBuckets(limits.address_per_minute, clock=clock)
        self.everyone = TokenBuckets(
            limits.global_per_minute, burst=max(1, limits.global_per_minute // 6), clock=clock
        )
        self.daily = DailyCounts(limits.session_per_day, today=today)
        self.turns = TurnCounter(limits.max_turns)

    def over_daily_limit(self, session: str) -> bool:
        """True when ``session`` has used up today's messages."""
        return not self.daily.allows(session)

    def check(self, session: str, address: str) -> int | None:
        """None when the message may go ahead, else whole seconds to wait (at least 1).

        A message refused by one limit spends nothing from the others, so a customer
        held back by a busy shared address keeps their own session's allowance.
        """
        address = address_key(address)
        waits = (
            self.sessions.retry_after(session),
            self.addresses.retry_after(address),
            self.everyone.retry_after(EVERYONE),
        )
        if max(waits) > 0:
            return max(1, math.ceil(max(waits)))
        self.sessions.take(session)
        self.addresses.take(address)
        self.everyone.take(EVERYONE)
        self.daily.spend(session)
        return None
