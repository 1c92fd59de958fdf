"""``analyze_experiment`` → :class:`ActionAnalyzeExperiment`."""

from __future__ import annotations

import duckdb
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import BeaconAction, Events
from actions.context import LastAnswer, remember
from actions.formatting import format_experiment
from actions.links import view_link, with_link
from actions.parsing import match_experiment
from actions.services import Services
from analytics.experiments import (
    ExperimentResult,
    analyze_workspace_experiment,
    describe_roi,
    plot_lifts,
)
from foundation.workspace import queries

CURRENCY = "€"


class ActionAnalyzeExperiment(BeaconAction):
    """Result of a workspace A/B test: lifts with intervals, warnings, ROI and a chart."""

    action_name = "action_analyze_experiment"

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        asked = tracker.get_slot("experiment")
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
