"""``beacon schedule``: run a job every week at a local time until stopped (stdlib only).

The loop re-reads the wall clock at least once a minute, so a suspended laptop, a clock
change or a daylight-saving switch moves the next run to the right local time instead of
sleeping through it. A failing run is logged and the loop waits for the next week.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from foundation.exceptions import InputError

logger = logging.getLogger(__name__)

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_SLEEP_S = 60.0


@dataclass(frozen=True)
class WeeklySchedule:
    """A weekday and a local time of day.

    Attributes:
        weekday: 0 = Monday … 6 = Sunday.
        at: Local time of day.
    """

    weekday: int = 0
    at: time = time(8, 0)

    def next_run(self, after: datetime) -> datetime:
        """The first scheduled moment strictly after ``after`` (naive local time)."""
        days = (self.weekday - after.weekday()) % 7
        candidate = datetime.combine(after.date() + timedelta(days=days), self.at)
        if candidate <= after:
            candidate += timedelta(days=7)
        return candidate

    def describe(self) -> str:
        """``Mondays at 08:00 local time``."""
        return f"{DAY_NAMES[self.weekday]}s at {self.at:%H:%M} local time"


def parse_schedule(day: str, at: str) -> WeeklySchedule:
    """``("mon", "08:00")`` → :class:`WeeklySchedule`.

    Raises:
        InputError: Unknown day or a time that is not HH:MM.
    """
    key = day.strip().lower()[:3]
    if key not in DAYS:
        raise InputError(f"--day must be one of {', '.join(DAYS)} (got {day!r})")
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", at.strip())
    if match is None or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise InputError(f"--at must be a local time HH:MM such as 08:00 (got {at!r})")
    return WeeklySchedule(DAYS.index(key), time(int(match.group(1)), int(match.group(2))))


def run_weekly(
    job: Callable[[], object],
    schedule: WeeklySchedule,
    *,
    stop: threading.Event,
    clock: Callable[[], datetime] = datetime.now,
    wait: Callable[[float], object] | None = None,
    on_next: Callable[[datetime], None] | None = None,
    max_runs: int | None = None,
) -> int:
    """Run ``job`` at every scheduled moment until ``stop`` is set (or ``max_runs`` runs).

    Args:
        job: The work; an exception is logged and the loop carries on.
        schedule: When to run.
        stop: Set it (from a signal handler or another thread) to end the loop.
        clock: Current naive local time (injectable for tests).
        wait: Sleeps up to the given seconds, returning early when stopped
            (default ``stop.wait``).
        on_next: Called with each next run time when it is planned.
        max_runs: Stop after this many runs (None: run until stopped).

    Returns:
        The number of runs.
    """
    sleep = wait or stop.wait
    runs = 0
    next_at = schedule.next_run(clock())
    if on_next:
        on_next(next_at)
    while not stop.is_set():
        now = clock()
        if now < next_at:
            sleep(min(MAX_SLEEP_S, (next_at - now).total_seconds()))
            continue
        try:
            job()
        except Exception:
            logger.exception("scheduled digest failed; the next run is still planned")
        runs += 1
        if max_runs is not None and runs >= max_runs:
            break
        next_at = schedule.next_run(max(clock(), next_at))
        if on_next:
            on_next(next_at)
    return runs
