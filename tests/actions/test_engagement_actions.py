"""The engagement actions on an ensemble trained on the demo brand's own posts."""

from __future__ import annotations

import re

import pytest

from actions.engagement import ActionExplainPost, ActionPredictEngagement, ActionRecommendContent
from actions.services import Services
from tests.actions.conftest import run_action

pytestmark = pytest.mark.filterwarnings("ignore:You are using an old version of rasa")


def test_prediction_gives_probability_reasons_and_clears_the_draft(services: Services) -> None:
    run = run_action(ActionPredictEngagement(), "staff_predict_engagement.json")
    text = run.text
    assert text.startswith("Draft for Instagram, posted at ")
    probability = re.search(r"Chance of landing in this account's top 30%: (\d+)%", text)
    assert probability and 0 <= int(probability.group(1)) <= 100
    assert "Strongest reasons:" in text
    assert run.events == [{"event": "slot", "timestamp": None, "name": "draft_text", "value": None}]
    with services.workspace.connect() as con:
        assert con.execute("SELECT kind FROM audit").fetchall() == [("engagement_prediction",)]


def test_explain_post_compares_outcome_and_reasons(services: Services) -> None:
    text = run_action(ActionExplainPost(), "staff_explain_post.json").text
    with services.workspace.connect() as con:
        engagement = con.execute(
            "SELECT likes + comments + shares FROM posts WHERE post_id = 'ig-000045'"
        ).fetchall()[0][0]
    assert text.startswith("ig-000045 on Instagram (")
    assert f"it got {engagement:,} likes+comments+shares" in text
    assert "Strongest reasons:" in text


def test_explain_refuses_posts_that_are_not_ours(services: Services) -> None:
    text = run_action(ActionExplainPost(), "staff_explain_customer_post.json").text
    assert text == (
        "tw-m000001 is not one of our own posts, so the model has no history to compare it with."
    )


def test_recommendations_use_the_latest_post_as_template(services: Services) -> None:
    text = run_action(ActionRecommendContent(), "staff_recommend_instagram.json").text
    assert text.startswith("For Instagram, using our latest Instagram post (ig-")
    assert "What would raise it:" in text
    assert re.search(r"• .+: \d+% → \d+% \((high|medium|low) confidence\)", text)
