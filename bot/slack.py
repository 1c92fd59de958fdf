"""Beacon's Slack channel for Rasa 3.6: signed events in, threaded answers out.

Loaded by Rasa from credentials.yml (``bot.slack.BeaconSlackInput``); runs in the
bot environment (Python 3.10), so it imports only Rasa, sanic, slack_sdk, the
standard library and the metadata contract it shares with the actions
(:mod:`foundation.channel_metadata`). Configuration comes from the environment only:

- ``SLACK_BOT_TOKEN`` (``xoxb-…``) and ``SLACK_SIGNING_SECRET``: without both, the
  channel still loads (so ``make run`` works without Slack) but every endpoint
  answers 503 with a one-line reason;
- ``BEACON_SLACK_API_URL``: the Web API base URL (default Slack's; tests point it
  at a local fake);
- ``BEACON_SLACK_SECTION_CHARS``: longest text of one message section, 200 to
  3000 (Slack's limit, the default); Slack folds long sections behind "See more",
  so a team may prefer shorter ones;
- ``BEACON_SLACK_STAFF_CHANNELS``: optional, comma-separated channel ids; when set,
  staff answers are given only there and everything elsewhere (direct messages
  included, unless listed) is answered as to a customer.

Endpoints (under ``/webhooks/slack/``): ``events`` (Events API request URL),
``interactive`` (interactivity request URL), ``GET /`` (health).

Why not Rasa's ``SlackInput``: it refuses bad signatures with 400 rather than
401, answers a retried event a second time when the first delivery was not a
timeout, posts each message as it comes (no "working on it", no splitting within
block limits, charts as links to a loopback URL Slack cannot fetch), and takes
the audience-free metadata Beacon's actions would treat as a customer. Its
message clean-up (dropping the bot's own @-mention, unwrapping links) and its
reading of interactive payloads are reused.

How a message is handled: the signature and timestamp are checked (401 when
wrong or more than five minutes old), the event id is remembered (a retry with
the same id, ``X-Slack-Retry-Num`` or not, is acknowledged and dropped), the
bot's own and other bots' messages are ignored, and the request is acknowledged
with 200 at once. The turn then runs in a background task; if Rasa has not
answered within about two seconds, "Working on it…" goes into the thread first.
The answer is posted in the question's thread (``thread_ts`` = the message's
``thread_ts`` or, for a new message, its ``ts``), split within Slack's block
limits, with quick replies as Block Kit buttons and 👍/👎 buttons at the end;
charts the answer links to are downloaded and uploaded into the same thread
(``files_upload_v2``).

Conversation id: one per Slack thread (``slack-<channel>-<thread_ts>``), shared by
everyone in that thread. Every answer goes into the question's thread, so the
thread is the conversation people see: follow-ups written in the thread keep
their context (platform, period), and a new top-level message starts afresh, as
a new thread does in Slack. A 👍/👎 click arrives from a message in a thread, so
it lands in that thread's conversation and is stored against the answer it was
given on (the latest audited answer of the thread), not against whatever the
clicker last asked elsewhere; a colleague's click counts for the same answer.
Per user and channel would mix unrelated threads of a busy channel into one
dialogue and attach a click on an old answer to a newer one.

Audience: staff answers (lifts, ROI, creator rates) are for full members of the
app's own workspace, and only where no outsider reads them. Anything else is a
customer: a message in a channel shared with another organisation (Slack Connect:
the event's ``is_ext_shared_channel``, or ``conversations.info`` for clicks, which
do not carry it), a writer of another workspace, a guest (``users.info``:
``is_restricted`` / ``is_ultra_restricted``, or ``is_stranger``), a channel outside
``BEACON_SLACK_STAFF_CHANNELS`` when that is set, and every case where a field is
missing or a lookup fails or times out (logged). The lookups run in the background
turn, never before the 200, and are cached per user and channel for ten minutes
(bounded). They need the ``users:read`` scope, and ``channels:read``,
``groups:read``, ``im:read`` and ``mpim:read`` for clicks. An Enterprise Grid
org-wide install, whose events may name another workspace of the same organisation,
answers those members as customers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import urllib.request
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import parse_qs, urlparse

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.core.channels.slack import SlackInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot._shared_state import SharedKeys, redis_client, shared_url
from bot._slack_flow import DEFAULT_WORKING_AFTER_S, WORKING_TEXT, with_progress
from bot._slack_format import (
    FEEDBACK_ACTION_PREFIX,
    FEEDBACK_TEXTS,
    PIN_ACTION_ID,
    PIN_TEXT,
    REPLY_ACTION_PREFIX,
    SECTION_TEXT_LIMIT,
    build_answer,
    conversation_id,
    escape_mrkdwn,
)
from bot._slack_guard import (
    AudienceSignals,
    RecentKeys,
    SlackRequestRejected,
    TtlCache,
    check_signature,
    outsider_channel,
    outsider_in_payload,
    outsider_user,
)
from bot.channels import MAX_MESSAGE_CHARS, install_action_guard_from_env, visible_text
from foundation.channel_metadata import (
    CUSTOMER,
    STAFF,
    SlackFile,
    UserMetadata,
    slack_file,
    slack_origin,
    user_metadata,
)

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"
HTTP_TIMEOUT_S = 10.0
#: Retries per kind of failure: a 429 waits out Slack's ``Retry-After``; a 5xx backs off.
SLACK_MAX_RETRIES = 2
IMAGE_MAX_BYTES = 10 * 1024 * 1024
#: ``users.info`` / ``conversations.info``: each answer is kept this long, for this many ids.
LOOKUP_TTL_S = 600.0
LOOKUP_MAX_KEYS = 5_000
#: The whole lookup, retries included; past it the writer is answered as a customer.
LOOKUP_TIMEOUT_S = 5.0
MIN_SECTION_CHARS = 200
APOLOGY = "Sorry, something went wrong on my side while answering. Please try again in a minute."
FEEDBACK_ACK = "Thanks — noted."
# Message subtypes that are still a person writing (everything else — edits,
# deletions, joins, bot messages — is not a question).
_USER_SUBTYPES = {None, "file_share", "thread_broadcast"}
_SLACK_ERRORS = (SlackApiError, SlackClientError, OSError, asyncio.TimeoutError)


@dataclass(frozen=True)
class _Turn:
    """A user message (or click) to hand to Rasa, and where its answer goes.

    Attributes:
        text: What Rasa receives.
        user: Slack user id of the writer or clicker.
        channel: Slack channel id.
        thread_ts: The thread the answer goes into.
        signals: What the payload says about the writer and the channel.
        audience: ``customer`` until :meth:`BeaconSlackInput._decide_audience` has
            checked ``signals`` (and Slack) and found a staff member.
        intent: Set for clicks whose meaning is known (skips NLU).
        files: Files shared with the message (see :func:`_shared_files`).
    """

    text: str
    user: str
    channel: str
    thread_ts: str
    signals: AudienceSignals = field(default_factory=lambda: AudienceSignals(None, None, None))
    audience: str = CUSTOMER
    intent: str | None = None
    files: tuple[SlackFile, ...] = ()

    @property
    def sender_id(self) -> str:
        return conversation_id(self.channel, self.thread_ts)

    def metadata(self) -> UserMetadata:
        origin = slack_origin(self.user, self.channel, self.thread_ts, self.files)
        return user_metadata(self.audience, origin)

    def parse_data(self) -> dict[str, Any] | None:
        if self.intent is None:
            return None
        intent = {"name": self.intent, "confidence": 1.0}
        return {"text": self.text, "intent": intent, "intent_ranking": [intent], "entities": []}


#: At most this many shared files per message are passed on.
_MAX_FILES = 5


def _shared_files(event: dict[str, Any]) -> tuple[SlackFile, ...]:
    """The shared files of a message event that have a ``url_private``, trimmed to a few fields.

    ``action_tag_image`` downloads ``url_private`` with the bot token; the token itself
    never leaves this process.
    """
    files = event.get("files")
    if not isinstance(files, list):
        return ()
    kept = [file for file in map(slack_file, files) if file is not None]
    return tuple(kept[:_MAX_FILES])


def _bot_user_ids(body: dict[str, Any]) -> list[str]:
    """User ids of the app's bot user in this event (from ``authorizations``)."""
    ids = [
        auth.get("user_id")
        for auth in body.get("authorizations") or []
        if isinstance(auth, dict) and auth.get("is_bot")
    ]
    return [i for i in ids if isinstance(i, str)]


def _int_env(name: str, default: int) -> int:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {value!r}") from None


def _channels_env(name: str) -> frozenset[str] | None:
    """Comma-separated Slack channel ids from ``name``; None when unset or blank."""
    value = os.environ.get(name) or ""
    ids = [part.strip() for part in value.split(",") if part.strip()]
    if not ids:
        return None
    bad = [i for i in ids if not (i.isascii() and i.isalnum() and i.isupper())]
    if bad:
        raise ValueError(
            f"{name} must be Slack channel ids separated by commas (e.g. C0123ABCD), "
            f"got {bad[0]!r}; a channel's id is at the bottom of its 'About' tab"
        )
    return frozenset(ids)


def _download(url: str, timeout_s: float, max_bytes: int) -> bytes:
    """GET ``url`` (http or https only), at most ``max_bytes``, within ``timeout_s``."""
    if urlparse(url).scheme not in {"http", "https"}:
        raise ValueError(f"expected an http(s) image URL, got {url[:80]!r}")
    with urllib.request.urlopen(url, timeout=timeout_s) as reply:
        data: bytes = reply.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValueError(f"image at {url[:80]} is larger than {max_bytes} bytes")
    return data


class BeaconSlackInput(InputChannel):
    """Slack Events API and interactivity for Beacon.

    Args:
        bot_token: The bot user OAuth token (``xoxb-…``); None leaves the channel off.
        signing_secret: The app's signing secret; None leaves the channel off.
        api_url: Slack Web API base URL.
        working_after_s: Seconds before "Working on it…" is posted.
        http_timeout_s: Timeout of every Slack call and image download.
        section_chars: Longest text of one message section (at most 3,000).
        staff_channels: When given, the only channel ids where staff answers are given.
        lookup_timeout_s: Timeout of a ``users.info`` or ``conversations.info`` lookup.
    """

    def __init__(
        self,
        bot_token: str | None,
        signing_secret: str | None,
        api_url: str = DEFAULT_API_URL,
        working_after_s: float = DEFAULT_WORKING_AFTER_S,
        http_timeout_s: float = HTTP_TIMEOUT_S,
        section_chars: int = SECTION_TEXT_LIMIT,
        staff_channels: frozenset[str] | None = None,
        lookup_timeout_s: float = LOOKUP_TIMEOUT_S,
    ) -> None:
        if not MIN_SECTION_CHARS <= section_chars <= SECTION_TEXT_LIMIT:
            raise ValueError(
                f"BEACON_SLACK_SECTION_CHARS must be between {MIN_SECTION_CHARS} and "
                f"{SECTION_TEXT_LIMIT}, got {section_chars}; unset it for Slack's limit"
            )
        self.bot_token = bot_token or None
        self.signing_secret = signing_secret or None
        self.api_url = api_url if api_url.endswith("/") else api_url + "/"
        self.working_after_s = working_after_s
        self.http_timeout_s = http_timeout_s
        self.section_chars = section_chars
        self.recent: RecentKeys | SharedKeys = RecentKeys(ttl_s=3600.0, max_keys=10_000)
        self.staff_channels = staff_channels
        self.lookup_timeout_s = lookup_timeout_s
        self._users: TtlCache[dict[str, Any]] = TtlCache(LOOKUP_TTL_S, LOOKUP_MAX_KEYS)
        self._channels: TtlCache[dict[str, Any]] = TtlCache(LOOKUP_TTL_S, LOOKUP_MAX_KEYS)
        self._client: AsyncWebClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @classmethod
    def name(cls) -> str:
        return "slack"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> BeaconSlackInput:
        credentials = credentials or {}
        install_action_guard_from_env()
        channel = cls(
            bot_token=os.environ.get("SLACK_BOT_TOKEN"),
            signing_secret=os.environ.get("SLACK_SIGNING_SECRET"),
            api_url=os.environ.get("BEACON_SLACK_API_URL") or DEFAULT_API_URL,
            working_after_s=float(credentials.get("working_after_s") or DEFAULT_WORKING_AFTER_S),
            section_chars=_int_env("BEACON_SLACK_SECTION_CHARS", SECTION_TEXT_LIMIT),
            staff_channels=_channels_env("BEACON_SLACK_STAFF_CHANNELS"),
        )
        url = shared_url()
        if url:  # several Rasa replicas: a retry landing on another one is still a replay
            channel.recent = SharedKeys(redis_client(url), "slack", channel.recent.ttl_s)
        if channel.unconfigured_reason:
            logger.info("Slack channel off: %s", channel.unconfigured_reason)
        return channel

    @property
    def unconfigured_reason(self) -> str | None:
        """Why the channel cannot serve (a missing variable), or None when it can."""
        missing = [
            name
            for name, value in (
                ("SLACK_BOT_TOKEN", self.bot_token),
                ("SLACK_SIGNING_SECRET", self.signing_secret),
            )
            if not value
        ]
        if not missing:
            return None
        return f"the Slack channel is not configured: set {' and '.join(missing)} in the bot's environment"

    @property
    def client(self) -> AsyncWebClient:
        if self._client is None:
            self._client = AsyncWebClient(
                token=self.bot_token,
                base_url=self.api_url,
                timeout=int(self.http_timeout_s),
                # The default retries only connection errors; a 429 or 5xx lost the answer.
                retry_handlers=[
                    AsyncConnectionErrorRetryHandler(max_retry_count=SLACK_MAX_RETRIES),
                    AsyncRateLimitErrorRetryHandler(max_retry_count=SLACK_MAX_RETRIES),
                    AsyncServerErrorRetryHandler(max_retry_count=SLACK_MAX_RETRIES),
                ],
            )
        return self._client

    # -- requests ------------------------------------------------------------------
    def _refusal(self, request: Request) -> HTTPResponse | None:
        """A 503 (not configured) or 401 (bad signature or stale timestamp), else None."""
        if self.unconfigured_reason:
            return response.text(self.unconfigured_reason + "\n", status=503)
        try:
            check_signature(
                self.signing_secret or "",
                request.headers.get("X-Slack-Request-Timestamp"),
                request.headers.get("X-Slack-Signature"),
                request.body or b"",
            )
        except SlackRequestRejected as error:
            logger.warning("refused a Slack request: %s", error)
            return response.text(f"refused: {error}\n", status=401)
        return None

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _incoming_message(self, body: dict[str, Any]) -> _Turn | None:
        """The user message in an ``event_callback``, or None when it is not for Beacon."""
        event = body["event"]
        kind = event.get("type")
        if not (kind == "app_mention" or (kind == "message" and event.get("channel_type") == "im")):
            return None  # channel messages reach Beacon as app_mention (no double answers)
        bots = _bot_user_ids(body)
        user, channel, ts = event.get("user"), event.get("channel"), event.get("ts")
        if event.get("bot_id") or event.get("subtype") not in _USER_SUBTYPES or user in bots:
            return None
        text = event.get("text")
        if not all(isinstance(v, str) and v for v in (user, channel, ts, text)):
            return None
        text = visible_text(SlackInput._sanitize_user_message(text, bots))
        if not text.strip():
            return None
        thread_ts = event.get("thread_ts") or ts
        return _Turn(
            text=text[:MAX_MESSAGE_CHARS],
            user=user,
            channel=channel,
            thread_ts=thread_ts,
            signals=AudienceSignals.read(
                body.get("team_id"),
                event.get("user_team") or event.get("team"),
                body.get("is_ext_shared_channel"),
            ),
            files=_shared_files(event),
        )

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("beacon_slack_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            if self.unconfigured_reason:
                return response.text(self.unconfigured_reason + "\n", status=503)
            return response.json({"status": "ok"})

        @webhook.route("/events", methods=["POST"])
        async def events(request: Request) -> HTTPResponse:
            refusal = self._refusal(request)
            if refusal is not None:
                return refusal
            try:
                body = json.loads(request.body or b"")
            except ValueError:
                body = None
            if not isinstance(body, dict):
                return response.text("expected a JSON object from Slack's Events API\n", status=400)
            if body.get("type") == "url_verification":
                challenge = body.get("challenge")
                if not isinstance(challenge, str):
                    return response.text(
                        "url_verification without a 'challenge' string\n", status=400
                    )
                return response.json({"challenge": challenge})
            if body.get("type") != "event_callback":
                return response.text("")  # e.g. app_rate_limited: nothing to answer
            event_id = body.get("event_id")
            if not isinstance(event_id, str) or not isinstance(body.get("event"), dict):
                return response.text(
                    "an event_callback needs 'event_id' and an 'event' object\n", status=400
                )
            retry = request.headers.get("X-Slack-Retry-Num")
            if not self.recent.add(f"event:{event_id}"):
                logger.info("Slack event %s delivered again (retry %s); ignored", event_id, retry)
                return response.text("", headers={"X-Slack-No-Retry": "1"})
            turn = self._incoming_message(body)
            # The same message can come as two events (e.g. after a reinstall); answer once.
            if turn is None or not self.recent.add(
                f"message:{turn.channel}:{body['event'].get('ts')}"
            ):
                return response.text("")
            self._spawn(self._answer(on_new_message, turn))
            return response.text("")

        @webhook.route("/interactive", methods=["POST"])
        async def interactive(request: Request) -> HTTPResponse:
            refusal = self._refusal(request)
            if refusal is not None:
                return refusal
            try:
                form = parse_qs((request.body or b"").decode(), strict_parsing=True)
                payload = json.loads(form["payload"][-1])
            except (ValueError, KeyError, UnicodeDecodeError):
                payload = None
            if not isinstance(payload, dict):
                return response.text(
                    "expected a form field 'payload' holding a JSON object\n", status=400
                )
            if payload.get("type") != "block_actions":
                return response.text("")
            try:
                turn, dedup_key = self._click(payload)
            except (KeyError, TypeError, IndexError, AttributeError):
                return response.text(
                    "a block_actions payload needs user, channel, message and actions\n", status=400
                )
            if turn is None or not self.recent.add(dedup_key):
                return response.text("")
            if turn.intent in ("give_feedback", "pin_answer"):  # answered privately
                self._spawn(self._feedback(on_new_message, turn))
            else:
                self._spawn(self._answer(on_new_message, turn))
            return response.text("")

        return webhook

    def _click(self, payload: dict[str, Any]) -> tuple[_Turn | None, str]:
        """The turn a button click makes (None for clicks Beacon did not create)."""
        action = payload["actions"][0]
        user = payload["user"]["id"]
        channel = payload["channel"]["id"]
        message = payload["message"]
        container = payload.get("container") or {}
        thread_ts = container.get("thread_ts") or message.get("thread_ts") or message["ts"]
        action_id = str(action.get("action_id") or "")
        dedup = f"click:{user}:{channel}:{message['ts']}:{action.get('action_ts')}"
        signals = AudienceSignals.read(
            (payload.get("team") or {}).get("id"), payload["user"].get("team_id")
        )
        if action_id.startswith(FEEDBACK_ACTION_PREFIX):
            verdict = action.get("value")
            if verdict not in FEEDBACK_TEXTS:
                return None, dedup
            text, intent = FEEDBACK_TEXTS[verdict], "give_feedback"
        elif action_id == PIN_ACTION_ID:
            text, intent = PIN_TEXT, "pin_answer"
        elif action_id.startswith(REPLY_ACTION_PREFIX):
            value = SlackInput._get_interactive_response(action)
            if not isinstance(value, str) or not value:
                return None, dedup
            text, intent = value[:MAX_MESSAGE_CHARS], None
        else:
            return None, dedup
        turn = _Turn(
            text=text,
            user=user,
            channel=channel,
            thread_ts=thread_ts,
            signals=signals,
            intent=intent,
        )
        return turn, dedup

    # -- audience ------------------------------------------------------------------
    async def _lookup(
        self,
        cache: TtlCache[dict[str, Any]],
        key: str,
        what: str,
        call: Callable[[], Awaitable[Any]],
    ) -> dict[str, Any] | None:
        """Slack's object for ``key`` (``what``: ``user`` or ``channel``), cached; None on failure.

        Failures are not cached, so the next message asks again.
        """
        cached = cache.get(key)
        if cached is not None:
            return cached
        try:
            reply = await asyncio.wait_for(call(), timeout=self.lookup_timeout_s)
            found = reply.get(what)
        # Whatever went wrong, the writer is unknown, so a customer: log it and go on.
        except Exception as error:
            logger.warning(
                "could not look up Slack %s %s (%r); answering as a customer", what, key, error
            )
            return None
        if not isinstance(found, dict):
            logger.warning("Slack's answer about %s %s has no %r object", what, key, what)
            return None
        cache.put(key, found)
        return found

    async def _decide_audience(self, turn: _Turn) -> str:
        """``staff`` only for a full member of the app's workspace where no outsider reads.

        Fails closed: every missing field, failed lookup or timeout gives ``customer``.
        """
        signals = turn.signals
        reason = outsider_in_payload(signals, turn.channel, self.staff_channels)
        if reason is None and signals.ext_shared is None:
            channel = await self._lookup(
                self._channels,
                turn.channel,
                "channel",
                lambda: self.client.conversations_info(channel=turn.channel),
            )
            reason = outsider_channel(channel)
        if reason is None:
            user = await self._lookup(
                self._users, turn.user, "user", lambda: self.client.users_info(user=turn.user)
            )
            reason = outsider_user(user, signals.app_team)
        if reason is None:
            return STAFF
        logger.info(
            "Slack user %s in %s answered as a customer: %s", turn.user, turn.channel, reason
        )
        return CUSTOMER

    # -- turns ---------------------------------------------------------------------
    async def _run_turn(
        self,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        turn: _Turn,
        say_working: Callable[[], Awaitable[object]] | None = None,
    ) -> list[dict[str, Any]]:
        """Decide the audience, hand ``turn`` to Rasa; return what the bot said."""
        collector = CollectingOutputChannel()

        async def handle() -> None:
            decided = replace(turn, audience=await self._decide_audience(turn))
            message = UserMessage(
                decided.text,
                collector,
                decided.sender_id,
                parse_data=decided.parse_data(),
                input_channel=self.name(),
                metadata=decided.metadata(),
            )
            await on_new_message(message)

        if say_working is None:
            await handle()
        else:
            await with_progress(handle(), say_working, self.working_after_s)
        return collector.messages

    async def _post_text(self, turn: _Turn, text: str) -> None:
        await self.client.chat_postMessage(
            channel=turn.channel, thread_ts=turn.thread_ts, text=text
        )

    async def _answer(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]], turn: _Turn
    ) -> None:
        """Run a turn and post its answer into the thread (never raises)."""

        async def say_working() -> None:
            try:
                await self._post_text(turn, WORKING_TEXT)
            except _SLACK_ERRORS as error:
                logger.warning("could not post the progress note in %s: %r", turn.sender_id, error)

        try:
            messages = await self._run_turn(on_new_message, turn, say_working)
        except Exception:
            logger.exception("Rasa failed on a Slack message in %s", turn.sender_id)
            messages = [{"text": APOLOGY}]
        try:
            answer = build_answer(messages, section_chars=self.section_chars)
            for post in answer.posts:
                await self.client.chat_postMessage(
                    channel=turn.channel,
                    thread_ts=turn.thread_ts,
                    text=post.text,
                    blocks=list(post.blocks),
                    unfurl_links=False,
                    unfurl_media=False,
                )
            for url in answer.images:
                await self._upload_image(turn, url)
        except _SLACK_ERRORS as error:
            logger.error("could not answer in Slack thread %s: %r", turn.sender_id, error)
        except Exception:  # a background task must not die silently
            logger.exception("answering in Slack thread %s failed", turn.sender_id)

    async def _upload_image(self, turn: _Turn, url: str) -> None:
        """Download a chart the answer links to and upload it into the thread."""
        try:
            data = await asyncio.wait_for(
                asyncio.to_thread(_download, url, self.http_timeout_s, IMAGE_MAX_BYTES),
                timeout=self.http_timeout_s + 1,
            )
        except (ValueError, OSError, asyncio.TimeoutError) as error:
            logger.error("could not fetch chart %s for Slack: %r", url, error)
            await self._post_text(turn, "I made a chart for this answer but could not attach it.")
            return
        filename = PurePosixPath(urlparse(url).path).name or "chart.png"
        await self.client.files_upload_v2(
            channel=turn.channel,
            thread_ts=turn.thread_ts,
            content=data,
            filename=filename,
            title="Beacon chart",
            alt_txt="Chart for Beacon's answer above",
        )

    async def _feedback(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]], turn: _Turn
    ) -> None:
        """Record a 👍/👎 click through Rasa and thank the clicker privately (never raises)."""
        try:
            try:
                messages = await self._run_turn(on_new_message, turn)
                said = [m["text"] for m in messages if isinstance(m.get("text"), str)]
                reply = " ".join(said) or FEEDBACK_ACK
            except Exception:
                logger.exception("Rasa failed on a Slack feedback click in %s", turn.sender_id)
                reply = APOLOGY
            await self.client.chat_postEphemeral(
                channel=turn.channel,
                user=turn.user,
                thread_ts=turn.thread_ts,
                text=escape_mrkdwn(reply),
            )
        except _SLACK_ERRORS as error:
            logger.error("could not acknowledge feedback in %s: %r", turn.sender_id, error)
        except Exception:
            logger.exception("acknowledging feedback in %s failed", turn.sender_id)
