"""Checks of bot/lock_store.py under Rasa's Python: run by test_lock_store.py.

In memory by default; Redis from a URL, shared by two stores as two Rasa replicas would
share it (``TEST_REDIS_URL``, a real server the pytest side started); a refused scheme;
an unreachable server refused fast without its password; and ``endpoints.yml`` choosing
this store. Run as a script with the repository root on ``PYTHONPATH``; prints
``all checks passed`` or fails on an assert.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path


def check_empty_url_is_in_memory() -> None:
    from rasa.core.lock_store import InMemoryLockStore

    from bot.lock_store import BeaconLockStore

    store = BeaconLockStore(url="")
    assert isinstance(store.inner, InMemoryLockStore)
    lock = store.create_lock("c1")
    store.save_lock(lock)
    assert store.get_lock("c1") is not None
    store.delete_lock("c1")
    assert store.get_lock("c1") is None


def check_refused_urls() -> None:
    from bot.lock_store import BeaconLockStore, LockStoreError

    try:
        BeaconLockStore(url="memcached://127.0.0.1:11211")
    except LockStoreError as error:
        assert "must be empty (in memory) or a redis:// or rediss:// URL" in str(error), error
    else:
        raise AssertionError("a memcached URL was accepted")
    started = time.monotonic()
    try:
        BeaconLockStore(url="redis://:hunter2@127.0.0.1:1/0", connect_timeout_s=0)
    except LockStoreError as error:
        message = str(error)
        assert message.startswith("cannot reach the lock store at redis://127.0.0.1:1/0"), message
        assert "hunter2" not in message and "\n" not in message, message
    else:
        raise AssertionError("an unreachable Redis was accepted")
    assert time.monotonic() - started < 30


async def check_two_replicas_share_locks(url: str) -> None:
    """Two stores on one Redis: a message in one replica waits for the other's."""
    from bot.lock_store import BeaconLockStore

    first, second = BeaconLockStore(url=url), BeaconLockStore(url=url)
    order: list[str] = []

    async def handle(store: BeaconLockStore, name: str, hold_s: float) -> None:
        async with store.lock("shared-conversation", wait_time_in_seconds=0.05):
            order.append(f"{name} starts")
            await asyncio.sleep(hold_s)
            order.append(f"{name} ends")

    first_turn = asyncio.ensure_future(handle(first, "first", 0.5))
    await asyncio.sleep(0.1)  # the first replica holds the lock now
    assert second.get_lock("shared-conversation") is not None  # ...and the second sees it
    await asyncio.gather(first_turn, handle(second, "second", 0.0))
    assert order == ["first starts", "first ends", "second starts", "second ends"], order
    assert second.get_lock("shared-conversation") is None  # finished locks are removed


def check_replicas_issuing_tickets_at_once_never_share_one(url: str) -> None:
    """Tickets taken at the same instant by many replicas are all different.

    Rasa's own Redis lock store reads, changes and writes the lock in three commands, so
    two replicas taking a ticket together could both get ticket 0 and both handle the
    conversation at once (seen as a lost user event in the two-replica test).
    """
    import threading

    from bot.lock_store import BeaconLockStore

    replicas, rounds = 8, 25
    stores = [BeaconLockStore(url=url) for _ in range(replicas)]
    start = threading.Barrier(replicas)
    tickets: list[list[int]] = [[] for _ in range(replicas)]

    def take(index: int) -> None:
        for round_number in range(rounds):
            if round_number % 5 == 0:
                start.wait()
            tickets[index].append(stores[index].issue_ticket("busy-conversation", 60))

    threads = [threading.Thread(target=take, args=(index,)) for index in range(replicas)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    issued = [ticket for taken in tickets for ticket in taken]
    assert len(set(issued)) == replicas * rounds, f"{len(issued) - len(set(issued))} shared"
    lock = stores[0].get_lock("busy-conversation")
    assert lock is not None and len(lock.tickets) == replicas * rounds

    # Returned together, every ticket is removed, and the lock with them.
    def give_back(index: int) -> None:
        for ticket in tickets[index]:
            stores[index].cleanup("busy-conversation", ticket)

    returns = [threading.Thread(target=give_back, args=(index,)) for index in range(replicas)]
    for thread in returns:
        thread.start()
    for thread in returns:
        thread.join()
    assert stores[0].get_lock("busy-conversation") is None


def check_endpoints_yml_chooses_this_store(redis_url: str | None) -> None:
    from rasa.core.lock_store import InMemoryLockStore, LockStore
    from rasa.core.utils import read_endpoints_from_path

    from bot.lock_store import BeaconLockStore

    endpoints_file = Path(__file__).resolve().parents[2] / "endpoints.yml"
    for url in ("", redis_url):
        if url is None:
            continue
        os.environ.update(
            {
                "BEACON_LOCK_STORE_URL": url,
                "BEACON_TRACKER_URL": "sqlite://",
                "BEACON_ACTION_URL": "http://127.0.0.1:5055/webhook",
                "BEACON_ACTION_TOKEN": "t" * 32,
            }
        )
        store = LockStore.create(read_endpoints_from_path(endpoints_file).lock_store)
        assert isinstance(store, BeaconLockStore), type(store)
        assert isinstance(store.inner, InMemoryLockStore) == (url == ""), type(store.inner)


def main() -> None:
    redis_url = os.environ.get("TEST_REDIS_URL")
    check_empty_url_is_in_memory()
    check_refused_urls()
    if redis_url:
        asyncio.run(check_two_replicas_share_locks(redis_url))
        check_replicas_issuing_tickets_at_once_never_share_one(redis_url)
    check_endpoints_yml_chooses_this_store(redis_url)
    print("all checks passed")


if __name__ == "__main__":
    main()
