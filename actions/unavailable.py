"""Capabilities whose issues have not landed yet.

Each says so in one honest sentence (the only placeholder replies allowed);
the issue that builds a capability replaces its class here with the real one.
"""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import BeaconAction, Events
from actions.capabilities import not_available_text
from actions.services import Services


class _NotAvailableYet(BeaconAction):
    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        dispatcher.utter_message(text=not_available_text(self.action_name))
        return []


class ActionAnomalies(_NotAvailableYet):
    action_name = "action_anomalies"


class ActionPredictEngagement(_NotAvailableYet):
    action_name = "action_predict_engagement"

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        # The engagement form filled draft_text; clear it so the next draft starts fresh.
        return [*super().respond(dispatcher, tracker, services), SlotSet("draft_text", None)]


class ActionExplainPost(_NotAvailableYet):
    action_name = "action_explain_post"


class ActionRecommendContent(_NotAvailableYet):
    action_name = "action_recommend_content"


class ActionTagImage(_NotAvailableYet):
    action_name = "action_tag_image"


class ActionRequestDigest(_NotAvailableYet):
    action_name = "action_request_digest"
