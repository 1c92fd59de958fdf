"""bot/channels.py's REST channel under Rasa's Python, served by a real Sanic server.

The channel imports Rasa, which lives only in .venv-bot (Python 3.10), so the checks
run there as a subprocess (``_rest_channel_checks.py``).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BOT_PYTHON = ROOT / ".venv-bot" / "bin" / "python"


@pytest.mark.skipif(not BOT_PYTHON.exists(), reason="no .venv-bot (run `make venv`)")
def test_caps_request_size_and_staff_tokens_under_rasa() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BEACON_", "VIRTUAL_ENV"))}
    env.update({"PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false"})
    result = subprocess.run(
        [str(BOT_PYTHON), str(ROOT / "tests" / "bot" / "_rest_channel_checks.py")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith('"all checks passed"')
