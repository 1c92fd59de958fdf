"""bot/slack.py under Rasa's own Python: configuration, signatures, event and click parsing.

The channel imports Rasa, which lives only in .venv-bot (Python 3.10), so the checks
run there as a subprocess (about 30 s, mostly importing Rasa).
"""

from __future__ import annotations

from tests.bot._under_rasa import assert_checks_pass, needs_bot_python


@needs_bot_python
def test_channel_checks_pass_under_rasa() -> None:
    assert_checks_pass("_slack_channel_checks.py", drop_env_prefixes=("SLACK_",))
