"""The metadata contract between Beacon's Rasa channels and its action server.

A channel (bot/channels.py, bot/slack.py) puts a :class:`UserMetadata` on every user
message it hands to Rasa; Rasa stores it in the tracker, and the actions read it back
from ``tracker.latest_message["metadata"]``. A reply Beacon says in place of an
action's answer carries a :class:`BotMetadata`. The channels build these with
:func:`user_metadata`, :func:`slack_origin`, :func:`slack_file` and
:func:`action_server_error`; the actions read them with :func:`read_audience` and
:func:`read_slack_files`.

Both processes import this module: the Rasa process (Python 3.10, Rasa but none of
the analytics dependencies) and the action server (Python 3.11). So it is standard
library only, written for Python 3.10, and imports nothing else of Beacon's.

The audience (DESIGN.md, "Two audiences") is decided by the channel from
authentication, never from what the user typed; the reading side fails closed, so a
message without a known audience (a test shell, an unknown channel, a client that made
one up) is a customer's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final, Literal, TypedDict, cast

Audience = Literal["staff", "customer"]

#: Slack members of the app's workspace; the REST channel with a valid staff token.
STAFF: Final = "staff"
#: Everyone else: the public support widget, unauthenticated REST, Slack Connect guests.
CUSTOMER: Final = "customer"

#: :attr:`BotMetadata.error` of the apology said when the action server did not answer.
ACTION_SERVER_ERROR: Final = "action_server"

#: The fields of a shared Slack file passed on to the actions (:class:`SlackFile`'s keys).
SLACK_FILE_FIELDS: Final = ("id", "name", "mimetype", "size", "url_private")


class _SlackFileRequired(TypedDict):
    url_private: str  # where the file lies; downloading it needs the bot token (the Rasa side's)


class SlackFile(_SlackFileRequired, total=False):
    """One file shared with a Slack message (``action_tag_image`` reads the first)."""

    id: str  # Slack's file id, e.g. "F0123ABC"
    name: str  # the file name as uploaded
    mimetype: str  # e.g. "image/jpeg"
    size: int  # bytes


class _SlackOriginRequired(TypedDict):
    user: str  # Slack user id of the writer or the clicker
    channel: str  # Slack channel id the message came from
    thread_ts: str  # the thread the answer goes into (the message's own ts for a new thread)


class SlackOrigin(_SlackOriginRequired, total=False):
    """Where a Slack message came from (``UserMetadata.slack``)."""

    files: list[SlackFile]  # files shared with the message; absent when there are none


class _UserMetadataRequired(TypedDict):
    audience: Audience  # who is asking, decided by the channel from authentication


class UserMetadata(_UserMetadataRequired, total=False):
    """The ``metadata`` of every user message a Beacon channel hands to Rasa."""

    slack: SlackOrigin  # set by the Slack channel only


class BotMetadata(TypedDict):
    """The ``metadata`` of a reply Beacon said in place of a custom action's answer."""

    error: str  # what failed: ACTION_SERVER_ERROR (down, or slower than the bot waits)


def user_metadata(audience: str, slack: SlackOrigin | None = None) -> UserMetadata:
    """The metadata a channel attaches to a user message.

    Raises:
        ValueError: ``audience`` is neither :data:`STAFF` nor :data:`CUSTOMER`.
    """
    if audience not in (STAFF, CUSTOMER):
        raise ValueError(f"audience must be {STAFF!r} or {CUSTOMER!r}, got {audience!r}")
    metadata = UserMetadata(audience=cast(Audience, audience))
    if slack is not None:
        metadata["slack"] = slack
    return metadata


def slack_origin(
    user: str, channel: str, thread_ts: str, files: Iterable[SlackFile] = ()
) -> SlackOrigin:
    """:attr:`UserMetadata.slack` of a Slack message; ``files`` is left out when empty."""
    origin = SlackOrigin(user=user, channel=channel, thread_ts=thread_ts)
    shared = [file.copy() for file in files]
    if shared:
        origin["files"] = shared
    return origin


def slack_file(raw: object) -> SlackFile | None:
    """The fields of a Slack file object that are passed on, or None without a ``url_private``."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("url_private"), str):
        return None
    kept = {key: raw[key] for key in SLACK_FILE_FIELDS if isinstance(raw.get(key), (str, int))}
    return cast(SlackFile, kept)


def action_server_error() -> BotMetadata:
    """The metadata of the apology said when the action server did not answer."""
    return BotMetadata(error=ACTION_SERVER_ERROR)


def read_audience(metadata: Mapping[str, Any] | None) -> Audience:
    """The audience in a user message's ``metadata``: :data:`STAFF` only when it says so.

    Anything else (no metadata, no audience, an unknown value) is :data:`CUSTOMER`.
    """
    return STAFF if (metadata or {}).get("audience") == STAFF else CUSTOMER


def read_slack_files(metadata: Mapping[str, Any] | None) -> list[SlackFile]:
    """The files shared with a Slack message, as the Slack channel passed them on.

    Entries that :func:`slack_file` would not pass on are left out; a message from any
    other channel has none.
    """
    slack = (metadata or {}).get("slack")
    files = slack.get("files") if isinstance(slack, Mapping) else None
    if not isinstance(files, list):
        return []
    return [file for file in map(slack_file, files) if file is not None]
