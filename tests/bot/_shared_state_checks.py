"""Checks of bot/_shared_state.py under Rasa's Python: run by test_shared_state.py.

Two limiters and two replay caches on one real Redis (``TEST_REDIS_URL``), as two Rasa
replicas would hold them: every limit and every replay holds across both. Then Redis
down: each falls back to its own process and still limits. Run as a script with the
repository root on ``PYTHONPATH``; prints ``all checks passed`` or fails on an assert.
"""

from __future__ import annotations

import os


def check_two_replicas_share_limits(url: str) -> None:
    from bot._rate_limit import CustomerLimits
    from bot._shared_state import SharedRateLimiter, redis_client

    limits = CustomerLimits(
        session_per_minute=600, address_per_minute=4, session_per_day=3, max_turns=2
    )
    first = SharedRateLimiter(limits, redis_client(url))
    second = SharedRateLimiter(limits, redis_client(url))
    # One address, a burst of 2 between both replicas.
    assert first.check("customer:a1", "203.0.113.7") is None
    assert second.check("customer:a2", "203.0.113.7") is None
    wait = first.check("customer:a3", "203.0.113.7")
    assert wait is not None and wait >= 1, wait
    assert second.check("customer:a4", "203.0.113.8") is None  # another address is not held
    # One session's daily allowance, counted on both (addresses apart, so they don't bind).
    for n, limiter in enumerate((first, second, first)):
        assert not limiter.over_daily_limit("customer:d")
        assert limiter.check("customer:d", f"198.51.100.{n}") is None
    assert first.over_daily_limit("customer:d") and second.over_daily_limit("customer:d")
    # Turns of one session, counted on both: the third starts a fresh session.
    assert [r.turns.next_turn("customer:t") for r in (first, second, first, second)] == [
        False,
        False,
        True,
        False,
    ]


def check_two_replicas_share_slack_replays(url: str) -> None:
    from bot._shared_state import SharedKeys, redis_client

    first = SharedKeys(redis_client(url), "slack", 3600)
    second = SharedKeys(redis_client(url), "slack", 3600)
    assert first.add("event:Ev1") is True
    assert second.add("event:Ev1") is False  # Slack's retry reached the other replica
    assert second.add("event:Ev2") is True


def check_redis_down_falls_back_to_the_process() -> None:
    from bot._rate_limit import CustomerLimits
    from bot._shared_state import SharedKeys, SharedRateLimiter, redis_client

    down = redis_client("redis://127.0.0.1:1/0")  # nothing listens on port 1
    limiter = SharedRateLimiter(CustomerLimits(address_per_minute=2), down)
    assert limiter.check("customer:x", "192.0.2.1") is None
    assert limiter.check("customer:y", "192.0.2.1") is not None  # still limited, locally
    assert limiter.turns.next_turn("customer:x") is False
    assert limiter.over_daily_limit("customer:x") is False
    keys = SharedKeys(down, "slack", 3600)
    assert keys.add("event:E") is True and keys.add("event:E") is False


def check_the_channels_use_redis_when_it_is_configured(url: str) -> None:
    from bot._shared_state import SharedKeys, SharedRateLimiter
    from bot.channels import BeaconRestInput
    from bot.slack import BeaconSlackInput

    os.environ["BEACON_REDIS_URL"] = url
    assert isinstance(BeaconRestInput.from_credentials({}).limiter, SharedRateLimiter)
    assert isinstance(BeaconSlackInput.from_credentials({}).recent, SharedKeys)
    del os.environ["BEACON_REDIS_URL"]
    assert not isinstance(BeaconRestInput.from_credentials({}).limiter, SharedRateLimiter)
    assert not isinstance(BeaconSlackInput.from_credentials({}).recent, SharedKeys)


def main() -> None:
    url = os.environ["TEST_REDIS_URL"]
    check_two_replicas_share_limits(url)
    check_two_replicas_share_slack_replays(url)
    check_redis_down_falls_back_to_the_process()
    check_the_channels_use_redis_when_it_is_configured(url)
    print("all checks passed")


if __name__ == "__main__":
    main()
