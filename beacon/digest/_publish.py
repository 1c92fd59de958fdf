"""The digest in Slack: a Block Kit summary with the charts in its thread, once per week and channel."""

from __future__ import annotations

import contextlib
import fcntl
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from beacon.digest._slack import SlackImage, SlackPoster, escape_mrkdwn
from beacon.digest._types import FINDINGS, SECTION_TITLES, Digest
from foundation.exceptions import ServiceUnavailableError
from foundation.workspace import BATCH_LOCK_WAIT_SECONDS, Workspace, record_audit

POSTED_KIND = "digest_posted"
MAX_SECTION_TEXT = 3000  # Block Kit limit of a section's text
MAX_HEADER_TEXT = 150


@dataclass(frozen=True)
class PublishResult:
    """What publishing did.

    Attributes:
        posted: True when this call posted; False when the week was already in the channel.
        channel: Channel id.
        ts: The summary message's timestamp (this post's, or the earlier one's).
        file_ids: Chart files uploaded by this call.
        marker_id: The ``digest_posted`` audit row (this call's, or the earlier one).
    """

    posted: bool
    channel: str
    ts: str | None
    file_ids: tuple[str, ...]
    marker_id: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _section(title: str, body: str, link: str | None = None) -> dict[str, Any]:
    """A titled section; with ``link``, a last line opening its view in the dashboard."""
    # The link is ours (a signed, URL-encoded address), so it is not escaped; it goes
    # after clipping so that a long section never cuts it.
    more = f"\n<{link}|Open in the dashboard>" if link else ""
    text = _clip(f"*{escape_mrkdwn(title)}*\n{escape_mrkdwn(body)}", MAX_SECTION_TEXT - len(more))
    return {"type": "section", "text": {"type": "mrkdwn", "text": text + more}}


def digest_blocks(digest: Digest) -> list[dict[str, Any]]:
    """Header, one section per headline, best/worst posts, actions, and a context line."""
    header = f"{digest.brand} weekly digest · {digest.week.label}"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _clip(header, MAX_HEADER_TEXT)}}
    ]
    for key in FINDINGS:
        blocks.append(
            _section(SECTION_TITLES[key], digest.section(key).headline(), digest.links.get(key))
        )
    posts = [
        p.line(k)
        for k, p in (("Best", digest.engagement.best), ("Worst", digest.engagement.worst))
        if p
    ]
    if posts:
        blocks.append(_section("Best and worst post", "\n".join(posts)))
    actions = digest.actions
    body = (
        "\n".join(f"• {a.text} _(from {SECTION_TITLES[a.finding].lower()})_" for a in actions.items)
        if actions.items
        else actions.headline()
    )
    blocks.append({"type": "divider"})
    blocks.append(_section(SECTION_TITLES["actions"], body))
    audit = ", ".join(f"{key} {audit_id}" for key, audit_id in digest.audit_ids.items())
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": escape_mrkdwn(
                        f"Week {digest.week.describe()} vs {digest.week.previous().describe()} · "
                        f"sentiment by {digest.sentiment_model} · charts in the thread"
                    ),
                },
                {
                    "type": "mrkdwn",
                    "text": _clip(escape_mrkdwn(f"Audit ids: {audit}"), MAX_SECTION_TEXT),
                },
            ],
        }
    )
    return blocks


def fallback_text(digest: Digest) -> str:
    """The message's plain text (notifications and screen readers)."""
    return (
        f"{digest.brand} weekly digest {digest.week.label}: {digest.volume.headline()} "
        f"{digest.sentiment.headline()}"
    )


def find_posted(workspace: Workspace, week: str, channel: str) -> tuple[str, dict[str, Any]] | None:
    """The latest ``digest_posted`` marker of ``week`` in ``channel``: (audit id, output).

    Reads through a read-write connection, so any marker still in the journal is
    written first: a digest must never be posted twice.
    """
    with workspace.connect(wait=BATCH_LOCK_WAIT_SECONDS) as con:
        workspace.journal.drain(con)
        rows = con.execute(
            """SELECT audit_id, output FROM audit
               WHERE kind = ? AND json_extract_string(inputs, '$.week') = ?
                 AND json_extract_string(inputs, '$.channel') = ?
               ORDER BY created_at DESC LIMIT 1""",
            [POSTED_KIND, week, channel],
        ).fetchall()
    if not rows:
        return None
    return str(rows[0][0]), json.loads(rows[0][1])


@contextlib.contextmanager
def _publishing(workspace: Workspace) -> Iterator[None]:
    """Hold the workspace's digest lock (a ``flock`` beside it) while a digest is published.

    Raises:
        ServiceUnavailableError: Another digest run held it for longer than a batch
            job's wait.
    """
    path = workspace.path.with_name(workspace.path.name + ".digest.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + BATCH_LOCK_WAIT_SECONDS
    with path.open("a") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ServiceUnavailableError(
                        "another digest run is still publishing; try again in a few minutes"
                    ) from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def publish_digest(
    workspace: Workspace,
    digest: Digest,
    poster: SlackPoster,
    channel: str,
    *,
    force: bool = False,
) -> PublishResult:
    """Post the digest to ``channel`` unless it is already there (``force`` posts again).

    The summary goes first; its ``digest_posted`` marker (week + channel id) is recorded as
    soon as Slack accepts it, so a failure while uploading the charts never leads to a
    second summary on the next run.

    Raises:
        ConfigError, InputError, ServiceUnavailableError: From :class:`SlackPoster`.
    """
    channel_id = poster.channel_id(channel)
    week = digest.week.label
    # Look, post and mark as one step: a scheduled run and a manual one at the same
    # moment would otherwise both find no marker and both post.
    with _publishing(workspace):
        earlier = find_posted(workspace, week, channel_id)
        if earlier is not None and not force:
            marker_id, output = earlier
            return PublishResult(False, channel_id, output.get("ts"), (), marker_id)
        message = poster.post_message(channel_id, fallback_text(digest), digest_blocks(digest))
        with workspace.connect(wait=BATCH_LOCK_WAIT_SECONDS) as con:
            marker_id = record_audit(
                con,
                kind=POSTED_KIND,
                inputs={
                    "week": week,
                    "channel": channel_id,
                    "channel_asked": channel,
                    "force": force,
                },
                output={"channel": message.channel, "ts": message.ts},
                sources=[f"audit:{audit_id}" for audit_id in digest.audit_ids.values()],
            )
    images = [
        SlackImage(f"{digest.week.label}-{c.key}.png", c.title, c.alt, c.png) for c in digest.charts
    ]
    try:
        files = poster.upload_images(channel_id, images, thread_ts=message.ts)
    except ServiceUnavailableError as error:
        raise ServiceUnavailableError(
            f"the summary is in Slack (ts {message.ts}) but the charts failed: {error}; "
            "rerun with --force to post the digest again"
        ) from None
    return PublishResult(True, message.channel, message.ts, files, marker_id)
