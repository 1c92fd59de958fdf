"""The base of every Beacon action: audience check, error handling, off-loop work."""

from __future__ import annotations

import abc
import asyncio
import logging
from typing import Any, ClassVar

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.audience import STAFF, audience_of
from actions.parsing import SlotValueError
from actions.services import Services, get_services
from analytics.support import Frustration, Turn, assess_frustration
from beacon.support import record_customer_message
from foundation.exceptions import BeaconError
from foundation.workspace import record_audit, utc_now

logger = logging.getLogger(__name__)

GENERIC_FAILURE = (
    "Sorry, something went wrong on my side while working that out. "
    "The team can see the details in the action server's log."
)
STAFF_ONLY_REFUSAL = (
    "I can't help with that here. I can answer questions about orders, shipping, "
    "returns and our products, or pass you to a person."
)

HANDOFF_OFFER = (
    "I'm sorry this has been frustrating. Would you like me to pass our conversation "
    "to a person on our team?"
)
HANDOFF_BUTTONS = [
    {"title": "Yes, talk to a person", "payload": "/request_human"},
    {"title": "No, thanks", "payload": "/deny"},
]
#: Customer messages after an offer during which it is not made again.
OFFER_QUIET_TURNS = 4
#: Actions that already answer frustration: they never add an offer of their own.
_NO_OFFER_ACTIONS = frozenset({"action_request_human", "action_rate_conversation"})

Events = list[dict[str, Any]]


def customer_turns(tracker: Tracker) -> list[Turn]:
    """The conversation so far as customer and bot turns (button payloads left out)."""
    turns: list[Turn] = []
    for event in tracker.events:
        text = event.get("text")
        if not isinstance(text, str) or not text.strip():
            continue
        if event.get("event") == "user" and not text.startswith("/"):
            turns.append(Turn("customer", text))
        elif event.get("event") == "bot":
            turns.append(Turn("bot", text))
    return turns


def _offered_recently(tracker: Tracker) -> bool:
    users = 0
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            users += 1
            if users > OFFER_QUIET_TURNS:
                return False
        elif event.get("event") == "bot" and event.get("text") == HANDOFF_OFFER:
            return True
    return False


def _latest_message_id(tracker: Tracker) -> str:
    given = (tracker.latest_message or {}).get("message_id")
    if given:
        return str(given)
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return str(event.get("message_id") or event.get("timestamp") or "")
    return ""


class BeaconAction(Action, metaclass=abc.ABCMeta):
    """Subclasses set ``action_name`` and implement :meth:`respond`.

    ``respond`` runs in a worker thread (analytics calls block), gets the
    process's :class:`~actions.services.Services`, and returns Rasa events.
    Errors Beacon raises on purpose carry a message written for people and are
    said as they are; anything else is logged and the user gets a short apology,
    never a traceback.
    """

    #: Staff-only actions refuse customers (DESIGN.md, "Two audiences").
    staff_only: ClassVar[bool] = True

    @property
    @abc.abstractmethod
    def action_name(self) -> str:
        """The action's name in the domain (subclasses set it as a class attribute)."""

    def name(self) -> str:
        return self.action_name

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> Events:
        services = get_services()
        customer = audience_of(tracker) != STAFF
        frustration = (
            await asyncio.to_thread(self._customer_turn, services, tracker) if customer else None
        )
        events: Events = []
        if self.staff_only and customer:
            await asyncio.to_thread(self._record_refusal, services, tracker)
            dispatcher.utter_message(text=STAFF_ONLY_REFUSAL)
        else:
            try:
                events = await asyncio.to_thread(self.respond, dispatcher, tracker, services)
            except (BeaconError, SlotValueError) as error:
                dispatcher.utter_message(text=str(error))
            except Exception:
                logger.exception("action %s failed", self.action_name)
                dispatcher.utter_message(text=GENERIC_FAILURE)
        if (
            frustration is not None
            and frustration.offer_handoff
            and self.action_name not in _NO_OFFER_ACTIONS
            and not _offered_recently(tracker)
        ):
            dispatcher.utter_message(text=HANDOFF_OFFER, buttons=HANDOFF_BUTTONS)
        return events

    def _customer_turn(self, services: Services, tracker: Tracker) -> Frustration | None:
        """Keep the customer's message as a support post and judge its mood.

        Never stops the answer: a failure here is logged and the turn goes on.
        """
        text = ((tracker.latest_message or {}).get("text") or "").strip()
        if not text or text.startswith("/"):  # a button's payload, not the customer's words
            return None
        try:
            with services.workspace.connect() as con:
                negative = record_customer_message(
                    con,
                    conversation_id=tracker.sender_id,
                    message_id=_latest_message_id(tracker),
                    text=text,
                    posted_at=utc_now(),
                    pseudonymizer=services.pseudonymizer(),
                    scorer=services.scorer,
                )
        except Exception:
            logger.exception("could not keep the support message of %s", tracker.sender_id)
            return None
        earlier = [t.text for t in customer_turns(tracker) if t.who == "customer"][:-1]
        return assess_frustration(text, earlier, negative)

    @abc.abstractmethod
    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        """Do the work and utter the reply."""

    def _record_refusal(self, services: Services, tracker: Tracker) -> None:
        with services.workspace.connect() as con:
            record_audit(
                con,
                kind="refused_staff_only",
                inputs={
                    "action": self.action_name,
                    "text": (tracker.latest_message or {}).get("text"),
                },
                output=STAFF_ONLY_REFUSAL,
                conversation_id=tracker.sender_id,
            )
