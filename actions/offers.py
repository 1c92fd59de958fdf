"""``affirm`` / ``deny`` → :class:`ActionAnswerOffer`: a typed yes or no does what the buttons do.

When a reply ends with an offer ("Would you like me to pass our conversation to a
person?"), the offering action stores a :class:`~actions.context.PendingOffer`. A typed
"ok, please do" then runs the offered action, exactly as the "Yes" button's payload
would; "no thanks" runs the offer's no (or just asks what else). Without an offer just
before, a bare yes or no is answered as small talk, and a longer message the classifier
took for one ("stop sending me newsletters") is answered as a question.
"""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.audience import audience_of
from actions.base import BeaconAction, Events
from actions.capabilities import may_run
from actions.context import PENDING_OFFER_SLOT, latest_text, pending_offer
from actions.fallbacks import answer_unclear
from actions.services import Services
from actions.support import ActionRequestHuman

#: Longest message still read as a bare yes or no when nothing was offered.
BARE_REPLY_WORDS = 3
#: A yes with nothing offered.
NOTHING_OFFERED_YES = "Great. What would you like to look at next?"
#: A no with nothing offered, or a no to an offer that has no action of its own.
NOTHING_OFFERED_NO = "No problem. What else can I help you with?"

#: What an offer may run on a yes: the same actions its buttons' payloads trigger.
OFFERABLE: dict[str, type[BeaconAction]] = {
    ActionRequestHuman.action_name: ActionRequestHuman,
}


class ActionAnswerOffer(BeaconAction):
    """Takes up, or declines, the offer the previous reply made."""

    action_name = "action_answer_offer"

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        said_yes = ((tracker.latest_message or {}).get("intent") or {}).get("name") == "affirm"
        offered = pending_offer(tracker)
        events: Events = [SlotSet(PENDING_OFFER_SLOT, None)]
        text = latest_text(tracker)
        if offered is None and len(text.split()) > BARE_REPLY_WORDS:
            # "stop sending me newsletters", "cancel my order pls": a question, not a reply.
            return events + answer_unclear(dispatcher, tracker, services)
        target = None if offered is None else offered["yes"] if said_yes else offered["no"]
        if target is None or target not in OFFERABLE:
            dispatcher.utter_message(
                text=NOTHING_OFFERED_YES if said_yes and offered is None else NOTHING_OFFERED_NO
            )
            return events
        if not may_run(target, audience_of(tracker)):  # offers are made per audience
            dispatcher.utter_message(text=NOTHING_OFFERED_NO)
            return events
        return events + (OFFERABLE[target]().respond(dispatcher, tracker, services) or [])
