"""Fuzz the chat: junk, huge, control characters, markup and ``/intent{…}`` payloads
with hostile slot values, from both audiences.

Every message goes through real HTTP to both servers. A malformed request may get a
4xx with a one-line reason; no reply may be a 5xx; every reply (a 4xx's reason too)
passes the leak scan: no file path, exception name or traceback; and no customer
reply holds a string only staff may see (experiments, creators, campaigns, internal
documents, the brand's post ids).
"""

from __future__ import annotations

import json
import os
import random
import string
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import yaml

from tests.conftest import PROJECT_ROOT
from tests.e2e.conftest import E2E
from tests.e2e.test_support import internal_strings
from tests.leaks import leaks

pytestmark = pytest.mark.e2e

#: 400 by default, 2,000 in the ``slow`` run;
#: BEACON_FUZZ_MESSAGES sets the default run's count.
MESSAGES = int(os.environ.get("BEACON_FUZZ_MESSAGES", "400"))
SLOW_MESSAGES = 2_000
SEED = 20261206
#: Messages per conversation before a fresh sender (trackers grow as real ones do).
TURNS_PER_SENDER = 10


def _intents() -> list[str]:
    found: list[str] = []
    for part in sorted((PROJECT_ROOT / "bot" / "domain").glob("*.yml")):
        for intent in yaml.safe_load(part.read_text()).get("intents") or []:
            found.append(intent if isinstance(intent, str) else next(iter(intent)))
    return found


def _char(code: int) -> str:
    """The character ``code``; a lone surrogate (not encodable as UTF-8) becomes U+FFFD."""
    return "\ufffd" if 0xD800 <= code <= 0xDFFF else chr(code)


def fuzz_messages(n: int, seed: int = SEED) -> list[str]:
    """``n`` hostile or odd messages, the same for the same seed."""
    rng = random.Random(seed)
    intents = [*_intents(), "no_such_intent", "EXTERNAL_trigger", "session_start"]
    controls = "".join(chr(c) for c in range(32)) + "\x7f\u200b\u202e\ufeff"
    words = [
        "sentiment",
        "twitter",
        "roi",
        "test",
        "refund",
        "order",
        "why",
        "top",
        "posts",
        "compare",
        "campaign",
    ]

    hostile_values = [
        "../../../etc/passwd",
        "'; DROP TABLE audit; --",
        "\x1b[2J\x1b]0;pwned\x07",
        "<!channel> <https://evil.example|Your Slack session expired>",
        "<script>alert(1)</script>",
        "http://169.254.169.254/latest/meta-data/",
        "x" * 10_000,
        "{{7*7}} ${7*7} %s %n",
    ]
    slots = ["platform", "period", "topic", "experiment", "post_id", "url", "brief", "rating"]

    def payload() -> str:
        entities = rng.choice(
            [
                "",
                json.dumps({rng.choice(slots): rng.choice(hostile_values)}),
                "{}",
                json.dumps({"rating": rng.choice(["999", "-1", "x", "3"])}),
                json.dumps({"platform": "instagram", "period": "last week"}),
                json.dumps({"draft_text": "x" * rng.randint(1, 4000)}),
                '{"broken": ',
                json.dumps({"a": [1, {"b": None}]}),
                "[1, 2, 3]",
            ]
        )
        return f"/{rng.choice(intents)}{entities}"

    makers = [
        lambda: "".join(rng.choices(string.printable, k=rng.randint(1, 60))),
        lambda: rng.choice(words) * rng.randint(500, 4000),  # huge
        lambda: "".join(rng.choices(controls + "ab ", k=rng.randint(1, 40))),
        payload,
        lambda: " ".join(rng.choices(words, k=rng.randint(1, 12))),
        lambda: "".join(_char(rng.randint(0x80, 0x2FFFF)) for _ in range(rng.randint(1, 30))),
        lambda: rng.choice(["", " ", "\n", "/", "//", "{}", "null", "💥" * 50]),
        lambda: "SELECT * FROM audit; -- " + "../" * rng.randint(1, 10) + "etc/passwd",
        lambda: (
            rng.choice(  # markup: Slack mrkdwn, HTML, Markdown links
                [
                    "<!channel> <https://evil.example|Your Slack session expired> I need a person",
                    "<script>alert(document.cookie)</script> what is your return policy?",
                    "*bold* _italic_ ~strike~ `code` <@U0123> <#C0123>",
                    "[click me](javascript:alert(1)) how do I return shoes?",
                ]
            )
            + " " * rng.randint(0, 3)
        ),
    ]
    return [rng.choice(makers)() for _ in range(n)]


@pytest.mark.parametrize(
    "count", [MESSAGES, pytest.param(SLOW_MESSAGES, marks=pytest.mark.slow, id="many")]
)
def test_fuzzed_messages_get_no_5xx_and_leak_nothing(e2e: E2E, count: int) -> None:
    messages = fuzz_messages(count)
    staff_only = [s.lower() for s in internal_strings(e2e)]
    senders = [f"fuzz-{uuid.uuid4().hex[:8]}" for _ in range(count // TURNS_PER_SENDER + 1)]
    # A reply may quote anything its sender wrote in the conversation (a follow-up
    # names the earlier question); turns of one sender run concurrently, so all of
    # them count as said.
    conversations = [
        "\n".join(messages[start : start + TURNS_PER_SENDER])
        for start in range(0, len(messages), TURNS_PER_SENDER)
    ]

    staff_headers = {"Authorization": f"Bearer {e2e.staff_token}"}

    def send(job: tuple[int, str]) -> tuple[int, int]:
        n, text = job
        staff = (n // TURNS_PER_SENDER) % 2 == 0
        conversation = conversations[n // TURNS_PER_SENDER]
        reply = httpx.post(
            f"{e2e.stack.config.bot_url}/webhooks/rest/webhook",
            json={"sender": senders[n // TURNS_PER_SENDER], "message": text},
            headers=staff_headers if staff else {},
            timeout=120,
        )
        assert reply.status_code < 500, (text[:80], reply.status_code, reply.text[:300])
        if reply.status_code != 200:
            reason = reply.json()["error"]
            assert "\n" not in reason and not leaks(reason), reason
            return reply.status_code, 0
        shown = " ".join(m.get("text") or "" for m in reply.json())
        found = leaks(shown, said=conversation)
        assert not found, (text[:80], found, shown[:300])
        if not staff:
            lowered, said = shown.lower(), conversation.lower()
            seen = [s for s in staff_only if s in lowered and s not in said]
            assert not seen, (text[:80], seen, shown[:300])
        return 200, len(reply.json())

    with ThreadPoolExecutor(max_workers=4) as pool:
        answered = list(pool.map(send, enumerate(messages)))
    assert len(answered) == count
    statuses = {status for status, _ in answered}
    assert statuses <= {200, 400, 413, 429}, statuses
    # Most messages get some reply (an empty one is allowed: e.g. a bare "/").
    assert sum(1 for status, replies in answered if status == 200 and replies) >= count // 2


def test_the_fuzz_set_is_varied_and_repeatable() -> None:
    first, again = fuzz_messages(200), fuzz_messages(200)
    assert first == again
    assert any(m.startswith("/") and "{" in m for m in first)
    assert any(len(m) > 2_000 for m in first)
    assert any(any(ord(c) < 32 for c in m) for m in first)
    assert any("<!channel>" in m for m in first)
    assert any(m.startswith("/") and "etc/passwd" in m for m in fuzz_messages(1000))
