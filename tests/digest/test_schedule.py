"""The weekly loop of `beacon schedule`, on a fake clock."""

from __future__ import annotations

import threading
from datetime import datetime, time, timedelta

import pytest

from beacon.digest import WeeklySchedule, parse_schedule, run_weekly
from foundation.exceptions import InputError


def test_next_run_is_the_next_monday_at_eight() -> None:
    plan = WeeklySchedule()
    assert plan.next_run(datetime(2026, 11, 30, 7, 59)) == datetime(2026, 11, 30, 8, 0)
    assert plan.next_run(datetime(2026, 11, 30, 8, 0)) == datetime(2026, 12, 7, 8, 0)
    assert plan.next_run(datetime(2026, 12, 3, 12, 0)) == datetime(2026, 12, 7, 8, 0)
    assert plan.describe() == "Mondays at 08:00 local time"


def test_parse_schedule() -> None:
    assert parse_schedule("Friday", "17:30") == WeeklySchedule(4, time(17, 30))
    with pytest.raises(InputError, match=r"--day must be one of mon, tue"):
        parse_schedule("someday", "08:00")
    with pytest.raises(
        InputError, match=r"--at must be a local time HH:MM such as 08:00 \(got '25:00'\)"
    ):
        parse_schedule("mon", "25:00")


class FakeClock:
    """A clock that moves only when the loop waits."""

    def __init__(self, start: datetime) -> None:
        self.now = start
        self.waits: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def wait(self, seconds: float) -> bool:
        self.waits.append(seconds)
        self.now += timedelta(seconds=seconds)
        return False


def test_runs_weekly_and_survives_a_failing_run() -> None:
    clock = FakeClock(datetime(2026, 11, 29, 20, 0))  # Sunday evening
    ran: list[datetime] = []

    def job() -> None:
        ran.append(clock())
        if len(ran) == 1:
            raise RuntimeError("Slack was down")

    planned: list[datetime] = []
    runs = run_weekly(
        job,
        WeeklySchedule(),
        stop=threading.Event(),
        clock=clock,
        wait=clock.wait,
        on_next=planned.append,
        max_runs=3,
    )
    assert runs == 3
    assert ran == [datetime(2026, 11, 30, 8), datetime(2026, 12, 7, 8), datetime(2026, 12, 14, 8)]
    assert planned == ran
    assert max(clock.waits) <= 60  # the wall clock is re-read at least once a minute


def test_stop_ends_the_loop_before_the_next_run() -> None:
    stop = threading.Event()
    clock = FakeClock(datetime(2026, 11, 30, 9, 0))

    def wait(seconds: float) -> bool:
        clock.wait(seconds)
        if clock.now > datetime(2026, 12, 2):
            stop.set()
        return stop.is_set()

    assert run_weekly(lambda: None, WeeklySchedule(), stop=stop, clock=clock, wait=wait) == 0
