"""Help and feedback: what Beacon can do, corrections to its answers and what they changed."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import duckdb
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.audience import STAFF, audience_of
from actions.base import BeaconAction, Events
from actions.capabilities import help_text
from actions.context import latest_text
from actions.parsing import (
    corrected_label,
    engagement_outcome,
    feedback_verdict,
    mentioned_post_ids,
)
from actions.services import Services
from beacon.retrain import (
    ENGAGEMENT_TARGET,
    SENTIMENT_TARGET,
    correction_labels,
    engagement_correction,
    engagement_corrections,
    feedback_row,
    last_retrain,
    sentiment_correction,
    sentiment_corrections,
)
from foundation.workspace import get_meta, queries


class ActionHelp(BeaconAction):
    """Lists what Beacon can do for this audience, with example questions."""

    action_name = "action_help"

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        with services.workspace.connect(read_only=True) as con:
            brand = str(get_meta(con, "brand", "our"))
        dispatcher.utter_message(text=help_text(audience_of(tracker), brand))
        return []


class ActionRecordFeedback(BeaconAction):
    """Stores a thumbs-up, thumbs-down or correction against Beacon's last audited answer.

    A staff correction that names a workspace post and one sentiment label ("fb-m000324
    is negative, not positive") is stored in the structured columns ``beacon retrain``
    learns from; so is one that states how one of the brand's own posts really did
    ("ig-000045 actually did badly", "tw-000123 should have been a top post", or "that's
    wrong, it should have been a top post" after an answer about one post), which
    recalibrates the engagement model. A staff correction that names a post but no label
    the models know gets the valid labels back. Customers' words are kept as text only,
    whatever their shape, so nobody outside the team can steer the models.
    """

    action_name = "action_record_feedback"

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        text = latest_text(tracker)
        verdict = feedback_verdict(text)
        audience = audience_of(tracker)
        staff = audience == STAFF
        with services.workspace.connect(read_only=True) as con:
            last = queries.last_audit(con, tracker.sender_id, not_kind="refused_staff_only")
            audit_id, kind, inputs = (
                (last.audit_id, last.kind, last.inputs) if last else (None, None, None)
            )
            outcome = self._engagement_correction(con, text, kind, inputs) if staff else None
            learned = self._sentiment_correction(con, text) if staff and not outcome else None
            # A staff correction naming one post but no label we know: say which are valid.
            unlabelled = (
                self._named_post(con, text)
                if staff
                and verdict != "up"
                and corrected_label(text) is None
                and engagement_outcome(text) is None
                else None
            )
            structured = (
                engagement_correction(*outcome)
                if outcome
                else sentiment_correction(*learned)
                if learned
                else None
            )
            if structured or (verdict == "down" and corrected_label(text)):
                verdict = "correction"  # "X is negative, not positive" carries the right answer
            feedback_id = services.workspace.record_audit(
                kind="feedback",
                inputs={
                    "verdict": verdict,
                    "audit_id": audit_id,
                    "audience": audience,
                    "correction": asdict(structured) if structured else None,
                },
                output=text,
                conversation_id=tracker.sender_id,
            )
            # The new row is kept through the journal, so it is not in these counts yet.
            pending = len(sentiment_corrections(con)) + 1 if learned else 0
            pending_engagement = len(engagement_corrections(con)) + 1 if outcome else 0
        services.workspace.keep(
            "feedback",
            [
                feedback_row(
                    feedback_id=feedback_id,
                    conversation_id=tracker.sender_id,
                    audit_id=audit_id,
                    verdict=verdict,
                    text=text,
                    audience=audience,
                    correction=structured,
                )
            ],
        )
        about = f"my last answer ({kind.replace('_', ' ')})" if kind else "this conversation"
        if outcome:
            post_id, label = outcome
            reply = (
                f"Thanks — noted that post {post_id} "
                + ("was a top post" if label == "top" else "was not a top post")
                + " for its account. The engagement model's calibration learns it at the next "
                f"retrain (`beacon retrain`); {pending_engagement} engagement correction(s) "
                "are waiting."
            )
        elif learned:
            post_id, label = learned
            reply = (
                f"Thanks — noted that post {post_id} is {label}. The sentiment model learns it "
                f"at the next retrain (`beacon retrain`); {pending} correction(s) are waiting."
            )
        elif unlabelled:
            reply = (
                f"I've saved your words about {unlabelled} for the team, but the models can't "
                "learn them: I didn't find one label I know. A sentiment correction says "
                f"{_labels(SENTIMENT_TARGET)} (e.g. '{unlabelled} is negative, not "
                "positive'); an engagement correction says whether it was a top post (e.g. "
                f"'{unlabelled} actually did badly' or '{unlabelled} should have been a top "
                "post')."
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
    def _named_post(con: duckdb.DuckDBPyConnection, text: str) -> str | None:
        """The one workspace post ``text`` names, or None."""
        ids = mentioned_post_ids(text)
        known = queries.known_post_ids(con, ids) if ids else []
        return known[0] if len(known) == 1 else None

    @staticmethod
    def _engagement_correction(
        con: duckdb.DuckDBPyConnection, text: str, kind: str | None, inputs: str | None
    ) -> tuple[str, str] | None:
        """``(post_id, "top" | "not_top")`` when ``text`` states how one own post did.

        The post is the one named in ``text``, else the one the last answer explained.
        """
        outcome = engagement_outcome(text)
        if outcome is None:
            return None
        ids = mentioned_post_ids(text)
        if not ids and kind == "post_explanation" and inputs:
            explained = json.loads(inputs).get("post_id")
            ids = [str(explained).lower()] if explained else []
        if not ids:
            return None
        known = queries.known_post_ids(con, ids, own_only=True)
        return (known[0], outcome) if len(known) == 1 else None

    @staticmethod
    def _sentiment_correction(con: duckdb.DuckDBPyConnection, text: str) -> tuple[str, str] | None:
        """``(post_id, label)`` when ``text`` names one workspace post and one label."""
        label = corrected_label(text)
        ids = mentioned_post_ids(text)
        if label is None or not ids:
            return None
        known = queries.known_post_ids(con, ids)
        return (known[0], label) if len(known) == 1 else None


class ActionFeedbackStatus(BeaconAction):
    """How many corrections Beacon holds and what the last retrain changed."""

    action_name = "action_feedback_status"

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        with services.workspace.connect(read_only=True) as con:
            counts = queries.feedback_counts(con)
            pending = sentiment_corrections(con)
            engagement = engagement_corrections(con)
            last = last_retrain(con)
            recalibrated = last_retrain(con, ENGAGEMENT_TARGET)
        lines = [
            f"I hold {sum(counts.values())} piece(s) of feedback: {counts.get('up', 0)} 👍, "
            f"{counts.get('down', 0)} 👎 and {counts.get('correction', 0)} correction(s); "
            f"{len(pending)} of the corrections teach the sentiment model about a post and "
            f"{len(engagement)} tell the engagement model how a post really did."
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
        lines.extend(_recalibration_lines(recalibrated))
        dispatcher.utter_message(text="\n".join(lines))
        return []


def _recalibration_lines(last: dict[str, Any] | None) -> list[str]:
    """What the last engagement recalibration (a ``retrain`` audit's output) changed."""
    if not last:
        return ["The engagement model has not been recalibrated yet (`beacon retrain`)."]
    before, after = last["before"], last["after"]
    sources = (
        f"{last['corrections']} engagement correction(s) and {last['outcome_rows']} post(s) "
        "published since it was trained"
    )
    checked = (
        f"held-out calibration error (ECE) {before['ece']:.3f} → {after['ece']:.3f}, "
        f"Brier {before['brier']:.3f} → {after['brier']:.3f}"
    )
    if not last["accepted"]:
        return [
            f"The last engagement recalibration (from {sources}) was not adopted: {checked}, "
            f"so {last['base_version']} keeps answering."
        ]
    line = f"The last engagement recalibration used {sources}: {checked}"
    examples = last.get("examples") or []
    if examples:
        e = examples[0]
        line += (
            f"; e.g. {e['post_id']} ({e['corrected_to'].replace('_', ' ')}) went "
            f"{e['before']:.0%} → {e['after']:.0%} chance of a top-30% post"
        )
    return [line + f". It answers as {last['new_version']}."]


def _labels(target: str) -> str:
    """``negative, neutral or positive``: the labels a correction of ``target`` may carry."""
    *rest, last = correction_labels(target)
    return f"{', '.join(rest)} or {last}" if rest else last
