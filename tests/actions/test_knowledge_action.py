"""action_knowledge_answer: sources always, and customers see public documents only."""

from __future__ import annotations

import pytest

from actions.knowledge import ActionKnowledgeAnswer
from actions.services import Services
from tests.actions.conftest import run_action

pytestmark = pytest.mark.filterwarnings("ignore:You are using an old version of rasa")

INTERNAL_TITLES = (
    "Campaign Brief",
    "Brand Voice Guide",
    "Social Media Playbook",
    "Subject-Line Test Plan",
)


def test_customer_gets_a_public_answer_with_its_source(services: Services) -> None:
    text = run_action(ActionKnowledgeAnswer(), "customer_knowledge_returns.json").text
    assert "public/" in text and "section" in text
    assert "internal/" not in text


def test_customer_never_sees_internal_documents(services: Services) -> None:
    text = run_action(ActionKnowledgeAnswer(), "customer_knowledge_brief.json").text
    assert "internal/" not in text
    assert not any(title in text for title in INTERNAL_TITLES)


def test_staff_get_the_internal_brief(services: Services) -> None:
    text = run_action(ActionKnowledgeAnswer(), "staff_knowledge_brief.json").text
    assert "internal/" in text and "Summer Sprint" in text
    with services.workspace.connect() as con:
        sources = con.execute(
            "SELECT sources FROM audit WHERE kind = 'knowledge_answer'"
        ).fetchall()
    assert "internal/" in sources[0][0]
