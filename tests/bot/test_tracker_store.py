"""bot/tracker_store.py under Rasa's Python: conversations encrypted at rest.

Events read back equal, no customer text in the database file, clear rows from
before still read, a wrong, short or missing key refused at start-up, an unreachable
database refused fast without its password, and ``endpoints.yml`` choosing this store
(``_tracker_store_checks.py``).
"""

from __future__ import annotations

from tests.bot._under_rasa import assert_checks_pass, needs_bot_python


@needs_bot_python
def test_tracker_store_encrypts_conversations_under_rasa() -> None:
    assert_checks_pass("_tracker_store_checks.py", drop_env_prefixes=("BEACON_",))
