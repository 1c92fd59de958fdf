"""Greetings, goodbyes, hand-offs to a person and satisfaction ratings, per audience.

Customers (the public widget) get a support assistant's words; staff get the
marketing assistant's. ``request_human`` → :class:`ActionRequestHuman` hands a customer's
conversation to the staff Slack channel; ``rate_conversation`` →
:class:`ActionRateConversation` keeps the 1–5 rating asked for at goodbye and after a
hand-off. Noticing frustration on every customer turn lives in actions/base.py.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import HANDOFF_BUTTONS, answer_from_documents
from actions.audience import CUSTOMER, audience_of
from actions.base import BeaconAction, Events, customer_turns
from actions.context import latest_text, offer
from actions.fallbacks import answer_unclear
from actions.services import Services
from analytics.support import SUPPORT_PLATFORM, summarize_handoff
from beacon.support import ALREADY_OPEN, HELD, POSTED, hand_off, rating_of, record_rating
from foundation.workspace import get_meta, queries

RATING_QUESTION = "Before you go: how did I do today?"
#: Asked after a hand-off, and when a rating came without a number.
WHILE_YOU_WAIT = "While you wait: how did I do?"
ASK_FOR_NUMBER = "How would you rate this chat from 1 (poor) to 5 (great)?"
RATING_BUTTONS = [
    {"title": f"{stars} {'★' * stars}", "payload": f'/rate_conversation{{"rating": "{stars}"}}'}
    for stars in (5, 4, 3, 2, 1)
]
_RATING_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "terrible": 1,
    "bad": 2,
    "poor": 2,
    "ok": 3,
    "okay": 3,
    "fine": 3,
    "good": 4,
    "great": 5,
    "excellent": 5,
    "perfect": 5,
}


def _brand(services: Services) -> tuple[str, str | None]:
    with services.workspace.connect(read_only=True) as con:
        return str(get_meta(con, "brand", "our")), get_meta(con, "support_contact")


def rating_was_asked(tracker: Tracker) -> bool:
    """Whether Beacon's last words before the latest message asked for a rating."""
    events = list(tracker.events)
    users = [i for i, e in enumerate(events) if e.get("event") == "user"]
    said = [e.get("text") for e in events[: users[-1] if users else 0] if e.get("event") == "bot"]
    return bool(said) and said[-1] in (RATING_QUESTION, WHILE_YOU_WAIT, ASK_FOR_NUMBER)


def parse_rating(entities: list[dict[str, Any]], text: str) -> int | None:
    """A 1–5 rating from a ``rating`` entity, or a digit or word in ``text``; else None."""
    for entity in entities:
        if entity.get("entity") == "rating" and str(entity.get("value", "")).strip().isdigit():
            value = int(str(entity["value"]).strip())
            return value if 1 <= value <= 5 else None
    digits = re.findall(r"\b([1-5])\b", text)
    if digits:
        return int(digits[0])
    words = [_RATING_WORDS[w] for w in re.findall(r"[a-z]+", text.lower()) if w in _RATING_WORDS]
    return words[0] if words else None


#: Small talk longer than this may carry a question; the documents answer it if they can.
GREETING_WORDS = 4


def answer_carried_question(
    dispatcher: CollectingDispatcher, tracker: Tracker, services: Services, *, lead: str
) -> Events | None:
    """Answer the question a greeting or a thanks carries ("hi! how long does delivery take?").

    Only a message longer than :data:`GREETING_WORDS` is tried. The documents answer when
    they can; a customer whose message asks something ("?") they don't answer is told so
    and offered a person, like any other customer question. None: plain small talk.
    """
    text = latest_text(tracker).strip()
    if len(text.split()) <= GREETING_WORDS:
        return None
    events = answer_from_documents(dispatcher, tracker, services, only_if_found=True, lead=lead)
    if events is None and "?" in text and audience_of(tracker) == CUSTOMER:
        events = answer_from_documents(dispatcher, tracker, services)
    return events


class ActionGreet(BeaconAction):
    """Says who Beacon is, in the words of the audience's assistant.

    A greeting that carries a question the documents answer ("hi! how long does
    delivery take?") gets that answer instead.
    """

    action_name = "action_greet"

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        events = answer_carried_question(dispatcher, tracker, services, lead="Hi!")
        if events is not None:
            return events
        if audience_of(tracker) == CUSTOMER:
            brand, _ = _brand(services)
            dispatcher.utter_message(
                text=f"Hi, I'm Beacon, {brand}'s support assistant. I can answer questions "
                "about orders, shipping, returns, sizing and product care, and pass you to a "
                "person on our team whenever you like. How can I help?"
            )
        else:
            dispatcher.utter_message(
                text="Hi, I'm Beacon, your marketing assistant: I read your social posts and "
                "campaign data to answer questions about sentiment, engagement, experiments and "
                "content. What would you like to know?"
            )
        return []


class ActionThank(BeaconAction):
    """ "You're welcome"; a thanks that carries a question gets it answered instead."""

    action_name = "action_thank"

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        events = answer_carried_question(dispatcher, tracker, services, lead="You're welcome!")
        if events is None:
            dispatcher.utter_message(response="utter_you_are_welcome")
        return events or []


class ActionGoodbye(BeaconAction):
    """Says goodbye; a customer is asked for a one-question satisfaction rating."""

    action_name = "action_goodbye"

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        if audience_of(tracker) == CUSTOMER:
            dispatcher.utter_message(text="Thanks for chatting with us.")
            # A conversation is rated once: don't ask for a rating it would refuse.
            if rating_of(services.workspace, tracker.sender_id, services.support) is None:
                dispatcher.utter_message(text=RATING_QUESTION, buttons=RATING_BUTTONS)
        else:
            dispatcher.utter_message(text="Bye for now. Ping me any time you need numbers.")
        return []


class ActionRequestHuman(BeaconAction):
    """Hands a customer's conversation to a person through the staff Slack channel."""

    action_name = "action_request_human"

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        if audience_of(tracker) != CUSTOMER:
            dispatcher.utter_message(
                text="You're talking to Beacon, a bot. For a person, ask your team in Slack; "
                "customers who ask for a person on the website chat are handed to the "
                f"#{services.settings.support_slack_channel} channel."
            )
            return []
        turns = customer_turns(tracker)
        with services.workspace.connect(read_only=True) as con:
            account = services.pseudonymizer().account(tracker.sender_id)
            negatives = queries.negative_chances(
                con,
                platform=SUPPORT_PLATFORM,
                account=account,
                model_version=services.scorer.version,
            )
        handoff = hand_off(
            services.workspace,
            conversation_id=tracker.sender_id,
            summary=summarize_handoff(turns, negatives),
            channel=services.settings.support_slack_channel,
            poster=services.slack(),
            desk=services.support,
        )
        brand, contact = _brand(services)
        write = f" You can also e-mail {contact} and quote {handoff.reference}." if contact else ""
        if handoff.status == POSTED:
            text = (
                f"I've passed our conversation to the {brand} support team, reference "
                f"{handoff.reference}. A person will pick it up and get back to you within one "
                f"working day.{write}"
            )
        elif handoff.status == ALREADY_OPEN:
            text = (
                f"Your request is already with the {brand} support team, reference "
                f"{handoff.reference}. A person will get back to you within one working "
                f"day; there's no need to ask again.{write}"
            )
        elif handoff.status == HELD:
            text = (
                f"Our support team is getting a lot of requests just now. I've saved yours "
                f"with reference {handoff.reference}, and a person will pick it up and get "
                f"back to you within one working day.{write}"
            )
        else:
            text = (
                f"I couldn't reach the support team just now, sorry. I've saved your request "
                f"with reference {handoff.reference} so the team sees it.{write}"
            )
        dispatcher.utter_message(text=text)
        if rating_of(services.workspace, tracker.sender_id, services.support) is None:
            dispatcher.utter_message(text=WHILE_YOU_WAIT, buttons=RATING_BUTTONS)
        return []


class ActionRateConversation(BeaconAction):
    """Keeps a 1–5 satisfaction rating for the conversation."""

    action_name = "action_rate_conversation"

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        latest = tracker.latest_message or {}
        if audience_of(tracker) != CUSTOMER and not rating_was_asked(tracker):
            # Staff don't rate Beacon unasked: a small number is part of a question
            # ("give me the top 3"), never a rating to thank them for.
            return answer_unclear(dispatcher, tracker, services)
        rating = parse_rating(latest.get("entities") or [], latest.get("text") or "")
        if rating is None:
            dispatcher.utter_message(text=ASK_FOR_NUMBER, buttons=RATING_BUTTONS)
            return []
        kept = record_rating(services.workspace, tracker.sender_id, rating, services.support)
        if not kept.kept:
            dispatcher.utter_message(
                text=f"Thank you! You've already rated this chat ({kept.rating}/5), and we "
                "keep one rating per chat."
            )
            return []
        if rating <= 2 and audience_of(tracker) == CUSTOMER:
            dispatcher.utter_message(
                text=f"Thank you for telling me ({rating}/5), and sorry I wasn't more help. "
                "Would you like a person on our team to take a look?",
                buttons=HANDOFF_BUTTONS,
            )
            return [offer(tracker, yes=ActionRequestHuman.action_name)]
        dispatcher.utter_message(text=f"Thank you for the rating ({rating}/5)!")
        return []
