"""Customer support on the public channel, end to end: hand-off, ratings, limits, no leaks.

The leak test sends every staff question of the NLU data (as written or reworded, in
turn; both forms of each in the ``slow`` run) through the customer channel and scans
every reply for strings that only staff may see, all read from the demo workspace and
the internal documents. Requests are spread over loopback addresses (127.0.1.x) as many
customers would be, so the per-address limit (tested on its own below) does not
throttle the test itself.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from actions.base import HANDOFF_OFFER
from beacon.demo import CAMPAIGNS, CREATORS, INFLUENCERS
from tests.conftest import PROJECT_ROOT, answered_from_public_pages
from tests.e2e.conftest import E2E, SlackE2E

pytestmark = pytest.mark.e2e

NLU_DIR = PROJECT_ROOT / "bot" / "data" / "nlu"
KNOWLEDGE_DIR = PROJECT_ROOT / "data" / "knowledge"
#: Intents customers may use; every other intent in the NLU data is a staff question.
CUSTOMER_INTENTS = {
    "greet",
    "goodbye",
    "thank",
    "help",
    "bot_challenge",
    "affirm",
    "deny",
    "out_of_scope",
    "inform",
    "request_human",
    "rate_conversation",
    "give_feedback",
    "knowledge_followup",
}
_ANNOTATION = re.compile(r"\[([^\]]+)\]\([^)]+\)")


def staff_questions() -> dict[str, list[str]]:
    """Every NLU example of a staff intent, with entity annotations removed."""
    questions: dict[str, list[str]] = {}
    for path in sorted(NLU_DIR.glob("*.yml")):
        for item in yaml.safe_load(path.read_text()).get("nlu") or []:
            intent = item.get("intent")
            if not intent or intent in CUSTOMER_INTENTS:
                continue
            for line in str(item["examples"]).splitlines():
                text = _ANNOTATION.sub(r"\1", line.strip().removeprefix("- ").strip())
                if text:
                    questions.setdefault(intent, []).append(text)
    return questions


def paraphrase(question: str, n: int) -> str:
    """A rewording a customer might type (polite, urgent, chatty or shouted)."""
    forms = (
        "could you tell me {q}",
        "I need to know this now: {q}",
        "hey, quick one - {q} thanks",
        "{Q}",
    )
    return forms[n % len(forms)].format(q=question, Q=question.upper())


def internal_strings(e2e: E2E) -> list[str]:
    """Strings only staff may see: experiments, creators, campaigns and their figures,
    internal document names and titles, and the brand's own post ids."""
    found: set[str] = set()
    with e2e.demo.workspace.connect() as con:
        for name, experiment_id in con.execute(
            "SELECT name, experiment_id FROM experiments"
        ).fetchall():
            found |= {str(name), str(experiment_id)}
        for handle, influencer_id in con.execute(
            "SELECT handle, influencer_id FROM influencers"
        ).fetchall():
            found |= {str(handle), str(influencer_id)}
        own = con.execute("SELECT value FROM meta WHERE key = 'own_accounts'").fetchall()
        own_accounts = json.loads(own[0][0]) if own else []
        found |= {
            str(row[0])
            for row in con.execute(
                "SELECT post_id FROM posts WHERE list_contains(?, account) LIMIT 200",
                [own_accounts],
            ).fetchall()
        }
    found |= {handle for handle, *_ in INFLUENCERS} | {c.handle for c in CREATORS}
    for campaign_id, name, _start, _end, budget, objective in CAMPAIGNS:
        found |= {campaign_id, name, objective, f"{budget:,.0f}", f"{budget:.0f}"}
    for path in (KNOWLEDGE_DIR / "internal").rglob("*"):
        if path.is_file():
            found |= {path.name, f"internal/{path.relative_to(KNOWLEDGE_DIR / 'internal')}"}
            titles = [
                line[2:].strip() for line in path.read_text().splitlines() if line.startswith("# ")
            ]
            found |= set(titles[:1])
    public = " ".join(
        p.read_text().lower() for p in (KNOWLEDGE_DIR / "public").rglob("*") if p.is_file()
    )
    # A string the public pages also contain is not internal (e.g. a product name).
    return sorted(s for s in found if len(s) >= 4 and s.lower() not in public)


def _reply_text(messages: list[dict[str, Any]]) -> str:
    parts: list[str] = []
    for message in messages:
        parts.append(message.get("text") or "")
        parts += [f"{b.get('title')} {b.get('payload')}" for b in message.get("buttons") or []]
    return "\n".join(parts)


@pytest.fixture
def customer_clients(e2e: E2E) -> Iterator[list[httpx.Client]]:
    """Customer HTTP clients on different loopback source addresses (no staff token)."""
    clients = [
        httpx.Client(
            base_url=e2e.stack.config.bot_url,
            timeout=120,
            transport=httpx.HTTPTransport(local_address=f"127.0.1.{i}"),
        )
        for i in range(1, 21)
    ]
    yield clients
    for client in clients:
        client.close()


def _send(client: httpx.Client, sender: str, text: str) -> httpx.Response:
    return client.post("/webhooks/rest/webhook", json={"sender": sender, "message": text})


#: Staff examples per intent a customer asks in the default run, spread over each
#: intent's list; the ``slow`` runs ask every example.
LEAK_SAMPLE_PER_INTENT = 24


@pytest.mark.parametrize(
    "forms",
    [
        "sample",
        # Every staff example, as written or reworded in turn; then each both ways.
        pytest.param("each_once", marks=pytest.mark.slow, id="each_once"),
        pytest.param("every_form", marks=pytest.mark.slow, id="every_form"),
    ],
    ids=str,
)
def test_customer_channel_leaks_nothing_and_staff_keep_every_capability(
    e2e: E2E, customer_clients: list[httpx.Client], forms: str
) -> None:
    questions = staff_questions()
    assert len(questions) >= 10 and sum(map(len, questions.values())) >= 200
    secrets = internal_strings(e2e)
    assert {"mountain_maya", "Summer Sprint", "brand-voice-guide.md"} <= set(secrets)
    if forms == "sample":
        # Every intent, its examples spread over its list (those of each file, not only
        # the first file's), each rewording kind used within every intent.
        questions = {
            intent: examples[:: max(1, len(examples) // LEAK_SAMPLE_PER_INTENT)][
                :LEAK_SAMPLE_PER_INTENT
            ]
            for intent, examples in questions.items()
        }
    written = [(q, i) for qs in questions.values() for i, q in enumerate(qs)]
    if forms == "every_form":
        asked = written + [(paraphrase(q, i), i) for q, i in written]
    else:
        # Each example once: as written or reworded, in turn (every rewording kind).
        asked = [(paraphrase(q, i // 2) if n % 2 else q, i) for n, (q, i) in enumerate(written)]

    def ask(job: tuple[int, tuple[str, int]]) -> tuple[str, list[dict[str, Any]]]:
        n, (question, _) = job
        client = customer_clients[(n // 40) % len(customer_clients)]
        reply = _send(client, f"leak-{uuid.uuid4().hex[:10]}", question)
        assert reply.status_code == 200, (question, reply.status_code, reply.text[:200])
        return question, reply.json()

    with ThreadPoolExecutor(max_workers=4) as pool:
        replies = list(pool.map(ask, enumerate(asked)))
    leaks = [
        (question, secret)
        for question, messages in replies
        for secret in secrets
        if secret.lower() in _reply_text(messages).lower()
    ]
    assert leaks == []
    assert not [q for q, messages in replies if any(m.get("image") for m in messages)]
    # Every staff question a customer asks is answered from the public pages (a quote,
    # or "that isn't in our help pages" with the offer of a person), never refused bare.
    assert not [q for q, m in replies if not answered_from_public_pages(_reply_text(m))]

    # The same questions from staff still get their answers (one per intent).
    for intent, examples in questions.items():
        answer = e2e.ask(examples[0])
        assert answer.strip() and not answered_from_public_pages(answer), (intent, answer)


def test_frustrated_customer_is_handed_to_slack(e2e: E2E, slack: SlackE2E) -> None:
    sender = f"web-{uuid.uuid4().hex[:8]}"
    e2e.ask("where is my order? I ordered it last week", sender, staff=False)
    with e2e.client(staff=False) as client:
        messages = client.send(sender, "WHERE IS MY ORDER?? I want a refund now!")
    offer = next(m for m in messages if m.get("text") == HANDOFF_OFFER)
    assert [b["payload"] for b in offer["buttons"]] == ["/request_human", "/deny"]
    before = len(slack.fake.calls_to("chat.postMessage"))
    with e2e.client(staff=False) as client:
        reply = client.send(sender, "/request_human")
    text = _reply_text(reply)
    reference = re.search(r"reference (H-[0-9A-F]{6})", text)
    assert reference, text
    posted = slack.fake.wait_for("chat.postMessage", count=before + 1)[before:]
    handoff = [c for c in posted if reference.group(1) in c.params.get("text", "")]
    assert len(handoff) == 1 and handoff[0].params["channel"] == "C0SUPPORT"
    # The customer's words are quoted in the blocks, escaped, never in the notification.
    quoted = json.dumps(handoff[0].params["blocks"])
    assert "where is my order? I ordered it last week" in quoted
    assert "where is my order" not in handoff[0].params["text"]
    # Asking again keeps the reference and posts nothing new.
    with e2e.client(staff=False) as client:
        again = _reply_text(client.send(sender, "/request_human"))
    assert f"already with the Trailbird support team, reference {reference.group(1)}" in again
    # The satisfaction question follows; a rating is kept, once.
    assert "/rate_conversation" in text
    e2e.ask('/rate_conversation{"rating": "4"}', sender, staff=False)
    assert "already rated" in e2e.ask('/rate_conversation{"rating": "1"}', sender, staff=False)
    assert len(slack.fake.calls_to("chat.postMessage")) == before + 1
    with e2e.demo.workspace.connect() as con:
        ratings = con.execute(
            "SELECT rating FROM support_ratings WHERE conversation_id = ?", [f"customer:{sender}"]
        ).fetchall()
    assert ratings == [(4,)]


def test_customer_statements_about_orders_get_help_pages_not_staff_options(e2e: E2E) -> None:
    # Statements with times ("2 weeks late", "by friday") look like the engagement form's
    # time answers; a customer must get the help pages, never the staff "what about it?".
    for message in ("it has been 3 days and nothing arrived", "can I get it by friday"):
        reply = e2e.ask(message, f"web-{uuid.uuid4().hex[:8]}", staff=False)
        assert "how a post will do" not in reply and "sentiment" not in reply, reply
        assert "public/" in reply or "person" in reply, reply


def test_support_chats_reach_staff_listening(e2e: E2E) -> None:
    sender = f"web-{uuid.uuid4().hex[:8]}"
    e2e.ask("do you ship the Canyon GTX to Norway?", sender, staff=False)
    reply = e2e.ask("how are support chats trending this month?")
    assert "support chats" in reply and "%" in reply
    with e2e.demo.workspace.connect() as con:
        stored = con.execute(
            "SELECT count(*) FROM posts WHERE platform = 'support' AND text LIKE '%Canyon GTX to Norway%'"
        ).fetchall()
    assert stored == [(1,)]


def test_customer_burst_gets_429_and_staff_are_unaffected(e2e: E2E) -> None:
    url = f"{e2e.stack.config.bot_url}/webhooks/rest/webhook"
    burst_from = httpx.HTTPTransport(local_address="127.0.2.1")
    with httpx.Client(timeout=60, transport=burst_from) as client:
        sender = f"burst-{uuid.uuid4().hex[:8]}"

        def one(_: int) -> httpx.Response:
            return client.post(url, json={"sender": sender, "message": "/greet"})

        with ThreadPoolExecutor(max_workers=8) as pool:
            session_burst = list(pool.map(one, range(30)))

        def other(n: int) -> httpx.Response:
            return client.post(url, json={"sender": f"addr-{n}", "message": "/greet"})

        with ThreadPoolExecutor(max_workers=8) as pool:
            address_burst = list(pool.map(other, range(120)))
    codes = [r.status_code for r in session_burst]
    assert set(codes) == {200, 429} and codes.count(429) >= 15  # a burst of 10 per session
    limited = next(r for r in session_burst if r.status_code == 429)
    assert int(limited.headers["Retry-After"]) >= 1
    assert "faster than I can answer" in limited.json()["error"]
    assert [r.status_code for r in address_burst].count(429) >= 40  # a burst of 60 per address
    # Staff are never limited, and the server still answers everyone else.
    assert "marketing assistant" in e2e.ask("/greet")
    assert "support assistant" in e2e.ask("/greet", staff=False)


def test_customer_message_length_is_capped(e2e: E2E) -> None:
    url = f"{e2e.stack.config.bot_url}/webhooks/rest/webhook"
    too_long = {"sender": "long-1", "message": "a" * 1001}
    reply = httpx.post(url, json=too_long, timeout=30)
    assert reply.status_code == 400 and "at most 1000 characters" in reply.json()["error"]


def test_leak_scan_finds_a_planted_leak() -> None:
    # The scan itself must be able to fail: a reply quoting an internal name is caught.
    secrets = ["Summer Sprint", "mountain_maya"]
    reply: list[dict[str, Any]] = [{"text": "Our Summer Sprint campaign is doing well"}]
    assert [s for s in secrets if s.lower() in _reply_text(reply).lower()] == ["Summer Sprint"]


def test_staff_questions_cover_every_staff_intent() -> None:
    questions = staff_questions()
    assert {
        "ask_sentiment",
        "analyze_experiment",
        "rank_influencers",
        "ask_knowledge",
        "request_digest",
    } <= set(questions)
    assert all(not _ANNOTATION.search(q) for qs in questions.values() for q in qs)
    assert Path(NLU_DIR).is_dir()
