"""Follow-ups the classifier missed, recognised by their words and the previous answer.

"how much money did it make us?" after an A/B test's results, "what did it cost?" after a
campaign report, "and with 90% power?" after a test plan, "what caused it?" after an
anomaly: short messages that only make sense against the answer before them, so the
classifier often has no confident intent for them (``nlu_fallback``) or reads them as a
bare entity (``inform``). Each kind of answer that such a message can continue has words
that ask for more of it (:data:`CONTINUES`); the answering action then reads the rest
from the previous answer (the experiment slot, the campaign or the plan it stored).

Only staff, only short messages, and only when the previous answer is of that kind: a
new question is never taken for a follow-up because it shares a word with one.
"""

from __future__ import annotations

import re

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.audience import STAFF, audience_of
from actions.base import Events, Responder, respond_with
from actions.campaigns import ActionCampaignReport
from actions.context import last_answer, latest_text
from actions.experiments import ActionAnalyzeExperiment
from actions.sample_size import ActionSampleSize
from actions.sentiment import answer_with_examples
from actions.services import Services

#: Longest message (in words) still read as a follow-up of the previous answer.
MAX_WORDS = 12


def _examples_behind(
    dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
) -> Events:
    """The clearest posts of the alert the previous answer reported."""
    previous = last_answer(tracker)
    assert previous is not None  # continue_previous only calls it after an anomaly answer
    return answer_with_examples(dispatcher, tracker, services, previous)


def _cues(*words: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(words) + r")\b", re.IGNORECASE)


#: Per kind of previous answer: the words that ask for more of it, and what answers them.
CONTINUES: dict[str, tuple[re.Pattern[str], Responder]] = {
    # The experiment's answer holds its lifts, what they are worth and what to do next.
    "experiment": (
        _cues(
            r"money",
            r"revenue",
            r"roi",
            r"worth",
            r"earn\w*",
            r"ma[dk]e us",
            r"profit\w*",
            r"pa(?:y|id) off",
            r"who should",
            r"roll(?:\s|-)?out",
            r"ship it",
            r"keep",
            r"significant",
            r"confident",
            r"sure",
            r"winner",
            r"won",
            r"win",
        ),
        respond_with(ActionAnalyzeExperiment),
    ),
    # The campaign's report holds its budget, posts and what can be attributed; asked
    # about "which one", it reports them all (actions/campaigns.py).
    "campaign": (
        _cues(
            r"cost",
            r"spen[dt]",
            r"budget",
            r"roi",
            r"return",
            r"worth",
            r"money",
            r"pa(?:y|id) off",
            r"revenue",
            r"which one",
            r"best",
            r"worst",
            r"posts?",
        ),
        respond_with(ActionCampaignReport),
    ),
    # The plan keeps its effect, baseline and traffic; the message changes what it names.
    "sample_size": (
        _cues(
            r"power",
            r"significance",
            r"alpha",
            r"confidence",
            r"traffic",
            r"visitors",
            r"a day",
            r"per day",
            r"lift",
            r"effect",
            r"baseline",
            r"days",
            r"weeks",
        ),
        respond_with(ActionSampleSize),
    ),
    # What lies behind an alert is in its posts: the clearest of the unusual days.
    "anomaly": (
        _cues(r"caus\w*", r"why", r"behind", r"reasons?", r"driv\w*", r"trigger\w*", r"explain"),
        _examples_behind,
    ),
}


def continue_previous(
    dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
) -> Events | None:
    """Answers a staff message that continues the previous answer (:data:`CONTINUES`).

    Returns:
        The answering action's events, or None when the message is not such a follow-up
        (a customer, no previous answer of a kind in :data:`CONTINUES`, a message longer
        than :data:`MAX_WORDS` words, or none of the kind's words in it).
    """
    if audience_of(tracker) != STAFF:
        return None
    previous = last_answer(tracker)
    if previous is None or previous.kind not in CONTINUES:
        return None
    text = latest_text(tracker)
    cues, respond = CONTINUES[previous.kind]
    if len(text.split()) > MAX_WORDS or not cues.search(text):
        return None
    return respond(dispatcher, tracker, services)
