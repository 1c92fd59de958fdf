"""bot/lock_store.py under Rasa's Python: the lock store chosen by BEACON_LOCK_STORE_URL.

In memory by default; with a real Redis server on loopback, two stores (as two Rasa
replicas) handle one conversation's messages one after the other (``_lock_store_checks.py``).
"""

from __future__ import annotations

from pathlib import Path

from tests.bot._under_rasa import assert_checks_pass, needs_bot_python
from tests.servers import redis_server


@needs_bot_python
def test_lock_store_in_memory_or_shared_in_redis_under_rasa(tmp_path: Path) -> None:
    with redis_server(tmp_path / "redis") as redis:
        assert_checks_pass(
            "_lock_store_checks.py",
            drop_env_prefixes=("BEACON_",),
            extra_env={"TEST_REDIS_URL": redis.url},
        )
