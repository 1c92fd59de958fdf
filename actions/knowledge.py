"""``ask_knowledge`` → :class:`ActionKnowledgeAnswer`."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.audience import STAFF, audience_of
from actions.base import BeaconAction, Events
from actions.services import Services
from beacon.workspace import record_audit

#: Customers only ever search the public collection (FAQ, shipping, care, sizing).
CUSTOMER_COLLECTION = "public"


class ActionKnowledgeAnswer(BeaconAction):
    """An extractive answer from the team's documents, quoting each source and section."""

    action_name = "action_knowledge_answer"
    staff_only = False

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        question = (tracker.latest_message or {}).get("text") or ""
        collection = None if audience_of(tracker) == STAFF else CUSTOMER_COLLECTION
        answer = services.knowledge().ask(question, collection=collection, k=3)
        with services.workspace.connect() as con:
            record_audit(
                con,
                kind="knowledge_answer",
                inputs={"question": question, "collection": collection},
                sources=[f"{p.source}#{p.section}" for p in answer.passages],
                output=answer.answer,
                conversation_id=tracker.sender_id,
            )
        dispatcher.utter_message(text=answer.answer)
        return []
