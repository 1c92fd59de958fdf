"""The public channel's rate limits (bot/_rate_limit.py), with an injected clock."""

from __future__ import annotations

import pytest

from bot._rate_limit import CustomerLimits, CustomerRateLimiter, TokenBuckets


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
