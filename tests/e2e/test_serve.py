"""`beacon serve` (what `make run` runs) starts both servers and the widget page and Ctrl-C stops them all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from beacon.stack import free_port

pytestmark = pytest.mark.e2e

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_serve_starts_both_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    bot_port, action_port, widget_port = free_port(), free_port(), free_port()
    beacon = Path(sys.executable).with_name("beacon")
    log = tmp_path / "serve.log"
    command = [
        str(beacon),
        "serve",
        "--bot-port",
        str(bot_port),
        "--action-port",
        str(action_port),
        "--widget-port",
        str(widget_port),
    ]
    with log.open("w") as output:
        process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    bot = f"http://127.0.0.1:{bot_port}/webhooks/rest/"
    actions = f"http://127.0.0.1:{action_port}/health"
    widget = f"http://127.0.0.1:{widget_port}/config.js"
    try:
        deadline = time.monotonic() + 300
        # Ready for a user means the banner with the addresses is printed too: the servers
        # can answer a moment before serve's own readiness poll sees them.
        while not (
            _answers(bot)
            and _answers(actions)
            and _answers(widget)
            and "Beacon is up" in log.read_text()
        ):
            assert process.poll() is None, f"beacon serve exited early: {log.read_text()[-2000:]}"
            assert time.monotonic() < deadline, "beacon serve did not come up in 5 minutes"
            time.sleep(1)
        process.send_signal(signal.SIGINT)  # what Ctrl-C sends
        process.wait(timeout=60)
        assert f"http://127.0.0.1:{widget_port}/" in log.read_text()  # the address it printed
        assert not _answers(bot) and not _answers(actions) and not _answers(widget)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_serve_says_in_one_line_when_the_tracker_store_cannot_be_reached() -> None:
    beacon = Path(sys.executable).with_name("beacon")
    env = {
        **os.environ,
        # Port 1 on loopback: nothing listens there, so the connection is refused.
        "BEACON_TRACKER_URL": "postgresql://beacon:hunter2@127.0.0.1:1/rasa",
        "BEACON_TRACKER_CONNECT_TIMEOUT": "1",
    }
    action_port = free_port()
    result = subprocess.run(
        [str(beacon), "serve", "--bot-port", str(free_port()), "--action-port",
         str(action_port), "--no-widget"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )  # fmt: skip
    assert result.returncode != 0
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith(
        "error: the bot server could not start: cannot reach the tracker store at "
        "postgresql://beacon:***@127.0.0.1:1/rasa after 1 s"
    ), result.stderr[-2000:]
    assert "hunter2" not in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    # The action server, started beside the bot, was stopped with it: nothing is left over.
    assert not _answers(f"http://127.0.0.1:{action_port}/health")


def test_serve_only_widget_runs_the_support_page_alone_with_the_public_bot_url(
    tmp_path: Path,
) -> None:
    widget_port = free_port()
    beacon = Path(sys.executable).with_name("beacon")
    env = {**os.environ, "BEACON_PUBLIC_BOT_URL": "https://beacon.example.com"}
    with (tmp_path / "serve.log").open("w") as output:
        process = subprocess.Popen(
            [str(beacon), "serve", "--only", "widget", "--widget-port", str(widget_port)],
            cwd=PROJECT_ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
        )
    config = f"http://127.0.0.1:{widget_port}/config.js"
    try:
        deadline = time.monotonic() + 60
        while not _answers(config):
            assert process.poll() is None, (tmp_path / "serve.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "the widget server did not come up in 60 s"
            time.sleep(0.5)
        assert '"botUrl": "https://beacon.example.com"' in httpx.get(config, timeout=5).text
        process.send_signal(signal.SIGTERM)  # what systemd sends
        process.wait(timeout=30)
        assert not _answers(config)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
