"""The performance questions on saved trackers over the demo workspace.

Best and worst posts, campaign results, side-by-side comparisons and test planning: each
reply, its audit row and the ``last_answer`` it stores for follow-ups.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from actions.campaigns import ActionCampaignReport
from actions.comparisons import ActionComparison
from actions.posts import ActionTopPosts
from actions.sample_size import ActionSampleSize
from actions.services import ChartStore, Services, set_services
from beacon.scoring import current_scorer
from foundation.settings import Settings
from tests.actions.conftest import ActionRun, Chat, run_action
from tests.conftest import DemoWorkspace

pytestmark = pytest.mark.filterwarnings("ignore:You are using an old version of rasa")


@pytest.fixture
def services(demo_copy: DemoWorkspace, tmp_path: Path) -> Iterator[Services]:
    """Services over a private demo copy, "today" pinned to its end; no models these need."""
    settings = Settings(home=tmp_path, workspace_path=demo_copy.workspace.path, data_dir=None)
    value = Services(
        settings=settings,
        workspace=demo_copy.workspace,
        scorer=current_scorer(),
        charts=ChartStore(tmp_path / "charts", "http://actions.test"),
        today=lambda: demo_copy.end_date,
    )
    set_services(value)
    yield value
    set_services(None)


def _last_answer(run: ActionRun) -> dict[str, Any]:
    assert len(run.events) == 1 and run.events[0]["name"] == "last_answer", run.events
    value: dict[str, Any] = run.events[0]["value"]
    return value


def _audit(services: Services, audit_id: str) -> tuple[str, dict[str, Any], list[str], str]:
    with services.workspace.connect() as con:
        row = con.execute(
            "SELECT kind, inputs, sources, output FROM audit WHERE audit_id = ?", [audit_id]
        ).fetchone()
    assert row is not None
    return str(row[0]), json.loads(row[1]), json.loads(row[2]), str(row[3])


def test_top_instagram_posts_last_month(services: Services) -> None:
    run = run_action(ActionTopPosts(), "staff_top_posts_instagram.json")
    lines = run.text.splitlines()
    assert lines[0] == (
        "Trailbird's 3 best posts on Instagram by engagement rate, last month "
        "(1–31 Oct 2026), out of 31 posts:"
    )
    assert [line.split(" · ")[0] for line in lines[1:4]] == [
        "1. ig-000131",
        "2. ig-000147",
        "3. ig-000149",
    ]
    assert all(
        "· Instagram ·" in line and "× the account's median of 3.9%" in line for line in lines[1:4]
    )
    assert lines[1].split(" · ")[2].startswith('Sat 10 Oct: "Sunrise miles hit different.')
    assert "8.9% engagement rate, 2.3× the account's median" in lines[1]
    assert lines[-1].startswith("Source: workspace posts of Trailbird's own accounts")
    stored = _last_answer(run)
    assert stored["kind"] == "top_posts"
    assert stored["ids"] == ["ig-000131", "ig-000147", "ig-000149"]
    assert stored["params"]["n"] == 3
    assert stored["params"]["platform"] == "instagram" and stored["params"]["worst"] is False
    kind, inputs, sources, output = _audit(services, stored["audit_id"])
    assert kind == "top_posts" and inputs["start"] == "2026-10-01"
    assert sources == ["workspace:posts", "post:ig-000131", "post:ig-000147", "post:ig-000149"]
    assert output == run.text


def test_worst_tweets_by_likes_count_is_read_from_the_words(services: Services) -> None:
    run = run_action(ActionTopPosts(), "staff_top_posts_worst_likes.json")
    lines = run.text.splitlines()
    assert lines[0].startswith("Trailbird's 5 worst posts on Twitter/X by likes, last week")
    likes = [int(line.split(" — ")[1].split(" likes")[0]) for line in lines[1:6]]
    assert likes == sorted(likes) and len(likes) == 5
    stored = _last_answer(run)
    assert stored["params"]["n"] == 5 and stored["params"]["worst"] is True
    assert stored["params"]["metric"] == "likes" and len(stored["ids"]) == 5


def test_one_campaign_with_its_limits(services: Services) -> None:
    run = run_action(ActionCampaignReport(), "staff_campaign_summer_sprint.json")
    text = run.text
    assert text.startswith(
        "Summer Sprint (summer-sprint): sales of the Swift 3 lightweight trail shoe and "
        "newsletter sign-ups. 2 Jun – 13 Jul 2026, ended; budget €120,000."
    )
    assert "Posts: 168 of Trailbird's posts are tagged with it" in text
    assert "• Twitter/X: median" in text and "within noise" in text
    assert "No experiment is linked to it" in text
    assert "organic attention, not revenue" in text and "can't be computed" in text
    stored = _last_answer(run)
    assert stored["kind"] == "campaign" and stored["ids"][0] == "summer-sprint"
    assert len(stored["ids"]) == 4 and stored["params"]["campaign"] == "summer-sprint"
    kind, _, sources, _ = _audit(services, stored["audit_id"])
    assert kind == "campaign_report" and "campaign:summer-sprint" in sources


def test_holiday_campaign_attributes_only_its_trustworthy_tests(services: Services) -> None:
    run = run_action(ActionCampaignReport(), "staff_campaign_holiday.json")
    text = run.text
    assert "Holiday Gift Guide (holiday-gifts)" in text and "running: day 17 of 41" in text
    assert "Experiments linked to it (3):" in text
    assert "• Subject-line test (31 Oct – 14 Nov 2026): question beat plain." in text
    assert "sample-ratio mismatch" in text
    assert "Attributable: €6,421 (95% CI €1,658 to €11,183) of extra revenue" in text
    assert "can't be set against the €150,000 budget" in text
    _, _, sources, _ = _audit(services, _last_answer(run)["audit_id"])
    assert {"experiment:exp-subject-line", "experiment:exp-free-shipping"} <= set(sources)


def test_all_campaigns_even_after_a_question_about_one(services: Services) -> None:
    # The topic slot still holds "summer sprint" from earlier; this message names none.
    run = run_action(ActionCampaignReport(), "staff_campaigns_all.json")
    lines = run.text.splitlines()
    assert lines[0] == "Trailbird's 3 campaigns, as of 30 Nov 2026:"
    assert [line.split(" (")[0] for line in lines[1:4]] == [
        "• Summer Sprint",
        "• Back to Trail",
        "• Holiday Gift Guide",
    ]
    assert all("all within noise" in line for line in lines[1:4])  # no campaign effect planted
    assert "attributable extra revenue €6,421" in lines[3]
    assert _last_answer(run)["ids"] == ["summer-sprint", "back-to-trail", "holiday-gifts"]


def test_a_follow_up_naming_no_campaign_answers_the_last_one(services: Services) -> None:
    chat = Chat()
    chat.say(
        "how did summer sprint do?",
        "ask_campaign",
        ActionCampaignReport(),
        entities=[{"entity": "topic", "value": "summer sprint"}],
    )
    again = chat.say("was it worth the money?", "ask_campaign", ActionCampaignReport())
    assert again.text.startswith("Summer Sprint (summer-sprint):")
    assert (
        again.remembered is not None and again.remembered["params"]["campaign"] == "summer-sprint"
    )
    # Asking about all of them still gets all of them.
    every = chat.say(
        "and how are the campaigns doing overall?", "ask_campaign", ActionCampaignReport()
    )
    assert every.text.startswith("Trailbird's 3 campaigns")


def test_a_test_asked_about_as_a_campaign_gets_its_analysis(services: Services) -> None:
    # The classifier took it for a campaign question; it names no campaign but a test.
    run = Chat().say(
        "so did orange win against green in the end?", "ask_campaign", ActionCampaignReport()
    )
    assert "Button colour test" in run.text and "campaigns" not in run.text
    assert run.remembered is not None and run.remembered["kind"] == "experiment"


def test_a_campaign_question_sharing_a_word_with_a_test_stays_a_campaign_question(
    services: Services,
) -> None:
    # "line" is a word of the Subject-line test and "results" asks about an outcome.
    run = Chat().say(
        "results for each campaign please, a line per campaign",
        "ask_campaign",
        ActionCampaignReport(),
    )
    assert run.text.startswith("Trailbird's 3 campaigns") and "CUPED" not in run.text


def test_without_an_earlier_campaign_answer_every_campaign_is_reported(
    services: Services,
) -> None:
    run = Chat().say("was it worth the money?", "ask_campaign", ActionCampaignReport())
    assert run.text.startswith("Trailbird's 3 campaigns")


def test_a_campaign_report_is_computed_once_per_data_version(services: Services) -> None:
    first = run_action(ActionCampaignReport(), "staff_campaigns_all.json")
    again = run_action(ActionCampaignReport(), "staff_campaigns_all.json")
    one = run_action(ActionCampaignReport(), "staff_campaign_holiday.json")
    assert again.text == first.text and one.text != first.text
    assert (services.answers.hits, services.answers.misses) == (1, 2)
    # Each turn is still audited on its own, with the same sources.
    audits = [_audit(services, _last_answer(r)["audit_id"]) for r in (first, again)]
    assert audits[0][2] == audits[1][2] and audits[0][0] == "campaign_report"
    with services.workspace.connect() as con:
        con.execute(  # one more Summer Sprint post, as `beacon ingest` would add it
            "INSERT INTO posts SELECT * REPLACE ('cache-test' AS post_id, now() AS ingested_at) "
            "FROM posts WHERE campaign_id = 'summer-sprint' LIMIT 1"
        )
    fresh = run_action(ActionCampaignReport(), "staff_campaigns_all.json")
    assert services.answers.misses == 3
    assert "Summer Sprint" in fresh.text and "169 posts" in fresh.text
    assert "168 posts" in first.text


def test_two_platforms_side_by_side(services: Services) -> None:
    run = run_action(ActionComparison(), "staff_comparison_platforms.json")
    lines = run.text.splitlines()
    assert lines[0] == (
        "Sentiment about Trailbird, Instagram vs Facebook, this quarter (1 Oct – 30 Nov 2026):"
    )
    assert lines[1].startswith("• Instagram: ") and lines[2].startswith("• Facebook: ")
    assert lines[3].startswith("Difference (Instagram minus Facebook): positive ")
    assert "95% CI" in lines[3] and lines[3].endswith(
        "Both gaps are within noise: no real difference."
    )
    stored = _last_answer(run)
    assert stored["kind"] == "comparison" and stored["params"]["metric"] == "sentiment"
    assert (stored["params"]["left"]["platform"], stored["params"]["right"]["platform"]) == (
        "instagram",
        "facebook",
    )


def test_one_sided_sentiment_question_taken_for_a_comparison_gets_the_summary(
    services: Services,
) -> None:
    chat = Chat(sender="one-sided")
    entities = [
        {"entity": "platform", "value": "twitter", "start": 16, "end": 23},
        {"entity": "period", "value": "this month", "start": 24, "end": 34},
    ]
    text = "how is sentiment on twitter this month?"
    slots = {"platform": "twitter", "period": "this month"}  # Rasa fills them from the entities
    run = chat.say(text, "ask_comparison", ActionComparison(), entities=entities, slots=slots)
    assert run.text.startswith("Sentiment about Trailbird on Twitter/X, this month"), run.text
    assert run.remembered is not None and run.remembered["kind"] == "sentiment"
    versus = "sentiment on twitter this month vs last month"
    compared = chat.say(versus, "ask_comparison", ActionComparison(), entities=entities)
    assert compared.remembered is not None and compared.remembered["kind"] == "comparison"


def test_two_periods_of_engagement(services: Services) -> None:
    run = run_action(ActionComparison(), "staff_comparison_periods.json")
    lines = run.text.splitlines()
    assert lines[0] == (
        "Engagement of Trailbird's own posts on all platforms, this month (1–30 Nov 2026) "
        "vs last month (1–31 Oct 2026):"
    )
    assert "median engagement rate" in lines[1] and "over 120 posts" in lines[1]
    assert lines[3].startswith("Difference: ") and "within noise" in lines[3]
    assert _last_answer(run)["params"]["right"]["start"] == "2026-10-01"


def test_test_length_from_the_workspace(services: Services) -> None:
    run = run_action(ActionSampleSize(), "staff_sample_size_lift.json")
    text = run.text
    assert text.startswith("To detect +0.31 points in conversion rate (3.11% → 3.42%, +10%)")
    assert "• 51,222 units per variant, 102,444 in total" in text
    assert "• At about 1,143 units a day, that is 90 days" in text
    assert "the control group's in the Subject-line test (exp-subject-line" in text
    assert "the daily traffic is what the same test enrolled per day" in text
    stored = _last_answer(run)
    assert stored["kind"] == "sample_size" and stored["params"]["effect"] == 0.1
    _, _, sources, _ = _audit(services, stored["audit_id"])
    assert sources == ["experiment:exp-subject-line"]


def test_sample_size_from_the_question(services: Services) -> None:
    run = run_action(ActionSampleSize(), "staff_sample_size_points.json")
    assert run.text.startswith("To detect +2.00 points in conversion rate (4% → 6%, +50%)")
    assert "• 1,861 units per variant, 3,722 in total" in run.text
    assert "the baseline conversion rate is 4%, as you said" in run.text


def test_a_plan_without_an_effect_asks_for_one(services: Services) -> None:
    run = run_action(ActionSampleSize(), "staff_sample_size_vague.json")
    assert run.events == []
    assert run.text == (
        "Tell me the smallest lift worth detecting, e.g. 'a 10% lift' or '2 points', "
        "or how long the test can run, e.g. 'in 14 days'."
    )
