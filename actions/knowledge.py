"""``ask_knowledge`` → :class:`ActionKnowledgeAnswer`; ``knowledge_followup`` →
:class:`ActionKnowledgeFollowup` ("show me more", "where does it say that?").

Everything a follow-up needs is in the ``audit`` row of the answer it follows (kind
``knowledge_answer``: the question and collection in ``inputs``, an
:class:`AnswerRecord` as JSON in ``output``), not in slots, so follow-ups survive a
restart of either server.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal, TypedDict

import duckdb
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.again import continued_with_a_change
from actions.answers import (
    ANSWER_KIND,
    CUSTOMER_COLLECTION,
    PASSAGES_PER_TURN,
    AnswerRecord,
    answer_from_documents,
    excerpt,
    format_quotes,
    passage_id,
    shown_quote,
)
from actions.audience import STAFF, audience_of
from actions.base import BeaconAction, Events
from actions.context import latest_text
from actions.experiments import answer_experiment, named_experiment
from actions.forms import start_draft_form
from actions.parsing import asks_how_a_draft_will_do
from actions.services import Services
from foundation.workspace import queries
from knowledge import SearchFilter

#: Audit kind of a "where does it say that?" reply.
SOURCES_KIND = "knowledge_sources"
#: How deep "show me more" looks in the ranking before saying there is no more.
SEARCH_DEPTH = 20
FollowupKind = Literal["more", "sources"]

_MORE_WORDS = re.compile(
    r"\b(more|else|other|others|another|next|further|continue|keep going|go on|additional)\b"
)
_SOURCE_WORDS = re.compile(
    r"\b(where|source|sources|say|says|said|cite|citation|quote|quoted|from|which|"
    r"document|doc|file|page|section|reference|proof|prove|link)\b"
)


class PreviousAnswer(TypedDict):
    """The conversation's last knowledge answer, read back from the audit table."""

    audit_id: str  # the audit row's id
    question: str  # the question as the user asked it
    collection: str | None  # the collection it searched (None: every collection, staff only)
    record: AnswerRecord  # what it showed


def followup_kind(text: str) -> FollowupKind:
    """Whether a follow-up asks for more passages or for the last answer's sources.

    Asking for more wins when both appear ("where else does it say that?" wants other
    places); a follow-up that names neither (a bare "go on") asks for more.
    """
    lowered = text.lower()
    if _MORE_WORDS.search(lowered):
        return "more"
    return "sources" if _SOURCE_WORDS.search(lowered) else "more"


#: A follow-up with no answer before it and more words than this is taken as a new question.
BARE_FOLLOWUP_WORDS = 6


def no_previous_answer_text(audience: str) -> str:
    """The one-sentence reply to a follow-up with no knowledge answer to follow."""
    example = (
        "what does our style guide say about emoji?"
        if audience == STAFF
        else "what is your return policy?"
    )
    return (
        "I haven't answered a question from the documents in this conversation yet, "
        f"so there is nothing to follow up; ask me one first, for example “{example}”."
    )


def last_answer(
    con: duckdb.DuckDBPyConnection, conversation_id: str, audience: str
) -> PreviousAnswer | None:
    """The conversation's latest ``knowledge_answer`` this audience may follow up.

    Customers only ever follow up answers from the public collection, even if a
    conversation id were shared with a staff channel.
    """
    row = queries.last_audit(
        con,
        conversation_id,
        kind=ANSWER_KIND,
        collection=None if audience == STAFF else CUSTOMER_COLLECTION,
    )
    if row is None:
        return None
    audit_id, _, inputs_json, output = row
    inputs: dict[str, Any] = json.loads(inputs_json or "{}")
    return PreviousAnswer(
        audit_id=audit_id,
        question=str(inputs.get("question") or ""),
        collection=inputs.get("collection"),
        record=_parse_record(output),
    )


def _parse_record(output: str | None) -> AnswerRecord:
    """The stored record; an answer audited as plain text (before follow-ups) showed nothing known."""
    try:
        payload = json.loads(output or "")
    except json.JSONDecodeError:
        payload = None
    if not isinstance(payload, dict):
        return AnswerRecord(answer=output or "", mode="unknown", quotes=[], seen=[])
    return AnswerRecord(
        answer=str(payload.get("answer", "")),
        mode=str(payload.get("mode", "unknown")),
        quotes=list(payload.get("quotes") or []),
        seen=[str(item) for item in payload.get("seen") or []],
    )


class ActionKnowledgeAnswer(BeaconAction):
    """An extractive answer from the team's documents, quoting each source and section."""

    action_name = "action_knowledge_answer"

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        if audience_of(tracker) == STAFF:
            again = continued_with_a_change(tracker, services)  # "ok and on fb instead?"
            if again is not None:
                return again(dispatcher, tracker, services)
            if asks_how_a_draft_will_do(latest_text(tracker)):
                # "i've got a fb post lined up - '…' how do we think it'll go"
                draft = start_draft_form(tracker)
                if draft is not None:
                    return draft
            named = named_experiment(tracker, services, unprompted=True, outcome=True)
            if named is not None:
                # "did green beat orange at checkout?": a test's outcome unless the
                # documents answer it outright (its test plan, say).
                found = answer_from_documents(dispatcher, tracker, services, only_if_found=True)
                return (
                    found
                    if found is not None
                    else answer_experiment(dispatcher, tracker, services, named)
                )
        return answer_from_documents(dispatcher, tracker, services) or []


class ActionKnowledgeFollowup(BeaconAction):
    """Follows up the conversation's last answer from the documents.

    "Show me more" gives the next-ranked passages for the same question that were not
    shown yet; "where does it say that?" lists the last answer's quotes with their sources.
    Both use the collection the answer searched, so customers stay on public documents.
    """

    action_name = "action_knowledge_followup"

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        text = latest_text(tracker)
        audience = audience_of(tracker)
        with services.workspace.connect(read_only=True) as con:
            previous = last_answer(con, tracker.sender_id, audience)
        if previous is None:
            if len(text.split()) > BARE_FOLLOWUP_WORDS:
                # Nothing to follow up, and more than "where does it say that?": a new
                # question that sounded like a follow-up ("more" in it, say).
                events = answer_from_documents(
                    dispatcher, tracker, services, only_if_found=audience == STAFF
                )
                if events is not None:
                    return events
            dispatcher.utter_message(text=no_previous_answer_text(audience))
            return []
        if followup_kind(text) == "sources":
            reply = self._sources(previous, text, tracker, services)
        else:
            reply = self._more(previous, text, tracker, services)
        dispatcher.utter_message(text=reply)
        return []

    @staticmethod
    def _sources(previous: PreviousAnswer, text: str, tracker: Tracker, services: Services) -> str:
        quotes = previous["record"]["quotes"]
        if quotes:
            heading = f"My answer to “{previous['question']}” quoted:"
            reply = "\n".join([heading, *format_quotes(quotes)])
        else:
            reply = (
                f"My last answer, to “{previous['question']}”, didn't quote any document: "
                "I found nothing relevant enough, so there is no source to show."
            )
        services.workspace.record_audit(
            kind=SOURCES_KIND,
            inputs={"text": text, "answer_audit_id": previous["audit_id"]},
            sources=[f"{q['source']}#{q['section']}" for q in quotes],
            output=reply,
            conversation_id=tracker.sender_id,
        )
        return reply

    @staticmethod
    def _more(previous: PreviousAnswer, text: str, tracker: Tracker, services: Services) -> str:
        question, collection = previous["question"], previous["collection"]
        knowledge = services.knowledge()
        seen = set(previous["record"]["seen"])
        fresh = [
            passage
            for passage in (
                knowledge.search(
                    question, k=SEARCH_DEPTH, filters=SearchFilter(collection=collection)
                )
                if question.strip()
                else []
            )
            if passage_id(passage) not in seen and passage.score >= knowledge.min_score
        ][:PASSAGES_PER_TURN]
        scope = f"the {collection} documents" if collection else "the documents"
        if not fresh:
            return (
                f"There is nothing more in {scope} about “{question}” beyond what I've "
                "already shown; try asking the question another way."
            )
        quotes = [shown_quote(passage, excerpt(passage.text)) for passage in fresh]
        reply = "\n".join([f"More from {scope} on “{question}”:", *format_quotes(quotes)])
        record = AnswerRecord(
            answer=reply,
            mode="more",
            quotes=quotes,
            seen=previous["record"]["seen"] + [quote["id"] for quote in quotes],
        )
        services.workspace.record_audit(
            kind=ANSWER_KIND,
            inputs={
                "question": question,
                "collection": collection,
                "followup": "more",
                "answer_audit_id": previous["audit_id"],
            },
            sources=[f"{p.source}#{p.section}" for p in fresh],
            output=record,
            conversation_id=tracker.sender_id,
        )
        return reply
