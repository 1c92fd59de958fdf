"""bot/_shared_state.py under Rasa's Python, on a real Redis on loopback.

Customer limits (session, address, daily, turns) and Slack replays hold across two
replicas; with Redis down each replica falls back to its own limits
(``_shared_state_checks.py``).
"""

from __future__ import annotations

from pathlib import Path

from tests.bot._under_rasa import assert_checks_pass, needs_bot_python
from tests.servers import redis_server


@needs_bot_python
def test_limits_and_slack_replays_are_shared_by_replicas_in_redis(tmp_path: Path) -> None:
    with redis_server(tmp_path / "redis") as redis:
        assert_checks_pass(
            "_shared_state_checks.py",
            drop_env_prefixes=("BEACON_", "SLACK_"),
            extra_env={"TEST_REDIS_URL": redis.url},
        )
