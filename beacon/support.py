"""Customer support on the public widget: what Beacon keeps and who it tells.

- :func:`record_customer_message` keeps each customer message in the workspace as a
  post on the ``support`` platform (through the same validation and pseudonymising as
  every other post) with its sentiment score, so staff can ask how support chats are
  trending and the digest counts them.
- :func:`hand_off` sends a conversation's summary to the staff Slack channel (the
  customer's words quoted as escaped mrkdwn, so they can ping nobody and disguise no
  link) and records the hand-off (audit kind ``handoff``) whether or not Slack answered,
  so no request for a person is lost. A conversation has one open hand-off, and at most
  ``BEACON_HANDOFF_MAX_PER_MINUTE`` are posted a minute (:class:`SupportDesk`).
- :func:`record_rating` keeps the customer's 1–5 satisfaction rating, once per
  conversation.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from analytics.sentiment import LABELS, SentimentScorer
from analytics.support import SUPPORT_PLATFORM, HandoffSummary
from beacon.digest import SlackPoster, escape_mrkdwn
from beacon.scoring import score_rows, score_with_labels
from foundation.exceptions import BeaconError, ConfigError, InputError, WorkspaceError
from foundation.workspace import (
    POST_COLUMNS,
    Pseudonymizer,
    RowError,
    SharedRecord,
    SharedRecordUnavailable,
    Workspace,
    queries,
    utc_now,
    validate_post,
)

logger = logging.getLogger(__name__)
_V = TypeVar("_V")

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


#: Hand-off posts to the staff channel per minute, across all conversations.
HANDOFF_LIMIT_ENV = "BEACON_HANDOFF_MAX_PER_MINUTE"
DEFAULT_HANDOFFS_PER_MINUTE = 10
#: Nothing closes a hand-off yet, so one stays open this long after it was made: a
#: weekend plus the working day the customer is promised.
HANDOFF_OPEN_FOR = timedelta(days=3)
#: Conversations the desk remembers in memory; older ones are found in the workspace.
_REMEMBERED = 10_000
#: Quoted turns go into Slack as ``mrkdwn`` with ``verbatim`` on: Slack then turns no
#: bare URL into a link and parses no mention, on top of the escaping.
_QUOTE = {"type": "mrkdwn", "verbatim": True}

#: :attr:`Handoff.status`: posted to the staff channel now.
POSTED = "posted"
#: :attr:`Handoff.status`: the conversation's open hand-off was posted before; nothing new.
ALREADY_OPEN = "already_open"
#: :attr:`Handoff.status`: over the per-minute cap; recorded, not posted.
HELD = "held"
#: :attr:`Handoff.status`: Slack is not configured or did not answer; recorded.
NOT_DELIVERED = "not_delivered"


def handoffs_per_minute(environ: Mapping[str, str] | None = None) -> int:
    """The cap on hand-off posts per minute, from ``BEACON_HANDOFF_MAX_PER_MINUTE``.

    Raises:
        ConfigError: The variable is set but not a whole number of at least 1.
    """
    env = os.environ if environ is None else environ
    value = (env.get(HANDOFF_LIMIT_ENV) or "").strip()
    if not value:
        return DEFAULT_HANDOFFS_PER_MINUTE
    if not value.isdigit() or int(value) < 1:
        raise ConfigError(
            f"{HANDOFF_LIMIT_ENV} must be a whole number of hand-offs per minute, at least 1 "
            f"(got {value!r}); leave it unset for {DEFAULT_HANDOFFS_PER_MINUTE}"
        )
    return int(value)


@dataclass
class _OpenHandoff:
    reference: str
    posted: bool  # True from the moment a post is under way: nobody posts it twice
    since: datetime  # naive UTC, as the workspace keeps time


class SupportDesk:
    """What one action-server process remembers of hand-offs and ratings.

    Hand-offs and ratings reach the workspace through the journal, a moment after the
    turn, so a quick second request would not find the first there: the desk answers
    for this process, the workspace for everything older or from another process.
    Thread-safe.

    Args:
        max_per_minute: Hand-off posts to Slack per minute, across all conversations.
        clock: Monotonic seconds (injectable for tests).
    """

    def __init__(
        self,
        max_per_minute: int = DEFAULT_HANDOFFS_PER_MINUTE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_per_minute = max_per_minute
        self.clock = clock
        self._lock = threading.Lock()
        self._posts: deque[float] = deque()
        self._handoffs: OrderedDict[str, _OpenHandoff] = OrderedDict()
        self._ratings: OrderedDict[str, int] = OrderedDict()

    @classmethod
    def from_env(cls) -> SupportDesk:
        """A desk with the cap from ``BEACON_HANDOFF_MAX_PER_MINUTE`` (default 10)."""
        return cls(max_per_minute=handoffs_per_minute())

    def claim_handoff(
        self,
        conversation_id: str,
        recorded: queries.HandoffRecord | None,
        *,
        post: bool,
        shared: SharedRecord | None = None,
    ) -> tuple[str, str | None]:
        """The conversation's reference, and POSTED (post it now), ALREADY_OPEN or HELD.

        With a ``shared`` record (several replicas), it decides for all replicas at once;
        while it does not answer, this process decides alone, as with one replica.
        """
        now = utc_now()
        with self._lock:
            known = self._handoffs.get(conversation_id)
            if known is not None and now - known.since > HANDOFF_OPEN_FOR:
                known = None
            if known is None and recorded is not None:
                known = _OpenHandoff(recorded.reference, recorded.delivered, recorded.created_at)
            if known is not None and known.posted:
                return known.reference, ALREADY_OPEN
            reference = known.reference if known else "H-" + secrets.token_hex(3).upper()
            since = known.since if known else now
        if shared is not None:
            try:
                reference, allowed = shared.claim_handoff(
                    conversation_id,
                    reference,
                    open_for=HANDOFF_OPEN_FOR,
                    max_per_minute=self.max_per_minute,
                    post=post,
                )
            except SharedRecordUnavailable as error:
                logger.warning("hand-off decided by this replica alone: %s", error)
            else:
                with self._lock:
                    claim = _OpenHandoff(reference, allowed is not False, since)
                    _remember(self._handoffs, conversation_id, claim)
                if allowed is None:
                    return reference, ALREADY_OPEN
                return reference, POSTED if allowed else HELD if post else None
        with self._lock:
            # New, or open but never posted (held, or Slack was down): post it now.
            claim = _OpenHandoff(reference, False, since)
            decision: str | None = None
            if post:
                moment = self.clock()
                while self._posts and self._posts[0] <= moment - 60.0:
                    self._posts.popleft()
                if len(self._posts) < self.max_per_minute:
                    self._posts.append(moment)
                    claim.posted, decision = True, POSTED
                else:
                    decision = HELD
            _remember(self._handoffs, conversation_id, claim)
            return reference, decision

    def settle_handoff(
        self, conversation_id: str, delivered: bool, shared: SharedRecord | None = None
    ) -> None:
        """Note whether the conversation's claimed post reached Slack (False: retry later)."""
        with self._lock:
            known = self._handoffs.get(conversation_id)
            if known is not None:
                known.posted = delivered
        if shared is not None:
            try:
                shared.settle_handoff(conversation_id, delivered)
            except SharedRecordUnavailable as error:
                logger.warning(
                    "hand-off %s not settled in the shared record: %s", conversation_id, error
                )

    def claim_rating(self, conversation_id: str, recorded: int | None, rating: int) -> int | None:
        """The conversation's earlier rating, or None after taking ``rating`` as its one."""
        with self._lock:
            earlier = self._ratings.get(conversation_id, recorded)
            _remember(self._ratings, conversation_id, rating if earlier is None else earlier)
            return earlier

    def rating_of(self, conversation_id: str) -> int | None:
        """The rating this process kept for the conversation, or None."""
        with self._lock:
            return self._ratings.get(conversation_id)


def _remember(store: OrderedDict[str, _V], key: str, value: _V) -> None:
    store[key] = value
    store.move_to_end(key)
    while len(store) > _REMEMBERED:
        store.popitem(last=False)


@dataclass(frozen=True)
class Handoff:
    """A hand-off of a support conversation to a person.

    Attributes:
        reference: The reference the customer can quote (``H-`` and six characters); a
            conversation keeps one while its hand-off is open.
        status: :data:`POSTED`, :data:`ALREADY_OPEN` (posted earlier, nothing new),
            :data:`HELD` (over the per-minute cap) or :data:`NOT_DELIVERED`.
        channel: The Slack channel it went (or should have gone) to.
        error: Why it was not posted, when it was held or not delivered.
    """

    reference: str
    status: str
    channel: str
    error: str | None = None

    @property
    def delivered(self) -> bool:
        """Whether the staff channel has it (now or from an earlier request)."""
        return self.status in (POSTED, ALREADY_OPEN)


def handoff_message(
    reference: str, summary: HandoffSummary, mask: Callable[[str], str] = str
) -> tuple[str, list[dict[str, Any]]]:
    """The Slack message of a hand-off: ``(text, blocks)``.

    The text (the notification) holds only Beacon's words. Everything the customer or the
    conversation said is quoted in blocks of escaped mrkdwn with ``verbatim`` on, so a
    customer who writes ``<!channel>`` or ``<https://evil.example|Log in>`` pings nobody
    and disguises no link.

    Args:
        reference: The hand-off's reference.
        summary: The conversation's summary.
        mask: Applied to each quoted turn before escaping (:meth:`Pseudonymizer.payment`
            in :func:`hand_off`: card numbers and IBANs never reach Slack).
    """
    text = (
        f":raising_hand: Support hand-off {reference}: a customer on the website chat asked "
        f"for a person (highest chance of a negative message {summary.max_negative:.0%})."
    )
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": summary.overview()}]},
    ]
    if summary.first_question is not None:
        quote = f"*First question:*\n>{escape_mrkdwn(mask(summary.first_question))}"
        blocks.append({"type": "section", "text": {**_QUOTE, "text": quote}})
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "Latest turns:"}]}
        )
        blocks += [
            {
                "type": "section",
                "text": {**_QUOTE, "text": f"*{t.who}:* {escape_mrkdwn(mask(t.text))}"},
            }
            for t in summary.latest
        ]
    return text, blocks


def hand_off(
    workspace: Workspace,
    *,
    conversation_id: str,
    summary: HandoffSummary,
    channel: str,
    poster: SlackPoster | None,
    desk: SupportDesk,
) -> Handoff:
    """Post ``summary`` to the staff ``channel`` once per conversation, and record it.

    A conversation has one open hand-off (:data:`HANDOFF_OPEN_FOR`): asking again gets
    its reference back and posts nothing, unless it never reached Slack (held, or Slack
    was down), when it is posted now under the same reference. At most
    ``desk.max_per_minute`` hand-offs are posted per minute; one over the cap is
    recorded, not posted. Every hand-off that was not already open is recorded (audit
    kind ``handoff``) whether or not Slack answered, so no request for a person is lost.

    Args:
        workspace: Where the hand-off is kept (``audit``, through the journal).
        conversation_id: The customer's conversation.
        summary: What the person taking over needs (analytics.support.summarize_handoff).
        channel: Staff Slack channel name or id.
        poster: The Slack adapter, or None when Slack is not configured.
        desk: This process's record of open hand-offs and the per-minute cap.

    Returns:
        The hand-off, with its reference and what happened to it.
    """
    recorded: queries.HandoffRecord | None = None
    try:
        with workspace.connect(read_only=True) as con:
            recorded = queries.latest_handoff(
                con, conversation_id, kind=HANDOFF_KIND, since=utc_now() - HANDOFF_OPEN_FOR
            )
    except WorkspaceError as unreadable:
        # The desk still knows this process's hand-offs; a busy file must not lose one.
        logger.warning("open hand-offs not checked in the workspace: %s", unreadable)
    reference, decision = desk.claim_handoff(
        conversation_id, recorded, post=poster is not None, shared=workspace.shared
    )
    if decision == ALREADY_OPEN:
        return Handoff(reference=reference, status=ALREADY_OPEN, channel=channel)
    # Card numbers and IBANs never go to Slack; the rest of the words staff need.
    text, blocks = handoff_message(reference, summary, mask=workspace.pseudonymizer.payment)
    status, error = POSTED, None
    if poster is None:
        status, error = NOT_DELIVERED, "Slack is not configured (SLACK_BOT_TOKEN is not set)"
    elif decision == HELD:
        status = HELD
        error = f"over the cap of {desk.max_per_minute} hand-offs a minute ({HANDOFF_LIMIT_ENV})"
        logger.warning("support hand-off %s held, not posted: %s", reference, error)
    else:
        try:
            poster.post_message(channel, text, blocks)
        except BeaconError as failure:
            status, error = NOT_DELIVERED, str(failure)
            desk.settle_handoff(conversation_id, delivered=False, shared=workspace.shared)
            logger.error("support hand-off %s not delivered to %s: %s", reference, channel, error)
    workspace.record_audit(
        kind=HANDOFF_KIND,
        inputs={
            "reference": reference,
            "channel": channel,
            "delivered": status == POSTED,
            "held": status == HELD,
            "error": error,
        },
        output=f"{text}\n{summary.as_text()}",
        conversation_id=conversation_id,
    )
    return Handoff(reference=reference, status=status, channel=channel, error=error)


@dataclass(frozen=True)
class Rating:
    """A customer's satisfaction rating of a conversation.

    Attributes:
        rating: The conversation's rating, 1–5: the earlier one when it was rated before.
        kept: True when this rating was kept; False when the conversation already had
            one (a conversation is rated once; the first rating stands).
    """

    rating: int
    kept: bool


def record_rating(
    workspace: Workspace, conversation_id: str, rating: int, desk: SupportDesk
) -> Rating:
    """Keep a customer's satisfaction rating (1–5), once per conversation.

    A second rating of the same conversation changes nothing: the first one stands, so
    nobody can pile ratings into the digest's average.

    Raises:
        InputError: ``rating`` is not a whole number from 1 to 5.
    """
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise InputError(f"a rating is a whole number from 1 to 5 (got {rating!r})")
    earlier = desk.claim_rating(
        conversation_id, rating_of(workspace, conversation_id, desk), rating
    )
    if earlier is not None:
        return Rating(rating=earlier, kept=False)
    workspace.keep("support_ratings", [[secrets.token_hex(8), utc_now(), conversation_id, rating]])
    return Rating(rating=rating, kept=True)


def rating_of(workspace: Workspace, conversation_id: str, desk: SupportDesk) -> int | None:
    """The conversation's rating (this process's record, else the workspace's), or None."""
    known = desk.rating_of(conversation_id)
    if known is not None:
        return known
    try:
        with workspace.connect(read_only=True) as con:
            return queries.conversation_rating(con, conversation_id)
    except WorkspaceError as error:
        logger.warning("earlier ratings not checked in the workspace: %s", error)
        return None
