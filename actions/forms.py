"""The forms' questions (``action_ask_<slot>``) and their validations (``validate_<form>``).

The questions name what the workspace holds; the validator reads the posting time.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.answers import answer_from_documents
from actions.audience import STAFF, audience_of
from actions.base import BeaconAction, Events
from actions.context import latest_text
from actions.engagement import planning_now
from actions.experiments import named_experiment
from actions.parsing import (
    SlotValueError,
    handed_over_draft,
    inline_draft,
    next_full_hour,
    posting_time_label,
    read_posting_time,
    wants_any_time,
)
from actions.services import Services, get_services
from analytics.support import SUPPORT_PLATFORM
from foundation.workspace import PLATFORMS, platform_name, queries

#: The question for ``posting_time`` (the examples are phrases the validator reads).
ASK_POSTING_TIME = "When will it go out? e.g. 'now', 'tomorrow 9am', 'Friday 18:00' (UTC)"
#: Longest piece of an unreadable answer quoted back.
_QUOTE_CHARS = 60
#: What the test plan or experiment log answers and no test's result does ("by when must
#: results be in the log?", "can the subject line promise 20% off? check the test plan").
_PLAN_CUES = re.compile(
    r"\b(?:plan|log|guide|playbook|process|polic(?:y|ies)|rules?|supposed to|allowed|"
    r"by when|deadlines?|owners?|owns|template|checklist)\b",
    re.IGNORECASE,
)


class ActionAskDraftText(BeaconAction):
    """engagement_form: asks for the draft post."""

    action_name = "action_ask_draft_text"

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        dispatcher.utter_message(
            text="Sure. Paste the text of the draft post and I'll estimate how it will do."
        )
        return []


class ActionAskPlatform(BeaconAction):
    """engagement_form: asks for the platform, naming those with posts in the workspace."""

    action_name = "action_ask_platform"

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        with services.workspace.connect(read_only=True) as con:
            # Support chats are not a platform a draft goes out on.
            busiest = queries.platforms_by_volume(con, leave_out=SUPPORT_PLATFORM)
        codes = busiest or [p for p in PLATFORMS if p != SUPPORT_PLATFORM]
        names = [platform_name(code) for code in codes]
        dispatcher.utter_message(text=f"Which platform is it for? ({', '.join(names)})")
        return []


class ActionAskPostingTime(BeaconAction):
    """engagement_form: asks when the post will go out, with the current UTC time."""

    action_name = "action_ask_posting_time"

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        now = planning_now(services)
        dispatcher.utter_message(text=f"{ASK_POSTING_TIME}; it is {posting_time_label(now)} now.")
        return []


def start_draft_form(tracker: Tracker) -> Events | None:
    """Start the engagement form on a draft handed over in a message read as something else.

    "thinking of tweeting this: …" or "here's tomorrow's insta caption: …" may be
    classified as a bare entity or as unclear; the draft, and the platform and time its
    lead-in names, then fill the form's slots (stale ones from earlier answers are
    cleared) and the form asks for the rest. None for customers, inside a form, or when
    the message hands over no draft (:func:`actions.parsing.handed_over_draft`).
    """
    if audience_of(tracker) != STAFF or tracker.active_loop_name:
        return None
    found = handed_over_draft(str(latest_text(tracker)))
    if found is None:
        return None
    request, draft, platform = found
    try:
        timed = read_posting_time(request, planning_now(get_services())) is not None
    except SlotValueError:
        timed = True  # a time that can't be used: the form's validation says why
    return [
        SlotSet("draft_text", draft),
        SlotSet("platform", platform),
        SlotSet("posting_time", request if timed else None),
        FollowupAction("engagement_form"),
    ]


class ValidateEngagementForm(FormValidationAction):
    """Reads ``posting_time`` into an ISO timestamp (naive UTC), or asks again with a reason.

    The time can come with the opening message ("how will this do if I post it
    friday at 9am") or with the platform ("instagram, tomorrow 9am"); then the form
    does not ask for it. So can the draft ("how will this do on instagram: New
    colours are in!", see :func:`actions.parsing.inline_draft`). Customers get no
    messages from here (the form's questions already refuse them).
    """

    def name(self) -> str:
        return "validate_engagement_form"

    @staticmethod
    def _opening(tracker: Tracker) -> bool:
        """Whether the latest message is a staff member's request that opened the form."""
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        return (
            audience_of(tracker) == STAFF
            and tracker.get_slot("requested_slot") is None
            and intent == "predict_engagement"
        )

    async def extract_draft_text(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The draft given with the opening request, in quotes or after a colon."""
        if tracker.get_slot("draft_text") is not None or not self._opening(tracker):
            return {}
        found = inline_draft(str(latest_text(tracker)))
        return {"draft_text": found[1]} if found else {}

    async def extract_posting_time(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The latest message as the time, when it is the opening or the platform answer."""
        if tracker.get_slot("posting_time") is not None or audience_of(tracker) != STAFF:
            return {}
        requested = tracker.get_slot("requested_slot")
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        opening = self._opening(tracker)
        if not (opening or (requested == "platform" and intent == "inform")):
            return {}
        text = str(latest_text(tracker))
        found = inline_draft(text) if opening else None
        text = found[0] if found else text  # the draft's own "this Friday" is not the time
        try:
            named = read_posting_time(text, planning_now(get_services())) is not None
        except SlotValueError:
            named = True  # a time that can't be used: validate_posting_time says why
        return {"posting_time": text} if named else {}

    def validate_posting_time(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """An ISO timestamp for a readable future time; None (asked again) otherwise."""
        text = " ".join(str(slot_value or "").split())
        staff = audience_of(tracker) == STAFF
        now = planning_now(get_services())
        try:
            found = read_posting_time(text, now)
        except SlotValueError as error:
            if staff:
                dispatcher.utter_message(text=str(error))
            return {"posting_time": None}
        if found is None and wants_any_time(text):
            when = next_full_hour(now)
            if staff:
                dispatcher.utter_message(
                    text=f"Then I'll take the next full hour, {posting_time_label(when, now)}. "
                    'After the prediction, ask "how can I improve it?" and I\'ll search the '
                    "best time in the 7 days from then."
                )
            return {"posting_time": when.isoformat(timespec="minutes")}
        if found is None:
            if staff:
                quoted = text if len(text) <= _QUOTE_CHARS else text[: _QUOTE_CHARS - 1] + "…"
                dispatcher.utter_message(text=f"I couldn't read a time in “{quoted}”.")
            return {"posting_time": None}
        if found.assumed and staff:
            dispatcher.utter_message(
                text=f"I read that as {posting_time_label(found.when, now)} ({found.assumed})."
            )
        return {"posting_time": found.when.isoformat(timespec="minutes")}


class ValidateExperimentForm(FormValidationAction):
    """Reads which experiment the opening request names, when the classifier found none.

    "is the banner test legit?" or "did orange beat green?" name a test by a word of its
    name or by its variants; without this the form would ask "which experiment?" (or
    answer about the test discussed before). Nothing is guessed on a tie.
    """

    def name(self) -> str:
        return "validate_experiment_form"

    async def extract_experiment(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The experiment the opening message's words name, or nothing."""
        latest = tracker.latest_message or {}
        intent = (latest.get("intent") or {}).get("name")
        if (
            audience_of(tracker) != STAFF
            or tracker.get_slot("requested_slot") is not None
            or intent != "analyze_experiment"
        ):
            return {}
        if any(entity.get("entity") == "experiment" for entity in latest.get("entities") or []):
            return {}
        named = named_experiment(tracker, get_services())
        return {"experiment": named} if named else {}


class ActionAskExperiment(BeaconAction):
    """experiment_form: asks which experiment, listing the workspace's experiments."""

    action_name = "action_ask_experiment"

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        latest = tracker.latest_message or {}
        opening = (latest.get("intent") or {}).get("name") == "analyze_experiment"
        if opening and _PLAN_CUES.search(latest_text(tracker)):
            # A question about how tests are run names no test: the documents may answer.
            quoted = answer_from_documents(dispatcher, tracker, services, only_if_found=True)
            if quoted is not None:
                # Ends the form early; action_analyze_experiment then has no test to read.
                return [*quoted, SlotSet("requested_slot", None)]
        with services.workspace.connect(read_only=True) as con:
            names = [name for _, name in queries.experiments(con)]
        listing = (
            f" I have: {', '.join(names)}." if names else " There are none in the workspace yet."
        )
        dispatcher.utter_message(text=f"Which experiment should I look at?{listing}")
        return []
