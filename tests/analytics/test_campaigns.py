"""Campaign reports on the demo workspace, and the demo agreeing with its own briefs."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import pytest

from analytics.campaigns import (
    Campaign,
    campaign_report,
    campaign_reports,
    find_campaign,
    list_campaigns,
    match_campaign,
)
from analytics.exceptions import AnalysisInputError
from tests.conftest import PROJECT_ROOT, DemoWorkspace

BRIEFS = PROJECT_ROOT / "data" / "knowledge" / "internal" / "briefs"
CAMPAIGNS = (
    Campaign("summer-sprint", "Summer Sprint", None, None, None, None),
    Campaign("back-to-trail", "Back to Trail", None, None, None, None),
    Campaign("holiday-gifts", "Holiday Gift Guide", None, None, None, None),
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("how did summer sprint do?", "summer-sprint"),
        ("roi of back-to-trail", "back-to-trail"),
        ("hows the xmas campaign going", "holiday-gifts"),
        ("is the gift guide working", "holiday-gifts"),
        ("how are our campaigns doing?", None),
        (None, None),
    ],
)
def test_match_campaign(text: str | None, expected: str | None) -> None:
    found = match_campaign(text, CAMPAIGNS)
    assert (found.campaign_id if found else None) == expected


def _brief_facts(path: Path) -> tuple[float, date, date]:
    """The budget and flight dates a brief states ("The budget is N euros", "Flight dates: ...")."""
    text = path.read_text()
    budget = re.search(r"budget is ([\d,]+) euros", text)
    flight = re.search(r"Flight dates: (\d+) (\w+) to (\d+) (\w+) (\d{4})", text)
    assert budget and flight, path.name
    start_day, start_month, end_day, end_month, year = flight.groups()

    def day(d: str, month: str) -> date:
        return datetime.strptime(f"{d} {month} {year}", "%d %B %Y").date()

    return (
        float(budget.group(1).replace(",", "")),
        day(start_day, start_month),
        day(end_day, end_month),
    )


def test_demo_campaigns_agree_with_their_briefs(demo: DemoWorkspace) -> None:
    """The campaigns table and the briefs state the same budgets and flights (at the demo's end date)."""
    with demo.workspace.connect(read_only=True) as con:
        campaigns = {c.campaign_id: c for c in list_campaigns(con)}
    briefs = sorted(BRIEFS.iterdir())
    assert {path.stem for path in briefs} == set(campaigns)
    for path in briefs:
        budget, start, end = _brief_facts(path)
        campaign = campaigns[path.stem]
        assert (campaign.budget, campaign.start, campaign.end) == (budget, start, end), path.name
        assert campaign.name in path.read_text()


def test_find_campaign(demo: DemoWorkspace) -> None:
    with demo.workspace.connect(read_only=True) as con:
        assert find_campaign(con, "holiday-gifts").name == "Holiday Gift Guide"
        assert find_campaign(con, "Summer Sprint").campaign_id == "summer-sprint"
        with pytest.raises(AnalysisInputError, match=r"can't tell which campaign 'spring sale' is"):
            find_campaign(con, "spring sale")


def test_ended_campaign_without_experiments(demo: DemoWorkspace) -> None:
    with demo.workspace.connect(read_only=True) as con:
        report = campaign_report(con, find_campaign(con, "summer-sprint"), today=demo.end_date)
    assert (report.status, report.days_run, report.days_total) == ("ended", 42, 42)
    assert report.posts_by_platform == {"facebook": 42, "instagram": 42, "twitter": 84}
    assert report.comparison is not None
    assert (report.comparison.start, report.comparison.end) == (
        date(2026, 4, 21),
        date(2026, 8, 24),
    )
    assert [c.platform for c in report.engagement] == ["facebook", "instagram", "twitter"]
    for contrast in report.engagement:  # no campaign effect is planted in the demo
        assert contrast.difference is not None and not contrast.difference.significant
        assert contrast.difference.confidence == pytest.approx(1 - 0.05 / 3)
    assert report.best_posts is not None and len(report.best_posts.posts) == 3
    assert all(p.posted_at.date() <= date(2026, 7, 13) for p in report.best_posts.posts)
    assert report.experiments == () and report.attribution is None
    assert any("can't be computed" in s for s in report.not_attributable)
    assert report.to_dict()["campaign"]["budget"] == 120_000.0


def test_running_campaign_attributes_its_trustworthy_tests(demo: DemoWorkspace) -> None:
    with demo.workspace.connect(read_only=True) as con:
        report = campaign_report(con, find_campaign(con, "holiday"), today=demo.end_date)
    assert (report.status, report.days_run, report.days_total) == ("running", 17, 41)
    experiments = {e.experiment_id: e for e in report.experiments}
    assert set(experiments) == set(demo.manifest["experiments"])
    assert experiments["exp-subject-line"].trustworthy
    assert experiments["exp-subject-line"].winners == ("question",)
    assert not experiments["exp-free-shipping"].trustworthy  # sample-ratio mismatch
    assert experiments["exp-button-colour"].winners == ()
    assert report.attribution is not None
    assert set(report.attribution.experiments) == {"exp-subject-line", "exp-button-colour"}
    assert report.attribution.ci is not None
    assert report.attribution.ci[0] < report.attribution.revenue < report.attribution.ci[1]
    assert report.attribution.ci[0] > 0
    assert any("Free-shipping banner test isn't counted" in s for s in report.not_attributable)


def test_every_campaign_and_the_day_before_one_starts(demo: DemoWorkspace) -> None:
    with demo.workspace.connect(read_only=True) as con:
        reports = campaign_reports(con, today=demo.end_date)
        early = campaign_report(con, find_campaign(con, "holiday"), today=date(2026, 11, 1))
    assert [r.campaign.campaign_id for r in reports] == [
        "summer-sprint",
        "back-to-trail",
        "holiday-gifts",
    ]
    assert (early.status, early.posts, early.engagement, early.best_posts) == (
        "upcoming",
        0,
        (),
        None,
    )
