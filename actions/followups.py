"""``ask_more`` → :class:`ActionFollowup`: "the second one", "show me a few of those".

A follow-up points at the previous answer, which every answering action remembers
(:mod:`actions.context`): its kind, the ids it showed in order and its parameters. What
the follow-up asks for depends on that kind:

- a creator ranking: "tell me more about the third" gives everything behind that
  creator's place; "why is number one ahead of number two?" compares the two;
- posts listed in order (best or worst posts, a campaign's posts): "the second one"
  explains that post;
- a sentiment summary or an anomaly: "show me a few of those" / "which posts?" lists the
  clearest examples of the same posts (negative ones when asked, or for a negative spike);
- a prediction or a recommendation: the draft is explained;
- an answer from the documents: more passages, or where it says that.

A bare entity (``inform``: "and on insta?", "what about last quarter?", "same but
twitter") always goes to :class:`ActionAskWhatAbout` (one rule in ``bot/data/rules.yml``):
after an answer that can be asked again with another platform, period, topic, post,
experiment, campaign or draft platform (:data:`actions.again.ASKED_AGAIN`), it asks it
again with what the message named, whichever route led to that answer; otherwise staff
are asked what they want to know (or, for a longer message, the documents are tried
first).

Nothing is guessed: without a previous answer, or with one this kind of follow-up can't
point into, the reply says what can be asked instead.
"""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.again import asked_again
from actions.answers import answer_from_documents
from actions.audience import STAFF, audience_of
from actions.base import BeaconAction, Events
from actions.capabilities import help_text
from actions.context import last_answer, latest_text
from actions.continuations import continue_previous
from actions.engagement import ActionExplainPost
from actions.experiments import ActionAnalyzeExperiment
from actions.fallbacks import OUT_OF_SCOPE, answer_unclear
from actions.forms import start_draft_form
from actions.influencers import answer_ranking_followup
from actions.knowledge import ActionKnowledgeFollowup
from actions.parsing import mentioned_positions
from actions.sentiment import answer_with_examples
from actions.services import Services

#: Staff: what to ask after a bare entity ("instagram", "the summer sprint") with nothing
#: to apply it to.
ASK_WHAT_ABOUT = (
    "Got it. What would you like to know about it: sentiment, anything unusual, content tips, "
    "or how a post will do?"
)
#: Longest staff message still taken for a bare entity ("the summer sprint brief");
#: longer ones are tried on the documents before asking what it is about.
BARE_ENTITY_WORDS = 4
NOTHING_TO_FOLLOW = (
    "I haven't shown you anything to follow up on yet. Ask me a question first, e.g. "
    "“how is sentiment on twitter this month?” or “who should we work with for trail running?”"
)


class ActionFollowup(BeaconAction):
    """Resolves a follow-up against the previous answer and answers it."""

    action_name = "action_followup"

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        answer = last_answer(tracker)
        text = latest_text(tracker)
        if answer is not None and answer.kind == "document":
            return ActionKnowledgeFollowup().respond(dispatcher, tracker, services)
        if audience_of(tracker) != STAFF:
            # Customers only ever get document answers: anything else is a question for
            # the public pages (and staff examples are never named to them).
            return answer_unclear(dispatcher, tracker, services)
        if answer is None:
            dispatcher.utter_message(text=NOTHING_TO_FOLLOW)
            return []
        if answer.kind == "ranking":
            return answer_ranking_followup(dispatcher, tracker, services, answer)
        if answer.kind in ("sentiment", "anomaly") and not mentioned_positions(
            text, len(answer.ids)
        ):
            return answer_with_examples(dispatcher, tracker, services, answer)
        if answer.kind in ("prediction", "explanation", "recommendation"):
            return ActionExplainPost().respond(dispatcher, tracker, services)
        posts = answer.ids[1:] if answer.kind == "campaign" else answer.ids
        positions = mentioned_positions(text, len(posts))
        if positions:
            post_id = posts[positions[0] - 1]
            return ActionExplainPost().explain_published(dispatcher, tracker, services, post_id)
        continued = continue_previous(dispatcher, tracker, services)  # "how much did it make?"
        if continued is not None:
            return continued
        if posts:
            numbered = ", ".join(f"#{i} {post_id}" for i, post_id in enumerate(posts, 1))
            dispatcher.utter_message(
                text=f"Which one? The last answer showed {numbered}; say e.g. “the second one”."
            )
        else:
            dispatcher.utter_message(
                text="My last answer listed no posts or creators to pick from; ask me about "
                "one by its id, e.g. “why did ig-000045 do so well?”."
            )
        return []


def _names_a_subject(tracker: Tracker) -> bool:
    """Whether the latest message names something Beacon knows: any entity but a period.

    A period alone is no subject ("who won the champions league last year", "the weather
    in chamonix this weekend"): it only scopes a question about something else.
    """
    entities = (tracker.latest_message or {}).get("entities") or []
    return any(entity.get("entity") != "period" for entity in entities)


class ActionAskWhatAbout(BeaconAction):
    """A bare entity or statement ("and on insta?", "last quarter", "the summer sprint").

    For staff:

    - a draft handed over with a lead-in ("thinking of tweeting this: …") starts the
      engagement form with it;
    - after an answer that can be asked again with what the message names, that answer
      is asked again (the message's entities have already filled the slots);
    - a message that continues the previous answer by its words ("and with 90% power?"
      after a test plan) gets more of it (:mod:`actions.continuations`);
    - after an answer from the documents, the documents are asked again with the
      message leaning on that question ("and weekends?");
    - a message longer than a bare entity is tried on the documents; if they have
      nothing and it names nothing Beacon knows (no entity, no figure), it is outside
      what Beacon does, which it says, with the help menu;
    - otherwise staff are asked what they want to know about it.

    A customer's statement ("it is 2 weeks late", "can I get it by friday") is almost
    always about an order, so it is answered from the public help pages, never with
    staff options.
    """

    action_name = "action_ask_what_about"

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        if audience_of(tracker) != STAFF:
            return answer_from_documents(dispatcher, tracker, services) or []
        draft = start_draft_form(tracker)  # "thinking of tweeting this: …"
        if draft is not None:
            return draft
        previous = last_answer(tracker)
        again = asked_again(previous, tracker, services)
        if again is not None:
            return again(dispatcher, tracker, services)
        continued = continue_previous(dispatcher, tracker, services)  # "and with 90% power?"
        if continued is not None:
            return continued
        entities = (tracker.latest_message or {}).get("entities") or []
        if previous is not None and previous.kind == "experiment" and not entities:
            # "so we just keep green?": the experiment's answer ends with what to do.
            return ActionAnalyzeExperiment().respond(dispatcher, tracker, services)
        if previous is not None and previous.kind == "document":
            return answer_from_documents(dispatcher, tracker, services) or []
        if len(latest_text(tracker).split()) > BARE_ENTITY_WORDS:
            # More than a bare entity: likely a question the classifier took for one.
            found = answer_from_documents(dispatcher, tracker, services, only_if_found=True)
            if found is not None:
                return found
            text = latest_text(tracker)
            if not _names_a_subject(tracker) and not any(character.isdigit() for character in text):
                # Names nothing Beacon knows and holds no figure ("assume 1500 a day"
                # would be a follow-up to a plan): outside what Beacon does.
                dispatcher.utter_message(text=OUT_OF_SCOPE)
                dispatcher.utter_message(text=help_text(STAFF))
                return []
        dispatcher.utter_message(text=ASK_WHAT_ABOUT)
        return []
