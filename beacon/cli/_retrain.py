"""``beacon retrain``: learn the corrections people gave in chat."""

from __future__ import annotations

import contextlib
from enum import Enum
from pathlib import Path
from typing import Any

import typer

from beacon.cli._common import JSON_OPTION, console, print_json, run_command
from foundation.exceptions import BeaconError, InputError
from foundation.settings import get_settings


class Target(str, Enum):
    """What ``beacon retrain`` learns."""

    sentiment = "sentiment"
    engagement = "engagement"
    all = "all"


def retrain(
    data_dir: Path | None = typer.Option(
        None,
        "--data-dir",
        help="Shared data folder for the held-out check "
        "(default: BEACON_DATA_DIR or ../shared/data; skipped when absent).",
    ),
    eval_sample: int | None = typer.Option(
        None, "--eval-sample", min=50, help="Check on a seeded sample of this many tweets."
    ),
    rescore: bool = typer.Option(
        True, "--rescore/--no-rescore", help="Score the workspace with the retrained model."
    ),
    target: Target = typer.Option(
        Target.all,
        "--target",
        help="sentiment (learn corrected labels), engagement (recalibrate on corrected and "
        "newly observed outcomes) or all (each that has something to learn).",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Learn the workspace's corrections (sentiment retrain, engagement recalibration)."""
    from beacon.retrain import (
        ENGAGEMENT_TARGET,
        SENTIMENT_TARGET,
        RetrainReport,
        read_corrections,
        retrain_engagement,
        retrain_sentiment,
        skipped_line,
    )
    from beacon.scoring import current_scorer, score_posts
    from foundation.workspace import Workspace

    def body() -> None:
        settings = get_settings()
        skipped: dict[str, str] = {}
        targets = [
            name
            for name, wanted in (
                (SENTIMENT_TARGET, (Target.sentiment, Target.all)),
                (ENGAGEMENT_TARGET, (Target.engagement, Target.all)),
            )
            if target in wanted
        ]
        with Workspace(settings.workspace_path).connect(read_only=True) as con:
            found = [read_corrections(con, name) for name in targets]
        # Said first and whatever happens next: a skipped correction can be why
        # there is nothing to learn.
        left_out = skipped_line(found)
        if left_out and not as_json:
            console.print(left_out, markup=False, highlight=False, soft_wrap=True)
        report: RetrainReport | None = None
        engagement = None
        status = (
            contextlib.nullcontext()
            if as_json
            else console.status("learning the corrections…", spinner="dots")
        )
        with status:
            if target in (Target.sentiment, Target.all):
                try:
                    report = retrain_sentiment(
                        settings, data_dir=data_dir or settings.data_dir, eval_sample=eval_sample
                    )
                except InputError as error:
                    if target is Target.sentiment:
                        raise
                    skipped["sentiment"] = str(error)
            if target in (Target.engagement, Target.all):
                try:
                    engagement = retrain_engagement(settings)
                except BeaconError as error:
                    if target is Target.engagement:
                        raise
                    skipped["engagement"] = str(error)
        if report is None and engagement is None:
            raise InputError(
                "nothing to retrain: " + "; ".join(f"{k}: {v}" for k, v in skipped.items())
            )
        scored = None
        if report is not None and rescore and report.accepted:
            current_scorer.cache_clear()
            scored = score_posts(Workspace(settings.workspace_path), current_scorer()).scored
        if as_json:
            data: dict[str, Any] = report.to_dict() if report is not None else {}
            print_json(
                data
                | {
                    "rescored_posts": scored,
                    "engagement": engagement.to_dict() if engagement is not None else None,
                    "skipped": skipped,
                    "skipped_corrections": {c.target: c.skipped for c in found},
                }
            )
            return
        if report is not None:
            console.print(report.text(), markup=False, highlight=False)
            if scored is not None:
                console.print(f"Rescored {scored} workspace posts with {report.new_version}.")
        if engagement is not None:
            console.print(engagement.text(), markup=False, highlight=False)
        for name, why in skipped.items():
            console.print(f"Skipped {name}: {why}", markup=False, highlight=False)
        if (report is not None and report.accepted) or (
            engagement is not None and engagement.changed
        ):
            console.print("Restart the bot (`make run`) so its answers use the retrained model.")

    run_command(body)


def register(app: typer.Typer) -> None:
    """Add ``beacon retrain`` to the top-level app."""
    app.command()(retrain)
