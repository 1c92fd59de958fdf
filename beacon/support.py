"""Customer support on the public widget: what Beacon keeps and who it tells.

- :func:`record_customer_message` keeps each customer message in the workspace as a
  post on the ``support`` platform (through the same validation and pseudonymising as
  every other post) with its sentiment score, so staff can ask how support chats are
  trending and the digest counts them.
- :func:`hand_off` sends a conversation's summary to the staff Slack channel and
  records the hand-off (audit kind ``handoff``) whether or not Slack answered, so no
  request for a person is lost.
- :func:`record_rating` keeps the customer's 1–5 satisfaction rating.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime

from analytics.sentiment import LABELS, SentimentScorer
from analytics.support import SUPPORT_PLATFORM
from beacon.digest import SlackPoster
from beacon.scoring import score_rows, score_with_labels
from foundation.exceptions import BeaconError, InputError
from foundation.workspace import (
    POST_COLUMNS,
    Pseudonymizer,
    RowError,
    Workspace,
    utc_now,
    validate_post,
)

logger = logging.getLogger(__name__)

#: ``source`` of the posts that support messages become.
SUPPORT_SOURCE = "support-widget"
#: Audit kind of a hand-off to a person.
HANDOFF_KIND = "handoff"


def support_post_id(conversation_id: str, message_id: str) -> str:
    """The post id of one customer message: stable, so a retried turn is stored once."""
    digest = hashlib.sha256(f"{conversation_id}\x00{message_id}".encode()).hexdigest()[:12]
    return f"{SUPPORT_PLATFORM}-{digest}"


def record_customer_message(
    workspace: Workspace,
    *,
    conversation_id: str,
    message_id: str,
    text: str,
    posted_at: datetime,
    pseudonymizer: Pseudonymizer,
    scorer: SentimentScorer,
) -> float:
    """Keep one customer message as a ``support`` post with its score.

    The conversation id stands in for the account (pseudonymised like any handle);
    e-mails, phone numbers and @mentions in the text are pseudonymised. The message is
    validated and scored outside the workspace lock and kept through the journal, so
    a batch job holding the workspace never delays the turn. Keeping the same message
    twice (a retried turn) changes nothing.

    Returns:
        The sentiment model's probability that the message is negative.

    Raises:
        InputError: The message cannot be stored (empty or too long); the reason says why.
    """
    raw = {
        "post_id": support_post_id(conversation_id, message_id),
        "platform": SUPPORT_PLATFORM,
        "account": conversation_id,
        "text": text,
        "posted_at": posted_at,
        "likes": 0,
        "comments": 0,
        "shares": 0,
        "media_type": "none",
    }
    try:
        post = validate_post(
            raw, source=SUPPORT_SOURCE, pseudonymizer=pseudonymizer, ingested_at=utc_now()
        )
    except RowError as error:
        raise InputError(f"that message could not be kept: {error}") from error
    labels, proba = score_with_labels(scorer, [post["text"]])
    workspace.keep("posts", [[post[column] for column in POST_COLUMNS]])
    workspace.keep("scores", score_rows(scorer.version, [post["post_id"]], labels, proba))
    return float(proba[0, LABELS.index("negative")])


@dataclass(frozen=True)
class Handoff:
    """A hand-off of a support conversation to a person.

    Attributes:
        reference: The reference the customer can quote (``H-`` and six characters).
        delivered: True when the staff Slack channel got the summary.
        channel: The Slack channel it went (or should have gone) to.
        error: Why it could not be delivered, when it was not.
    """

    reference: str
    delivered: bool
    channel: str
    error: str | None = None


def hand_off(
    workspace: Workspace,
    *,
    conversation_id: str,
    summary: str,
    negative: float,
    channel: str,
    poster: SlackPoster | None,
) -> Handoff:
    """Post ``summary`` to the staff ``channel`` and record the hand-off.

    Args:
        workspace: Where the hand-off is kept (``audit``, through the journal).
        conversation_id: The customer's conversation.
        summary: What the person taking over needs (analytics.support.handoff_summary).
        negative: The conversation's highest P(negative), shown to staff.
        channel: Staff Slack channel name or id.
        poster: The Slack adapter, or None when Slack is not configured.

    Returns:
        The hand-off; ``delivered`` is False (with ``error``) when Slack is not
        configured or did not answer. It is recorded either way, so staff can find it.
    """
    reference = "H-" + secrets.token_hex(3).upper()
    text = (
        f":raising_hand: Support hand-off {reference}: a customer on the website chat asked "
        f"for a person (highest chance of a negative message {negative:.0%}).\n{summary}"
    )
    error: str | None = None
    if poster is None:
        error = "Slack is not configured (SLACK_BOT_TOKEN is not set)"
    else:
        try:
            poster.post_message(channel, text)
        except BeaconError as failure:
            error = str(failure)
            logger.error("support hand-off %s not delivered to %s: %s", reference, channel, error)
    workspace.record_audit(
        kind=HANDOFF_KIND,
        inputs={
            "reference": reference,
            "channel": channel,
            "delivered": error is None,
            "error": error,
        },
        output=text,
        conversation_id=conversation_id,
    )
    return Handoff(reference=reference, delivered=error is None, channel=channel, error=error)


def record_rating(workspace: Workspace, conversation_id: str, rating: int) -> str:
    """Keep a customer's satisfaction rating (1–5) for the conversation; returns its id.

    Raises:
        InputError: ``rating`` is not a whole number from 1 to 5.
    """
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise InputError(f"a rating is a whole number from 1 to 5 (got {rating!r})")
    rating_id = secrets.token_hex(8)
    workspace.keep("support_ratings", [[rating_id, utc_now(), conversation_id, rating]])
    return rating_id
