"""Tests named by a word or a variant: the experiment form, the staff safety net and the
documents' path; and a campaign named alone after a campaign answer."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.context import LAST_ANSWER_SLOT
from actions.fallbacks import NOT_UNDERSTOOD, ActionFallback
from actions.followups import ActionAskWhatAbout
from actions.forms import ValidateExperimentForm
from actions.knowledge import ActionKnowledgeAnswer
from actions.services import Services
from tests.actions.conftest import FIXTURES

pytestmark = pytest.mark.filterwarnings("ignore:You are using an old version of rasa")


def _tracker(
    text: str,
    *,
    intent: str = "analyze_experiment",
    slots: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
    audience: str = "staff",
) -> dict[str, Any]:
    """The saved experiment tracker with another latest message (as a dict)."""
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
    return dict(data)


def _replies(action: Action, data: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, Tracker.from_dict(data), {}))
    return "\n".join(m.get("text") or "" for m in dispatcher.messages), list(events)


def _extracted(text: str, **message: Any) -> dict[str, Any]:
    """What ``validate_experiment_form`` sets when ``text`` opens the form (``message``:
    :func:`_tracker`'s keywords)."""
    data = _tracker(text, **message)
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


def test_an_unsure_message_naming_a_tests_variants_gets_that_test(services: Services) -> None:
    text, events = _replies(
        ActionFallback(), _tracker("so orange is better or not??", intent="nlu_fallback")
    )
    assert text.startswith("Button colour test")
    assert {
        "event": "slot",
        "timestamp": None,
        "name": "experiment",
        "value": "exp-button-colour",
    } in events


def test_one_shared_word_without_an_outcome_is_not_a_test(services: Services) -> None:
    # "question" is a variant of the subject-line test, but nothing here asks about a result.
    text, _ = _replies(
        ActionFallback(), _tracker("quick question about the dashboard zzz", intent="nlu_fallback")
    )
    assert NOT_UNDERSTOOD in text and "Subject-line test" not in text


@pytest.mark.parametrize(
    "text",
    [
        # "free" and "no" are words of the free-shipping test ("no-banner"), but a quoted
        # draft is not a question about a test.
        "is this tweet any good? 'we hear you: free replacements, no questions asked'",
        # A question to the documents needs an outcome to be a test's.
        "how long do we wait before sending the subject line to everyone else",
    ],
)
def test_drafts_and_plain_document_questions_are_not_read_as_tests(
    services: Services, text: str
) -> None:
    answer, _ = _replies(ActionKnowledgeAnswer(), _tracker(text, intent="ask_knowledge"))
    assert "Free-shipping banner test" not in answer and "Subject-line test" not in answer


def test_a_document_question_the_documents_cant_answer_but_a_test_can(services: Services) -> None:
    text, _ = _replies(
        ActionKnowledgeAnswer(),
        _tracker("did green beat orange at checkout or was it a wash", intent="ask_knowledge"),
    )
    assert text.startswith("Button colour test")


def test_a_campaign_named_alone_after_a_campaign_answer_gets_that_campaign(
    services: Services,
) -> None:
    before: dict[str, Any] = {
        "kind": "campaign",
        "ids": ["summer-sprint"],
        "params": {},
        "audit_id": None,
    }
    text, _ = _replies(
        ActionAskWhatAbout(),
        _tracker(
            "and back to trail?",
            intent="inform",
            entities=[{"entity": "topic", "value": "back to trail"}],
            slots={LAST_ANSWER_SLOT: before},
        ),
    )
    assert text.startswith("Back to Trail")
