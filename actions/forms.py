"""The questions the forms ask (``action_ask_<slot>``), with what the workspace holds."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.base import BeaconAction, Events
from actions.formatting import PLATFORM_NAMES
from actions.services import Services


class ActionAskDraftText(BeaconAction):
    """engagement_form: asks for the draft post."""

    action_name = "action_ask_draft_text"

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        dispatcher.utter_message(
            text="Sure. Paste the text of the draft post and I'll estimate how it will do."
        )
        return []


class ActionAskPlatform(BeaconAction):
    """engagement_form: asks for the platform, naming those with posts in the workspace."""

    action_name = "action_ask_platform"

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        with services.workspace.connect() as con:
            rows = con.execute(
                "SELECT platform FROM posts GROUP BY platform ORDER BY count(*) DESC"
            ).fetchall()
        names = [PLATFORM_NAMES.get(row[0], row[0]) for row in rows] or list(
            PLATFORM_NAMES.values()
        )
        dispatcher.utter_message(text=f"Which platform is it for? ({', '.join(names)})")
        return []


class ActionAskExperiment(BeaconAction):
    """experiment_form: asks which experiment, listing the workspace's experiments."""

    action_name = "action_ask_experiment"

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        with services.workspace.connect() as con:
            names = [
                row[0]
                for row in con.execute("SELECT name FROM experiments ORDER BY name").fetchall()
            ]
        listing = (
            f" I have: {', '.join(names)}." if names else " There are none in the workspace yet."
        )
        dispatcher.utter_message(text=f"Which experiment should I look at?{listing}")
        return []
