"""Run a checks script of tests/bot under Rasa's own Python (.venv-bot), as the bot runs.

The channels and the featurizer import Rasa, which lives only in .venv-bot (Python
3.10), so their checks run there as a subprocess (about 30 s, mostly importing Rasa).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BOT_PYTHON = ROOT / ".venv-bot" / "bin" / "python"

#: Skips a test when the bot environment is not installed.
needs_bot_python = pytest.mark.skipif(
    not BOT_PYTHON.exists(), reason="no .venv-bot (run `make venv`)"
)


def assert_checks_pass(
    script: str,
    drop_env_prefixes: tuple[str, ...] = (),
    extra_env: dict[str, str] | None = None,
) -> None:
    """Run ``tests/bot/<script>`` under the bot's Python; fail with its stderr unless it passes.

    Args:
        script: The checks script's file name; it prints "all checks passed" last.
        drop_env_prefixes: Environment variables left out (e.g. ``SLACK_``), so the
            checks see only what they set themselves.
        extra_env: Variables the checks read (e.g. the URL of a server a fixture started).
    """
    prefixes = ("VIRTUAL_ENV", *drop_env_prefixes)
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env.update({"PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false", **(extra_env or {})})
    result = subprocess.run(
        [str(BOT_PYTHON), str(ROOT / "tests" / "bot" / script)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().strip('"').endswith("all checks passed"), result.stdout[-500:]
