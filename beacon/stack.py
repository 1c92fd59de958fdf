"""Training and running the bot: Rasa (``.venv-bot``), the action server (``.venv``) and the widget.

The one place that knows the Rasa project's paths and how to start each process.
Used by ``beacon serve`` (``make run``), ``beacon bot ...`` and the end-to-end
test fixture, so all three run the same thing.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from foundation.exceptions import ConfigError
from foundation.settings import PROJECT_ROOT, Settings, ensure_home
from foundation.staff_tokens import TOKENS_FILE_ENV
from foundation.workspace import shared_record

# The Rasa project lives under bot/ (not Rasa's default ./data and ./domain.yml).
RASA_CONFIG = PROJECT_ROOT / "config.yml"
RASA_DOMAIN = PROJECT_ROOT / "bot" / "domain"
RASA_DATA = PROJECT_ROOT / "bot" / "data"
RASA_TESTS = PROJECT_ROOT / "bot" / "tests"
RASA_ENDPOINTS = PROJECT_ROOT / "endpoints.yml"
RASA_CREDENTIALS = PROJECT_ROOT / "credentials.yml"
BOT_PYTHON_CODE = PROJECT_ROOT / "bot" / "channels.py"
RASA_VERSION = "3.6.21"

STARTUP_TIMEOUT_S = 240.0


def rasa_executable() -> Path:
    """The ``rasa`` of the bot environment (``BEACON_RASA_BIN`` overrides)."""
    path = Path(os.environ.get("BEACON_RASA_BIN") or PROJECT_ROOT / ".venv-bot" / "bin" / "rasa")
    if not path.exists():
        raise ConfigError(
            f"Rasa is not installed at {path}; run `make venv` (needs Python 3.10 under pyenv)"
        )
    return path


def model_fingerprint() -> str:
    """Hash of everything a trained Rasa model depends on (config, domain, NLU, stories, rules)."""
    digest = hashlib.sha256(RASA_VERSION.encode())
    files = [RASA_CONFIG, *sorted(RASA_DOMAIN.rglob("*.yml")), *sorted(RASA_DATA.rglob("*.yml"))]
    for path in files:
        digest.update(str(path.relative_to(PROJECT_ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def model_path(settings: Settings) -> Path:
    """Where the model for the current training data lives (it may not exist yet)."""
    return settings.home / "rasa-models" / f"beacon-{model_fingerprint()}.tar.gz"


#: Every secret Beacon reads from the environment.
SECRET_VARIABLES = frozenset(
    {
        "BEACON_ACTION_TOKEN",
        "BEACON_STAFF_TOKEN",
        "BEACON_PSEUDONYM_KEY",
        "BEACON_LLM_API_KEY",
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "BEACON_TRACKER_KEY",
        "BEACON_TRACKER_URL",  # may carry the database password
        "BEACON_LOCK_STORE_URL",  # may carry the Redis password
        "BEACON_REDIS_URL",  # likewise
        "BEACON_DATABASE_URL",  # likewise
        "BEACON_DASHBOARD_LINK_KEY",
    }
)
#: The secrets each server needs; it starts with the others removed from its environment.
CHILD_SECRETS: dict[str, frozenset[str]] = {
    # hand-offs and Slack image downloads; pseudonymising customer messages; generation;
    # the shared operational record
    "actions": frozenset(
        {
            "BEACON_ACTION_TOKEN",
            "BEACON_PSEUDONYM_KEY",
            "BEACON_LLM_API_KEY",
            "SLACK_BOT_TOKEN",
            "BEACON_DATABASE_URL",
            "BEACON_DASHBOARD_LINK_KEY",  # signs links in staff answers
        }
    ),
    # the REST channel's staff check, the Slack channel, the call to the action server,
    # the encrypted tracker store
    "bot": frozenset(
        {
            "BEACON_ACTION_TOKEN",
            "BEACON_STAFF_TOKEN",
            "SLACK_BOT_TOKEN",
            "SLACK_SIGNING_SECRET",
            "BEACON_TRACKER_KEY",
            "BEACON_TRACKER_URL",
            "BEACON_LOCK_STORE_URL",
            "BEACON_REDIS_URL",
        }
    ),
    "widget": frozenset(),
    # staff sign-in, and checking the links the action server signed
    "dashboard": frozenset({"BEACON_STAFF_TOKEN", "BEACON_DASHBOARD_LINK_KEY"}),
}


def child_env(name: str, env: dict[str, str]) -> dict[str, str]:
    """``env`` without the secrets that server ``name`` does not need (none for an unknown name)."""
    allowed = CHILD_SECRETS.get(name, frozenset())
    return {
        key: value for key, value in env.items() if key not in SECRET_VARIABLES or key in allowed
    }


def _rasa_env(extra: dict[str, str] | None = None, *, server: str = "rasa-cli") -> dict[str, str]:
    """The bot environment's variables, with the secrets ``server`` needs (training needs none)."""
    env = child_env(server, dict(os.environ))
    env.update(
        {
            "PYTHONPATH": str(PROJECT_ROOT),  # bot/channels.py
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        }
    )
    env.pop("VIRTUAL_ENV", None)
    env.update(extra or {})
    return env


def _project_args() -> list[str]:
    return ["--config", str(RASA_CONFIG), "--domain", str(RASA_DOMAIN)]


def ensure_model(settings: Settings, force: bool = False) -> tuple[Path, bool]:
    """Train the Rasa model unless one for the current fingerprint exists.

    Returns:
        The model path and whether it was trained now.
    """
    target = model_path(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".train.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one training at a time across processes
        if target.exists() and not force:
            return target, False
        return train_model(target), True


def train_model(target: Path, config: Path = RASA_CONFIG) -> Path:
    """``rasa train`` of the project's domain and data with ``config``, saved as ``target``.

    Raises:
        ConfigError: Rasa is missing or the training failed.
    """
    command = [
        str(rasa_executable()),
        "train",
        "--config",
        str(config),
        "--domain",
        str(RASA_DOMAIN),
        "--data",
        str(RASA_DATA),
        "--out",
        str(target.parent),
        "--fixed-model-name",
        target.name.removesuffix(".tar.gz"),
    ]
    result = subprocess.run(command, cwd=PROJECT_ROOT, env=_rasa_env(), check=False)
    if result.returncode != 0 or not target.exists():
        raise ConfigError(f"rasa train failed (exit {result.returncode}); see its output above")
    return target


def parse_messages(
    model: Path, texts: list[str], timeout_s: float = 1800.0
) -> list[dict[str, Any]]:
    """Parse ``texts`` with the Rasa ``model`` in the bot environment (``bot/parse_batch.py``).

    Returns:
        One dict per text: ``intent``, ``confidence``, ``ranking``, ``entities``, ``ms``.

    Raises:
        ConfigError: Rasa is missing or the parse failed.
    """
    python = rasa_executable().parent / "python"
    result = subprocess.run(
        [str(python), "-m", "bot.parse_batch", str(model)],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=_rasa_env(),
        timeout=timeout_s,
        check=False,
    )
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise ConfigError(f"parsing with {model.name} failed (exit {result.returncode}): {last}")
    parsed: list[dict[str, Any]] = json.loads(result.stdout)
    return parsed


def validate_data() -> int:
    """``rasa data validate`` on the project, failing on warnings. Returns the exit code."""
    command = [
        str(rasa_executable()),
        "data",
        "validate",
        *_project_args(),
        "--data",
        str(RASA_DATA),
        "--fail-on-warnings",
    ]
    return subprocess.run(command, cwd=PROJECT_ROOT, env=_rasa_env(), check=False).returncode


def test_conversations(settings: Settings) -> int:
    """Run the conversation tests (bot/tests) against the current model. Returns the exit code."""
    model, _ = ensure_model(settings)
    out = settings.home / "rasa-results"
    command = [
        str(rasa_executable()),
        "test",
        "core",
        "--model",
        str(model),
        "--stories",
        str(RASA_TESTS),
        "--out",
        str(out),
        "--fail-on-prediction-errors",
        "--no-plot",
    ]
    return subprocess.run(command, cwd=PROJECT_ROOT, env=_rasa_env(), check=False).returncode


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class StackConfig:
    """Where and how to run the two servers.

    Attributes:
        settings: Beacon settings (home, workspace, timeouts, tokens).
        host: Interface the Rasa server and the widget server bind to.
        action_host: Interface the action server binds to: loopback, because only
            Rasa calls it; another value only when the action server must be reached
            from another machine (it still checks the action token).
        bot_port: Rasa's port.
        action_port: The action server's port.
        widget_port: Port of the support page and chat widget server (``beacon.widget``);
            None starts no widget server. ``beacon serve`` uses 8080.
        dashboard_port: Port of the staff dashboard (Streamlit, :mod:`dashboard.app`),
            always on ``dashboard_host``; None starts no dashboard. ``beacon serve`` uses 8501.
        dashboard_host: Interface the dashboard binds to: loopback by default, since it is
            for staff (put it behind the reverse proxy to reach it from elsewhere).
        action_token: Shared secret between the two; random per run unless set.
        tracker_db: SQLite file of Rasa's tracker store; None uses the settings'
            tracker store (``BEACON_TRACKER_URL``, else ``<home>/rasa-tracker.db``).
        log_dir: Where each process's output goes.
        credentials: The Rasa channels file (the project's credentials.yml unless set;
            benchmarks point it at a copy with extra channels).
    """

    settings: Settings
    host: str = "127.0.0.1"
    action_host: str = "127.0.0.1"
    bot_port: int = 5005
    action_port: int = 5055
    widget_port: int | None = None
    dashboard_port: int | None = None
    dashboard_host: str = "127.0.0.1"
    action_token: str = field(default_factory=lambda: secrets.token_hex(24))
    tracker_db: Path | None = None
    log_dir: Path | None = None
    credentials: Path = RASA_CREDENTIALS

    @property
    def bot_url(self) -> str:
        return f"http://{self.host}:{self.bot_port}"

    @property
    def action_url(self) -> str:
        return f"http://{self.action_host}:{self.action_port}"

    @property
    def widget_url(self) -> str | None:
        """The support page with the chat widget, or None when no widget server runs."""
        return None if self.widget_port is None else f"http://{self.host}:{self.widget_port}/"

    @property
    def dashboard_url(self) -> str | None:
        """Where links from answers point: ``BEACON_DASHBOARD_URL``, else the dashboard started here."""
        if self.settings.dashboard_url:
            return self.settings.dashboard_url
        if self.dashboard_port is None:
            return None
        return f"http://{self.dashboard_host}:{self.dashboard_port}"


#: Errors a server raises at start-up whose message is written for the person starting it.
_STARTUP_ERROR = re.compile(
    r"\b(?:TrackerStoreError|LockStoreError|ConfigError|SharedRecordError): (.+?)\s*$"
)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def startup_failure(log: Path) -> str | None:
    """The one-line reason a server gave for not starting, from the end of its log."""
    try:
        with log.open("rb") as handle:
            handle.seek(max(0, log.stat().st_size - 20_000))
            tail = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return None
    for line in reversed(tail.splitlines()):
        found = _STARTUP_ERROR.search(_ANSI.sub("", line))
        if found:
            return found.group(1)
    return None


class Stack:
    """The action server, the Rasa server and (optionally) the widget and dashboard as child processes.

    Use as a context manager, or call :meth:`start` / :meth:`stop`; each server can
    also be stopped and started alone (tests do, to check restarts and outages).
    """

    def __init__(self, config: StackConfig, model: Path) -> None:
        self.config = config
        self.model = model
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    # -- process control -------------------------------------------------
    def _log(self, name: str) -> Path:
        log_dir = self.config.log_dir or self.config.settings.home / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        return log_dir / f"{name}.log"

    def _spawn(self, name: str, command: list[str], env: dict[str, str]) -> None:
        ensure_home(self.config.settings.home)
        with self._log(name).open("ab") as log:  # the child keeps its own copy of the handle
            self.processes[name] = subprocess.Popen(
                command,
                cwd=PROJECT_ROOT,
                env=child_env(name, env),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so stop() ends its children too
            )

    def start_actions(self) -> None:
        """Start the action server and wait until it answers.

        Raises:
            SharedRecordError: ``BEACON_DATABASE_URL`` is set but not a PostgreSQL URL
                (said before anything starts).
        """
        self._wait_ready(*self._launch_actions())

    def _launch_actions(self) -> tuple[str, str]:
        """Spawn the action server; returns its name and the URL that answers once ready."""
        settings = self.config.settings
        shared_record(settings.database_url)
        env = dict(os.environ)
        env.update(
            {
                "BEACON_ACTION_TOKEN": self.config.action_token,
                "BEACON_HOME": str(settings.home),
                "BEACON_WORKSPACE": str(settings.workspace_path),
                "BEACON_PUBLIC_ACTION_URL": self.config.action_url,
                "BEACON_DATABASE_URL": settings.database_url or "",
                "BEACON_DASHBOARD_URL": self.config.dashboard_url or "",
                "BEACON_DASHBOARD_LINK_KEY": settings.dashboard_link_key().hex(),
                "PYTHONUNBUFFERED": "1",
            }
        )
        command = [
            sys.executable,
            "-m",
            "actions.server",
            "--host",
            self.config.action_host,
            "--port",
            str(self.config.action_port),
        ]
        self._spawn("actions", command, env)
        return "actions", f"{self.config.action_url}/health"

    def start_bot(self) -> None:
        """Start the Rasa server and wait until its REST channel answers."""
        self._wait_ready(*self._launch_bot())

    def _launch_bot(self) -> tuple[str, str]:
        """Spawn the Rasa server; returns its name and the URL that answers once ready."""
        settings = self.config.settings
        tracker_url = (
            f"sqlite:///{self.config.tracker_db.resolve()}"
            if self.config.tracker_db
            else settings.tracker_store_url()
        )
        env = _rasa_env(
            {
                "BEACON_ACTION_URL": f"{self.config.action_url}/webhook",
                "BEACON_ACTION_TOKEN": self.config.action_token,
                "BEACON_TRACKER_URL": tracker_url,
                "BEACON_TRACKER_KEY": settings.tracker_key(),
                "BEACON_LOCK_STORE_URL": settings.lock_store_url or "",
                "BEACON_STAFF_TOKEN": settings.staff_token_or_local(),
                TOKENS_FILE_ENV: str(settings.staff_tokens_path),
                "BEACON_ACTION_TIMEOUT": str(settings.action_timeout_s),
            },
            server="bot",
        )
        command = [
            str(rasa_executable()),
            "run",
            "--model",
            str(self.model),
            "--endpoints",
            str(RASA_ENDPOINTS),
            "--credentials",
            str(self.config.credentials),
            "--interface",
            self.config.host,
            "--port",
            str(self.config.bot_port),
            "--cors",
            "*",
        ]
        self._spawn("bot", command, env)
        return "bot", f"{self.config.bot_url}/webhooks/rest/"

    def start_widget(self) -> None:
        """Start the support page + widget server (``beacon.widget``) and wait until it answers.

        Does nothing when ``config.widget_port`` is None.
        """
        if self.config.widget_port is None:
            return
        command = [
            sys.executable,
            "-m",
            "beacon.widget",
            "--host",
            self.config.host,
            "--port",
            str(self.config.widget_port),
            "--bot-url",
            self.config.settings.public_bot_url or self.config.bot_url,
        ]
        self._spawn("widget", command, {**os.environ, "PYTHONUNBUFFERED": "1"})
        self._wait_ready("widget", f"{self.config.widget_url}config.js")

    def start_dashboard(self) -> None:
        """Start the staff dashboard (Streamlit) and wait until it answers.

        Does nothing when ``config.dashboard_port`` is None.
        """
        launched = self._launch_dashboard()
        if launched is not None:
            self._wait_ready(*launched)

    def _launch_dashboard(self) -> tuple[str, str] | None:
        """Spawn the dashboard (None when there is none); returns its name and ready URL."""
        if self.config.dashboard_port is None:
            return None
        settings = self.config.settings
        command = [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(PROJECT_ROOT / "dashboard" / "app.py"),
            "--server.address",
            self.config.dashboard_host,
            "--server.port",
            str(self.config.dashboard_port),
            "--server.headless",
            "true",
            "--server.fileWatcherType",
            "none",
            "--browser.gatherUsageStats",
            "false",
            "--client.toolbarMode",
            "viewer",
            "--global.developmentMode",
            "false",
            "--client.showErrorDetails",
            "none",  # an uncaught error shows a plain message, never a stack trace
        ]
        env = {
            **os.environ,
            "BEACON_HOME": str(settings.home),
            "BEACON_WORKSPACE": str(settings.workspace_path),
            "BEACON_STAFF_TOKEN": settings.staff_token_or_local(),
            "BEACON_DASHBOARD_LINK_KEY": settings.dashboard_link_key().hex(),
            "PYTHONUNBUFFERED": "1",
        }
        self._spawn("dashboard", command, env)
        url = f"http://{self.config.dashboard_host}:{self.config.dashboard_port}"
        return "dashboard", f"{url}/_stcore/health"

    def _wait_ready(self, name: str, url: str) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        process = self.processes[name]
        while time.monotonic() < deadline:
            if process.poll() is not None:
                reason = startup_failure(self._log(name))
                if reason:
                    raise ConfigError(f"the {name} server could not start: {reason}")
                raise ConfigError(
                    f"the {name} server exited with code {process.returncode} while starting; "
                    f"see {self._log(name)}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url, timeout=2.0).status_code == 200:
                    return
            time.sleep(0.5)
        self.stop_process(name)
        raise ConfigError(
            f"the {name} server did not answer at {url} within {STARTUP_TIMEOUT_S:.0f} s"
        )

    def stop_process(self, name: str, timeout_s: float = 20.0) -> None:
        """Stop one server (SIGTERM to its process group, then SIGKILL)."""
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=timeout_s)

    def start(self) -> Stack:
        """Start every server and wait until each answers; on a failure, stop them all.

        The dashboard, action server and Rasa server load side by side (none needs
        another to start), so the stack is up when the slowest is, not after the sum.
        """
        try:
            self.start_widget()  # first: a taken port fails in a second, not after Rasa's minute
            launched = [self._launch_dashboard(), self._launch_actions(), self._launch_bot()]
            for name_and_url in launched:
                if name_and_url is not None:
                    self._wait_ready(*name_and_url)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for name in ("widget", "dashboard", "bot", "actions"):
            self.stop_process(name)

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def wait(self) -> str:
        """Block until one of the servers exits; returns its name."""
        while True:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    return name
            time.sleep(0.5)


@contextlib.contextmanager
def running_stack(config: StackConfig, model: Path) -> Iterator[Stack]:
    """Start the servers, yield the stack, and stop them however the block ends."""
    stack = Stack(config, model)
    try:
        yield stack.start()
    finally:
        stack.stop()
