"""The Slack channel's pure pieces: signatures, replay cache, audience, splitting, blocks, timing.

These modules are standard-library only, so they run here (Python 3.11) without
Rasa; the channel itself (bot/slack.py) is tested end to end in tests/e2e/test_slack.py.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from actions.parsing import feedback_verdict
from bot._slack_flow import with_progress
from bot._slack_format import (
    FEEDBACK_BLOCK_ID,
    FEEDBACK_TEXTS,
    MAX_BLOCKS,
    SECTION_TEXT_LIMIT,
    build_answer,
    conversation_id,
    escape_mrkdwn,
    split_text,
)
from bot._slack_guard import (
    SHARED_CHANNEL,
    AudienceSignals,
    RecentKeys,
    SlackRequestRejected,
    TtlCache,
    check_signature,
    outsider_channel,
    outsider_in_payload,
    outsider_user,
    sign,
)

NLU = Path(__file__).resolve().parents[2] / "bot" / "data" / "nlu"

# The worked example in Slack's "Verifying requests from Slack" guide.
SLACK_DOC_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
SLACK_DOC_TIMESTAMP = "1531420618"
SLACK_DOC_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
    b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
    b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
SLACK_DOC_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


# -- signatures --------------------------------------------------------------------
def test_signature_matches_slacks_worked_example() -> None:
    assert sign(SLACK_DOC_SECRET, SLACK_DOC_TIMESTAMP, SLACK_DOC_BODY) == SLACK_DOC_SIGNATURE
    check_signature(
        SLACK_DOC_SECRET,
        SLACK_DOC_TIMESTAMP,
        SLACK_DOC_SIGNATURE,
        SLACK_DOC_BODY,
        now=float(SLACK_DOC_TIMESTAMP) + 299,
    )


@pytest.mark.parametrize(
    ("secret", "timestamp", "signature", "body", "now", "match"),
    [
        ("s3cret", "1000", sign("other", "1000", b"{}"), b"{}", 1000.0, "does not match"),
        ("s3cret", "1000", sign("s3cret", "1000", b"{}"), b'{"x":1}', 1000.0, "does not match"),
        ("s3cret", "1000", sign("s3cret", "1000", b"{}"), b"{}", 1301.0, "301 s away from now"),
        ("s3cret", "1000", sign("s3cret", "1000", b"{}"), b"{}", 600.0, "400 s away from now"),
        ("s3cret", None, "v0=abc", b"{}", 1000.0, "one is missing"),
        ("s3cret", "1000", None, b"{}", 1000.0, "one is missing"),
        ("s3cret", "soon", "v0=abc", b"{}", 1000.0, "must be Unix seconds"),
        ("", "1000", sign("", "1000", b"{}"), b"{}", 1000.0, "no signing secret"),
        # Non-ASCII (and, as sanic decodes them, undecodable) header bytes: refused, not a 500.
        ("s3cret", "1000", "v0=é" + "0" * 62, b"{}", 1000.0, "does not match"),
        ("s3cret", "1000", "v0=\udcff", b"{}", 1000.0, "does not match"),
    ],
)
def test_bad_or_stale_requests_are_rejected(
    secret: str, timestamp: str | None, signature: str | None, body: bytes, now: float, match: str
) -> None:
    with pytest.raises(SlackRequestRejected, match=match):
        check_signature(secret, timestamp, signature, body, now=now)


def test_a_request_within_five_minutes_is_accepted() -> None:
    body = b'{"type":"event_callback"}'
    check_signature("s3cret", "1000", sign("s3cret", "1000", body), body, now=1300.0)


# -- replay cache ------------------------------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_recent_keys_remember_for_the_ttl_then_forget() -> None:
    clock = Clock()
    keys = RecentKeys(ttl_s=60, max_keys=100, clock=clock)
    assert keys.add("event:Ev1") is True
    clock.now = 59
    assert keys.add("event:Ev1") is False  # a retry within the TTL
    assert keys.add("event:Ev2") is True
    clock.now = 61
    assert len(keys) == 1  # Ev1 expired, Ev2 (added at 59) not yet
    assert keys.add("event:Ev1") is True


def test_recent_keys_are_bounded_and_drop_the_oldest() -> None:
    keys = RecentKeys(ttl_s=3600, max_keys=3, clock=Clock())
    for i in range(5):
        assert keys.add(f"k{i}")
    assert len(keys) == 3
    assert keys.add("k0") is True  # evicted, so new again
    assert keys.add("k4") is False


def test_recent_keys_need_positive_limits() -> None:
    with pytest.raises(ValueError, match="must be positive"):
        RecentKeys(ttl_s=0)


def test_ttl_cache_keeps_values_for_the_ttl_and_stays_bounded() -> None:
    clock = Clock()
    cache: TtlCache[dict[str, Any]] = TtlCache(ttl_s=600, max_keys=2, clock=clock)
    cache.put("U1", {"team_id": "T1"})
    clock.now = 599
    assert cache.get("U1") == {"team_id": "T1"}
    clock.now = 600
    assert cache.get("U1") is None and len(cache) == 0
    for user in ("U1", "U2", "U3"):
        cache.put(user, {"id": user})
    assert cache.get("U1") is None and len(cache) == 2  # the oldest went first
    with pytest.raises(ValueError, match="must be positive"):
        TtlCache(ttl_s=600, max_keys=0)


# -- who gets staff answers -----------------------------------------------------------
MEMBER = {"id": "U1", "team_id": "T1", "is_restricted": False, "is_ultra_restricted": False}
INSIDE = AudienceSignals.read("T1", "T1", False)


def test_only_a_member_of_the_apps_workspace_in_an_unshared_channel_passes() -> None:
    assert outsider_in_payload(INSIDE, "C1") is None
    assert outsider_channel({"id": "C1", "is_ext_shared": False}) is None
    assert outsider_user(MEMBER, "T1") is None
    assert outsider_in_payload(INSIDE, "C1", staff_channels=frozenset({"C1"})) is None


@pytest.mark.parametrize(
    ("signals", "channel", "staff_channels", "match"),
    [
        (AudienceSignals.read("T1", "T1", True), "C1", None, "shared with another organisation"),
        (AudienceSignals.read("T1", "T2", False), "C1", None, "workspace T2, not T1"),
        (AudienceSignals.read("T1", None, False), "C1", None, "which workspace the user"),
        (AudienceSignals.read("T1", 7, False), "C1", None, "which workspace the user"),
        (AudienceSignals.read(None, "T1", False), "C1", None, "the app's workspace"),
        (INSIDE, "C2", frozenset({"C1"}), "C2 is not in BEACON_SLACK_STAFF_CHANNELS"),
    ],
)
def test_outsiders_are_known_from_the_payload(
    signals: AudienceSignals, channel: str, staff_channels: frozenset[str] | None, match: str
) -> None:
    reason = outsider_in_payload(signals, channel, staff_channels)
    assert reason is not None and match in reason


def test_a_payload_that_does_not_say_whether_the_channel_is_shared_is_looked_up() -> None:
    assert AudienceSignals.read("T1", "T1", "false").ext_shared is None
    assert outsider_in_payload(AudienceSignals.read("T1", "T1"), "C1") is None


@pytest.mark.parametrize(
    "channel",
    [
        None,  # the lookup failed
        {"id": "C1", "is_ext_shared": True},
        {"id": "C1", "is_ext_shared": False, "is_pending_ext_shared": True},
        {"id": "C1"},  # does not say
    ],
)
def test_shared_or_unknown_channels_make_customers(channel: dict[str, Any] | None) -> None:
    assert outsider_channel(channel) in {SHARED_CHANNEL, "the channel could not be looked up"}


def test_a_direct_message_is_judged_by_its_user() -> None:
    assert outsider_channel({"id": "D1", "is_im": True}) is None


@pytest.mark.parametrize(
    ("user", "match"),
    [
        (None, "could not be looked up"),
        ({**MEMBER, "is_restricted": True}, "guest"),
        ({**MEMBER, "is_restricted": True, "is_ultra_restricted": True}, "guest"),
        ({k: v for k, v in MEMBER.items() if k != "is_restricted"}, "guest"),
        ({**MEMBER, "is_stranger": True}, "not a member"),
        ({**MEMBER, "deleted": True}, "not a member"),
        ({**MEMBER, "team_id": "T2"}, "'T2' is not the app's 'T1'"),
    ],
)
def test_guests_strangers_and_unknown_users_are_customers(
    user: dict[str, Any] | None, match: str
) -> None:
    reason = outsider_user(user, "T1")
    assert reason is not None and match in reason


# -- splitting and blocks ----------------------------------------------------------
def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_split_text_keeps_everything_within_the_limit() -> None:
    paragraphs = [f"Paragraph {i}: " + "word " * (40 + 7 * i) for i in range(60)]
    text = "\n\n".join(paragraphs)
    pieces = split_text(text, limit=SECTION_TEXT_LIMIT)
    assert len(pieces) > 1
    assert all(0 < len(piece) <= SECTION_TEXT_LIMIT for piece in pieces)
    assert _squash("".join(pieces)) == _squash(text)
    # Cuts fall between paragraphs, so every piece starts a paragraph.
    assert all(piece.startswith("Paragraph ") for piece in pieces)


def test_split_text_cuts_a_word_longer_than_the_limit_but_not_an_entity() -> None:
    assert split_text("x" * 25, limit=10) == ["x" * 10, "x" * 10, "x" * 5]
    pieces = split_text(escape_mrkdwn("a" * 8 + "<b"), limit=10)
    assert pieces == ["a" * 8, "&lt;b"]
    assert split_text("  \n ") == []
    with pytest.raises(ValueError, match="at least 10"):
        split_text("abc", limit=5)


def test_answer_escapes_joins_and_ends_with_feedback() -> None:
    messages = [
        {"recipient_id": "c", "text": "clicked: p < 0.001 & lift > 0"},
        {"recipient_id": "c", "text": "Verdict: question beat plain."},
        {"recipient_id": "c", "image": "http://actions.test/charts/abc.png"},
    ]
    answer = build_answer(messages)
    assert answer.images == ("http://actions.test/charts/abc.png",)
    (post,) = answer.posts
    section, feedback = post.blocks
    assert section["text"]["text"] == (
        "clicked: p &lt; 0.001 &amp; lift &gt; 0\n\nVerdict: question beat plain."
    )
    assert feedback["block_id"] == FEEDBACK_BLOCK_ID
    assert [e["value"] for e in feedback["elements"]] == ["up", "down", "pin"]
    assert post.text.startswith("clicked: p &lt; 0.001")


def test_long_answer_splits_into_sections_and_messages_within_slacks_limits() -> None:
    text = "\n".join(f"• line {i}: " + "detail " * 60 for i in range(400))  # ~170,000 chars
    answer = build_answer([{"text": text}])
    assert len(answer.posts) >= 2
    sections = [b for post in answer.posts for b in post.blocks if b["type"] == "section"]
    assert all(len(b["text"]["text"]) <= SECTION_TEXT_LIMIT for b in sections)
    assert all(len(post.blocks) <= MAX_BLOCKS for post in answer.posts)
    assert _squash("".join(b["text"]["text"] for b in sections)) == _squash(text)
    # Only the last post carries the 👍/👎 buttons.
    last_blocks = [post.blocks[-1].get("block_id") for post in answer.posts]
    assert last_blocks.count(FEEDBACK_BLOCK_ID) == 1 and last_blocks[-1] == FEEDBACK_BLOCK_ID


def test_quick_replies_become_block_kit_buttons() -> None:
    buttons: list[dict[str, Any]] = [
        {"title": f"Experiment {i} " + "x" * 80, "payload": f'/inform{{"experiment":"e{i}"}}'}
        for i in range(30)
    ]
    answer = build_answer([{"text": "Which experiment?", "buttons": buttons}], feedback=False)
    (post,) = answer.posts
    assert [b["type"] for b in post.blocks] == ["section", "actions", "actions"]
    elements = post.blocks[1]["elements"] + post.blocks[2]["elements"]
    assert len(post.blocks[1]["elements"]) == 25
    assert [e["value"] for e in elements] == [b["payload"] for b in buttons]
    assert len({e["action_id"] for e in elements}) == 30
    assert all(len(e["text"]["text"]) <= 75 for e in elements)


def test_no_messages_no_posts() -> None:
    answer = build_answer([])
    assert answer.posts == () and answer.images == ()


def test_conversation_is_the_thread() -> None:
    assert conversation_id("C123", "1700000000.000100") == "slack-C123-1700000000.000100"


# -- feedback clicks speak the feedback action's language ---------------------------
def test_feedback_click_texts_are_read_as_the_right_verdict() -> None:
    assert {verdict: feedback_verdict(text) for verdict, text in FEEDBACK_TEXTS.items()} == {
        "up": "up",
        "down": "down",
    }


def test_feedback_click_texts_are_give_feedback_examples() -> None:
    examples: set[str] = set()
    for path in NLU.glob("*.yml"):
        for item in yaml.safe_load(path.read_text()).get("nlu") or []:
            if item.get("intent") == "give_feedback":
                examples |= {line.lstrip("- ").strip() for line in item["examples"].splitlines()}
    assert set(FEEDBACK_TEXTS.values()) <= examples


# -- "working on it" ---------------------------------------------------------------
def test_fast_answers_skip_the_progress_note() -> None:
    said: list[str] = []

    async def work() -> str:
        return "answer"

    async def note() -> None:
        said.append("working")

    assert asyncio.run(with_progress(work(), note, after_s=5)) == "answer"
    assert said == []


def test_slow_answers_get_the_progress_note_first() -> None:
    said: list[str] = []

    async def work() -> str:
        await asyncio.sleep(0.3)
        said.append("answer")
        return "answer"

    async def note() -> None:
        said.append("working")

    assert asyncio.run(with_progress(work(), note, after_s=0.05)) == "answer"
    assert said == ["working", "answer"]


def test_errors_in_the_work_propagate() -> None:
    async def work() -> str:
        raise RuntimeError("rasa broke")

    async def note() -> None:
        return None

    with pytest.raises(RuntimeError, match="rasa broke"):
        asyncio.run(with_progress(work(), note, after_s=1))
