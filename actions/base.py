"""The base of every Beacon action: audience check, error handling, off-loop work."""

from __future__ import annotations

import abc
import asyncio
import functools
import logging
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import HANDOFF_BUTTONS, answer_from_documents
from actions.audience import STAFF, audience_of
from actions.capabilities import may_run
from actions.context import latest_text, offer
from actions.parsing import SlotValueError, repaired_period
from actions.services import Services, get_services
from analytics.support import Frustration, Turn, assess_frustration
from beacon.support import record_customer_message
from foundation.exceptions import BeaconError
from foundation.workspace import utc_now

logger = logging.getLogger(__name__)

GENERIC_FAILURE = (
    "Sorry, something went wrong on my side while working that out. "
    "The team can see the details in the action server's log."
)
#: A file path or an exception's name in an error's message: never shown in a chat.
_INTERNAL_DETAIL = re.compile(
    r"(?:^|[\s(\"'`])(?:/[\w.-]+){2,}|\b[\w.-]+\.(?:duckdb|py|json|faiss|sqlite|jsonl)\b"
    r"|\b[A-Z][A-Za-z]*(?:Error|Exception)\b|Traceback"
)


def _shows_internals(message: str, said: str) -> bool:
    """Whether ``message`` shows a path or an exception name the user didn't write."""
    return any(
        match.group(0).strip(" (\"'`") not in said for match in _INTERNAL_DETAIL.finditer(message)
    )


#: What the audit says happened to a customer's message routed to a staff capability.
ANSWERED_FROM_PUBLIC_PAGES = "answered from the public help pages instead"

HANDOFF_OFFER = (
    "I'm sorry this has been frustrating. Would you like me to pass our conversation "
    "to a person on our team?"
)
#: Customer messages after an offer during which it is not made again.
OFFER_QUIET_TURNS = 4
#: Actions that already answer frustration: they never add an offer of their own.
_NO_OFFER_ACTIONS = frozenset(
    {"action_request_human", "action_rate_conversation", "action_answer_offer"}
)

Events = list[dict[str, Any]]

#: Threads for ordinary answers (a DuckDB query, a model call, a chart): enough to keep
#: two cores busy while some wait for the workspace.
LIGHT_WORKERS = 8
#: Threads for heavy work (images, video frames, retraining): one slow image can hold
#: only these, never the threads every other question needs.
HEAVY_WORKERS = 2

_T = TypeVar("_T")


@functools.cache
def _pool(heavy: bool) -> ThreadPoolExecutor:
    """The process's pool for heavy or light work, made on first use."""
    if heavy:
        return ThreadPoolExecutor(HEAVY_WORKERS, thread_name_prefix="beacon-heavy")
    return ThreadPoolExecutor(LIGHT_WORKERS, thread_name_prefix="beacon-light")


async def off_loop(heavy: bool, work: Callable[..., _T], *args: Any) -> _T:
    """Run ``work(*args)`` in the heavy or light pool, off the server's event loop."""
    return await asyncio.get_running_loop().run_in_executor(_pool(heavy), work, *args)


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
    never a traceback. An audience the action is not for (actions/capabilities.py)
    never reaches ``respond`` (DESIGN.md, "Two audiences"): the refusal is audited and
    the public help pages answer instead.
    """

    #: True for actions whose work is heavy (images, video): they run in their own pool.
    heavy: bool = False

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
        audience = audience_of(tracker)
        customer = audience != STAFF
        frustration = (
            await off_loop(False, self._customer_turn, services, tracker) if customer else None
        )
        events: Events = []
        repaired = repaired_period(
            tracker.get_slot("period"), latest_text(tracker), services.today()
        )
        if repaired is not None:
            # The extractor kept a piece of the phrase; the message says the whole of it.
            tracker.slots["period"] = repaired
            events.append(SlotSet("period", repaired))
        try:
            if may_run(self.action_name, audience):
                events += await off_loop(self.heavy, self.respond, dispatcher, tracker, services)
            else:
                await off_loop(False, self._record_refusal, services, tracker)
                events += await off_loop(False, self._instead, dispatcher, tracker, services)
        except (BeaconError, SlotValueError) as error:
            if _shows_internals(str(error), latest_text(tracker)):  # written for the CLI
                logger.warning("action %s: %s", self.action_name, error)
                dispatcher.utter_message(text=GENERIC_FAILURE)
            else:
                dispatcher.utter_message(text=str(error))
            if isinstance(error, SlotValueError) and error.slot:
                # A value the turn couldn't use must not spoil the next ones ("and on
                # facebook?" after a period Beacon couldn't read).
                events = [*events, SlotSet(error.slot, None)]
        except Exception:
            logger.exception("action %s failed", self.action_name)
            dispatcher.utter_message(text=GENERIC_FAILURE)
        if services.charts.shared is not None:  # several replicas: any may be asked for it
            await off_loop(False, services.charts.share_sent, dispatcher.messages)
        if (
            frustration is not None
            and frustration.offer_handoff
            and self.action_name not in _NO_OFFER_ACTIONS
            and not _offered_recently(tracker)
        ):
            dispatcher.utter_message(text=HANDOFF_OFFER, buttons=HANDOFF_BUTTONS)
            events.append(offer(tracker, yes="action_request_human"))
        return events

    @staticmethod
    def _instead(dispatcher: CollectingDispatcher, tracker: Tracker, services: Services) -> Events:
        """A customer's question routed to a staff capability: the public pages answer it.

        The customer most likely asked something the help pages cover in words the
        classifier took for a staff question; the staff action never runs, so nothing
        internal can reach them, and without a relevant page they are told so and offered
        a person.
        """
        return answer_from_documents(dispatcher, tracker, services) or []

    def _customer_turn(self, services: Services, tracker: Tracker) -> Frustration | None:
        """Keep the customer's message as a support post and judge its mood.

        Never stops the answer: a failure here is logged and the turn goes on.
        """
        text = latest_text(tracker).strip()
        if not text or text.startswith("/"):  # a button's payload, not the customer's words
            return None
        try:
            negative = record_customer_message(
                services.workspace,
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
        services.workspace.record_audit(
            kind="refused_staff_only",
            inputs={
                "action": self.action_name,
                "text": (tracker.latest_message or {}).get("text"),
            },
            output=ANSWERED_FROM_PUBLIC_PAGES,
            conversation_id=tracker.sender_id,
        )


#: Answers the latest message with the work of one action, within another action's turn.
Responder = Callable[[CollectingDispatcher, Tracker, Services], Events]


def respond_with(action: type[BeaconAction]) -> Responder:
    """``action``'s own ``respond``, which reads the rest of the question from the slots or
    the last answer: for a follow-up, what the message just filled is all that changes."""

    def respond(dispatcher: CollectingDispatcher, tracker: Tracker, services: Services) -> Events:
        return action().respond(dispatcher, tracker, services)

    return respond
