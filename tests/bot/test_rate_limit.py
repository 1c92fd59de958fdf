"""The public channel's rate limits (bot/_rate_limit.py), with an injected clock."""

from __future__ import annotations

import pytest

from bot._rate_limit import (
    CustomerLimits,
    CustomerRateLimiter,
    TokenBuckets,
    TurnCounter,
    address_key,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_a_burst_then_refills_at_the_rate() -> None:
    clock = Clock()
    buckets = TokenBuckets(per_minute=60, burst=3, clock=clock)
    assert [buckets.take("a") for _ in range(4)] == [True, True, True, False]
    assert buckets.retry_after("a") == pytest.approx(1.0)
    clock.now += 1.0
    assert buckets.take("a") and not buckets.take("a")
    assert buckets.take("b")  # keys are independent


def test_bucket_forgets_least_recently_used_keys() -> None:
    buckets = TokenBuckets(per_minute=60, burst=1, clock=Clock(), max_keys=2)
    assert buckets.take("a") and buckets.take("b") and buckets.take("c")
    assert buckets.take("a")  # "a" was forgotten, so it starts full again


def test_session_limit_holds_and_spends_nothing_from_the_address() -> None:
    clock = Clock()
    limiter = CustomerRateLimiter(
        CustomerLimits(session_per_minute=4, address_per_minute=6), clock=clock
    )
    results = [limiter.check("s1", "10.0.0.1") for _ in range(4)]
    assert results[:2] == [None, None] and results[2] == 15  # burst 2, then a token every 15 s
    # The address still has its own allowance for another session.
    assert limiter.check("s2", "10.0.0.1") is None


def test_address_limit_holds_across_sessions() -> None:
    limiter = CustomerRateLimiter(
        CustomerLimits(session_per_minute=100, address_per_minute=6), clock=Clock()
    )
    outcomes = [limiter.check(f"s{i}", "10.0.0.9") for i in range(5)]
    assert outcomes[:3] == [None, None, None]
    assert outcomes[3] is not None and outcomes[3] >= 1
    assert limiter.check("s-new", "10.0.0.10") is None


def test_limits_from_the_environment() -> None:
    limits = CustomerLimits.from_env(
        {"BEACON_CUSTOMER_MESSAGES_PER_MINUTE": "5", "BEACON_CUSTOMER_MAX_CHARS": "200"}
    )
    assert (limits.session_per_minute, limits.address_per_minute, limits.max_chars) == (5, 120, 200)
    with pytest.raises(ValueError, match="BEACON_CUSTOMER_MESSAGES_PER_MINUTE must be a positive"):
        CustomerLimits.from_env({"BEACON_CUSTOMER_MESSAGES_PER_MINUTE": "-3"})


def test_ipv6_clients_share_a_bucket_per_64_network() -> None:
    limiter = CustomerRateLimiter(
        CustomerLimits(session_per_minute=100, address_per_minute=4), clock=Clock()
    )
    # One subscriber rotating through addresses of its /64 still spends one allowance.
    same_net = [f"2001:db8:1:2::{n:x}" for n in range(1, 5)]
    outcomes = [limiter.check(f"s{n}", address) for n, address in enumerate(same_net)]
    assert outcomes[:2] == [None, None] and outcomes[2] is not None
    assert limiter.check("s-other", "2001:db8:1:3::1") is None  # another /64


def test_address_keys() -> None:
    assert address_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd") == "2001:db8:1:2::/64"
    assert address_key("::ffff:10.0.0.7") == "10.0.0.7"  # IPv4-mapped is the IPv4 client
    assert address_key("10.0.0.7") == "10.0.0.7"
    assert address_key("unknown") == "unknown"


def test_everyone_together_has_a_limit() -> None:
    limiter = CustomerRateLimiter(
        CustomerLimits(session_per_minute=100, address_per_minute=100, global_per_minute=12),
        clock=Clock(),
    )
    # Burst of a sixth of a minute's worth (2), from different sessions and addresses.
    outcomes = [limiter.check(f"s{n}", f"10.0.{n}.1") for n in range(3)]
    assert outcomes[:2] == [None, None] and outcomes[2] == 5


def test_daily_allowance_per_session_resets_the_next_day() -> None:
    day = [100]
    limiter = CustomerRateLimiter(
        CustomerLimits(session_per_minute=600, session_per_day=3),
        clock=Clock(),
        today=lambda: day[0],
    )
    for _ in range(3):
        assert not limiter.over_daily_limit("s") and limiter.check("s", "10.0.0.1") is None
    assert limiter.over_daily_limit("s") and not limiter.over_daily_limit("t")
    day[0] += 1
    assert not limiter.over_daily_limit("s")


def test_turn_counter_starts_a_fresh_session_after_the_cap() -> None:
    turns = TurnCounter(max_turns=2)
    assert [turns.next_turn("s") for _ in range(5)] == [False, False, True, False, True]
    assert turns.next_turn("other") is False
