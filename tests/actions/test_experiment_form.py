"""The experiment form reads which test a request names by a word of it or by its variants."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.forms import ValidateExperimentForm
from actions.services import Services
from tests.actions.conftest import FIXTURES

pytestmark = pytest.mark.filterwarnings("ignore:You are using an old version of rasa")


def _extracted(
    text: str,
    *,
    intent: str = "analyze_experiment",
    slots: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
    audience: str = "staff",
) -> dict[str, Any]:
    """What ``validate_experiment_form`` sets when ``text`` opens the form."""
    data = json.loads((FIXTURES / "staff_experiment_banner.json").read_text())
    data["slots"].update({"experiment": None, **(slots or {})})
    user = data["events"][-1]
    for message in (data["latest_message"], user["parse_data"]):
        message.update(
            text=text,
            intent={"name": intent, "confidence": 0.9},
            entities=entities or [],
            metadata={"audience": audience},
        )
    user["text"] = text
    user["metadata"] = {"audience": audience}
    data["events"].append({"event": "action", "name": "experiment_form", "timestamp": 1.0})
    domain = {"forms": {"experiment_form": {"required_slots": ["experiment"]}}}
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ValidateExperimentForm().run(dispatcher, Tracker.from_dict(data), domain))
    assert dispatcher.messages == []
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


@pytest.mark.parametrize(
    ("text", "experiment"),
    [
        ("is the banner test legit? can i trust those numbers", "exp-free-shipping"),
        ("quick one, did orange beat green?", "exp-button-colour"),
        ("what lift did the question-style subject line get", "exp-subject-line"),
    ],
)
def test_a_test_named_by_a_word_or_a_variant_is_read(
    services: Services, text: str, experiment: str
) -> None:
    assert _extracted(text)["experiment"] == experiment


def test_a_new_request_replaces_the_test_discussed_before(services: Services) -> None:
    found = _extracted("and the banner one?", slots={"experiment": "exp-button-colour"})
    assert found["experiment"] == "exp-free-shipping"


@pytest.mark.parametrize(
    ("text", "kwargs"),
    [
        # Nothing named, or two tests named equally: the form asks.
        ("which of our tests found something real", {}),
        ("banner or button, which won", {}),
        # The classifier's entity wins; other intents and customers are left alone.
        ("is the banner test legit", {"entities": [{"entity": "experiment", "value": "x"}]}),
        ("is the banner test legit", {"intent": "inform"}),
        ("is the banner test legit", {"audience": "customer"}),
    ],
)
def test_nothing_is_guessed(services: Services, text: str, kwargs: dict[str, Any]) -> None:
    assert _extracted(text, **kwargs).get("experiment") is None
