"""Timing of a Slack answer: say "Working on it…" when the answer is slow.

Standard library only, so the rule is tested under Python 3.11 without Rasa.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

WORKING_TEXT = "Working on it…"
DEFAULT_WORKING_AFTER_S = 2.0


async def with_progress(
    work: Awaitable[T],
    say_working: Callable[[], Awaitable[object]],
    after_s: float = DEFAULT_WORKING_AFTER_S,
) -> T:
    """Await ``work``; if it is not done within ``after_s`` seconds, call ``say_working`` once.

    ``say_working`` runs while ``work`` continues (it is never cancelled), so the
    "working on it" note always comes before the answer.

    Args:
        work: The turn (Rasa handling the message).
        say_working: Posts the progress note.
        after_s: Seconds to wait before posting it.

    Returns:
        What ``work`` returned; its exception propagates.
    """
    task = asyncio.ensure_future(work)
    done, _ = await asyncio.wait({task}, timeout=after_s)
    if not done:
        await say_working()
    return await task
