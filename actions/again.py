"""Asking the previous answer again with what a message changes ("and on insta?").

After an answer that can be asked again with another platform, period, topic, post,
experiment, campaign, draft platform or posting time, a message that names one is that
answer asked again, whichever route led to the answer and whatever the message was
classified as: a bare entity (``inform``, :class:`actions.followups.ActionAskWhatAbout`),
or a continuation ("ok and on facebook instead?", "and what if we post it on saturday")
read as a question for the documents or not understood.
"""

from __future__ import annotations

from rasa_sdk import Tracker

from actions.anomalies import ActionAnomalies
from actions.answers import reads_as_continuation
from actions.base import Responder, respond_with
from actions.campaigns import ActionCampaignReport
from actions.comparisons import ActionComparison
from actions.context import LastAnswer, last_answer, latest_text
from actions.engagement import (
    ActionExplainPost,
    ActionRecommendContent,
    named_posting_time,
    planning_now,
    predict_again,
)
from actions.experiments import ActionAnalyzeExperiment
from actions.influencers import rank_again
from actions.posts import ActionTopPosts
from actions.sentiment import ActionSentimentSummary
from actions.services import Services

#: The answers a message can ask again, with the entities that change each one. The
#: dialogue policy never guesses which answer a message continues: this table does.
ASKED_AGAIN: dict[str, tuple[Responder, frozenset[str]]] = {
    "sentiment": (
        respond_with(ActionSentimentSummary),
        frozenset({"platform", "period", "topic"}),
    ),
    "anomaly": (respond_with(ActionAnomalies), frozenset({"platform", "period", "topic"})),
    # Reads what to rank by, how many and best or worst from the last answer (actions/posts.py).
    "top_posts": (respond_with(ActionTopPosts), frozenset({"platform", "period"})),
    # With one platform and one period it answers that scope's sentiment.
    "comparison": (respond_with(ActionComparison), frozenset({"platform", "period"})),
    "explanation": (respond_with(ActionExplainPost), frozenset({"post_id"})),
    "experiment": (respond_with(ActionAnalyzeExperiment), frozenset({"experiment"})),
    # The brief and budget come from the ranking, not from the bare message.
    "ranking": (rank_again, frozenset({"platform", "topic"})),
    "recommendation": (respond_with(ActionRecommendContent), frozenset({"platform"})),
    # The draft comes from the prediction (the form's slots were cleared); a posting time
    # in the message changes it too (:func:`asked_again`).
    "prediction": (predict_again, frozenset({"platform"})),
    # "and back to trail?": the campaign the message names (all of them when none fits).
    "campaign": (respond_with(ActionCampaignReport), frozenset({"topic"})),
}


def asked_again(
    answer: LastAnswer | None, tracker: Tracker, services: Services
) -> Responder | None:
    """What asks ``answer`` again with what the latest message names, if it can."""
    if answer is None:
        return None
    # A draft's explanation ("why so?" after a prediction) is asked again as its prediction.
    drafted = answer.kind == "explanation" and answer.params.get("draft")
    kind = "prediction" if drafted else answer.kind
    if kind not in ASKED_AGAIN:
        return None
    action, changes = ASKED_AGAIN[kind]
    entities = {e.get("entity") for e in (tracker.latest_message or {}).get("entities") or []}
    if entities & changes:
        return action
    if kind == "prediction" and named_posting_time(tracker, planning_now(services)):
        return action
    return None


def continued_with_a_change(tracker: Tracker, services: Services) -> Responder | None:
    """What asks the previous answer again when the latest message continues it with a
    change ("ok and on facebook instead?"), whatever it was classified as; else None."""
    if not reads_as_continuation(latest_text(tracker)):
        return None
    return asked_again(last_answer(tracker), tracker, services)
