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

Nothing is guessed: without a previous answer, or with one this kind of follow-up can't
point into, the reply says what can be asked instead.
"""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.audience import STAFF, audience_of
from actions.base import BeaconAction, Events
from actions.context import last_answer, latest_text
from actions.engagement import ActionExplainPost
from actions.fallbacks import answer_unclear
from actions.influencers import answer_ranking_followup
from actions.knowledge import ActionKnowledgeFollowup
from actions.parsing import mentioned_positions
from actions.sentiment import answer_with_examples
from actions.services import Services

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
