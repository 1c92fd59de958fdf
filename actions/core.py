"""Help and feedback: the actions every audience may use."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.audience import audience_of
from actions.base import BeaconAction, Events
from actions.capabilities import help_text
from actions.parsing import feedback_verdict
from actions.services import Services
from beacon.workspace import fetch_one, record_audit, utc_now


class ActionHelp(BeaconAction):
    """Lists what Beacon can do for this audience, with example questions."""

    action_name = "action_help"
    staff_only = False

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        dispatcher.utter_message(text=help_text(audience_of(tracker)))
        return []


class ActionRecordFeedback(BeaconAction):
    """Stores a thumbs-up, thumbs-down or correction against Beacon's last audited answer."""

    action_name = "action_record_feedback"
    staff_only = False

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        text = (tracker.latest_message or {}).get("text") or ""
        verdict = feedback_verdict(text)
        with services.workspace.connect() as con:
            last = fetch_one(
                con,
                "SELECT audit_id, kind FROM audit WHERE conversation_id = ? "
                "AND kind <> 'refused_staff_only' ORDER BY created_at DESC LIMIT 1",
                [tracker.sender_id],
            )
            audit_id, kind = last if last else (None, None)
            feedback_id = record_audit(
                con,
                kind="feedback",
                inputs={"verdict": verdict, "audit_id": audit_id},
                output=text,
                conversation_id=tracker.sender_id,
            )
            con.execute(
                "INSERT INTO feedback VALUES (?, ?, ?, ?, ?, ?, ?)",
                [feedback_id, utc_now(), tracker.sender_id, audit_id, verdict,
                 text if verdict == "correction" else None, text],
            )  # fmt: skip
        about = f"my last answer ({kind.replace('_', ' ')})" if kind else "this conversation"
        if verdict == "up":
            reply = f"Thanks! I've noted that {about} was helpful."
        elif verdict == "correction":
            reply = f"Thanks for the correction. I've saved it against {about} so the models can learn from it."
        else:
            reply = f"Sorry about that. I've noted that {about} missed the mark; tell me what the right answer is and I'll save it too."
        dispatcher.utter_message(text=reply)
        return []
