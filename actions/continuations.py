"""Follow-ups the classifier missed, recognised by their words and the previous answer.

"how much money did it make us?" after an A/B test's results, "what did it cost?" after a
campaign report, "and with 90% power?" after a test plan, "what caused it?" after an
anomaly, "show me the posts" after a sentiment summary: short messages that only make
sense against the answer before them, so the classifier often has no confident intent
for them (``nlu_fallback``) or reads them as a bare entity (``inform``). Each kind of
answer that such a message can continue has words that ask for more of it
(:data:`actions.context.FOLLOW_UP_CUES`); the answering action then reads the rest from
the previous answer (the experiment slot, the campaign, the plan or the scope it stored).

Only staff, only short messages, and only when the previous answer is of that kind: a
new question is never taken for a follow-up because it shares a word with one.
"""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.audience import STAFF, audience_of
from actions.base import Events, Responder, respond_with
from actions.campaigns import ActionCampaignReport
from actions.context import follows_up, last_answer
from actions.experiments import ActionAnalyzeExperiment
from actions.sample_size import ActionSampleSize
from actions.sentiment import answer_with_examples
from actions.services import Services


def _examples_behind(
    dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
) -> Events:
    """The clearest posts of the sentiment summary or the alert the previous answer gave."""
    previous = last_answer(tracker)
    assert previous is not None  # continue_previous only calls it after such an answer
    return answer_with_examples(dispatcher, tracker, services, previous)


#: Per kind of previous answer in :data:`actions.context.FOLLOW_UP_CUES`: what answers it.
CONTINUES: dict[str, Responder] = {
    # The experiment's answer holds its lifts, what they are worth and what to do next.
    "experiment": respond_with(ActionAnalyzeExperiment),
    # The campaign's report holds its budget, posts and what can be attributed; asked
    # about "which one", it reports them all (actions/campaigns.py).
    "campaign": respond_with(ActionCampaignReport),
    # The plan keeps its effect, baseline and traffic; the message changes what it names.
    "sample_size": respond_with(ActionSampleSize),
    # What lies behind an alert is in its posts: the clearest of the unusual days.
    "anomaly": _examples_behind,
    # What people say behind the shares: the clearest posts of the same scope.
    "sentiment": _examples_behind,
}


def continue_previous(
    dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
) -> Events | None:
    """Answers a staff message that continues the previous answer (:data:`CONTINUES`).

    Returns:
        The answering action's events, or None when the message is not such a follow-up
        (a customer, no previous answer of a kind in :data:`CONTINUES`, or a message
        that doesn't continue it: :func:`actions.context.follows_up`).
    """
    if audience_of(tracker) != STAFF:
        return None
    previous = last_answer(tracker)
    if previous is None or previous.kind not in CONTINUES or not follows_up(tracker, previous):
        return None
    return CONTINUES[previous.kind](dispatcher, tracker, services)
