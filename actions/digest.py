"""``request_digest`` → :class:`ActionRequestDigest`: the last complete week's digest."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.base import BeaconAction, Events
from actions.links import view_link, with_link
from actions.services import Services
from analytics.engagement import EngagementModel
from beacon.digest import build_digest, last_complete_week
from foundation.exceptions import ConfigError

#: The chart the bot sends with the summary (the HTML digest and Slack carry all of them).
CHART = "sentiment"


def _engagement_model(services: Services) -> EngagementModel | None:
    """The trained engagement ensemble, or None when none is trained (explanations are optional)."""
    try:
        return services.engagement()
    except ConfigError:
        return None


class ActionRequestDigest(BeaconAction):
    """The weekly digest's summary for the last complete week, with its sentiment chart."""

    action_name = "action_request_digest"

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        week = last_complete_week(services.today())
        digest = build_digest(
            services.workspace,
            week,
            model_version=services.scorer.version,
            engagement_model=_engagement_model(services),
            conversation_id=tracker.sender_id,
        )
        text = digest.summary_text()
        week_filters = {"start": week.start.isoformat(), "end": week.end.isoformat()}
        link = view_link(tracker, services, "brand", week_filters)
        chart_path, chart_url = services.charts.new_chart()
        chart_path.write_bytes(digest.chart(CHART).png)
        services.workspace.record_audit(
            kind="digest_answer",
            inputs={"week": week.label, "start": week.start, "end": week.end},
            sources=[f"audit:{audit_id}" for audit_id in digest.audit_ids.values()]
            + [f"chart:{chart_path.name}"],
            output=text,
            model_version=services.scorer.version,
            conversation_id=tracker.sender_id,
        )
        dispatcher.utter_message(text=with_link(text, link))
        dispatcher.utter_message(image=chart_url)
        return []
