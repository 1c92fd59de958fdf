"""What several Rasa replicas must share, in Redis: customer limits and the Slack replay cache.

Runs under Rasa's Python 3.10; ``redis`` (in ``requirements/bot.lock``) is imported only
when ``BEACON_REDIS_URL`` is set. Without it everything stays in the process
(:mod:`bot._rate_limit`, :class:`bot._slack_guard.RecentKeys`), which is right for one
Rasa process. With two replicas behind a load balancer, in-process state splits: a
customer gets each limit once per replica, and a Slack retry that lands on the other
replica is answered twice. Here the same objects keep their state in Redis instead:

- :class:`SharedRateLimiter` has :class:`bot._rate_limit.CustomerRateLimiter`'s
  interface. The three token buckets (session, address, everyone) are checked and
  spent in one Lua script, atomically, on Redis's clock, so replicas on different
  hosts agree; the daily counts and the turn counts are Redis counters that expire.
- :class:`SharedKeys` has :class:`bot._slack_guard.RecentKeys`'s ``add``: ``SET NX EX``.

When Redis does not answer (a 0.5 s timeout), each call falls back to the replica's own
in-process state and logs it, at most once a minute: limits then hold per replica,
never not at all, and the chat keeps answering.
"""

from __future__ import annotations

import logging
import math
import os
import time
from typing import Any

from bot._rate_limit import EVERYONE, CustomerLimits, CustomerRateLimiter, address_key
from bot._slack_guard import RecentKeys

logger = logging.getLogger(__name__)

URL_ENV = "BEACON_REDIS_URL"
#: Seconds one Redis call may take before the replica uses its own state instead.
REDIS_TIMEOUT_S = 0.5
#: All of Beacon's keys start with this, so one Redis can serve other things too.
PREFIX = "beacon:"
#: Seconds between two "Redis is not answering" warnings.
_WARN_EVERY_S = 60.0

# Checks every bucket, and spends one token from each only when all have one.
# KEYS: bucket keys. ARGV: per key, its refill rate (tokens/s) and burst. Returns "0"
# when allowed, else the seconds to wait (a string: Lua numbers become integers).
_TAKE_ALL = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local levels, wait = {}, 0
for i, key in ipairs(KEYS) do
  local rate, burst = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  local stored = redis.call('HMGET', key, 'tokens', 'at')
  local tokens, at = tonumber(stored[1]) or burst, tonumber(stored[2]) or now
  tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
  levels[i] = tokens
  if tokens < 1 then wait = math.max(wait, (1 - tokens) / rate) end
end
if wait > 0 then return tostring(wait) end
for i, key in ipairs(KEYS) do
  local rate, burst = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  redis.call('HSET', key, 'tokens', tostring(levels[i] - 1), 'at', tostring(now))
  redis.call('EXPIRE', key, math.ceil(burst / rate) + 60)
end
return '0'
"""

# Counts a turn; past ARGV[1] turns the count restarts at 1 and the reply is 1 (fresh).
_NEXT_TURN = """
local turns = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
if turns > tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], 1, 'EX', ARGV[2])
  return 1
end
return 0
"""
#: A customer session's turn count is forgotten after a day without a message.
_TURNS_TTL_S = 86_400


def redis_client(url: str) -> Any:
    """A Redis client for ``url`` with short timeouts (``redis`` imported here, not above)."""
    import redis

    return redis.Redis.from_url(
        url, socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=REDIS_TIMEOUT_S
    )


class _Fallback:
    """Logs a Redis failure at most once a minute."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._warned_at = -math.inf

    def note(self, error: Exception) -> None:
        now = time.monotonic()
        if now - self._warned_at >= _WARN_EVERY_S:
            self._warned_at = now
            logger.warning(
                "Redis is not answering (%s: %s); %s are kept in this process until it does",
                type(error).__name__,
                error,
                self.what,
            )


class _SharedTurns:
    """:class:`bot._rate_limit.TurnCounter`'s ``next_turn``, counted in Redis."""

    def __init__(self, client: Any, limiter: SharedRateLimiter) -> None:
        self._client = client
        self._limiter = limiter
        self._script = client.register_script(_NEXT_TURN)
        self.max_turns = limiter.limits.max_turns

    def next_turn(self, session: str) -> bool:
        import redis

        try:
            fresh = self._script(
                keys=[f"{PREFIX}turns:{session}"], args=[self.max_turns, _TURNS_TTL_S]
            )
        except redis.RedisError as error:
            self._limiter.fallback.note(error)
            return self._limiter.local.turns.next_turn(session)
        return bool(int(fresh))


class SharedRateLimiter:
    """The customer limits of :class:`~bot._rate_limit.CustomerRateLimiter`, shared in Redis.

    Args:
        limits: The limits (the same for every replica).
        client: A Redis client (:func:`redis_client`).
    """

    def __init__(self, limits: CustomerLimits, client: Any) -> None:
        self.limits = limits
        self._client = client
        self._take_all = client.register_script(_TAKE_ALL)
        self.local = CustomerRateLimiter(limits)
        self.fallback = _Fallback("customer limits")
        self.turns = _SharedTurns(client, self)
        self._buckets = (
            (limits.session_per_minute / 60.0, self.local.sessions.burst),
            (limits.address_per_minute / 60.0, self.local.addresses.burst),
            (limits.global_per_minute / 60.0, self.local.everyone.burst),
        )

    @staticmethod
    def _day() -> int:
        return int(time.time() // 86_400)

    def _daily_key(self, session: str) -> str:
        return f"{PREFIX}daily:{self._day()}:{session}"

    def over_daily_limit(self, session: str) -> bool:
        """True when ``session`` has used up today's messages (on every replica together)."""
        import redis

        try:
            used = self._client.get(self._daily_key(session))
        except redis.RedisError as error:
            self.fallback.note(error)
            return self.local.over_daily_limit(session)
        return used is not None and int(used) >= self.limits.session_per_day

    def check(self, session: str, address: str) -> int | None:
        """None when the message may go ahead, else whole seconds to wait (at least 1)."""
        import redis

        keys = [
            f"{PREFIX}bucket:session:{session}",
            f"{PREFIX}bucket:address:{address_key(address)}",
            f"{PREFIX}bucket:{EVERYONE}",
        ]
        args = [value for bucket in self._buckets for value in bucket]
        try:
            wait_s = float(self._take_all(keys=keys, args=args))
            if wait_s > 0:
                return max(1, math.ceil(wait_s))
            daily = self._daily_key(session)
            with self._client.pipeline() as pipe:
                pipe.incr(daily).expire(daily, 2 * 86_400).execute()
        except redis.RedisError as error:
            self.fallback.note(error)
            return self.local.check(session, address)
        return None


class SharedKeys:
    """:class:`~bot._slack_guard.RecentKeys`'s ``add``, shared by every replica in Redis.

    Args:
        client: A Redis client (:func:`redis_client`).
        namespace: What the keys are (``slack``), part of each Redis key.
        ttl_s: How long a key is remembered.
    """

    def __init__(self, client: Any, namespace: str, ttl_s: float) -> None:
        self._client = client
        self._prefix = f"{PREFIX}{namespace}:"
        self.ttl_s = ttl_s
        self.local = RecentKeys(ttl_s=ttl_s)
        self.fallback = _Fallback(f"{namespace} replay keys")

    def add(self, key: str) -> bool:
        """Remember ``key``; False when any replica already had it (a replay)."""
        import redis

        try:
            added = self._client.set(
                self._prefix + key, b"1", nx=True, ex=max(1, math.ceil(self.ttl_s))
            )
        except redis.RedisError as error:
            self.fallback.note(error)
            return self.local.add(key)
        if added:
            self.local.add(key)  # ready should Redis stop answering later
        return bool(added)


def shared_url() -> str | None:
    """``BEACON_REDIS_URL``, or None when the replicas' state stays in the process."""
    return (os.environ.get(URL_ENV) or "").strip() or None
