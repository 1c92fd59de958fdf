"""Capabilities whose issues have not landed yet.

Each says so in one honest sentence (the only placeholder replies allowed);
the issue that builds a capability replaces its class here with the real one.
Every capability is built today (``action_tag_image`` moved to actions/vision.py),
so only the base is left, for the next one.
"""

from __future__ import annotations

from rasa_sdk import Tracker
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
