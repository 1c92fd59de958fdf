"""``ask_sentiment`` → :class:`ActionSentimentSummary`."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.base import BeaconAction, Events
from actions.formatting import format_sentiment_summary, platform_name
from actions.parsing import parse_platform
from actions.services import Services
from analytics.listening import (
    brand_scope,
    daily_sentiment,
    plot_sentiment_trend,
    sentiment_summary,
    sentiment_themes,
)
from analytics.periods import parse_period
from foundation.workspace import get_meta, record_audit


class ActionSentimentSummary(BeaconAction):
    """Sentiment shares and counts for a platform/topic/period, vs the period before."""

    action_name = "action_sentiment_summary"

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        platform = parse_platform(tracker.get_slot("platform"))
        period = parse_period(tracker.get_slot("period"), services.today())
        topic = tracker.get_slot("topic") or None
        with services.workspace.connect() as con:
            scope = brand_scope(con)
            summary = sentiment_summary(
                con,
                period=period,
                model_version=services.scorer.version,
                platform=platform,
                topic=topic,
                **scope,
            )
            brand = get_meta(con, "brand", "the brand")
            themes = sentiment_themes(
                con,
                period=period,
                model_version=summary.model_version,
                platform=platform,
                topic=topic,
                **scope,
            )
            text = format_sentiment_summary(summary, brand, themes)
            chart: list[str] = []
            if summary.total:
                chart_path, chart_url = services.charts.new_chart()
                plot_sentiment_trend(
                    daily_sentiment(
                        con,
                        period=period,
                        model_version=summary.model_version,
                        platform=platform,
                        topic=topic,
                        **scope,
                    ),
                    chart_path,
                    f"Sentiment about {brand} on {platform_name(platform)}, {period.describe()}",
                )
                chart = [chart_url]
            record_audit(
                con,
                kind="sentiment_summary",
                inputs={
                    "platform": platform,
                    "topic": topic,
                    "start": period.start,
                    "end": period.end,
                },
                sources=[
                    "workspace:posts",
                    f"scores:{summary.model_version}",
                    *(f"chart:{url.rsplit('/', 1)[-1]}" for url in chart),
                    *(
                        f"post:{post_id}"
                        for found in themes.values()
                        for theme in found
                        for post_id, _ in theme.examples
                    ),
                ],
                output=text,
                model_version=summary.model_version,
                conversation_id=tracker.sender_id,
            )
        dispatcher.utter_message(text=text)
        for url in chart:
            dispatcher.utter_message(image=url)
        return []
