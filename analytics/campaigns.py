"""Campaign performance: budget and dates, linked posts and experiments, what can be attributed.

A campaign (the workspace's ``campaigns`` table) is linked to the brand's posts by
``posts.campaign_id`` and to A/B tests by ``experiments.campaign_id``. What a report can
say, and how sure it is:

- the **posts**: their engagement rate against the same accounts' posts outside any
  campaign around the flight (the flight and as long again on either side), per platform,
  as a difference in medians with a bootstrap interval (:func:`analytics.posts.median_difference`),
  the platforms' intervals widened (Bonferroni) so that together they hold at 95%;
- the **experiments**: each one's analysis (:func:`analytics.experiments.analyze_workspace_experiment`),
  whose extra revenue with its interval is the only money that can be attributed: what a
  tested variant brought on the units it was tested on;
- what **can't** be attributed, said plainly: organic engagement is attention, not
  revenue; the budget covers more than the tests; the workspace records budgets, not
  spend.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Final

import duckdb
import pandas as pd

from analytics.exceptions import AnalysisInputError
from analytics.experiments import ExperimentResult, analyze_workspace_experiment
from analytics.periods import Period, format_range
from analytics.posts import (
    MedianDifference,
    TopPosts,
    median_difference,
    metric_values,
    own_posts,
    top_posts,
)

__all__ = [
    "Attribution",
    "Campaign",
    "CampaignReport",
    "LinkedExperiment",
    "PlatformContrast",
    "campaign_report",
    "campaign_reports",
    "find_campaign",
    "list_campaigns",
    "match_campaign",
]

#: Words that name no campaign in "how did the summer sprint campaign do?".
_NOISE: Final = frozenset(
    {"the", "a", "an", "to", "of", "and", "our", "campaign", "campaigns", "guide", "for", "on"}
)
#: Other words people use for a campaign's words.
_ALIASES: Final = {"christmas": "holiday", "xmas": "holiday", "holidays": "holiday"}
#: The earliest day a campaign's posts are read from.
_EPOCH: Final = date(1970, 1, 1)


@dataclass(frozen=True)
class Campaign:
    """One row of the ``campaigns`` table.

    Attributes:
        campaign_id: Its id (``posts.campaign_id`` and ``experiments.campaign_id``).
        name: Its name ("Summer Sprint").
        objective: What it is for, or None.
        start: First day of the flight, or None.
        end: Last day of the flight, or None.
        budget: Its budget in the workspace's currency, or None.
        description: Free text, or None.
    """

    campaign_id: str
    name: str
    objective: str | None
    start: date | None
    end: date | None
    budget: float | None
    description: str | None = None

    def dates(self) -> str | None:
        """``2 Jun – 13 Jul 2026``, or None when the flight dates are unknown."""
        if self.start is None or self.end is None:
            return None
        return format_range(self.start, self.end)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {
            "campaign_id": self.campaign_id,
            "name": self.name,
            "objective": self.objective,
            "start": None if self.start is None else self.start.isoformat(),
            "end": None if self.end is None else self.end.isoformat(),
            "budget": self.budget,
            "description": self.description,
        }


def list_campaigns(con: duckdb.DuckDBPyConnection) -> tuple[Campaign, ...]:
    """Every campaign in the workspace, earliest flight first."""
    rows = con.execute(
        "SELECT campaign_id, name, objective, start_date, end_date, budget, description "
        "FROM campaigns ORDER BY start_date NULLS LAST, name"
    ).fetchall()
    return tuple(
        Campaign(
            campaign_id=str(cid),
            name=str(name),
            objective=None if objective is None else str(objective),
            start=start,
            end=end,
            budget=None if budget is None else float(budget),
            description=None if description is None else str(description),
        )
        for cid, name, objective, start, end, budget, description in rows
    )


def _tokens(text: str) -> set[str]:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return {_ALIASES.get(w, w.removesuffix("s")) for w in words if w not in _NOISE}


def match_campaign(text: str | None, campaigns: Sequence[Campaign]) -> Campaign | None:
    """The campaign a question names ("how did summer sprint do?" → Summer Sprint).

    Words of each campaign's name and id are matched against the text ("xmas" and
    "christmas" read as "holiday"); the campaign sharing the most words wins.

    Returns:
        The campaign, or None when the text names none or two equally well.
    """
    if not text:
        return None
    wanted = _tokens(text)
    scored = sorted(
        (
            (len(wanted & (_tokens(c.name) | _tokens(c.campaign_id.replace("-", " ")))), i)
            for i, c in enumerate(campaigns)
        ),
        reverse=True,
    )
    if not scored or scored[0][0] == 0 or (len(scored) > 1 and scored[1][0] == scored[0][0]):
        return None
    return campaigns[scored[0][1]]


def find_campaign(con: duckdb.DuckDBPyConnection, name: str) -> Campaign:
    """The campaign called ``name`` (its id, its name or words of it).

    Raises:
        AnalysisInputError: No campaign or several match; the message lists the campaigns.
    """
    campaigns = list_campaigns(con)
    exact = [c for c in campaigns if name.strip().lower() in (c.campaign_id, c.name.lower())]
    found = exact[0] if len(exact) == 1 else match_campaign(name, campaigns)
    if found is None:
        known = ", ".join(c.name for c in campaigns) or "none yet"
        raise AnalysisInputError(
            f"I can't tell which campaign '{name}' is. The campaigns I have: {known}."
        )
    return found


@dataclass(frozen=True)
class PlatformContrast:
    """A campaign's posts on one platform against the same account's other posts.

    Attributes:
        platform: The workspace platform.
        campaign_posts: The campaign's posts there.
        other_posts: The account's posts outside any campaign in the comparison window.
        basis: The measure compared (``engagement_rate``, or ``interactions`` without
            follower counts).
        difference: Campaign median minus the others' median, with its interval (None
            when either side has no posts); the interval's confidence is 1 − 0.05 / the
            number of platforms compared, so all of a campaign's intervals hold together at
            95%.
    """

    platform: str
    campaign_posts: int
    other_posts: int
    basis: str
    difference: MedianDifference | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {
            "platform": self.platform,
            "campaign_posts": self.campaign_posts,
            "other_posts": self.other_posts,
            "basis": self.basis,
            "difference": None if self.difference is None else self.difference.to_dict(),
        }


@dataclass(frozen=True)
class LinkedExperiment:
    """An A/B test linked to the campaign, with its analysis.

    Attributes:
        experiment_id: The experiment.
        name: Its name.
        started: First day, or None.
        ended: Last day, or None.
        result: Its analysis, or None when it could not be analysed.
        problem: Why it could not be analysed (None when it was).
    """

    experiment_id: str
    name: str
    started: date | None
    ended: date | None
    result: ExperimentResult | None
    problem: str | None = None

    @property
    def trustworthy(self) -> bool:
        """Analysed, without a sample-ratio mismatch or too little data."""
        return (
            self.result is not None
            and not self.result.srm.warning
            and not self.result.too_little_data
        )

    @property
    def winners(self) -> tuple[str, ...]:
        """Variants whose lift on some metric is above zero with 95% confidence."""
        if self.result is None:
            return ()
        return tuple(
            sorted(
                {
                    v.name
                    for m in self.result.metrics
                    for v in m.variants
                    if not v.is_control and v.abs_lift_ci is not None and v.abs_lift_ci[0] > 0
                }
            )
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {
            "experiment_id": self.experiment_id,
            "name": self.name,
            "started": None if self.started is None else self.started.isoformat(),
            "ended": None if self.ended is None else self.ended.isoformat(),
            "trustworthy": self.trustworthy,
            "winners": list(self.winners),
            "problem": self.problem,
            "result": None if self.result is None else self.result.to_dict(),
        }


@dataclass(frozen=True)
class Attribution:
    """Extra revenue the campaign's trustworthy experiments attribute to their variants.

    Attributes:
        revenue: Sum of the variants' incremental revenue on the units they were tested on.
        ci: Its 95% interval (the variants' intervals combined as independent normals).
        experiments: The experiments counted.
    """

    revenue: float
    ci: tuple[float, float] | None
    experiments: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {
            "revenue": self.revenue,
            "ci": None if self.ci is None else list(self.ci),
            "experiments": list(self.experiments),
        }


@dataclass(frozen=True)
class CampaignReport:
    """How a campaign is doing, as far as the workspace can say.

    Attributes:
        campaign: The campaign.
        today: The day the report is for.
        status: ``upcoming``, ``running``, ``ended`` or ``undated``.
        days_run: Days of the flight so far (None without dates).
        days_total: Days of the whole flight (None without dates).
        posts_by_platform: The brand's posts linked to the campaign, per platform.
        best_posts: Its posts with the highest engagement rate (None without posts).
        comparison: The days the other posts were taken from (None without posts).
        engagement: One contrast per platform with campaign posts.
        experiments: The A/B tests linked to it.
        attribution: Extra revenue from its trustworthy tests (None without any).
        not_attributable: Plain statements of what the numbers can't say.
    """

    campaign: Campaign
    today: date
    status: str
    days_run: int | None
    days_total: int | None
    posts_by_platform: dict[str, int]
    best_posts: TopPosts | None
    comparison: Period | None
    engagement: tuple[PlatformContrast, ...]
    experiments: tuple[LinkedExperiment, ...]
    attribution: Attribution | None
    not_attributable: tuple[str, ...] = field(default=())

    @property
    def posts(self) -> int:
        """The brand's posts linked to the campaign."""
        return sum(self.posts_by_platform.values())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (one item of ``beacon campaigns report --json``)."""
        return {
            "campaign": self.campaign.to_dict(),
            "today": self.today.isoformat(),
            "status": self.status,
            "days_run": self.days_run,
            "days_total": self.days_total,
            "posts": self.posts,
            "posts_by_platform": dict(self.posts_by_platform),
            "best_posts": None if self.best_posts is None else self.best_posts.to_dict(),
            "comparison": None
            if self.comparison is None
            else {
                "start": self.comparison.start.isoformat(),
                "end": self.comparison.end.isoformat(),
            },
            "engagement": [c.to_dict() for c in self.engagement],
            "experiments": [e.to_dict() for e in self.experiments],
            "attribution": None if self.attribution is None else self.attribution.to_dict(),
            "not_attributable": list(self.not_attributable),
        }


def _status(campaign: Campaign, today: date) -> tuple[str, int | None, int | None]:
    if campaign.start is None or campaign.end is None:
        return "undated", None, None
    total = (campaign.end - campaign.start).days + 1
    if today < campaign.start:
        return "upcoming", 0, total
    if today > campaign.end:
        return "ended", total, total
    return "running", (today - campaign.start).days + 1, total


def _linked_experiments(
    con: duckdb.DuckDBPyConnection, campaign_id: str
) -> tuple[LinkedExperiment, ...]:
    rows = con.execute(
        "SELECT experiment_id, name, started_at, ended_at FROM experiments "
        "WHERE campaign_id = ? ORDER BY started_at NULLS LAST, experiment_id",
        [campaign_id],
    ).fetchall()
    found: list[LinkedExperiment] = []
    for experiment_id, name, started, ended in rows:
        result: ExperimentResult | None = None
        problem: str | None = None
        try:
            result = analyze_workspace_experiment(con, str(experiment_id))
        except AnalysisInputError as error:
            problem = str(error)
        found.append(
            LinkedExperiment(
                experiment_id=str(experiment_id),
                name=str(name),
                started=None if started is None else started.date(),
                ended=None if ended is None else ended.date(),
                result=result,
                problem=problem,
            )
        )
    return tuple(found)


def _attribution(experiments: Sequence[LinkedExperiment]) -> Attribution | None:
    revenue, variance, counted = 0.0, 0.0, []
    for experiment in experiments:
        if not experiment.trustworthy or experiment.result is None:
            continue
        rois = [r for r in experiment.result.roi if r.incremental_revenue is not None]
        for roi in rois:
            assert roi.incremental_revenue is not None
            revenue += roi.incremental_revenue
            if roi.incremental_revenue_ci is not None:
                low, high = roi.incremental_revenue_ci
                variance += ((high - low) / (2 * 1.959964)) ** 2
        if rois:
            counted.append(experiment.experiment_id)
    if not counted:
        return None
    half = 1.959964 * math.sqrt(variance)
    return Attribution(
        revenue=revenue,
        ci=(revenue - half, revenue + half) if variance > 0 else None,
        experiments=tuple(counted),
    )


def _engagement(
    con: duckdb.DuckDBPyConnection, campaign: Campaign, campaign_posts: pd.DataFrame, today: date
) -> tuple[Period | None, tuple[PlatformContrast, ...]]:
    if campaign_posts.empty:
        return None, ()
    days = pd.to_datetime(campaign_posts["posted_at"]).dt.date
    start = campaign.start or min(days)
    end = min(campaign.end or max(days), today)
    if end < start:
        return None, ()
    length = timedelta(days=(end - start).days + 1)
    window = Period(start - length, min(end + length, today), "around the flight")
    around = own_posts(con, window.start, window.end)
    others = around[around["campaign_id"].isna()]
    contrasts: list[PlatformContrast] = []
    groups = list(campaign_posts.groupby("platform", sort=True))
    # One interval per platform: Bonferroni-widened so that together they hold at 95%.
    confidence = 1 - 0.05 / len(groups)
    for platform, mine in groups:
        theirs = others[others["platform"] == platform]
        values, basis = metric_values(mine, "engagement_rate")
        other_values, other_basis = metric_values(theirs, "engagement_rate")
        if basis != other_basis:  # follower counts on one side only: compare interactions
            values, basis = mine["interactions"], "interactions"
            other_values = theirs["interactions"]
        difference = (
            median_difference(values, other_values, confidence=confidence)
            if len(values) and len(other_values)
            else None
        )
        contrasts.append(
            PlatformContrast(
                platform=str(platform),
                campaign_posts=len(mine),
                other_posts=len(theirs),
                basis=basis,
                difference=difference,
            )
        )
    return window, tuple(contrasts)


def _not_attributable(
    campaign: Campaign,
    report_posts: int,
    experiments: Sequence[LinkedExperiment],
    attribution: Attribution | None,
    currency: str,
) -> tuple[str, ...]:
    said: list[str] = []
    if report_posts:
        said.append(
            "Engagement on the campaign's posts is organic attention, not revenue: the "
            "workspace holds no sales linked to those posts, so their lift can't be turned "
            "into money."
        )
    if campaign.budget is not None:
        budget = f"{currency}{campaign.budget:,.0f}"
        if attribution is None:
            said.append(
                f"So the campaign's return on its {budget} budget can't be computed: nothing "
                "in the workspace attributes revenue to the campaign as a whole."
            )
        else:
            said.append(
                f"The tests' extra revenue is what their variants brought on the units tested, "
                f"not the campaign's total return, so it can't be set against the {budget} budget."
            )
        said.append("The workspace records each campaign's budget, not what was actually spent.")
    for experiment in experiments:
        if experiment.result is not None and experiment.result.srm.warning:
            said.append(
                f"{experiment.name} isn't counted: its groups are not the planned sizes "
                "(sample-ratio mismatch), so its differences can't be trusted."
            )
        elif experiment.result is not None and experiment.result.too_little_data:
            said.append(f"{experiment.name} isn't counted: it has too little data to trust.")
        elif experiment.result is None:
            said.append(f"{experiment.name} isn't counted: it could not be analysed.")
    return tuple(said)


def campaign_report(
    con: duckdb.DuckDBPyConnection,
    campaign: Campaign,
    *,
    today: date,
    best: int = 3,
    currency: str = "€",
) -> CampaignReport:
    """How ``campaign`` is doing as of ``today``.

    Args:
        con: Workspace connection (read-only is enough).
        campaign: The campaign (:func:`find_campaign`, :func:`list_campaigns`).
        today: The reference day: posts after it are not read, the flight is cut at it.
        best: How many of its best posts to list.
        currency: Symbol for amounts in the statements of what can't be attributed.

    Raises:
        AnalysisInputError: The workspace does not say which accounts are the brand's.
    """
    status, days_run, days_total = _status(campaign, today)
    mine = own_posts(con, _EPOCH, today, campaign_id=campaign.campaign_id)
    by_platform = {str(k): int(v) for k, v in mine.groupby("platform").size().items()}
    best_posts = None
    if len(mine):
        first = pd.Timestamp(mine["posted_at"].min()).date()
        best_posts = top_posts(
            con,
            Period(first, today, "the campaign so far"),
            n=best,
            campaign_id=campaign.campaign_id,
        )
    comparison, engagement = _engagement(con, campaign, mine, today)
    experiments = _linked_experiments(con, campaign.campaign_id)
    attribution = _attribution(experiments)
    return CampaignReport(
        campaign=campaign,
        today=today,
        status=status,
        days_run=days_run,
        days_total=days_total,
        posts_by_platform=by_platform,
        best_posts=best_posts,
        comparison=comparison,
        engagement=engagement,
        experiments=experiments,
        attribution=attribution,
        not_attributable=_not_attributable(campaign, len(mine), experiments, attribution, currency),
    )


def campaign_reports(
    con: duckdb.DuckDBPyConnection, *, today: date, currency: str = "€"
) -> tuple[CampaignReport, ...]:
    """A report of every campaign in the workspace, earliest flight first."""
    return tuple(
        campaign_report(con, campaign, today=today, currency=currency)
        for campaign in list_campaigns(con)
    )
