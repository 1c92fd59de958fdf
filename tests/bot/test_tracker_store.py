"""bot/tracker_store.py under Rasa's Python: conversations encrypted at rest.

Events read back equal, no customer text in the database file, clear rows from
before still read, a wrong, short or missing key refused at start-up, an unreachable
database refused fast without its password, and ``endpoints.yml`` choosing this store;
then, on a real PostgreSQL server on loopback, one conversation saved and read by two
stores as two Rasa replicas would (``_tracker_store_checks.py``).
"""

from __future__ import annotations

from tests.bot._under_rasa import assert_checks_pass, needs_bot_python
from tests.servers import postgres_server


@needs_bot_python
def test_tracker_store_encrypts_conversations_under_rasa() -> None:
    assert_checks_pass("_tracker_store_checks.py", drop_env_prefixes=("BEACON_",))


@needs_bot_python
def test_tracker_store_on_postgresql_shared_by_two_replicas() -> None:
    with postgres_server("rasa") as postgres:
        assert_checks_pass(
            "_tracker_store_checks.py",
            drop_env_prefixes=("BEACON_",),
            extra_env={"TEST_POSTGRES_URL": postgres.url},
        )
