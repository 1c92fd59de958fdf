"""The Slack adapter: post a message, then images into its thread (slack-sdk Web API).

One small class other parts of Beacon can reuse::

    poster = SlackPoster.from_env()            # SLACK_BOT_TOKEN, BEACON_SLACK_API_URL
    sent = poster.post("marketing", "text", blocks=[...],
                       images=[SlackImage("chart.png", "Title", "alt text", png_bytes)])
    sent.channel, sent.ts, sent.file_ids

The client is injectable (tests point a real ``WebClient`` at a local fake Slack with
``base_url``); every call has a timeout; Slack's and the network's errors become
:class:`~foundation.exceptions.ConfigError` (token, scopes, channel) or
:class:`~foundation.exceptions.ServiceUnavailableError` (anything else), with one line saying
what to do.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from foundation.exceptions import ConfigError, InputError, ServiceUnavailableError

TOKEN_ENV = "SLACK_BOT_TOKEN"
API_URL_ENV = "BEACON_SLACK_API_URL"
DEFAULT_API_URL = "https://slack.com/api/"
DEFAULT_TIMEOUT_S = 10
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{6,}$")
#: Slack errors that a person fixes in the configuration, not by retrying.
_CONFIG_ERRORS = {
    "invalid_auth",
    "not_authed",
    "token_revoked",
    "token_expired",
    "account_inactive",
    "missing_scope",
    "not_in_channel",
    "channel_not_found",
    "is_archived",
}


def escape_mrkdwn(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control (``& < >``).

    Slack reads ``<!channel>``, ``<!here>``, ``<@U…>`` and ``<url|label>`` only between
    raw angle brackets, so escaped text shows them as typed and pings or links nothing.
    The same rule as ``bot/_slack_format.escape_mrkdwn`` (which runs in the Rasa
    interpreter and cannot import this); tests/digest/test_slack.py keeps them equal.
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass(frozen=True)
class SlackImage:
    """An image to upload.

    Attributes:
        filename: File name shown in Slack (``volume.png``).
        title: Title shown above it.
        alt: Alternative text for screen readers.
        content: The image bytes.
    """

    filename: str
    title: str
    alt: str
    content: bytes = field(repr=False)


@dataclass(frozen=True)
class SlackPost:
    """What was posted.

    Attributes:
        channel: Channel id.
        ts: Timestamp of the message (its id; the thread's parent).
        file_ids: Ids of the images uploaded into its thread.
    """

    channel: str
    ts: str
    file_ids: tuple[str, ...] = ()


@contextmanager
def _slack_call(method: str) -> Iterator[None]:
    try:
        yield
    except SlackApiError as error:
        code = str(error.response.get("error", "unknown_error"))
        if code in _CONFIG_ERRORS:
            raise ConfigError(
                f"Slack refused {method}: {code}; check {TOKEN_ENV}, the bot's scopes "
                "(chat:write, files:write, channels:read) and that the bot is in the channel"
            ) from None
        raise ServiceUnavailableError(f"Slack refused {method}: {code}; try again later") from None
    except (SlackClientError, OSError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ServiceUnavailableError(
            f"cannot reach Slack for {method} ({reason}); check the network or {API_URL_ENV}"
        ) from None


#: Retries per kind of failure: a 429 waits out Slack's ``Retry-After``; a 5xx backs off.
MAX_RETRIES = 2


def retry_handlers() -> list[RetryHandler]:
    """Retry connection errors, rate limits (429) and Slack's server errors (5xx).

    slack-sdk's default retries only connection errors, so a 429 or a 500 would lose a
    hand-off or a digest post.
    """
    return [
        ConnectionErrorRetryHandler(max_retry_count=MAX_RETRIES),
        RateLimitErrorRetryHandler(max_retry_count=MAX_RETRIES),
        ServerErrorRetryHandler(max_retry_count=MAX_RETRIES),
    ]


class SlackPoster:
    """Posts messages and images to Slack channels and threads.

    Args:
        client: A slack-sdk ``WebClient`` with its token, ``base_url`` and timeout set.
    """

    def __init__(self, client: WebClient) -> None:
        self.client = client
        self._channels: dict[str, str] = {}

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, timeout_s: float = DEFAULT_TIMEOUT_S
    ) -> SlackPoster:
        """A poster with the token from ``SLACK_BOT_TOKEN`` and the API URL from
        ``BEACON_SLACK_API_URL`` (default Slack's).

        Raises:
            ConfigError: ``SLACK_BOT_TOKEN`` is not set.
        """
        env = os.environ if environ is None else environ
        token = (env.get(TOKEN_ENV) or "").strip()
        if not token:
            raise ConfigError(
                f"posting to Slack needs a bot token: set {TOKEN_ENV} (xoxb-…) in the environment"
            )
        base_url = (env.get(API_URL_ENV) or "").strip() or DEFAULT_API_URL
        if not base_url.endswith("/"):
            base_url += "/"
        return cls(
            WebClient(
                token=token,
                base_url=base_url,
                timeout=max(1, int(timeout_s)),
                retry_handlers=retry_handlers(),
            )
        )

    def channel_id(self, channel: str) -> str:
        """The id of ``channel`` (an id, ``name`` or ``#name``), via conversations.list.

        Raises:
            InputError: No channel of that name is visible to the bot.
        """
        name = channel.strip().lstrip("#")
        if not name:
            raise InputError("a Slack channel is needed (got an empty name)")
        if _CHANNEL_ID.match(name):
            return name
        if name in self._channels:
            return self._channels[name]
        cursor: str | None = None
        while True:
            with _slack_call("conversations.list"):
                page = self.client.conversations_list(
                    types="public_channel,private_channel",
                    exclude_archived=True,
                    limit=200,
                    cursor=cursor,
                )
            for item in page.get("channels") or []:
                self._channels[str(item.get("name"))] = str(item.get("id"))
            if name in self._channels:
                return self._channels[name]
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                raise InputError(
                    f"no Slack channel named {name!r} is visible to the bot; invite the bot to "
                    "it or pass the channel id (C…)"
                )

    def post_message(
        self,
        channel: str,
        text: str,
        blocks: Sequence[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
    ) -> SlackPost:
        """Post one message (``text`` is the notification and screen-reader fallback)."""
        channel_id = self.channel_id(channel)
        with _slack_call("chat.postMessage"):
            reply = self.client.chat_postMessage(
                channel=channel_id,
                text=text,
                blocks=list(blocks) if blocks else None,
                thread_ts=thread_ts,
                unfurl_links=False,
                unfurl_media=False,
            )
        return SlackPost(channel=str(reply.get("channel") or channel_id), ts=str(reply["ts"]))

    def upload_images(
        self, channel: str, images: Sequence[SlackImage], thread_ts: str | None = None
    ) -> tuple[str, ...]:
        """Upload images in one files_upload_v2 call (into ``thread_ts`` when given)."""
        if not images:
            return ()
        channel_id = self.channel_id(channel)
        uploads = [
            {
                "content": i.content,
                "filename": i.filename,
                "title": i.title,
                "alt_txt": i.alt[:1000],
            }
            for i in images
        ]
        with _slack_call("files_upload_v2"):
            reply = self.client.files_upload_v2(
                file_uploads=uploads, channel=channel_id, thread_ts=thread_ts
            )
        return tuple(str(f.get("id")) for f in reply.get("files") or [])

    def post(
        self,
        channel: str,
        text: str,
        blocks: Sequence[dict[str, Any]] | None = None,
        images: Sequence[SlackImage] = (),
        thread_ts: str | None = None,
    ) -> SlackPost:
        """Post a message, then upload ``images`` into its thread (or into ``thread_ts``)."""
        message = self.post_message(channel, text, blocks, thread_ts=thread_ts)
        files = self.upload_images(message.channel, images, thread_ts=thread_ts or message.ts)
        return SlackPost(message.channel, message.ts, files)
