"""Fixtures for action tests: saved trackers and services over a demo workspace copy."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.sentiment import ActionSentimentSummary
from actions.services import ChartStore, Services, set_services
from beacon.scoring import current_scorer
from foundation.settings import Settings
from tests.conftest import DemoWorkspace

FIXTURES = Path(__file__).parent / "fixtures"

# rasa-sdk warns that Rasa 3.6 is older than itself; we pin and test that pairing.
pytestmark = pytest.mark.filterwarnings("ignore:You are using an old version of rasa")


def load_tracker(name: str) -> Tracker:
    """A saved tracker from tests/actions/fixtures."""
    return Tracker.from_dict(json.loads((FIXTURES / name).read_text()))


@dataclass
class ActionRun:
    """What an action did: its events and the messages it dispatched."""

    events: list[dict[str, Any]]
    messages: list[dict[str, Any]]

    @property
    def text(self) -> str:
        return "\n".join(m.get("text") or "" for m in self.messages)

    @property
    def remembered(self) -> dict[str, Any] | None:
        """The ``last_answer`` the action stored for follow-ups (None: it stored none)."""
        slots = [e["value"] for e in self.events if e.get("name") == "last_answer"]
        return slots[-1] if slots else None

    @property
    def other_events(self) -> list[dict[str, Any]]:
        """The events besides the stored ``last_answer``."""
        return [e for e in self.events if e.get("name") != "last_answer"]


def run_action(action: Action, tracker_name: str) -> ActionRun:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, load_tracker(tracker_name), {}))
    return ActionRun(events=list(events), messages=dispatcher.messages)


@pytest.fixture
def services(
    demo_copy: DemoWorkspace,
    tmp_path: Path,
    knowledge_index: Path,
    engagement_dirs: tuple[Path, Path],
) -> Iterator[Services]:
    """Services over a private demo workspace, with "today" pinned to the demo's end date."""
    settings = Settings(home=tmp_path, workspace_path=demo_copy.workspace.path, data_dir=None)
    value = Services(
        settings=settings,
        workspace=demo_copy.workspace,
        scorer=current_scorer(),
        charts=ChartStore(tmp_path / "charts", "http://actions.test"),
        knowledge_dir=knowledge_index,
        engagement_dir=engagement_dirs[0],
        engagement_cache_dir=engagement_dirs[1],
        today=lambda: demo_copy.end_date,
    )
    set_services(value)
    yield value
    set_services(None)


class Chat:
    """A conversation played through actions in-process, as Rasa would hold its tracker.

    Each :meth:`say` adds the user's message (with the intent and entities the test
    gives, standing in for the NLU), runs one action on the tracker, then applies what
    it returned: slot events set the slots, and the dispatched messages become bot
    utterances; so the next turn sees what a real follow-up would.
    """

    def __init__(self, audience: str = "staff", sender: str = "chat-1") -> None:
        self.audience = audience
        self.data: dict[str, Any] = {
            "sender_id": sender,
            "slots": {},
            "latest_message": {},
            "events": [
                {"event": "action", "name": "action_session_start", "timestamp": 1.0},
                {"event": "session_started", "timestamp": 1.0},
                {"event": "action", "name": "action_listen", "timestamp": 1.0},
            ],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        }
        self.turns = 0

    def say(
        self,
        text: str,
        intent: str,
        action: Action,
        *,
        entities: list[dict[str, Any]] | None = None,
        slots: dict[str, Any] | None = None,
    ) -> ActionRun:
        self.turns += 1
        metadata = {"audience": self.audience}
        message = {
            "text": text,
            "intent": {"name": intent, "confidence": 0.9},
            "entities": entities or [],
            "message_id": f"m{self.turns}",
            "metadata": metadata,
        }
        self.data["latest_message"] = message
        user = {"event": "user", "text": text, "parse_data": message, "metadata": metadata}
        self.data["events"].append({**user, "timestamp": 2.0 + self.turns})
        for name, value in (slots or {}).items():
            self.data["slots"][name] = value
            self.data["events"].append({"event": "slot", "name": name, "value": value})
        dispatcher = CollectingDispatcher()
        events = asyncio.run(action.run(dispatcher, Tracker.from_dict(self.data), {}))
        self.data["events"].append({"event": "action", "name": action.name()})
        for event in events:
            self.data["events"].append(event)
            if event.get("event") == "slot":
                self.data["slots"][event["name"]] = event["value"]
        for m in dispatcher.messages:
            self.data["events"].append({"event": "bot", "text": m.get("text")})
        self.data["events"].append({"event": "action", "name": "action_listen"})
        return ActionRun(events=list(events), messages=dispatcher.messages)


def twitter_sentiment_chat() -> Chat:
    """A staff chat whose last answer is this month's sentiment summary for Twitter/X."""
    chat = Chat()
    chat.say(
        "how is sentiment on twitter this month?",
        "ask_sentiment",
        ActionSentimentSummary(),
        slots={"platform": "twitter", "period": "this month"},
    )
    return chat
