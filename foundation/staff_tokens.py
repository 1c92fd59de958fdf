"""Per-person staff tokens with an expiry: made and revoked by ``beacon token``, checked by the bot.

Standard library only: the REST channel (Rasa's Python 3.10) checks tokens with it.

A token is shown once, when it is made: ``bst_<id>_<secret>``. The file keeps only
its id, whose it is, when it expires, whether it was revoked, and a SHA-256 of the
secret, so a copy of the file opens nothing. The file lives in Beacon's home
(``staff-tokens.json``, mode 600) and the channel re-reads it when it changes, so
``beacon token revoke`` takes effect on the next message without a restart.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import threading
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

#: File name of the token store inside Beacon's home.
TOKENS_FILE = "staff-tokens.json"
#: Environment variable that points the bot at the token store.
TOKENS_FILE_ENV = "BEACON_STAFF_TOKENS_FILE"
PREFIX = "bst"
DEFAULT_DAYS = 90
MAX_DAYS = 366
_TOKEN = re.compile(rf"^{PREFIX}_([0-9a-f]{{8}})_([0-9a-f]{{48}})$")
_NAME = re.compile(r"^[\w.@+-]{1,64}$")


class TokenError(ValueError):
    """A token request that can't be done (unknown id, bad name or duration)."""


@dataclass(frozen=True)
class StaffToken:
    """One staff token as the store keeps it (never the secret itself).

    Attributes:
        token_id: Its public id (8 hex characters), used to list and revoke it.
        name: Whose it is (a person or a service).
        created_at: When it was made (UTC, ISO 8601).
        expires_at: When it stops working (UTC, ISO 8601).
        secret_sha256: SHA-256 of the secret part, hex.
        revoked_at: When it was revoked, or None.
    """

    token_id: str
    name: str
    created_at: str
    expires_at: str
    secret_sha256: str
    revoked_at: str | None = None

    def active(self, now: datetime) -> bool:
        """True when it is neither revoked nor expired at ``now``."""
        return self.revoked_at is None and now < datetime.fromisoformat(self.expires_at)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(timezone.utc)  # not datetime.UTC: the bot runs Python 3.10


class StaffTokenStore:
    """The token file: make, list, revoke (``beacon token``) and check (the bot's channel).

    Args:
        path: The JSON file (created with mode 600 on the first token).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._cache: tuple[tuple[int, int], dict[str, StaffToken]] | None = None

    def _read(self) -> dict[str, StaffToken]:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return {}
        stamp = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if self._cache is not None and self._cache[0] == stamp:
                return self._cache[1]
            try:
                rows = json.loads(self.path.read_text(encoding="utf-8"))
                tokens = {row["token_id"]: StaffToken(**row) for row in rows}
            except (OSError, ValueError, TypeError, KeyError):
                tokens = {}  # a damaged store opens nothing (fail closed)
            self._cache = (stamp, tokens)
            return tokens

    def _write(self, tokens: dict[str, StaffToken]) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump([asdict(token) for token in tokens.values()], handle, indent=2)
        os.replace(temporary, self.path)  # readers see the old file or the new one, whole

    def create(self, name: str, days: int = DEFAULT_DAYS) -> tuple[str, StaffToken]:
        """Make a token for ``name`` valid for ``days``; returns (the token, its record).

        Raises:
            TokenError: ``name`` is not 1-64 letters, digits or ``.@+-_``, or ``days``
                is not 1 to 366.
        """
        if not _NAME.match(name):
            raise TokenError(
                f"a token name is 1-64 letters, digits or . @ + - _ (got {name!r}); "
                "use the person's login, e.g. alice"
            )
        if not 1 <= days <= MAX_DAYS:
            raise TokenError(f"--days must be 1 to {MAX_DAYS} (got {days})")
        token_id, secret = secrets.token_hex(4), secrets.token_hex(24)
        now = _now()
        record = StaffToken(
            token_id=token_id,
            name=name,
            created_at=now.isoformat(timespec="seconds"),
            expires_at=(now + timedelta(days=days)).isoformat(timespec="seconds"),
            secret_sha256=_digest(secret),
        )
        tokens = dict(self._read())
        tokens[token_id] = record
        self._write(tokens)
        return f"{PREFIX}_{token_id}_{secret}", record

    def tokens(self) -> list[StaffToken]:
        """Every token the store knows, oldest first."""
        return sorted(self._read().values(), key=lambda token: token.created_at)

    def revoke(self, token_id: str) -> StaffToken:
        """Revoke a token by its id; revoking twice keeps the first time.

        Raises:
            TokenError: No token has that id.
        """
        tokens = dict(self._read())
        token = tokens.get(token_id)
        if token is None:
            raise TokenError(f"no staff token with id {token_id!r}; `beacon token list` shows them")
        if token.revoked_at is None:
            token = StaffToken(
                **{**asdict(token), "revoked_at": _now().isoformat(timespec="seconds")}
            )
            tokens[token_id] = token
            self._write(tokens)
        return token

    def check(self, presented: str, now: datetime | None = None) -> StaffToken | None:
        """The active token ``presented`` is, or None (unknown, wrong, expired or revoked)."""
        match = _TOKEN.match(presented)
        if match is None:
            return None
        token = self._read().get(match.group(1))
        if token is None or not token.active(now or _now()):
            return None
        given = _digest(match.group(2)).encode()
        return token if hmac.compare_digest(given, token.secret_sha256.encode()) else None
