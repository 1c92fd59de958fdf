"""Answers that don't recompute what hasn't changed.

A sentiment summary, an anomaly check, an experiment's analysis or a creator ranking
reads thousands of rows (and most draw a chart); the same question asked again on the
same data gets the same answer. :class:`AnswerCache`
keeps recent results keyed by the question's parameters and
:func:`foundation.workspace.queries.data_version`, a
fingerprint of the workspace's posts and scores that changes whenever ``beacon ingest``,
``beacon score``, ``beacon retrain`` or a customer's message changes them. A cached result
carries the URL of the chart drawn for it, so the chart is rendered once too.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

_T = TypeVar("_T")

#: Results kept per process (each a few kB plus a chart file already on disk).
MAX_ENTRIES = 256


class _Pending:
    """A result one thread is computing, that others asking the same can wait for."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: Any = None
        self.failed = False


class AnswerCache:
    """A bounded, thread-safe LRU of computed answers, each computed once at a time.

    When several threads miss the same key at once (20 staff asking about campaigns
    just after a new batch was scored), the first computes and the others wait for its
    result instead of computing it again beside it: on 2 cores, duplicates only slow
    everyone down. When that computation fails, the waiters ask again: one of them
    computes, and meets the error itself if it persists.

    Args:
        max_entries: How many results to keep; the least recently used go first.
    """

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._pending: dict[Hashable, _Pending] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_or_compute(self, key: Hashable, version: Hashable, compute: Callable[[], _T]) -> _T:
        """The cached result for ``(key, version)``, or ``compute()``'s, kept for next time.

        A thread asking while another computes the same ``(key, version)`` waits for that
        result (a hit); if that computation raised, the waiters ask again.
        """
        full_key = (key, version)
        with self._lock:
            if full_key in self._entries:
                self._entries.move_to_end(full_key)
                self.hits += 1
                return self._entries[full_key]
            pending = self._pending.get(full_key)
            leader = pending is None
            if pending is None:
                pending = self._pending[full_key] = _Pending()
                self.misses += 1
        if not leader:
            pending.done.wait()
            if not pending.failed:
                with self._lock:
                    self.hits += 1
                return pending.result
            return self.get_or_compute(key, version, compute)  # one of the waiters leads now
        try:
            result = compute()
        except BaseException:
            pending.failed = True
            raise
        else:
            pending.result = result
            with self._lock:
                self._entries[full_key] = result
                self._entries.move_to_end(full_key)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
            return result
        finally:
            with self._lock:
                del self._pending[full_key]
            pending.done.set()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
