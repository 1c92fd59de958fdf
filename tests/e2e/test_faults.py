"""Keep answering when a part is busy or fails: real processes, real HTTP.

- a batch job scoring the workspace in short batches: every turn is answered;
- the workspace held by another process for longer than a turn waits: staff get one
  plain sentence, customers still get the help pages;
- the action server killed in the middle of a turn: a polite reply, then answers again.

Every reply also passes the leak scan of tests/e2e/conftest.py (no path, exception or
traceback).
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid

import pytest

from foundation.workspace._store import BUSY_MESSAGE
from tests.conftest import answered_from_public_pages
from tests.e2e.conftest import E2E
from tests.fakes.batch_job import lock_held_by_another_process, scoring_job

pytestmark = pytest.mark.e2e

DOWN = "my analytics service isn't answering right now"
#: Staff questions, each with a phrase its proper answer holds.
STAFF_QUESTIONS = {
    "how is sentiment on twitter this month?": "Twitter/X",
    "any unusual spikes lately?": "last 14 days",
    "did the subject-line test win?": "Verdict",
    "how is sentiment on instagram last week?": "Instagram",
}
CUSTOMER_QUESTIONS = [
    "how long does shipping take?",
    "can I return my shoes?",
    "what payment methods do you accept?",
]


def test_every_turn_is_answered_while_a_batch_job_scores_the_workspace(e2e: E2E) -> None:
    replies: list[tuple[str, str, bool]] = []
    with scoring_job(e2e.demo.workspace.path, batches=12, seconds_per_batch=0.4) as job:
        n = 0
        while job.poll() is None and n < 12:
            staff = n % 2 == 0
            pool = list(STAFF_QUESTIONS) if staff else CUSTOMER_QUESTIONS
            question = pool[(n // 2) % len(pool)]
            replies.append((question, e2e.ask(question, staff=staff), staff))
            n += 1
        assert job.stdout is not None
    assert len(replies) >= 4, "the batch job ended before the turns could overlap it"
    for question, reply, staff in replies:
        assert BUSY_MESSAGE not in reply and DOWN not in reply, (question, reply)
        if staff:
            assert STAFF_QUESTIONS[question] in reply, (question, reply)
        else:
            assert answered_from_public_pages(reply), (question, reply)


def test_a_workspace_held_too_long_gets_a_plain_sentence_and_customers_still_answers(
    e2e: E2E,
) -> None:
    with lock_held_by_another_process(e2e.demo.workspace.path):
        staff = e2e.ask("how is sentiment on twitter this month?")
        customer = e2e.ask("how long does shipping take?", staff=False)
    assert BUSY_MESSAGE in staff
    assert answered_from_public_pages(customer) and BUSY_MESSAGE not in customer
    again = e2e.ask("how is sentiment on twitter this month?")
    assert "Twitter/X" in again and BUSY_MESSAGE not in again


def test_action_server_killed_mid_turn_is_said_politely_and_comes_back(e2e: E2E) -> None:
    sender = f"e2e-{uuid.uuid4().hex[:8]}"
    replies: list[str] = []
    # The lock keeps the action waiting for the workspace, so the kill lands mid-turn.
    with lock_held_by_another_process(e2e.demo.workspace.path):
        turn = threading.Thread(
            target=lambda: replies.append(
                e2e.ask("how is sentiment on facebook this month?", sender)
            )
        )
        turn.start()
        time.sleep(0.5)
        actions = e2e.stack.processes["actions"]
        os.killpg(actions.pid, signal.SIGKILL)
        turn.join(timeout=120)
    e2e.stack.stop_process("actions")
    try:
        assert replies and DOWN in replies[0], replies
    finally:
        e2e.stack.start_actions()
    reply = e2e.ask("how is sentiment on facebook this month?", sender)
    assert "Facebook" in reply and DOWN not in reply
