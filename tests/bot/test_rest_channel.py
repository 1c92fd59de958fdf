"""bot/channels.py's REST channel under Rasa's Python, served by a real Sanic server.

Turn and daily caps, the request-size limit, per-person staff tokens and the staff
networks (``_rest_channel_checks.py``).
"""

from __future__ import annotations

from tests.bot._under_rasa import assert_checks_pass, needs_bot_python


@needs_bot_python
def test_caps_request_size_and_staff_tokens_under_rasa() -> None:
    assert_checks_pass("_rest_channel_checks.py", drop_env_prefixes=("BEACON_",))
