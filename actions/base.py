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
from beacon.exceptions import BeaconError
from beacon.workspace import record_audit

logger = logging.getLogger(__name__)

GENERIC_FAILURE = (
    "Sorry, something went wrong on my side while working that out. "
    "The team can see the details in the action server's log."
)
STAFF_ONLY_REFUSAL = (
    "I can't help with that here. I can answer questions about orders, shipping, "
    "returns and our products, or pass you to a person."
)

Events = list[dict[str, Any]]


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
        if self.staff_only and audience_of(tracker) != STAFF:
            await asyncio.to_thread(self._record_refusal, services, tracker)
            dispatcher.utter_message(text=STAFF_ONLY_REFUSAL)
            return []
        try:
            return await asyncio.to_thread(self.respond, dispatcher, tracker, services)
        except (BeaconError, SlotValueError) as error:
            dispatcher.utter_message(text=str(error))
        except Exception:
            logger.exception("action %s failed", self.action_name)
            dispatcher.utter_message(text=GENERIC_FAILURE)
        return []

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
