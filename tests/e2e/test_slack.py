"""Slack end to end: signed events into the running Rasa, answers out to a fake Slack Web API.

The bot's Slack channel (bot/slack.py) posts to :class:`tests.fakes.slack.FakeSlack`
(``BEACON_SLACK_API_URL``, set by the ``slack`` fixture). Each test uses its own
Slack channel id, so the session-wide fake's recorded calls do not mix.

"No answer" is checked without clocks: after the request that must not be answered,
a valid message goes to the same channel, and once its answer has arrived the
refused or replayed one has had every chance to produce one.
"""

from __future__ import annotations

import json
import re
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from analytics.listening import sentiment_summary
from analytics.periods import parse_period
from analytics.scope import Scope
from beacon.scoring import current_scorer
from bot._slack_flow import WORKING_TEXT
from bot._slack_format import FEEDBACK_BLOCK_ID, MAX_BLOCKS
from bot._slack_guard import sign
from tests.conftest import answered_from_public_pages
from tests.e2e.conftest import E2E, SLACK_SECTION_CHARS, SlackE2E
from tests.fakes.slack import SlackCall

pytestmark = pytest.mark.e2e

BOT_USER = "UBEACON"
TEAM = "TBEACON"
#: A full member of the app's workspace (FakeSlack's users.info says so); the staff asker.
MARKETER = "UMARKETER"
#: A multi-channel guest of the app's workspace.
GUEST = "UAGENCYGUEST"
ANSWER_TIMEOUT_S = 180.0
SENTIMENT_QUESTION = "how is sentiment on instagram last week?"
INFLUENCER_QUESTION = "who should we work with for trail running shoes under 5k?"


def _ts() -> str:
    return f"{int(time.time())}.{secrets.randbelow(10**6):06d}"


def _channel(prefix: str = "C") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10].upper()}"


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _squash(text: str) -> str:
    """The text without white space, and with each dashboard link's expiry and signature
    (made per answer) reduced to a marker."""
    unsigned = re.sub(r"expires=\d+&(?:amp;)?sig=[\w-]+", "expires&sig", text)
    return re.sub(r"\s+", "", unsigned)


def _sections(call: SlackCall) -> list[str]:
    return [b["text"]["text"] for b in call.params.get("blocks") or [] if b["type"] == "section"]


def _answer_text(call: SlackCall) -> str:
    return _unescape("\n\n".join(_sections(call)))


def _is_sentiment(call: SlackCall) -> bool:
    """Whether a posted answer is a sentiment summary ("… across N posts")."""
    return bool(re.search(r"across [\d,]+ posts", _answer_text(call)))


@dataclass
class SlackDriver:
    """Sends signed Slack requests to the bot and reads what it posted to the fake."""

    e2e: E2E
    slack: SlackE2E

    @property
    def fake(self) -> Any:
        return self.slack.fake

    def _post(
        self,
        path: str,
        body: bytes,
        content_type: str,
        *,
        secret: str | None = None,
        age_s: int = 0,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        timestamp = str(int(time.time()) - age_s)
        signature = sign(secret or self.slack.signing_secret, timestamp, body)
        return httpx.post(
            f"{self.e2e.stack.config.bot_url}/webhooks/slack/{path}",
            content=body,
            headers={
                "Content-Type": content_type,
                "X-Slack-Request-Timestamp": timestamp,
                "X-Slack-Signature": signature,
                **(headers or {}),
            },
            timeout=10,
        )

    def event_body(
        self,
        text: str,
        channel: str,
        ts: str,
        *,
        thread_ts: str | None = None,
        dm: bool = False,
        user: str = MARKETER,
        ext_shared: bool = False,
    ) -> bytes:
        event: dict[str, Any] = {
            "type": "message" if dm else "app_mention",
            "user": user,
            "team": TEAM,
            "text": text if dm else f"<@{BOT_USER}> {text}",
            "ts": ts,
            "channel": channel,
            "event_ts": ts,
        }
        if dm:
            event["channel_type"] = "im"
        if thread_ts:
            event["thread_ts"] = thread_ts
        body = {
            "token": "unused",
            "team_id": TEAM,
            "api_app_id": "ABEACON",
            "type": "event_callback",
            "event_id": f"Ev{uuid.uuid4().hex[:12].upper()}",
            "event_time": int(time.time()),
            "is_ext_shared_channel": ext_shared,
            "event": event,
            "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
        }
        return json.dumps(body).encode()

    def send_event(self, body: bytes, **kwargs: Any) -> httpx.Response:
        return self._post("events", body, "application/json", **kwargs)

    def click(self, channel: str, thread_ts: str, action: dict[str, Any]) -> httpx.Response:
        payload = {
            "type": "block_actions",
            "team": {"id": TEAM},
            "user": {"id": MARKETER, "team_id": TEAM},
            "channel": {"id": channel},
            "container": {
                "type": "message",
                "message_ts": _ts(),
                "channel_id": channel,
                "thread_ts": thread_ts,
            },
            "message": {"type": "message", "ts": _ts(), "thread_ts": thread_ts},
            "actions": [{**action, "type": "button", "action_ts": _ts()}],
            "trigger_id": uuid.uuid4().hex,
        }
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self._post("interactive", body, "application/x-www-form-urlencoded")

    def posts(
        self, channel: str, thread_ts: str, method: str = "chat.postMessage"
    ) -> list[SlackCall]:
        return [
            call
            for call in self.fake.calls_to(method)
            if (call.params.get("channel") or call.params.get("channel_id")) == channel
            and call.params.get("thread_ts") == thread_ts
        ]

    def answers(self, channel: str, thread_ts: str) -> list[SlackCall]:
        """The thread's answers (without the "Working on it…" notes)."""
        return [c for c in self.posts(channel, thread_ts) if c.params.get("text") != WORKING_TEXT]

    def wait(
        self,
        channel: str,
        thread_ts: str,
        count: int = 1,
        method: str = "answers",
        until: Callable[[list[SlackCall]], bool] | None = None,
    ) -> list[SlackCall]:
        """The thread's calls of ``method`` once there are ``count`` (or ``until`` holds)."""
        deadline = time.monotonic() + ANSWER_TIMEOUT_S
        while time.monotonic() < deadline:
            found = (
                self.answers(channel, thread_ts)
                if method == "answers"
                else self.posts(channel, thread_ts, method)
            )
            if until(found) if until is not None else len(found) >= count:
                return found
            time.sleep(0.1)
        raise AssertionError(
            f"expected {count} {method} in {channel}/{thread_ts}; calls: "
            f"{[(c.method, c.params.get('channel'), c.params.get('thread_ts')) for c in self.fake.calls]}"
        )


@dataclass
class Asked:
    """A question asked in a channel and the one answer it got."""

    channel: str
    ts: str
    body: bytes
    answer: SlackCall


@pytest.fixture(scope="module")
def driver(e2e: E2E, slack: SlackE2E) -> SlackDriver:
    slack.fake.add_user(MARKETER, TEAM)
    slack.fake.add_user(GUEST, TEAM, restricted=True)
    return SlackDriver(e2e, slack)


@pytest.fixture(scope="module")
def asked(driver: SlackDriver) -> Asked:
    """The sentiment question, asked once in a fresh channel, with its answer and chart."""
    channel, ts = _channel(), _ts()
    body = driver.event_body(SENTIMENT_QUESTION, channel, ts)
    reply = driver.send_event(body)
    assert reply.status_code == 200, reply.text
    (answer,) = driver.wait(channel, ts)
    driver.wait(channel, ts, method="files.completeUploadExternal")
    return Asked(channel=channel, ts=ts, body=body, answer=answer)


def test_signed_event_gets_one_threaded_answer_with_numbers_and_chart(
    asked: Asked, driver: SlackDriver, e2e: E2E
) -> None:
    with e2e.demo.workspace.connect() as con:
        period = parse_period("last week", e2e.demo.end_date)
        scope = Scope(period, current_scorer().version, platform="instagram").for_brand(con)
        expected = sentiment_summary(con, scope)
    assert expected.total > 0
    assert len(driver.answers(asked.channel, asked.ts)) == 1
    text = _answer_text(asked.answer)
    assert "Instagram" in text and "last week" in text
    assert f"across {expected.total:,} posts" in text
    assert f"{100 * expected.share('negative'):.0f}% negative" in text
    blocks = asked.answer.params["blocks"]
    assert blocks[-1]["block_id"] == FEEDBACK_BLOCK_ID
    assert [e["text"]["text"] for e in blocks[-1]["elements"]] == ["👍", "👎", "📌 Pin"]
    # "Working on it…", when the answer took a while, came before the answer.
    posts = driver.posts(asked.channel, asked.ts)
    assert posts[-1] is asked.answer
    assert all(p.params["text"] == WORKING_TEXT for p in posts[:-1]) and len(posts) <= 2
    # The chart: uploaded (files upload v2) into the same thread, as a PNG.
    (completed,) = driver.posts(asked.channel, asked.ts, "files.completeUploadExternal")
    files = completed.params["files"]
    (file_id,) = [f["id"] for f in (json.loads(files) if isinstance(files, str) else files)]
    (upload,) = [c for c in driver.fake.calls_to("upload") if c.params["file_id"] == file_id]
    assert upload.body[:4] == b"\x89PNG"
    assert completed.token == driver.slack.bot_token


def test_rate_limit_and_server_error_still_deliver_the_answer_once(driver: SlackDriver) -> None:
    channel, ts = _channel(), _ts()
    driver.fake.fail_next("chat.postMessage", 429, retry_after=1)
    driver.fake.fail_next("chat.postMessage", 503)
    reply = driver.send_event(driver.event_body(SENTIMENT_QUESTION, channel, ts))
    assert reply.status_code == 200, reply.text
    (answer,) = driver.wait(channel, ts)
    driver.wait(channel, ts, method="files.completeUploadExternal")  # the chart came after it
    assert "Instagram" in _answer_text(answer)
    assert len(driver.answers(channel, ts)) == 1
    refused = [c for c in driver.fake.failed if c.params.get("channel") == channel]
    assert len(refused) == 2


def test_replayed_event_gets_no_second_answer(asked: Asked, driver: SlackDriver) -> None:
    retry = driver.send_event(
        asked.body, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    )
    assert retry.status_code == 200
    # A follow-up in the same thread (same conversation, so Rasa handles it after
    # anything the replay could have started) marks the point where we look.
    follow_up = driver.event_body("thanks", asked.channel, _ts(), thread_ts=asked.ts)
    assert driver.send_event(follow_up).status_code == 200
    answers = driver.wait(
        asked.channel, asked.ts, until=lambda found: any(not _is_sentiment(c) for c in found)
    )
    assert [_is_sentiment(c) for c in answers] == [True, False]
    assert answers[0] is asked.answer
    assert len(driver.posts(asked.channel, asked.ts, "files.completeUploadExternal")) == 1


def test_bad_signature_and_stale_timestamp_are_refused_and_unanswered(
    driver: SlackDriver,
) -> None:
    # All three messages are in one thread, so one conversation that Rasa handles in
    # order: had either refused one been let in, its answer would come before the last.
    channel, thread = _channel(), _ts()
    forged = driver.event_body(SENTIMENT_QUESTION, channel, thread)
    refused = driver.send_event(forged, secret="not-the-signing-secret")
    assert refused.status_code == 401 and "does not match" in refused.text
    stale_body = driver.event_body(SENTIMENT_QUESTION, channel, _ts(), thread_ts=thread)
    stale = driver.send_event(stale_body, age_s=6 * 60)
    assert stale.status_code == 401 and "away from now" in stale.text
    greeting = driver.event_body("hi there", channel, _ts(), thread_ts=thread)
    assert driver.send_event(greeting).status_code == 200
    (answer,) = driver.wait(channel, thread)
    assert not _is_sentiment(answer) and "Beacon" in _answer_text(answer)
    assert driver.posts(channel, thread, "files.completeUploadExternal") == []


def test_thumbs_up_click_is_stored_as_feedback(asked: Asked, driver: SlackDriver, e2e: E2E) -> None:
    feedback = asked.answer.params["blocks"][-1]
    (thumbs_up,) = [e for e in feedback["elements"] if e["text"]["text"] == "👍"]
    reply = driver.click(
        asked.channel,
        asked.ts,
        {
            "action_id": thumbs_up["action_id"],
            "value": thumbs_up["value"],
            "block_id": feedback["block_id"],
        },
    )
    assert reply.status_code == 200
    (ack,) = driver.wait(asked.channel, asked.ts, method="chat.postEphemeral")
    assert ack.params["user"] == MARKETER
    assert "helpful" in ack.params["text"] and "sentiment summary" in ack.params["text"]
    conversation = f"slack-{asked.channel}-{asked.ts}"
    with e2e.demo.workspace.connect() as con:
        rows = con.execute(
            "SELECT f.verdict, a.kind FROM feedback f JOIN audit a ON a.audit_id = f.audit_id "
            "WHERE f.conversation_id = ?",
            [conversation],
        ).fetchall()
    assert rows == [("up", "sentiment_summary")]


def test_outsiders_get_customer_answers_in_shared_channels_and_as_guests(
    driver: SlackDriver,
) -> None:
    # The marketer asks in a Slack Connect channel (an agency reads it); a guest asks
    # in an internal one. Both get what a customer gets: no sentiment numbers.
    shared, shared_ts = _channel(), _ts()
    body = driver.event_body(SENTIMENT_QUESTION, shared, shared_ts, ext_shared=True)
    assert driver.send_event(body).status_code == 200
    internal, guest_ts = _channel(), _ts()
    assert (
        driver.send_event(
            driver.event_body(SENTIMENT_QUESTION, internal, guest_ts, user=GUEST)
        ).status_code
        == 200
    )
    for channel, ts in ((shared, shared_ts), (internal, guest_ts)):
        (answer,) = driver.wait(channel, ts)
        text = _answer_text(answer)
        assert not _is_sentiment(answer) and answered_from_public_pages(text), text
        assert driver.posts(channel, ts, "files.completeUploadExternal") == []
    asked_about = [c.params.get("user") for c in driver.fake.calls_to("users.info")]
    assert GUEST in asked_about


def test_long_answer_is_split_within_block_limits(driver: SlackDriver, e2e: E2E) -> None:
    channel, ts = _channel("D"), _ts()  # a direct message this time
    body = driver.event_body(INFLUENCER_QUESTION, channel, ts, dm=True)
    assert driver.send_event(body).status_code == 200
    (answer,) = driver.wait(channel, ts)
    sections = _sections(answer)
    assert len(sections) >= 2
    assert all(len(s) <= SLACK_SECTION_CHARS for s in sections)
    assert len(answer.params["blocks"]) <= MAX_BLOCKS
    text = _answer_text(answer)
    assert not answered_from_public_pages(text) and "Why #1 over #2:" in text
    # Nothing lost or reordered by the split: the same answer as over REST.
    assert _squash(text) == _squash(e2e.ask(INFLUENCER_QUESTION))


def test_url_verification_and_malformed_requests(driver: SlackDriver) -> None:
    challenge = json.dumps({"type": "url_verification", "challenge": "3eZbrw1aB"}).encode()
    reply = driver.send_event(challenge)
    assert reply.status_code == 200 and reply.json() == {"challenge": "3eZbrw1aB"}
    assert driver.send_event(b"{not json").status_code == 400
    no_id = json.dumps({"type": "event_callback", "event": {"type": "app_mention"}}).encode()
    assert driver.send_event(no_id).status_code == 400
    bad_form = driver._post("interactive", b"payload=%7Bnope", "application/x-www-form-urlencoded")
    assert bad_form.status_code == 400
