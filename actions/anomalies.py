"""``ask_anomalies`` → :class:`ActionAnomalies`."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.base import BeaconAction, Events
from actions.formatting import platform_name
from actions.parsing import parse_platform
from actions.services import Services
from analytics.anomalies import detect_anomalies, plot_anomalies
from analytics.listening import brand_scope
from analytics.periods import parse_period
from foundation.workspace import record_audit

#: "Anything unusual?" without a period looks at the last two weeks.
DEFAULT_WINDOW = "last 14 days"


class ActionAnomalies(BeaconAction):
    """Unusual volume or negative share, weekday-aware, with drivers and example posts."""

    action_name = "action_anomalies"

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        platform = parse_platform(tracker.get_slot("platform"))
        period = parse_period(tracker.get_slot("period") or DEFAULT_WINDOW, services.today())
        with services.workspace.connect() as con:
            report = detect_anomalies(
                con,
                period=period,
                model_version=services.scorer.version,
                platform=platform,
                topic=tracker.get_slot("topic") or None,
                **brand_scope(con),
            )
            text = report.text()
            chart_path, chart_url = services.charts.new_chart()
            plot_anomalies(
                report,
                chart_path,
                f"Brand talk on {platform_name(platform)}, {period.describe()}",
            )
            record_audit(
                con,
                kind="anomaly_check",
                inputs={"platform": platform, "start": period.start, "end": period.end},
                sources=[
                    "workspace:posts",
                    f"scores:{services.scorer.version}",
                    f"chart:{chart_path.name}",
                ],
                output=report.to_dict(),
                model_version=services.scorer.version,
                conversation_id=tracker.sender_id,
            )
        dispatcher.utter_message(text=text)
        dispatcher.utter_message(image=chart_url)
        return []
