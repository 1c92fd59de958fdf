"""Rasa's lock store, chosen by a URL: in memory by default, Redis to share it.

Runs under Rasa's Python 3.10 (``.venv-bot``); ``endpoints.yml`` names it as the lock
store, with ``url: ${BEACON_LOCK_STORE_URL}`` (``beacon serve`` fills it, empty unless
set). Rasa takes a conversation's lock before it handles a message, so two messages of
one conversation are handled one after the other. In memory, that holds inside one
Rasa process; with several Rasa replicas, the lock must live in Redis, or two replicas
can answer the same conversation at once and interleave its events.

- empty: Rasa's in-memory lock store (one Rasa process);
- ``redis://[:password@]host:port/db`` or ``rediss://…`` (TLS): Rasa's Redis lock
  store on that server, checked at start-up with a bounded wait and one clear error.

Rasa's own Redis lock store reads a lock, changes it and writes it back in separate
commands, so two replicas taking a ticket at the same instant can both get the same
one and handle one conversation at once. Here every change of a lock (taking a ticket,
returning it, dropping expired ones) is one Redis transaction (``WATCH``/``MULTI``/
``EXEC``, retried when another replica changed the lock in between).

Redis standalone only: Rasa's lock store issues plain ``GET``/``SET``/``DELETE`` on one
connection, which Redis Cluster would redirect (``MOVED``) and Rasa 3.6 does not
follow; it has no Sentinel support either. For failover, put the Redis server behind a
virtual IP or a managed service with a single endpoint.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from rasa.core.lock import TicketLock
from rasa.core.lock_store import (
    DEFAULT_REDIS_LOCK_STORE_KEY_PREFIX,
    LOCK_LIFETIME,
    InMemoryLockStore,
    LockError,
    LockStore,
    RedisLockStore,
)
from rasa.shared.exceptions import RasaException

from bot._startup import env_seconds, first_line, keep_trying

URL_ENV = "BEACON_LOCK_STORE_URL"
CONNECT_TIMEOUT_ENV = "BEACON_LOCK_STORE_CONNECT_TIMEOUT"
#: Seconds to keep trying a Redis server that is still starting before giving up.
DEFAULT_CONNECT_TIMEOUT_S = 30.0
#: Seconds one Redis command may take before the turn fails (Rasa's default is 10).
SOCKET_TIMEOUT_S = 5.0
#: Tries of one lock change while other replicas keep changing the same lock.
MAX_TRANSACTION_TRIES = 200

T = TypeVar("T")
#: Changes a conversation's lock (None: it has none): what to return, and the lock to
#: store (None: remove it).
LockEdit = Callable[[TicketLock | None], tuple[T, TicketLock | None]]


class LockStoreError(RasaException):
    """The lock store cannot start: a URL it does not take, or an unreachable server."""


def _safe_url(url: str) -> str:
    """``url`` without its password, for messages."""
    from redis.connection import parse_url

    try:
        parts = parse_url(url)
    except ValueError:
        return url.split("@")[-1]
    scheme = url.split("://", 1)[0]
    return f"{scheme}://{parts.get('host', '?')}:{parts.get('port', 6379)}/{parts.get('db', 0)}"


class _RedisUrlLockStore(RedisLockStore):
    """Rasa's Redis lock store, opened from a URL (TLS with ``rediss://``)."""

    def __init__(self, url: str, socket_timeout_s: float = SOCKET_TIMEOUT_S) -> None:
        import redis

        self.red = redis.StrictRedis.from_url(
            url, socket_timeout=socket_timeout_s, socket_connect_timeout=socket_timeout_s
        )
        self.key_prefix = DEFAULT_REDIS_LOCK_STORE_KEY_PREFIX
        LockStore.__init__(self)

    def _atomically(self, conversation_id: str, edit: LockEdit[T]) -> T:
        """Apply ``edit`` to the stored lock in one transaction; retried on a conflict.

        Raises:
            LockError: Redis failed, or other replicas kept changing the lock through
                :data:`MAX_TRANSACTION_TRIES` tries.
        """
        import redis

        key = self.key_prefix + conversation_id
        try:
            with self.red.pipeline() as pipe:
                for _ in range(MAX_TRANSACTION_TRIES):
                    try:
                        pipe.watch(key)
                        stored = pipe.get(key)
                        lock = TicketLock.from_dict(json.loads(stored)) if stored else None
                        result, changed = edit(lock)
                        pipe.multi()
                        if changed is None:
                            pipe.delete(key)
                        else:
                            pipe.set(key, changed.dumps())
                        pipe.execute()
                        return result
                    except redis.WatchError:
                        continue  # another replica changed the lock: read it again
        except redis.RedisError as error:
            raise LockError(
                f"cannot change the lock of conversation {conversation_id!r}: {first_line(error)}"
            ) from None
        raise LockError(
            f"the lock of conversation {conversation_id!r} kept changing under "
            f"{MAX_TRANSACTION_TRIES} tries; too many replicas are writing to it at once"
        )

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """A new ticket for ``conversation_id``, creating its lock when it has none."""

        def take(lock: TicketLock | None) -> tuple[int, TicketLock | None]:
            lock = lock or self.create_lock(conversation_id)
            return lock.issue_ticket(lock_lifetime), lock

        return self._atomically(conversation_id, take)

    def update_lock(self, conversation_id: str) -> None:
        """Drop the expired tickets of ``conversation_id``'s lock."""

        def drop_expired(lock: TicketLock | None) -> tuple[None, TicketLock | None]:
            if lock is not None:
                lock.remove_expired_tickets()
            return None, lock

        self._atomically(conversation_id, drop_expired)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        """Return ticket ``ticket_number``."""

        def give_back(lock: TicketLock | None) -> tuple[None, TicketLock | None]:
            if lock is not None:
                lock.remove_ticket_for(ticket_number)
            return None, lock

        self._atomically(conversation_id, give_back)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Return ticket ``ticket_number``; remove the lock when no one else waits."""

        def give_back(lock: TicketLock | None) -> tuple[None, TicketLock | None]:
            if lock is not None:
                lock.remove_ticket_for(ticket_number)
                if not lock.is_someone_waiting():
                    lock = None
            return None, lock

        self._atomically(conversation_id, give_back)


class BeaconLockStore(LockStore):
    """The lock store ``BEACON_LOCK_STORE_URL`` names (in memory when it is empty).

    Rasa builds custom lock stores with the endpoint's configuration; this one hands each
    lock operation to the store the URL chose (:attr:`inner`).

    Args:
        endpoint_config: ``lock_store`` from ``endpoints.yml`` (Rasa passes it); its ``url``.
        url: The URL, when built directly (tests); overrides ``endpoint_config``.
        connect_timeout_s: Longest wait for Redis at start-up;
            ``BEACON_LOCK_STORE_CONNECT_TIMEOUT`` or 30 s when None.

    Raises:
        LockStoreError: A URL that is neither empty nor ``redis://``/``rediss://``, or a
            Redis server that does not answer within ``connect_timeout_s``.
    """

    def __init__(
        self,
        endpoint_config: Any = None,
        url: str | None = None,
        connect_timeout_s: float | None = None,
    ) -> None:
        if url is None:
            url = (getattr(endpoint_config, "url", None) or "").strip()
        self.inner: LockStore
        if not url:
            self.inner = InMemoryLockStore()
        elif url.startswith(("redis://", "rediss://")):
            self.inner = _RedisUrlLockStore(url)
            if connect_timeout_s is None:
                connect_timeout_s = env_seconds(CONNECT_TIMEOUT_ENV, DEFAULT_CONNECT_TIMEOUT_S)
            self._wait_for_redis(url, connect_timeout_s)
        else:
            raise LockStoreError(
                f"{URL_ENV} must be empty (in memory) or a redis:// or rediss:// URL "
                f"(got {url.split('://', 1)[0]}://…); Redis Cluster is not supported"
            )
        super().__init__()

    def _wait_for_redis(self, url: str, timeout_s: float) -> None:
        import redis

        assert isinstance(self.inner, _RedisUrlLockStore)
        try:
            keep_trying(
                self.inner.red.ping, timeout_s=timeout_s, retry_on=(redis.RedisError,), what=url
            )
        except redis.RedisError as error:
            raise LockStoreError(
                f"cannot reach the lock store at {_safe_url(url)} after {timeout_s:g} s "
                f"({first_line(error)}); check {URL_ENV} and that the Redis server is running"
            ) from None

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        """The conversation's lock, if it has one."""
        return self.inner.get_lock(conversation_id)

    def delete_lock(self, conversation_id: str) -> None:
        """Remove the conversation's lock."""
        self.inner.delete_lock(conversation_id)

    def save_lock(self, lock: TicketLock) -> None:
        """Store ``lock``."""
        self.inner.save_lock(lock)

    # The changes of a lock go to the inner store as a whole, so that Redis can make
    # each one atomic (Rasa's base class would read and write through get/save_lock).
    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """A new ticket for ``conversation_id``."""
        return self.inner.issue_ticket(conversation_id, lock_lifetime)

    def update_lock(self, conversation_id: str) -> None:
        """Drop the expired tickets of ``conversation_id``'s lock."""
        self.inner.update_lock(conversation_id)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        """Return ticket ``ticket_number``."""
        self.inner.finish_serving(conversation_id, ticket_number)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Return ticket ``ticket_number``; remove the lock when no one else waits."""
        self.inner.cleanup(conversation_id, ticket_number)
