"""Settings read once from the environment (``get_settings``), passed in everywhere else.

Every variable is listed in ``.env.example``; secrets come only from the environment
(or, for the pseudonymisation key, a generated local file that git ignores).
"""

from __future__ import annotations

import functools
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from foundation.exceptions import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds (got {value!r})") from None


def _default_data_dir() -> Path | None:
    candidate = PROJECT_ROOT.parent / "shared" / "data"
    return candidate if candidate.is_dir() else None


@dataclass(frozen=True)
class Settings:
    """Beacon's configuration.

    Attributes:
        home: Folder for runtime state (workspace, secrets, trained Rasa models, logs).
        workspace_path: The DuckDB workspace file.
        data_dir: The shared real-data folder, or None when it is absent.
        bot_url: Base URL of the Rasa server (used by ``beacon chat`` and the digest).
        public_action_url: Base URL under which chat clients fetch the action server's
            chart images (``/charts/<name>.png``).
        action_token: Shared secret between Rasa and the action server; None disables
            the check (only the test-suite does that, explicitly).
        staff_token: Bearer token that makes a REST conversation a staff conversation.
        action_timeout_s: How long Rasa waits for the action server before apologising.
        http_timeout_s: Timeout for every other outbound HTTP call.
        slack_bot_token: Slack bot token (``xoxb-...``), None when Slack is not set up.
        slack_signing_secret: Slack signing secret, None when Slack is not set up.
        support_slack_channel: The staff Slack channel that support hand-offs go to.
    """

    home: Path
    workspace_path: Path
    data_dir: Path | None
    bot_url: str = "http://localhost:5005"
    public_action_url: str = "http://localhost:5055"
    action_token: str | None = None
    staff_token: str | None = None
    action_timeout_s: float = 20.0
    http_timeout_s: float = 10.0
    slack_bot_token: str | None = field(default=None, repr=False)
    slack_signing_secret: str | None = field(default=None, repr=False)
    support_slack_channel: str = "support"

    @classmethod
    def from_env(cls) -> Settings:
        """Build settings from ``BEACON_*`` and ``SLACK_*`` environment variables."""
        home = _env_path("BEACON_HOME", PROJECT_ROOT / "var")
        data_dir_env = os.environ.get("BEACON_DATA_DIR")
        data_dir = Path(data_dir_env).resolve() if data_dir_env else _default_data_dir()
        return cls(
            home=home,
            workspace_path=_env_path("BEACON_WORKSPACE", home / "beacon.duckdb"),
            data_dir=data_dir,
            bot_url=os.environ.get("BEACON_BOT_URL", "http://localhost:5005").rstrip("/"),
            public_action_url=os.environ.get(
                "BEACON_PUBLIC_ACTION_URL", "http://localhost:5055"
            ).rstrip("/"),
            action_token=os.environ.get("BEACON_ACTION_TOKEN") or None,
            staff_token=os.environ.get("BEACON_STAFF_TOKEN") or None,
            action_timeout_s=_env_float("BEACON_ACTION_TIMEOUT", 20.0),
            http_timeout_s=_env_float("BEACON_HTTP_TIMEOUT", 10.0),
            slack_bot_token=os.environ.get("SLACK_BOT_TOKEN") or None,
            slack_signing_secret=os.environ.get("SLACK_SIGNING_SECRET") or None,
            support_slack_channel=os.environ.get("BEACON_SUPPORT_SLACK_CHANNEL") or "support",
        )

    @property
    def engagement_model_dir(self) -> Path:
        """Where `beacon demo` / `beacon engagement train` save the workspace's ensemble."""
        return self.home / "models" / "engagement"

    @property
    def engagement_cache_dir(self) -> Path:
        """Embedding cache of the engagement ensemble (each text encoded once)."""
        return self.home / "cache" / "engagement"

    def pseudonym_key(self) -> bytes:
        """The key for pseudonymising handles, e-mails and phone numbers.

        Taken from ``BEACON_PSEUDONYM_KEY`` when set; otherwise a random key is
        generated once into ``<home>/secret.key`` (git-ignored) and reused, so the
        same handle always maps to the same pseudonym on this installation.
        """
        env_key = os.environ.get("BEACON_PSEUDONYM_KEY")
        return (env_key or local_secret(self.home, "secret.key")).encode()

    def staff_token_or_local(self) -> str:
        """``BEACON_STAFF_TOKEN``, or a generated local one in ``<home>/staff.token``.

        The local token lets `make run` and `beacon chat` work out of the box on one
        machine; set the variable in any shared deployment.
        """
        return self.staff_token or local_secret(self.home, "staff.token")


def local_secret(home: Path, filename: str) -> str:
    """A random secret kept in ``home/filename`` (mode 600, git-ignored), made on first use."""
    path = home / filename
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings.from_env()
