"""``ask_campaign`` → :class:`ActionCampaignReport`: how one campaign, or every one, is doing."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Any

import duckdb
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import answer_from_documents
from actions.base import BeaconAction, Events
from actions.context import LastAnswer, follows_up, last_answer, remember
from actions.experiments import answer_experiment, named_experiment
from actions.posts import format_value
from actions.questions import entity_values
from actions.services import Services
from analytics.campaigns import (
    Campaign,
    CampaignReport,
    LinkedExperiment,
    PlatformContrast,
    campaign_report,
    campaign_reports,
    list_campaigns,
    match_campaign,
)
from analytics.experiments import describe_roi
from analytics.periods import format_range
from analytics.posts import METRIC_NAMES
from foundation.workspace import get_meta, platform_name, queries

CURRENCY = "€"
SOURCE = "Source: workspace campaigns, the brand's posts tagged with each campaign, and the experiments linked to it."


def _money(amount: float) -> str:
    sign = "-" if amount < 0 else ""
    return f"{sign}{CURRENCY}{abs(amount):,.0f}"


def _status(report: CampaignReport) -> str:
    dates = report.campaign.dates()
    if report.status == "undated" or dates is None:
        return "no flight dates recorded"
    if report.status == "running":
        return f"{dates}, running: day {report.days_run} of {report.days_total}"
    return f"{dates}, {'not started yet' if report.status == 'upcoming' else 'ended'}"


def _percent(value: float) -> str:
    text = f"{100 * value:+.0f}"
    return (text[1:] if int(text) == 0 else text) + "%"


def contrast_phrase(contrast: PlatformContrast, *, short: bool = False) -> str:
    """``Instagram +4% (CI -6% to +15%)``, with the medians unless ``short``.

    The interval is the contrast's own (jointly 95% with the campaign's other platforms).
    """
    name = platform_name(contrast.platform)
    diff = contrast.difference
    if diff is None:
        return f"{name}: no posts outside campaigns to compare with"
    if diff.relative is not None and diff.relative_ci is not None:
        change = f"{_percent(diff.relative)} (CI {_percent(diff.relative_ci[0])} to {_percent(diff.relative_ci[1])})"
    elif diff.ci is not None:
        scale = 100 if contrast.basis == "engagement_rate" else 1
        unit = " points" if contrast.basis == "engagement_rate" else ""
        change = (
            f"{scale * diff.difference:+.2f}{unit} (CI {scale * diff.ci[0]:+.2f} to "
            f"{scale * diff.ci[1]:+.2f})"
        )
    else:
        change = "too few posts for an interval"
    if short:
        return f"{name} {change}"
    medians = (
        f"median {format_value(diff.left_median, contrast.basis)} vs "
        f"{format_value(diff.right_median, contrast.basis)} "
        f"({contrast.campaign_posts} vs {contrast.other_posts} posts)"
    )
    noise = "more than noise" if diff.significant else "within noise"
    return f"{name}: {medians}, {change} — {noise}"


def _experiment_lines(experiment: LinkedExperiment) -> list[str]:
    when = (
        f" ({format_range(experiment.started, experiment.ended)})"
        if experiment.started and experiment.ended
        else ""
    )
    head = f"• {experiment.name}{when}: "
    result = experiment.result
    if result is None:
        return [head + "could not be analysed."]
    if result.srm.warning:
        return [
            head + "its groups are not the planned sizes (sample-ratio mismatch), "
            "so its results can't be trusted."
        ]
    if experiment.winners:
        verdict = f"{', '.join(experiment.winners)} beat {result.control}."
    else:
        verdict = f"no variant beat {result.control}; no clear effect."
    money = " ".join(describe_roi(r, currency=CURRENCY) for r in result.roi)
    return [head + verdict + (f" {money}" if money else "")]


def format_campaign(report: CampaignReport, brand: str) -> str:
    """The reply to "how did <campaign> do?": budget, dates, posts, experiments, limits."""
    campaign = report.campaign
    lines = [
        f"{campaign.name} ({campaign.campaign_id})"
        + (f": {campaign.objective}" if campaign.objective else "")
        + f". {_status(report)}"
        + (f"; budget {_money(campaign.budget)}." if campaign.budget is not None else ".")
    ]
    if report.posts:
        split = ", ".join(
            f"{platform_name(p)} {n}" for p, n in sorted(report.posts_by_platform.items())
        )
        lines.append(f"Posts: {report.posts:,} of {brand}'s posts are tagged with it ({split}).")
        if report.comparison is not None and report.engagement:
            measure = METRIC_NAMES[report.engagement[0].basis]
            lines.append(
                f"Their {measure} against the same accounts' posts outside any campaign, "
                f"{format_range(report.comparison.start, report.comparison.end)} "
                "(the flight and as long again on either side); the intervals hold together "
                f"at 95% across the {len(report.engagement)} platforms:"
            )
            lines += [f"• {contrast_phrase(c)}" for c in report.engagement]
        if report.best_posts is not None and report.best_posts.posts:
            best = report.best_posts.posts[0]
            lines.append(
                f"Best post: {best.post_id} ({platform_name(best.platform)}, {best.posted_at:%a} "
                f'{best.posted_at.day} {best.posted_at:%b}) "{best.excerpt()}", '
                f"{format_value(best.value, report.best_posts.basis)} "
                f"{METRIC_NAMES[report.best_posts.basis]}."
            )
    else:
        lines.append(f"No post of {brand}'s is tagged with it yet.")
    if report.experiments:
        lines.append(f"Experiments linked to it ({len(report.experiments)}):")
        for experiment in report.experiments:
            lines += _experiment_lines(experiment)
    else:
        lines.append(
            "No experiment is linked to it, so no result can be attributed to it in money."
        )
    if report.attribution is not None:
        attribution = report.attribution
        interval = (
            f" (95% CI {_money(attribution.ci[0])} to {_money(attribution.ci[1])})"
            if attribution.ci
            else ""
        )
        lines.append(
            f"Attributable: {_money(attribution.revenue)}{interval} of extra revenue from the "
            f"tested variants, on the units they were tested on."
        )
    if report.not_attributable:
        lines.append("What can't be attributed: " + " ".join(report.not_attributable))
    lines.append(SOURCE)
    return "\n".join(lines)


def format_campaigns(reports: tuple[CampaignReport, ...], brand: str) -> str:
    """The reply to "how are our campaigns doing?": one line per campaign, then the limits."""
    if not reports:
        return (
            f"There are no campaigns in the workspace yet, so I can't say how {brand}'s "
            "campaigns are doing."
        )
    lines = [
        f"{brand}'s {len(reports)} campaigns, as of {reports[0].today.day} {reports[0].today:%b %Y}:"
    ]
    for report in reports:
        campaign = report.campaign
        parts = [f"{report.posts:,} posts"]
        if report.engagement:
            real = any(
                c.difference is not None and c.difference.significant for c in report.engagement
            )
            parts.append(
                "engagement vs other posts (intervals jointly 95%): "
                + ", ".join(contrast_phrase(c, short=True) for c in report.engagement)
                + (" — some of it more than noise" if real else " — all within noise")
            )
        if report.experiments:
            tests = f"{len(report.experiments)} experiment" + (
                "s" if len(report.experiments) != 1 else ""
            )
            if report.attribution is not None:
                ci = report.attribution.ci
                tests += f", attributable extra revenue {_money(report.attribution.revenue)}" + (
                    f" (95% CI {_money(ci[0])} to {_money(ci[1])})" if ci else ""
                )
            parts.append(tests)
        else:
            parts.append("no experiments")
        budget = f", budget {_money(campaign.budget)}" if campaign.budget is not None else ""
        lines.append(f"• {campaign.name} ({_status(report)}{budget}): " + "; ".join(parts) + ".")
    lines.append(
        "Only experiments attribute money to a campaign, and only on the units they tested: "
        "organic engagement is attention, not revenue, and the workspace records budgets, "
        "not spend or sales, so no campaign's total return can be computed."
    )
    lines.append('Ask about one campaign ("how did summer sprint do?") for its posts and tests.')
    lines.append(SOURCE)
    return "\n".join(lines)


def _report(
    con: duckdb.DuckDBPyConnection, named: Campaign | None, today: date
) -> tuple[str, tuple[str, ...], dict[str, Any], tuple[str, ...]]:
    """The reply about ``named`` (every campaign when None), with what it cites.

    Returns:
        The reply, the ids it names (campaigns and posts), the report as a dict for the
        audit, and the linked experiments' ids.
    """
    brand = get_meta(con, "brand", "the brand")
    if named is not None:
        report = campaign_report(con, named, today=today, currency=CURRENCY)
        best = report.best_posts.posts if report.best_posts is not None else ()
        ids = (named.campaign_id, *(p.post_id for p in best))
        experiments = tuple(e.experiment_id for e in report.experiments)
        return format_campaign(report, brand), ids, report.to_dict(), experiments
    reports = campaign_reports(con, today=today, currency=CURRENCY)
    return (
        format_campaigns(reports, brand),
        tuple(r.campaign.campaign_id for r in reports),
        {"campaigns": [r.to_dict() for r in reports]},
        tuple(e.experiment_id for r in reports for e in r.experiments),
    )


#: What a campaign's brief holds and its report doesn't (the briefs' sections: objective
#: and targets, audience, key message, offer and gift policies, deadlines, hashtag).
_BRIEF_CUES = re.compile(
    r"\b(?:brief|objectives?|goals?|aims?|targets?|kpis?|success metrics?|audience|aimed at|"
    r"persona|key messages?|messaging|tagline|offers?|discount|codes?|wrapping|polic(?:y|ies)|"
    r"deadlines?|until when|by when|last day|hashtags?|allowed)\b|#\w+",
    re.IGNORECASE,
)
#: A message that says "campaign" is about campaigns, whatever test words it shares.
_CAMPAIGN_WORD = re.compile(r"\bcampaigns?\b", re.IGNORECASE)
#: Words that ask about every campaign, so a follow-up naming none is not read as the last one.
_ALL_CAMPAIGNS = re.compile(r"\b(campaigns|all|every|each|overview|which)\b", re.IGNORECASE)


def _previous_campaign(
    tracker: Tracker, text: str, campaigns: Sequence[Campaign]
) -> Campaign | None:
    """The campaign the previous answer was about, for a follow-up that names none ("what
    did it cost?", "was it worth it?" after the Summer Sprint report); None when the
    previous answer covered every campaign or the message asks about all of them."""
    previous = last_answer(tracker)
    if previous is None or previous.kind != "campaign" or _ALL_CAMPAIGNS.search(text):
        return None
    wanted = previous.params.get("campaign")
    return next((c for c in campaigns if c.campaign_id == wanted), None)


class ActionCampaignReport(BeaconAction):
    """A campaign's budget, dates, posts against the account's other posts, and experiments.

    A question about what a brief says (its targets, audience, message, offer, deadlines
    or hashtag) is answered from the documents when they answer it. Otherwise the
    campaign is the one the message names, else (for a follow-up) the one the previous
    answer was about, else every campaign; a message that names no campaign (nor says
    "campaign") but asks how an A/B test came out, or follows up the previous answer's
    test ("worth rolling out?"), gets that test's analysis.
    """

    action_name = "action_campaign_report"

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        message = tracker.latest_message or {}
        text = message.get("text") or ""
        # Only a campaign named in this message: the topic slot may be an earlier question's.
        topics = entity_values(message.get("entities"), "topic")
        if _BRIEF_CUES.search(text):
            # "what's the holiday campaign's hashtag?": the brief says, not the report.
            quoted = answer_from_documents(dispatcher, tracker, services, only_if_found=True)
            if quoted is not None:
                return quoted
        today = services.today()
        with services.workspace.connect(read_only=True) as con:
            campaigns = list_campaigns(con)
            named = (
                match_campaign(text, campaigns)
                or next((found for t in topics if (found := match_campaign(t, campaigns))), None)
                or _previous_campaign(tracker, text, campaigns)
            )
        if named is None and not _CAMPAIGN_WORD.search(text):
            # "did green beat orange at checkout?" names a test, not a campaign.
            experiment = named_experiment(tracker, services, unprompted=True, outcome=True)
            if experiment is None:
                # "worth rolling out?" after a test's results asks about that test.
                previous = last_answer(tracker)
                if previous and previous.kind == "experiment" and follows_up(tracker, previous):
                    experiment = next(iter(previous.ids), None)
            if experiment is not None:
                return answer_experiment(dispatcher, tracker, services, experiment)
        with services.workspace.connect(read_only=True) as con:
            reply, ids, payload, experiments = services.answers.get_or_compute(
                ("campaign_report", named.campaign_id if named else None, today),
                queries.data_version(con),
                lambda: _report(con, named, today),
            )
            params = {"campaign": named.campaign_id if named else None, "today": today.isoformat()}
            audit_id = services.workspace.record_audit(
                kind="campaign_report",
                inputs=params,
                sources=[
                    "workspace:campaigns",
                    "workspace:posts",
                    *(f"campaign:{i}" for i in ids if i in {c.campaign_id for c in campaigns}),
                    *(f"experiment:{e}" for e in experiments),
                ],
                output={"reply": reply, "report": payload},
                conversation_id=tracker.sender_id,
            )
        dispatcher.utter_message(text=reply)
        return [remember(LastAnswer("campaign", ids=tuple(ids), params=params, audit_id=audit_id))]
