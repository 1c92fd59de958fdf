"""``beacon campaigns report``: campaign performance and what can be attributed to it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import typer

from beacon.cli._common import JSON_OPTION, console, print_json, run_command

app = typer.Typer(help="Campaigns: budget, posts, experiments and ROI.", no_args_is_help=True)


@app.command()
def report(
    name: str = typer.Argument(None, help="A campaign's id or name (default: every campaign)."),
    today: str = typer.Option(
        None, "--today", help="Report as of this day (YYYY-MM-DD; default today, UTC)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Budget and dates, linked posts against the account's other posts, linked experiments."""
    from analytics.campaigns import (
        CampaignReport,
        campaign_report,
        campaign_reports,
        find_campaign,
    )
    from foundation.settings import get_settings
    from foundation.workspace import Workspace, platform_name

    def body() -> None:
        day = date.fromisoformat(today) if today else datetime.now(UTC).date()
        reports: tuple[CampaignReport, ...]
        with Workspace(get_settings().workspace_path).connect(read_only=True) as con:
            if name:
                reports = (campaign_report(con, find_campaign(con, name), today=day),)
            else:
                reports = campaign_reports(con, today=day)
        if as_json:
            print_json(
                reports[0].to_dict() if name else {"campaigns": [r.to_dict() for r in reports]}
            )
            return
        for found in reports:
            campaign = found.campaign
            budget = f", budget {campaign.budget:,.0f}" if campaign.budget is not None else ""
            console.print(
                f"{campaign.name} ({campaign.campaign_id}): {campaign.dates() or 'no dates'}, "
                f"{found.status}{budget}; {found.posts} posts",
                highlight=False,
            )
            for contrast in found.engagement:
                diff = contrast.difference
                if diff is None or diff.relative is None or diff.relative_ci is None:
                    continue
                console.print(
                    f"  {platform_name(contrast.platform)}: {100 * diff.relative:+.0f}% vs other "
                    f"posts (CI {100 * diff.relative_ci[0]:+.0f}% to "
                    f"{100 * diff.relative_ci[1]:+.0f}%)",
                    highlight=False,
                )
            for experiment in found.experiments:
                verdict = ", ".join(experiment.winners) or "no clear winner"
                trust = "" if experiment.trustworthy else " (not trustworthy)"
                console.print(f"  experiment {experiment.name}: {verdict}{trust}", highlight=False)
            if found.attribution is not None:
                console.print(
                    f"  attributable extra revenue: {found.attribution.revenue:,.0f}",
                    highlight=False,
                )

    run_command(body)
