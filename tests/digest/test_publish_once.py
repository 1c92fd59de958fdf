"""Two digest runs at the same moment post the week once (the look, post and mark are one step)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient

from beacon.digest import SlackPoster, build_digest, publish_digest
from beacon.digest._slack import SlackPost
from beacon.scoring import current_scorer
from tests.conftest import DemoWorkspace
from tests.digest.conftest import SPIKE_WEEK
from tests.fakes.slack import FakeSlack


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


class SlowPoster(SlackPoster):
    """Posts as usual, but only once both runs have looked for the marker (a barrier)."""

    def __init__(self, client: WebClient, arrived: threading.Barrier) -> None:
        super().__init__(client)
        self.arrived = arrived

    def post_message(self, *args: Any, **kwargs: Any) -> SlackPost:
        # Without the lock both runs get here; with it the other waits, the barrier
        # breaks, and this run posts alone.
        with contextlib.suppress(threading.BrokenBarrierError):
            self.arrived.wait(timeout=3)
        return super().post_message(*args, **kwargs)


def test_two_runs_at_once_post_the_week_once(demo_copy: DemoWorkspace, fake: FakeSlack) -> None:
    digest = build_digest(demo_copy.workspace, SPIKE_WEEK, model_version=current_scorer().version)
    arrived = threading.Barrier(2)
    results = []

    def run() -> None:
        poster = SlowPoster(
            WebClient(token="xoxb-test", base_url=fake.base_url, timeout=5), arrived
        )
        results.append(publish_digest(demo_copy.workspace, digest, poster, "#marketing"))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 2
    assert sorted(r.posted for r in results) == [False, True]
    assert len(fake.calls_to("chat.postMessage")) == 1
    assert results[0].ts == results[1].ts
