"""Settings read once from the environment (``get_settings``), passed in everywhere else.

Every variable is listed in ``.env.example``; secrets come only from the environment
(or, for the pseudonymisation key, a generated local file that git ignores).
"""

from __future__ import annotations

import contextlib
import functools
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from foundation.exceptions import ConfigError
from foundation.view_links import link_key

PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: Shortest secret Beacon accepts from the environment (a 128-bit hex token is 32).
MIN_SECRET_CHARS = 32
#: Mode of the runtime home: it holds the workspace, secrets and conversation logs.
HOME_MODE = 0o700


def _env_secret(name: str) -> str | None:
    """A secret from the environment, None when unset; refused when it is too short to be one."""
    value = os.environ.get(name) or None
    if value is not None and len(value) < MIN_SECRET_CHARS:
        raise ConfigError(
            f"{name} must be at least {MIN_SECRET_CHARS} characters (got {len(value)}); "
            'make one with: python -c "import secrets; print(secrets.token_hex(32))"'
        )
    return value


def load_dotenv_file(path: Path | None = None) -> bool:
    """Read ``.env`` (``KEY=value`` lines) into the environment, without overriding it.

    ``.env.example`` says "copy to .env": this is what makes that work. Variables already
    set in the environment win, so a deployment's own settings are never replaced.

    Args:
        path: The file; by default ``.env`` in the current folder, else the project's.

    Returns:
        True when a file was read.
    """
    from dotenv import load_dotenv

    candidates = [path] if path is not None else [Path.cwd() / ".env", PROJECT_ROOT / ".env"]
    for candidate in candidates:
        if candidate.is_file():
            return bool(load_dotenv(candidate, override=False))
    return False


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


def _env_retention_days() -> int | None:
    """``BEACON_RETENTION_DAYS``: 90 when unset; ``0`` or ``off`` keeps data until forgotten."""
    value = (os.environ.get("BEACON_RETENTION_DAYS") or "").strip().lower()
    if value == "":
        return 90
    if value in ("0", "off", "never"):
        return None
    if not value.isdigit():
        raise ConfigError(
            f"BEACON_RETENTION_DAYS must be a whole number of days, or 0 / off to keep "
            f"data until forgotten (got {value!r})"
        )
    return int(value)


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
        public_bot_url: Base URL under which the widget's page reaches Rasa, when it is not
            the address Rasa listens on (behind a reverse proxy: the public origin).
        dashboard_url: Base URL of the staff dashboard, which staff answers and the digest
            link to (``BEACON_DASHBOARD_URL``); None sends no links.
        dashboard_link_key_hex: The key that signs dashboard links, hex
            (``BEACON_DASHBOARD_LINK_KEY``); None derives it from the staff token.
            ``beacon serve`` hands the derived key to the action server and the
            dashboard, so the action server never holds the staff token itself.
        action_token: Shared secret between Rasa and the action server; None disables
            the check (only the test-suite does that, explicitly).
        staff_token: Bearer token that makes a REST conversation a staff conversation.
        action_timeout_s: How long Rasa waits for the action server before apologising.
        http_timeout_s: Timeout for every other outbound HTTP call.
        slack_bot_token: Slack bot token (``xoxb-...``), None when Slack is not set up.
        slack_signing_secret: Slack signing secret, None when Slack is not set up.
        support_slack_channel: The staff Slack channel that support hand-offs go to.
        retention_days: Days that support chats, audit, feedback, ratings and tracker
            events are kept before ``beacon purge`` (and the weekly schedule) deletes
            them; None keeps them until forgotten.
        phone_region: Country (ISO 3166 code) whose national phone formats
            pseudonymisation reads; numbers with ``+`` and a country code are read for any.
        tracker_url: SQLAlchemy URL of Rasa's tracker store (``BEACON_TRACKER_URL``,
            e.g. ``postgresql://…``); None means the SQLite file :attr:`tracker_db`.
        lock_store_url: Redis URL of Rasa's lock store (``BEACON_LOCK_STORE_URL``), shared
            by several Rasa replicas; None keeps the locks in the Rasa process.
        database_url: PostgreSQL URL of the shared operational record
            (``BEACON_DATABASE_URL``: audit, feedback, support messages, hand-offs,
            ratings, digest markers and charts, shared by several replicas;
            :mod:`foundation.workspace._shared`); None keeps them in the local workspace.
    """

    home: Path
    workspace_path: Path
    data_dir: Path | None
    bot_url: str = "http://localhost:5005"
    public_action_url: str = "http://localhost:5055"
    public_bot_url: str | None = None
    dashboard_url: str | None = None
    dashboard_link_key_hex: str | None = field(default=None, repr=False)
    action_token: str | None = None
    staff_token: str | None = None
    action_timeout_s: float = 20.0
    http_timeout_s: float = 10.0
    slack_bot_token: str | None = field(default=None, repr=False)
    slack_signing_secret: str | None = field(default=None, repr=False)
    support_slack_channel: str = "support"
    retention_days: int | None = 90
    phone_region: str = "GB"
    tracker_url: str | None = field(default=None, repr=False)  # may hold a password
    lock_store_url: str | None = field(default=None, repr=False)
    database_url: str | None = field(default=None, repr=False)  # may hold a password

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
            public_bot_url=(os.environ.get("BEACON_PUBLIC_BOT_URL") or "").rstrip("/") or None,
            dashboard_url=(os.environ.get("BEACON_DASHBOARD_URL") or "").rstrip("/") or None,
            dashboard_link_key_hex=_env_secret("BEACON_DASHBOARD_LINK_KEY"),
            action_token=_env_secret("BEACON_ACTION_TOKEN"),
            staff_token=_env_secret("BEACON_STAFF_TOKEN"),
            action_timeout_s=_env_float("BEACON_ACTION_TIMEOUT", 20.0),
            http_timeout_s=_env_float("BEACON_HTTP_TIMEOUT", 10.0),
            slack_bot_token=os.environ.get("SLACK_BOT_TOKEN") or None,
            slack_signing_secret=os.environ.get("SLACK_SIGNING_SECRET") or None,
            support_slack_channel=os.environ.get("BEACON_SUPPORT_SLACK_CHANNEL") or "support",
            retention_days=_env_retention_days(),
            phone_region=(os.environ.get("BEACON_PHONE_REGION") or "GB").strip().upper(),
            tracker_url=(os.environ.get("BEACON_TRACKER_URL") or "").strip() or None,
            lock_store_url=(os.environ.get("BEACON_LOCK_STORE_URL") or "").strip() or None,
            database_url=(os.environ.get("BEACON_DATABASE_URL") or "").strip() or None,
        )

    @property
    def tracker_db(self) -> Path:
        """The SQLite file of Rasa's tracker store (what `beacon serve` gives Rasa)."""
        return self.home / "rasa-tracker.db"

    def tracker_store_url(self) -> str:
        """The URL Rasa's tracker store opens: ``BEACON_TRACKER_URL``, else :attr:`tracker_db`."""
        return self.tracker_url or f"sqlite:///{self.tracker_db.resolve()}"

    def tracker_key(self) -> str:
        """The secret the tracker store encrypts conversations with.

        Taken from ``BEACON_TRACKER_KEY`` when set; otherwise generated once into
        ``<home>/tracker.key`` (git-ignored) and reused. Losing it makes the stored
        conversations unreadable (the bot refuses to start on them, rather than
        failing every turn).
        """
        return _env_secret("BEACON_TRACKER_KEY") or local_secret(self.home, "tracker.key")

    @property
    def staff_tokens_path(self) -> Path:
        """The per-person staff tokens (``beacon token``), read by the bot's REST channel."""
        from foundation.staff_tokens import TOKENS_FILE

        return self.home / TOKENS_FILE

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
        env_key = _env_secret("BEACON_PSEUDONYM_KEY")
        return (env_key or local_secret(self.home, "secret.key")).encode()

    def staff_token_or_local(self) -> str:
        """``BEACON_STAFF_TOKEN``, or a generated local one in ``<home>/staff.token``.

        The local token lets `make run` and `beacon chat` work out of the box on one
        machine; set the variable in any shared deployment.
        """
        return self.staff_token or local_secret(self.home, "staff.token")

    def dashboard_link_key(self) -> bytes:
        """The key that signs dashboard links: ``BEACON_DASHBOARD_LINK_KEY``, else derived
        from :meth:`staff_token_or_local`.

        Raises:
            ConfigError: ``BEACON_DASHBOARD_LINK_KEY`` is not hexadecimal.
        """
        if self.dashboard_link_key_hex:
            try:
                return bytes.fromhex(self.dashboard_link_key_hex)
            except ValueError:
                raise ConfigError(
                    "BEACON_DASHBOARD_LINK_KEY must be hexadecimal (e.g. from "
                    'python -c "import secrets; print(secrets.token_hex(32))"); '
                    "or leave it unset to derive it from the staff token"
                ) from None
        return link_key(self.staff_token_or_local())


def ensure_home(home: Path) -> Path:
    """Create Beacon's runtime home readable by its owner only (mode 700), and tighten an old one.

    The home holds the workspace, the secrets and the conversation logs, so nobody else
    on the machine should list or read it.
    """
    home.mkdir(mode=HOME_MODE, parents=True, exist_ok=True)
    if home.stat().st_mode & 0o077 and home.stat().st_uid == os.getuid():
        home.chmod(HOME_MODE)
    return home


def local_secret(home: Path, filename: str) -> str:
    """A random secret kept in ``home/filename`` (mode 600, git-ignored), made on first use.

    The file is written whole under a temporary name and then linked into place, which
    fails when the file exists: two processes starting together end up with the one
    secret the first of them made, never two different ones, and no process ever reads
    a half-written file.
    """
    path = home / filename
    if not path.exists():
        ensure_home(home)
        temporary = home / f".{filename}.{os.getpid()}.{secrets.token_hex(4)}"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_hex(32))
            with contextlib.suppress(FileExistsError):  # another process made it first: use theirs
                os.link(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
    return path.read_text().strip()


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings, read from the environment (and ``.env``) on first use."""
    load_dotenv_file()
    return Settings.from_env()
