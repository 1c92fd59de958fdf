"""Links from answers to the dashboard: signed, with the answer's own filters, staff only."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

import pytest
from rasa_sdk import Action

from actions.anomalies import ActionAnomalies
from actions.experiments import ActionAnalyzeExperiment
from actions.influencers import ActionRankInfluencers
from actions.posts import ActionTopPosts
from actions.sentiment import ActionSentimentSummary
from actions.services import Services, set_services
from foundation.view_links import ViewLink, read_link
from tests.actions.conftest import run_action

DASHBOARD = "http://dashboard.test:8501"
LINK = re.compile(r"See it in the dashboard \(link valid 7 days\): (\S+)$", re.MULTILINE)


@pytest.fixture
def linked(services: Services) -> Iterator[Services]:
    """The services with a dashboard configured, as ``beacon serve`` starts them."""
    settings = dataclasses.replace(
        services.settings, dashboard_url=DASHBOARD, staff_token="staff-secret"
    )
    value = dataclasses.replace(services, settings=settings)
    set_services(value)
    yield value
    set_services(services)


def _opened(text: str, services: Services) -> ViewLink:
    found = LINK.findall(text)
    assert len(found) == 1, text
    url = urlsplit(found[0])
    assert f"{url.scheme}://{url.netloc}" == DASHBOARD
    return read_link(dict(parse_qsl(url.query)), services.settings.dashboard_link_key())


def test_a_sentiment_answer_links_to_brand_health_with_its_own_period_and_platform(
    linked: Services,
) -> None:
    run = run_action(ActionSentimentSummary(), "staff_sentiment_twitter_this_month.json")
    opened = _opened(run.text, linked)
    params = run.remembered["params"]  # type: ignore[index]
    assert opened.view == "brand"
    assert dict(opened.filters) == {
        "platform": "twitter",
        "start": params["start"],
        "end": params["end"],
    }


@pytest.mark.parametrize(
    ("action", "tracker", "view", "filters"),
    [
        (ActionAnalyzeExperiment(), "staff_experiment_button.json", "experiments", {"experiment"}),
        (ActionRankInfluencers(), "staff_rank_influencers.json", "creators", {"brief"}),
        (ActionTopPosts(), "staff_top_posts_instagram.json", "posts", {"platform", "start", "end"}),
        (ActionAnomalies(), "staff_anomalies_november.json", "brand", {"start", "end"}),
    ],
)
def test_answers_with_a_view_link_to_it(
    linked: Services, action: Action, tracker: str, view: str, filters: set[str]
) -> None:
    opened = _opened(run_action(action, tracker).text, linked)
    assert opened.view == view
    assert filters <= set(opened.filters)


def test_the_experiment_link_names_the_experiment_answered(linked: Services) -> None:
    run = run_action(ActionAnalyzeExperiment(), "staff_experiment_button.json")
    assert _opened(run.text, linked).filters["experiment"] == "exp-button-colour"


def test_customers_never_get_a_link(linked: Services) -> None:
    for tracker in ("customer_sentiment.json", "no_audience_sentiment.json"):
        run = run_action(ActionSentimentSummary(), tracker)
        assert run.text
        assert "dashboard" not in run.text.lower() and "http" not in run.text, run.text


def test_no_link_without_a_dashboard(services: Services) -> None:
    run = run_action(ActionSentimentSummary(), "staff_sentiment_twitter_this_month.json")
    assert "Sentiment about" in run.text
    assert "dashboard" not in run.text.lower()
