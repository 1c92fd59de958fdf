"""What Beacon does with a message it did not understand or cannot help with.

The retrieval safety net (issue: understanding): before saying it didn't understand,
Beacon tries the documents the audience may read.

- ``nlu_fallback`` (the classifier was unsure) → :class:`ActionFallback`: staff get the
  previous answer asked again when the message continues it with a change ("and what if
  we post it at 6?", :mod:`actions.again`), more of it when the message continues it
  ("what did it cost?" after a campaign, :mod:`actions.continuations`), the explanation
  of a prediction a short message follows ("what would push it higher"), else the
  documents' answer if one is relevant
  enough, else the analysis of an experiment the message names by its words or variants,
  else "didn't get that" and the help menu;
  customers always get the public help pages (a quote, or "that isn't in our pages" with
  the offer of a person).
- ``out_of_scope`` → :class:`ActionOutOfScope`: staff are told it's outside what Beacon
  does, with the help menu; a customer's question is tried on the public pages first,
  since "do you sell ski boots?" is a support question even when it sounds off-topic.
"""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.again import continued_with_a_change
from actions.answers import answer_from_documents
from actions.audience import STAFF, audience_of
from actions.base import BeaconAction, Events
from actions.capabilities import help_text
from actions.context import last_answer, latest_text
from actions.continuations import continue_previous
from actions.engagement import ActionExplainPost
from actions.experiments import answer_experiment, named_experiment
from actions.forms import start_draft_form
from actions.services import Services

#: Said before the documents' answer to a staff message the classifier was unsure of.
UNSURE_LEAD = "I'm not sure I understood the question, so here is what the documents say:"
#: Said when neither the classifier nor the documents made sense of a staff message.
NOT_UNDERSTOOD = "Sorry, I didn't quite get that. Could you rephrase it?"
#: Longest unclear message right after a prediction that is read as asking about it.
FOLLOW_UP_WORDS = 8
#: Said to staff for a question outside what Beacon does.
OUT_OF_SCOPE = "Sorry, that's outside what I can help with."


def answer_unclear(
    dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
) -> Events:
    """The documents first, then (staff only) an experiment the message names, then
    "didn't get that" and the help menu.

    A staff message that hands over a draft starts the engagement form instead.
    """
    if audience_of(tracker) != STAFF:
        return answer_from_documents(dispatcher, tracker, services) or []
    draft = start_draft_form(tracker)  # "here's tomorrow's insta caption: …"
    if draft is not None:
        return draft
    again = continued_with_a_change(tracker, services)  # "and what if we post it at 6?"
    if again is not None:
        return again(dispatcher, tracker, services)
    events = continue_previous(dispatcher, tracker, services)  # "what did it cost?"
    if events is not None:
        return events
    if _follows_a_prediction(tracker):  # "what would push it higher"
        return ActionExplainPost().respond(dispatcher, tracker, services)
    events = answer_from_documents(
        dispatcher, tracker, services, only_if_found=True, lead=UNSURE_LEAD
    )
    if events is not None:
        return events
    events = answer_named_experiment(dispatcher, tracker, services)
    if events is not None:
        return events
    dispatcher.utter_message(text=NOT_UNDERSTOOD)
    dispatcher.utter_message(text=help_text(STAFF))
    return []


def _follows_a_prediction(tracker: Tracker) -> bool:
    """Whether an unclear message is short, names nothing and comes right after a
    prediction, explanation or recommendation: it asks about that answer."""
    previous = last_answer(tracker)
    message = tracker.latest_message or {}
    return (
        previous is not None
        and previous.kind in ("prediction", "explanation", "recommendation")
        and not message.get("entities")
        and len(latest_text(tracker).split()) <= FOLLOW_UP_WORDS
    )


def answer_named_experiment(
    dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
) -> Events | None:
    """The analysis of the experiment a staff message names by its words or variants ("so
    orange is better or not??", "did green beat orange at checkout?"); None when it names
    none (:func:`actions.experiments.named_experiment`, unprompted)."""
    named = named_experiment(tracker, services, unprompted=True)
    if named is None:
        return None
    return answer_experiment(dispatcher, tracker, services, named)


class ActionFallback(BeaconAction):
    """A message the classifier was unsure of: the documents, then the help menu."""

    action_name = "action_fallback"

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        return answer_unclear(dispatcher, tracker, services)


class ActionOutOfScope(BeaconAction):
    """Outside what Beacon does: staff are told so; customers get the help pages first."""

    action_name = "action_out_of_scope"

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        if audience_of(tracker) != STAFF:
            return answer_from_documents(dispatcher, tracker, services) or []
        dispatcher.utter_message(text=OUT_OF_SCOPE)
        dispatcher.utter_message(text=help_text(STAFF))
        return []
