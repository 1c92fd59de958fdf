"""Waiting for a database at start-up, bounded (standard library only).

The tracker store and the lock store (``bot/tracker_store.py``, ``bot/lock_store.py``)
both open a server that may still be starting when Rasa starts (a container started
beside it). Rasa's own stores retry for ever; these retry for a bounded time, then let
the caller say in one line what could not be reached.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)


def env_seconds(name: str, default: float) -> float:
    """Seconds from the environment variable ``name`` (``default`` when unset or unreadable)."""
    try:
        return max(0.0, float(os.environ.get(name) or default))
    except ValueError:
        return default


def keep_trying(
    attempt: Callable[[], None],
    *,
    timeout_s: float,
    retry_on: tuple[type[BaseException], ...],
    what: str,
    pause_s: float = 1.0,
) -> None:
    """Call ``attempt`` until it succeeds, retrying ``retry_on`` errors for ``timeout_s``.

    Raises:
        BaseException: The last error of a type in ``retry_on``, once time is up.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            attempt()
            return
        except retry_on as error:
            if time.monotonic() >= deadline:
                raise
            logger.warning("%s not reachable yet, retrying: %s", what, error)
            time.sleep(min(pause_s, max(0.0, deadline - time.monotonic())))


def first_line(error: BaseException) -> str:
    """The first line of an error's message (its type's name when it has none)."""
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__
