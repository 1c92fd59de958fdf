"""Help and feedback: the actions every audience may use."""

from __future__ import annotations

import duckdb
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.audience import STAFF, audience_of
from actions.base import BeaconAction, Events
from actions.capabilities import help_text
from actions.parsing import corrected_label, feedback_verdict, mentioned_post_ids
from actions.services import Services
from beacon.retrain import last_retrain, sentiment_correction, sentiment_corrections
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
    """Stores a thumbs-up, thumbs-down or correction against Beacon's last audited answer.

    A staff correction that names a workspace post and one sentiment label ("fb-m000324
    is negative, not positive") is stored in a structured form that ``beacon retrain``
    learns from; customers' corrections are kept as text only, so nobody outside the
    team can steer the models.
    """

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
            learned = (
                self._sentiment_correction(con, text) if audience_of(tracker) == STAFF else None
            )
            if learned or (verdict == "down" and corrected_label(text)):
                verdict = "correction"  # "X is negative, not positive" carries the right answer
            correction = (
                sentiment_correction(*learned) if learned
                else text if verdict == "correction" else None
            )  # fmt: skip
            feedback_id = record_audit(
                con,
                kind="feedback",
                inputs={"verdict": verdict, "audit_id": audit_id, "correction": correction},
                output=text,
                conversation_id=tracker.sender_id,
            )
            con.execute(
                "INSERT INTO feedback VALUES (?, ?, ?, ?, ?, ?, ?)",
                [feedback_id, utc_now(), tracker.sender_id, audit_id, verdict, correction, text],
            )
            pending = len(sentiment_corrections(con)) if learned else 0
        about = f"my last answer ({kind.replace('_', ' ')})" if kind else "this conversation"
        if learned:
            post_id, label = learned
            reply = (
                f"Thanks — noted that post {post_id} is {label}. The sentiment model learns it "
                f"at the next retrain (`beacon retrain`); {pending} correction(s) are waiting."
            )
        elif verdict == "up":
            reply = f"Thanks! I've noted that {about} was helpful."
        elif verdict == "correction":
            reply = f"Thanks for the correction. I've saved it against {about} so the team can review it."
        else:
            reply = f"Sorry about that. I've noted that {about} missed the mark; tell me what the right answer is and I'll save it too."
        dispatcher.utter_message(text=reply)
        return []

    @staticmethod
    def _sentiment_correction(con: duckdb.DuckDBPyConnection, text: str) -> tuple[str, str] | None:
        """``(post_id, label)`` when ``text`` names one workspace post and one label."""
        label = corrected_label(text)
        ids = mentioned_post_ids(text)
        if label is None or not ids:
            return None
        known = [
            row[0]
            for row in con.execute(
                "SELECT post_id FROM posts WHERE list_contains(?, lower(post_id))", [ids]
            ).fetchall()
        ]
        return (known[0], label) if len(known) == 1 else None


class ActionFeedbackStatus(BeaconAction):
    """How many corrections Beacon holds and what the last retrain changed."""

    action_name = "action_feedback_status"

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        with services.workspace.connect() as con:
            counts = dict(
                con.execute("SELECT verdict, count(*) FROM feedback GROUP BY 1").fetchall()
            )
            pending = sentiment_corrections(con)
            last = last_retrain(con)
        lines = [
            f"I hold {sum(counts.values())} piece(s) of feedback: {counts.get('up', 0)} 👍, "
            f"{counts.get('down', 0)} 👎 and {counts.get('correction', 0)} correction(s); "
            f"{len(pending)} of the corrections teach the sentiment model about a post."
        ]
        if last and not last.get("accepted", True):
            lines.append(
                f"The last retrain was not adopted ({last['guard_before']:.3f} → "
                f"{last['guard_after']:.3f} macro recall on held-out rows, "
                f"{last['fixed_after']} of {len(last['examples'])} corrected posts right), "
                "so the current model keeps answering and the corrections are still waiting."
            )
        elif last:
            changed = [e for e in last["examples"] if e["before"] != e["after"]]
            lines.append(
                f"The last retrain learned {last['corrections']} correction(s): the corrected "
                f"posts went from {last['fixed_before']} to {last['fixed_after']} right"
                + (
                    f", e.g. {changed[0]['post_id']} {changed[0]['before']} → {changed[0]['after']}"
                    if changed
                    else ""
                )
                + "."
            )
            if last.get("heldout_before") is not None:
                lines.append(
                    f"On held-out tweets its macro recall went {last['heldout_before']:.3f} → "
                    f"{last['heldout_after']:.3f}."
                )
        else:
            lines.append("The models have not been retrained from feedback yet (`beacon retrain`).")
        dispatcher.utter_message(text="\n".join(lines))
        return []
