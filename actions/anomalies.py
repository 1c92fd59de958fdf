"""``ask_anomalies`` → :class:`ActionAnomalies`."""

from __future__ import annotations

import duckdb
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.base import BeaconAction, Events
from actions.context import LastAnswer, remember
from actions.links import view_link, with_link
from actions.sentiment import asked_scope, scope_filters, scope_params
from actions.services import Services
from analytics.anomalies import AnomalyReport, detect_anomalies, plot_anomalies
from analytics.scope import Scope
from foundation.workspace import platform_name, queries

#: "Anything unusual?" without a period looks at the last two weeks.
DEFAULT_WINDOW = "last 14 days"


class ActionAnomalies(BeaconAction):
    """Unusual volume or negative share, weekday-aware, with drivers and example posts."""

    action_name = "action_anomalies"

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        asked = asked_scope(tracker, services, default_period=DEFAULT_WINDOW)
        with services.workspace.connect(read_only=True) as con:
            scope = asked.for_brand(con)
            report, chart_url = services.answers.get_or_compute(
                ("anomaly_check", scope),
                queries.data_version(con),
                lambda: _checked(con, scope, services),
            )
        text = report.text()
        audit_id = services.workspace.record_audit(
            kind="anomaly_check",
            inputs={
                "platform": scope.platform,
                "start": scope.period.start,
                "end": scope.period.end,
            },
            sources=[
                "workspace:posts",
                f"scores:{services.scorer.version}",
                f"chart:{chart_url.rsplit('/', 1)[-1]}",
            ],
            output=report.to_dict(),
            model_version=services.scorer.version,
            conversation_id=tracker.sender_id,
        )
        link = view_link(tracker, services, "brand", scope_filters(scope))
        dispatcher.utter_message(text=with_link(text, link))
        dispatcher.utter_message(image=chart_url)
        params = scope_params(scope)
        ids: tuple[str, ...] = ()
        if report.alerts:  # "show me a few of those" means the strongest alert's posts
            alert = report.alerts[0]
            ids = tuple(example.post_id for example in alert.examples)
            params["alert"] = {
                "platform": alert.platform,
                "metric": alert.metric,
                "start": alert.start.isoformat(),
                "end": alert.end.isoformat(),
            }
        return [remember(LastAnswer("anomaly", ids, params, audit_id))]


def _checked(
    con: duckdb.DuckDBPyConnection, scope: Scope, services: Services
) -> tuple[AnomalyReport, str]:
    """The anomaly report of ``scope`` and the URL of its chart (drawn once)."""
    report = detect_anomalies(con, scope)
    chart_path, chart_url = services.charts.new_chart()
    plot_anomalies(
        report,
        chart_path,
        f"Brand talk on {platform_name(scope.platform)}, {scope.period.describe()}",
    )
    return report, chart_url
