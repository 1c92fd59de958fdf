"""``analyze_experiment`` → :class:`ActionAnalyzeExperiment`."""

from __future__ import annotations

import re

import duckdb
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import BeaconAction, Events
from actions.context import LastAnswer, latest_text, remember
from actions.formatting import format_experiment
from actions.links import view_link, with_link
from actions.parsing import experiment_match, holds_quoted_text, match_experiment
from actions.services import Services
from analytics.experiments import (
    ExperimentResult,
    analyze_workspace_experiment,
    describe_roi,
    plot_lifts,
)
from foundation.workspace import queries

CURRENCY = "€"


#: Words that say a message is about a test's outcome ("did orange beat green?"), so that
#: a single shared word ("question", a variant of the subject-line test) is not enough.
OUTCOME_CUES = re.compile(
    r"\b(tests?|experiments?|variants?|a/?b|lift|beat|better|worse|wins?|won|winner|"
    r"worked?|results?|significant|legit|trust|split|control)\b",
    re.IGNORECASE,
)


def named_experiment(
    tracker: Tracker, services: Services, *, unprompted: bool = False, outcome: bool = False
) -> str | None:
    """The experiment the latest message names by a word of its name or by one of its
    variants ("is the banner test legit?", "did orange beat green?"), when exactly one
    matches best; None otherwise (nothing is guessed on a tie).

    Args:
        tracker: The conversation.
        services: The process's adapters.
        unprompted: The classifier did not say the message is about an experiment (the
            safety net): then it must share two words with one, or one and say something
            about an outcome (:data:`OUTCOME_CUES`), and hold no quoted draft (a draft's
            words are not a question about a test).
        outcome: It must say something about an outcome in any case (where the
            documents are the first reading, as for a question to them).
    """
    text = latest_text(tracker)
    if (unprompted or outcome) and holds_quoted_text(text):
        return None
    with services.workspace.connect(read_only=True) as con:
        found = experiment_match(text, queries.experiment_labels(con))
    if found is None:
        return None
    experiment_id, shared = found
    said_outcome = OUTCOME_CUES.search(text) is not None
    if (outcome and not said_outcome) or (unprompted and len(shared) < 2 and not said_outcome):
        return None
    return experiment_id


class ActionAnalyzeExperiment(BeaconAction):
    """Result of a workspace A/B test: lifts with intervals, warnings, ROI and a chart."""

    action_name = "action_analyze_experiment"

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        asked = tracker.get_slot("experiment")
        if asked is None:
            # The form ends without a test only when the documents answered the question
            # (action_ask_experiment), which is then all there is to say.
            return []
        return answer_experiment(dispatcher, tracker, services, asked)


def answer_experiment(
    dispatcher: CollectingDispatcher, tracker: Tracker, services: Services, asked: str | None
) -> Events:
    """The analysis of the experiment ``asked`` names (an id or words of its name)."""
    with services.workspace.connect(read_only=True) as con:
        known = queries.experiments(con)
        experiment_id = match_experiment(asked, known)
        if experiment_id is None:
            names = ", ".join(name for _, name in known) or "none yet"
            dispatcher.utter_message(
                text=f"I can't tell which experiment '{asked}' is. The experiments I have: {names}."
            )
            return [SlotSet("experiment", None)]
        name = dict(known)[experiment_id]
        result, text, chart_url = services.answers.get_or_compute(
            ("experiment_analysis", experiment_id, name),
            queries.data_version(con),
            lambda: _analysed(con, experiment_id, name, services),
        )
    audit_id = services.workspace.record_audit(
        kind="experiment_analysis",
        inputs={"experiment_id": experiment_id},
        sources=["workspace:experiment_units", f"chart:{chart_url.rsplit('/', 1)[-1]}"],
        output=result.to_dict(),
        conversation_id=tracker.sender_id,
    )
    link = view_link(tracker, services, "experiments", {"experiment": experiment_id})
    dispatcher.utter_message(text=with_link(text, link))
    dispatcher.utter_message(image=chart_url)
    shown = LastAnswer("experiment", ids=(experiment_id,), audit_id=audit_id)
    return [SlotSet("experiment", experiment_id), remember(shown)]


def _analysed(
    con: duckdb.DuckDBPyConnection, experiment_id: str, name: str, services: Services
) -> tuple[ExperimentResult, str, str]:
    """The experiment's result, the reply and its chart's URL (drawn once per data)."""
    result = analyze_workspace_experiment(con, experiment_id)
    roi = [describe_roi(r, currency=CURRENCY) for r in result.roi]
    chart_path, chart_url = services.charts.new_chart()
    plot_lifts(result, chart_path)
    return result, format_experiment(result, name, roi), chart_url
