"""What the previous answer showed, and what it offered, kept in the tracker for follow-ups.

Every answering action stores a :class:`LastAnswer` in the ``last_answer`` slot: the
kind of answer (a prediction, a ranking, a sentiment summary, ...), the ids it showed in
the order it showed them, and the parameters of the question. "why?", "the second
one", "show me a few of those" and "and on instagram?" are then resolved against it
(:func:`last_answer`), without re-reading the workspace or guessing from the text of
earlier replies. The slot lives in the tracker, so it survives a restart and is the same
whichever action-server replica answers.

An answer that ends with an offer ("shall I pass you to a person?") stores a
:class:`PendingOffer` the same way, so a typed "ok, please do" or "no thanks" does what
the offer's buttons do (:func:`pending_offer`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypedDict

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet


def latest_text(tracker: Tracker) -> str:
    """The text of the user's latest message ("" for a button press without text)."""
    return (tracker.latest_message or {}).get("text") or ""


#: The slot that holds the payload (``bot/domain/core.yml``).
LAST_ANSWER_SLOT: Final = "last_answer"
#: The slot that holds the offer the latest reply made, if any.
PENDING_OFFER_SLOT: Final = "pending_offer"

#: The kinds of answer a follow-up can point at.
ANSWER_KINDS: Final = frozenset(
    {
        "prediction",  # a draft's chance of doing well (ids: none; params: draft, platform, time)
        "explanation",  # why a published post did well or badly (ids: the post)
        "recommendation",  # when and how to post (ids: the template post, if any)
        "ranking",  # creators for a brief (ids: handles, best first)
        "experiment",  # an A/B test's results (ids: the experiment)
        "document",  # a quoted answer from the documents (ids: "source#section", best first)
        "sentiment",  # brand sentiment for a scope (ids: example posts)
        "anomaly",  # unusual days (ids: example posts of the strongest alert)
        "top_posts",  # best or worst posts (ids: posts, in the order shown)
        "campaign",  # a campaign's results (ids: the campaign, then its posts)
        "comparison",  # side by side across platforms or periods (ids: example posts)
        "sample_size",  # how many units or days a test needs (ids: none)
        "image",  # what is in an image or video (ids: the post, if it came from one)
    }
)


class LastAnswerPayload(TypedDict):
    """The slot's JSON value."""

    kind: str  # one of ANSWER_KINDS
    ids: list[str]  # what the answer showed, in the order shown
    params: dict[str, Any]  # the question's parameters (platform, period, brief, ...), JSON values
    audit_id: str | None  # the audit row of the answer, when it wrote one


@dataclass(frozen=True)
class LastAnswer:
    """The previous answer of the conversation.

    Attributes:
        kind: What kind of answer it was (:data:`ANSWER_KINDS`).
        ids: What it showed, in the order shown (post ids, creator handles, ...).
        params: The parameters of the question it answered, as JSON values.
        audit_id: Its row in the ``audit`` table, when it wrote one.
    """

    kind: str
    ids: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    audit_id: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ANSWER_KINDS:
            raise ValueError(
                f"kind must be one of {sorted(ANSWER_KINDS)}, got {self.kind!r}; "
                "add a new kind to ANSWER_KINDS first"
            )

    def item(self, position: int) -> str | None:
        """The ``position``-th id shown (1 is the first), or None when there is no such item."""
        return self.ids[position - 1] if 1 <= position <= len(self.ids) else None

    def to_slot(self) -> LastAnswerPayload:
        """The JSON value stored in the slot."""
        return LastAnswerPayload(
            kind=self.kind, ids=list(self.ids), params=dict(self.params), audit_id=self.audit_id
        )

    @classmethod
    def from_slot(cls, value: object) -> LastAnswer | None:
        """The answer stored in the slot, or None when it holds nothing usable.

        A value written by an older Beacon (an unknown kind, a missing field) reads as
        no previous answer rather than an error: the follow-up then asks what it means.
        """
        if not isinstance(value, Mapping) or value.get("kind") not in ANSWER_KINDS:
            return None
        ids = value.get("ids")
        params = value.get("params")
        audit_id = value.get("audit_id")
        return cls(
            kind=str(value["kind"]),
            ids=tuple(str(i) for i in ids) if isinstance(ids, Sequence) else (),
            params=dict(params) if isinstance(params, Mapping) else {},
            audit_id=audit_id if isinstance(audit_id, str) else None,
        )


def remember(answer: LastAnswer) -> dict[str, Any]:
    """The event that stores ``answer`` as the conversation's previous answer."""
    return SlotSet(LAST_ANSWER_SLOT, answer.to_slot())


def last_answer(tracker: Tracker) -> LastAnswer | None:
    """The conversation's previous answer, or None before the first one."""
    return LastAnswer.from_slot(tracker.get_slot(LAST_ANSWER_SLOT))


#: Longest message (in words) still read as a follow-up of the previous answer.
FOLLOW_UP_MAX_WORDS: Final = 12


def _cues(*words: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(words) + r")\b", re.IGNORECASE)


#: Words asking to see the posts behind a sentiment or anomaly answer ("show me the posts").
_SHOW_POSTS = (r"posts?", r"examples?", r"show me", r"which ones", r"receipts", r"saying")

#: Per kind of previous answer: the words that ask for more of it. "how much money did
#: it make us?" continues an A/B test's results, "what did it cost?" a campaign report,
#: "and with 90% power?" a test plan, "what caused it?" an alert, "show me the posts" a
#: sentiment summary or an alert.
FOLLOW_UP_CUES: Final[Mapping[str, re.Pattern[str]]] = {
    "experiment": _cues(
        r"money",
        r"revenue",
        r"roi",
        r"worth",
        r"earn\w*",
        r"ma[dk]e us",
        r"profit\w*",
        r"pa(?:y|id) off",
        r"who should",
        r"roll(?:\s|-)?(?:it\s)?out",
        r"ship it",
        r"keep",
        r"significant",
        r"confident",
        r"sure",
        r"winner",
        r"won",
        r"win",
    ),
    "campaign": _cues(
        r"cost",
        r"spen[dt]",
        r"budget",
        r"roi",
        r"return",
        r"worth",
        r"money",
        r"pa(?:y|id) off",
        r"revenue",
        r"which one",
        r"best",
        r"worst",
        r"posts?",
    ),
    "sample_size": _cues(
        r"power",
        r"significance",
        r"alpha",
        r"confidence",
        r"traffic",
        r"visitors",
        r"a day",
        r"per day",
        r"lift",
        r"effect",
        r"baseline",
        r"days",
        r"weeks",
    ),
    "anomaly": _cues(
        r"caus\w*",
        r"why",
        r"behind",
        r"reasons?",
        r"driv\w*",
        r"trigger\w*",
        r"explain",
        *_SHOW_POSTS,
    ),
    "sentiment": _cues(*_SHOW_POSTS, r"complain\w*", r"grumbl\w*", r"moan\w*", r"gripes?"),
}


def follows_up(tracker: Tracker, previous: LastAnswer) -> bool:
    """Whether the latest message asks for more of ``previous`` (:data:`FOLLOW_UP_CUES`).

    Only a short message (at most :data:`FOLLOW_UP_MAX_WORDS` words) with one of the
    kind's words counts: a new question is never taken for a follow-up because it
    shares a word with one.
    """
    cues = FOLLOW_UP_CUES.get(previous.kind)
    text = latest_text(tracker)
    return (
        cues is not None
        and len(text.split()) <= FOLLOW_UP_MAX_WORDS
        and cues.search(text) is not None
    )


class PendingOffer(TypedDict):
    """An offer the bot made: what a typed yes (or no) to it runs."""

    yes: str  # the action a yes runs, e.g. "action_request_human"
    no: str | None  # the action a no runs (None: just ask what else)
    user_turn: int  # how many user messages there were when it was made


def user_turns(tracker: Tracker) -> int:
    """How many messages the user has sent in the conversation so far."""
    return sum(1 for event in tracker.events if event.get("event") == "user")


def offer(tracker: Tracker, yes: str, no: str | None = None) -> dict[str, Any]:
    """The event that makes a typed yes to this turn's reply run ``yes`` (and a no ``no``)."""
    return SlotSet(PENDING_OFFER_SLOT, PendingOffer(yes=yes, no=no, user_turn=user_turns(tracker)))


def pending_offer(tracker: Tracker) -> PendingOffer | None:
    """The offer the reply just before the latest message made, if it made one.

    An offer holds for the next message only: after any other turn in between, a yes
    is a plain yes again.
    """
    value = tracker.get_slot(PENDING_OFFER_SLOT)
    if not isinstance(value, Mapping) or not isinstance(value.get("yes"), str):
        return None
    if value.get("user_turn") != user_turns(tracker) - 1:
        return None
    no = value.get("no")
    return PendingOffer(
        yes=value["yes"], no=no if isinstance(no, str) else None, user_turn=value["user_turn"]
    )
