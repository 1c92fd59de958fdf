"""Answers quoted from the documents: the one way every action answers from them.

``ask_knowledge`` answers this way, and so does every message that the classifier was
unsure of (staff) or that was not small talk, a rating or a hand-off (customers): the
retrieval safety net. Customers only ever search the public collection. Each answer is
audited (kind ``knowledge_answer``) with what it showed, so "show me more" and "where
does it say that?" can follow it up after a restart (actions/knowledge.py).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, TypedDict

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.audience import STAFF, audience_of
from actions.context import LastAnswer, last_answer, latest_text, offer, remember
from actions.services import DocumentsUnavailable, Services
from knowledge import ANSWER_THRESHOLD, Answer, Passage

#: Customers only ever search the public collection (FAQ, shipping, care, sizing).
CUSTOMER_COLLECTION = "public"
#: The buttons under an offer of a person (a typed yes or no does the same: actions/offers.py).
HANDOFF_BUTTONS = [
    {"title": "Yes, talk to a person", "payload": "/request_human"},
    {"title": "No, thanks", "payload": "/deny"},
]
#: A customer's answer while the document index is down (the details are in the log).
PAGES_UNAVAILABLE = "I can't search our help pages just now, sorry. Shall I pass you to a person?"
#: Audit kind of an answer from the documents (a "show me more" reply is one too).
ANSWER_KIND = "knowledge_answer"
#: Passages an answer retrieves, and a "show me more" reply adds.
PASSAGES_PER_TURN = 3
#: Longest passage text quoted in a "show me more" reply (cut at a sentence end).
EXCERPT_CHARS = 400
#: Staff who ask the documents outright get the closest passage, said to be a guess,
#: down to this answerability; customers get "not found" under ``ANSWER_THRESHOLD``.
STAFF_ANSWER_FLOOR = 0.05
#: Said before a staff answer the answerability model doubts.
HEDGE = "I'm not sure the documents answer exactly that; the closest I found:"
#: A follow-up this short leans on the previous question even without "and" ("till when?").
SHORT_FOLLOW_UP_WORDS = 4
#: Longest follow-up that leans on the previous question when it starts like one.
CONTINUATION_WORDS = 10
_CONTINUATION = re.compile(
    r"^\s*(and|or|also|plus|but|then|what about|how about|same (?:for|with)|ok(?:ay)?,? and)\b",
    re.IGNORECASE,
)
_INSTEAD = re.compile(r"\binstead\b", re.IGNORECASE)


def reads_as_continuation(text: str) -> bool:
    """Whether ``text`` continues the previous question: short, and starting like "and",
    "what about" or "ok and", or saying "instead" ("on facebook instead?")."""
    return len(text.split()) <= CONTINUATION_WORDS and (
        _CONTINUATION.match(text) is not None or _INSTEAD.search(text) is not None
    )


def question_in_context(tracker: Tracker, text: str) -> tuple[str, str]:
    """The question to search for ``text``, and the conversation's topic question.

    After an answer from the documents, a short follow-up ("and weekends?", "till when
    is it valid") is searched together with the question that answer was about, which
    it leans on; anything else is searched as it is and starts a new topic.
    """
    previous = last_answer(tracker)
    words = len(text.split())
    follows = words <= SHORT_FOLLOW_UP_WORDS or reads_as_continuation(text)
    if previous is not None and previous.kind == "document" and follows:
        topic = str(previous.params.get("topic") or previous.params.get("question") or "")
        if topic:
            return f"{topic} {text}", topic
    return text, text


class ShownQuote(TypedDict):
    """One quotation shown to the user, with where it came from."""

    id: str  # stable passage id: hash of source, section path and text
    rank: int  # 1-based rank of the passage in the retrieval of the turn that showed it
    source: str  # document path relative to the indexed folder
    section: str  # innermost section heading
    section_path: str  # headings from the document title down, joined with " > "
    quote: str  # the text shown: an answer's sentence or a passage excerpt


class AnswerRecord(TypedDict):
    """The ``output`` JSON of a ``knowledge_answer`` audit row."""

    answer: str  # the reply text as sent
    mode: str  # "extractive", "generated", "not_found" or "more"
    quotes: list[ShownQuote]  # what this reply quoted, in the order shown
    seen: list[str]  # ids of every passage shown for this question so far, this reply included


def passage_id(passage: Passage) -> str:
    """A stable id for ``passage``: the same text in the same place gets the same id."""
    key = "\x00".join((passage.source, passage.section_path, passage.text))
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """``text`` with runs of whitespace made single spaces, cut to about ``limit`` characters.

    A long text is cut after its last sentence that fits, or else at a word with "…".
    """
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    head = flat[:limit]
    end = max(head.rfind(". "), head.rfind("! "), head.rfind("? "))
    if end >= limit // 2:
        return head[: end + 1]
    return head[: head.rfind(" ")].rstrip(" ,;:") + "…" if " " in head else head + "…"


def answer_record(answer: Answer) -> AnswerRecord:
    """What :class:`ActionKnowledgeAnswer` remembers about ``answer`` for its follow-ups.

    An extractive answer showed the passages its quotes came from; a generated one
    cites every passage it was given, so each counts as shown with its excerpt.
    """
    quotes: list[ShownQuote] = []
    if answer.mode == "extractive":
        for quote in answer.quotes:
            passage = next(
                (
                    p
                    for p in answer.passages
                    if (p.source, p.section_path) == (quote.source, quote.section_path)
                    and quote.text in p.text
                ),
                None,
            )
            if passage is not None:
                quotes.append(shown_quote(passage, quote.text))
    else:
        quotes = [shown_quote(passage, excerpt(passage.text)) for passage in answer.passages]
    return AnswerRecord(
        answer=answer.answer,
        mode=answer.mode,
        quotes=quotes,
        seen=list(dict.fromkeys(quote["id"] for quote in quotes)),
    )


def shown_quote(passage: Passage, text: str) -> ShownQuote:
    return ShownQuote(
        id=passage_id(passage),
        rank=passage.rank,
        source=passage.source,
        section=passage.section,
        section_path=passage.section_path,
        quote=text,
    )


def format_quotes(quotes: list[ShownQuote]) -> list[str]:
    """Each quote in quotation marks, then its file and section (as extractive answers show them)."""
    lines: list[str] = []
    for quote in quotes:
        lines.append(f"“{quote['quote']}”")
        lines.append(
            f"    — {quote['source']}, section “{quote['section']}” ({quote['section_path']})"
        )
    return lines


def answer_from_documents(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    services: Services,
    *,
    only_if_found: bool = False,
    lead: str | None = None,
) -> list[dict[str, Any]] | None:
    """Answer the latest message from the documents the audience may see, and audit it.

    Args:
        dispatcher: Where the reply goes.
        tracker: The conversation; its latest message is the question.
        services: The process's adapters.
        only_if_found: Say nothing and return None when no passage is relevant enough
            (the caller then answers another way).
        lead: A sentence said before the quotes (e.g. that the question was unclear).

    Returns:
        The events to return: the answer remembered for follow-ups, and, when a customer
        was told the pages don't answer, the offer of a person (so a typed yes takes it).
        None when ``only_if_found`` and nothing was found.
    """
    question, topic = question_in_context(tracker, latest_text(tracker))
    customer = audience_of(tracker) != STAFF
    collection = CUSTOMER_COLLECTION if customer else None
    # Staff asking the documents outright would rather see a hedged closest passage.
    hedged = not (customer or only_if_found)
    floor = STAFF_ANSWER_FLOOR if hedged else None
    try:
        answer = services.knowledge().ask(
            question,
            collection=collection,
            k=PASSAGES_PER_TURN,
            answer_threshold=floor,
        )
    except DocumentsUnavailable:
        if only_if_found:
            return None
        if not customer:
            raise
        # A customer is never left without a way on: a person can still answer.
        dispatcher.utter_message(text=PAGES_UNAVAILABLE, buttons=HANDOFF_BUTTONS)
        return [offer(tracker, yes="action_request_human")]
    if only_if_found and not answer.found:
        return None
    audit_id = services.workspace.record_audit(
        kind=ANSWER_KIND,
        inputs={"question": question, "collection": collection},
        sources=[f"{p.source}#{p.section}" for p in answer.passages],
        output=answer_record(answer),
        conversation_id=tracker.sender_id,
    )
    if floor is not None and answer.found and answer.confidence < ANSWER_THRESHOLD:
        lead = lead or HEDGE
    if answer.found:
        dispatcher.utter_message(text=f"{lead}\n{answer.answer}" if lead else answer.answer)
    elif customer:
        dispatcher.utter_message(text=answer.answer, buttons=HANDOFF_BUTTONS)
    else:
        dispatcher.utter_message(text=answer.answer)
    shown = LastAnswer(
        "document",
        ids=tuple(dict.fromkeys(f"{p.source}#{p.section}" for p in answer.passages)),
        params={"question": question, "topic": topic, "collection": collection},
        audit_id=audit_id,
    )
    events = [remember(shown)]
    if customer and not answer.found:
        events.append(offer(tracker, yes="action_request_human"))
    return events
