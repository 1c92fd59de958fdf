"""``beacon digest`` (one week's digest to HTML and Slack) and ``beacon schedule`` (weekly)."""

from __future__ import annotations

import logging
import os
import signal
import threading
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import typer

from beacon.cli._common import JSON_OPTION, console, print_json, progress, run_command
from foundation.settings import get_settings
from foundation.text import install_log_filter

if TYPE_CHECKING:
    from analytics.engagement import EngagementModel
    from beacon.digest import DigestRun, SlackPoster

SLACK_OPTION = typer.Option(
    None,
    "--slack-channel",
    help="Also post to this Slack channel (name or id); needs SLACK_BOT_TOKEN.",
)
NO_MODEL_OPTION = typer.Option(
    False, "--no-model", help="Explain the best and worst posts without the engagement model."
)


def _engagement_model(skip: bool) -> EngagementModel | None:
    """The trained engagement ensemble when there is one (its explanations are optional)."""
    if skip:
        return None
    from analytics.engagement import EngagementModel
    from analytics.exceptions import ModelLoadError

    settings = get_settings()
    folder = settings.engagement_model_dir
    if not (folder / "model.json").is_file():
        return None
    try:
        return EngagementModel.load(folder, cache_dir=settings.engagement_cache_dir)
    except ModelLoadError as error:
        console.print(f"[yellow]engagement model not used:[/yellow] {error}", highlight=False)
        return None


def _poster(channel: str | None) -> SlackPoster | None:
    from beacon.digest import SlackPoster

    if not channel:
        return None
    return SlackPoster.from_env(os.environ, timeout_s=get_settings().http_timeout_s)


def _run(
    week_text: str | None,
    out: Path | None,
    channel: str | None,
    *,
    force: bool,
    no_model: bool,
    show_progress: bool,
) -> DigestRun:
    from beacon.digest import STEPS, dashboard_linker, default_output, parse_week, run_digest
    from beacon.scoring import current_scorer
    from foundation.workspace import Workspace

    settings = get_settings()
    week = parse_week(week_text, datetime.now(UTC).date())
    poster = _poster(channel)  # a missing token fails before any work
    with progress(
        f"digest {week.label}", len(STEPS) + 2 + bool(channel), enabled=show_progress
    ) as advance:
        model_version = current_scorer().version
        advance(1)
        model = _engagement_model(no_model)
        advance(1)
        return run_digest(
            Workspace(settings.workspace_path),
            week,
            out or default_output(settings.home, week),
            model_version=model_version,
            engagement_model=model,
            poster=poster,
            channel=channel,
            force=force,
            on_step=lambda _step: advance(1),
            link=dashboard_linker(settings),
        )


def _report(run: DigestRun) -> None:
    ids = ", ".join(f"{key} {audit_id}" for key, audit_id in run.digest.audit_ids.items())
    console.print(f"wrote {run.html_path} ({run.digest.week.describe()})", highlight=False)
    console.print(f"audit ids: {ids}", highlight=False)
    for item in run.digest.actions.items:
        console.print(f"• {item.text} (from {item.finding})", highlight=False)
    published = run.published
    if published is None:
        return
    if published.posted:
        console.print(
            f"posted to Slack channel {published.channel} (ts {published.ts}) with "
            f"{len(published.file_ids)} charts in the thread",
            highlight=False,
        )
    else:
        console.print(
            f"{run.digest.week.label} is already in Slack channel {published.channel} "
            f"(ts {published.ts}, marker {published.marker_id}); nothing posted. "
            "Use --force to post it again.",
            highlight=False,
        )


def digest(
    week: str = typer.Option(
        None, "--week", help="ISO week YYYY-Www, e.g. 2026-W48 (default: the last complete week)."
    ),
    out: Path = typer.Option(
        None, "--out", help="HTML file to write (default: $BEACON_HOME/digests/digest-<week>.html)."
    ),
    slack_channel: str = SLACK_OPTION,
    force: bool = typer.Option(
        False, "--force", help="Post to Slack even if this week is already in the channel."
    ),
    no_model: bool = NO_MODEL_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """The week's digest vs the week before: volume, sentiment, engagement, best and worst posts, experiments, anomalies, creators and recommended actions.

    Writes a self-contained HTML file (always) and records each section in the audit table; with --slack-channel it posts a Block Kit summary with the charts in its thread, once per week and channel.
    """

    def body() -> None:
        run = _run(
            week, out, slack_channel, force=force, no_model=no_model, show_progress=not as_json
        )
        if as_json:
            print_json(run.to_dict())
        else:
            _report(run)

    run_command(body)


def _stop_on_signal(stop: threading.Event) -> None:
    def handler(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def schedule(
    slack_channel: str = SLACK_OPTION,
    out_dir: Path = typer.Option(
        None, "--out-dir", help="Folder for the HTML files (default: $BEACON_HOME/digests)."
    ),
    day: str = typer.Option("mon", "--day", help="Weekday to run on (mon … sun)."),
    at: str = typer.Option("08:00", "--at", help="Local time to run at (HH:MM)."),
    once_now: bool = typer.Option(
        False, "--once-now", help="Run one digest now and exit (to test the set-up)."
    ),
    no_model: bool = NO_MODEL_OPTION,
) -> None:
    """Run `beacon digest` for the last complete week every week until stopped (Ctrl-C).

    Each run writes <out-dir>/digest-<week>.html and, with --slack-channel, posts once per week; a failed run is logged and the next week's run still happens. After each digest, `beacon purge` deletes conversation data older than BEACON_RETENTION_DAYS (90; 0 keeps it).
    """
    from beacon.digest import parse_schedule, run_weekly

    def job() -> None:
        from beacon.digest import last_complete_week

        week = last_complete_week(datetime.now(UTC).date())
        folder = out_dir or get_settings().home / "digests"
        try:
            run = _run(
                week.label,
                folder / f"digest-{week.label}.html",
                slack_channel,
                force=False,
                no_model=no_model,
                show_progress=False,
            )
            _report(run)
        finally:  # retention does not wait for a digest that failed
            _purge_expired()

    def body() -> None:
        plan = parse_schedule(day, at)
        _poster(slack_channel)  # check the token before waiting a week to find out
        if once_now:
            job()
            return
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
        install_log_filter()
        stop = threading.Event()
        _stop_on_signal(stop)
        console.print(f"digest scheduled {plan.describe()}; Ctrl-C stops", highlight=False)

        def announce(moment: Any) -> None:
            console.print(f"next digest: {moment:%a %d %b %Y %H:%M} (local)", highlight=False)

        run_weekly(job, plan, stop=stop, on_next=announce)
        console.print("schedule stopped")

    run_command(body)


def _purge_expired() -> None:
    """The scheduled `beacon purge`: conversation data past the retention period."""
    from beacon.cli._workspace import purge_expired

    result = purge_expired(get_settings())
    removed = ", ".join(f"{table}: {n}" for table, n in result["removed"].items())
    if removed:
        console.print(
            f"purged data older than {result['older_than_days']} days — {removed}",
            highlight=False,
        )
    for note in result["notes"]:
        console.print(note, highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``digest`` and ``schedule`` to the top-level app."""
    app.command()(digest)
    app.command()(schedule)
