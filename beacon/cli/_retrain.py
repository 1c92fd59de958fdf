"""``beacon retrain``: learn the corrections people gave in chat."""

from __future__ import annotations

import contextlib
from pathlib import Path

import typer

from beacon.cli._common import JSON_OPTION, console, print_json, run_command
from beacon.settings import get_settings


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
    as_json: bool = JSON_OPTION,
) -> None:
    """Retrain the sentiment model with the workspace's corrections; report before/after."""
    from beacon.retrain import retrain_sentiment
    from beacon.scoring import current_scorer, score_posts
    from beacon.workspace import Workspace

    def body() -> None:
        settings = get_settings()
        status = (
            contextlib.nullcontext()
            if as_json
            else console.status("learning the corrections…", spinner="dots")
        )
        with status:
            report = retrain_sentiment(
                settings, data_dir=data_dir or settings.data_dir, eval_sample=eval_sample
            )
        scored = None
        if rescore and report.accepted:
            current_scorer.cache_clear()
            scored = score_posts(Workspace(settings.workspace_path), current_scorer()).scored
        if as_json:
            print_json(report.to_dict() | {"rescored_posts": scored})
            return
        console.print(report.text(), markup=False, highlight=False)
        if scored is not None:
            console.print(f"Rescored {scored} workspace posts with {report.new_version}.")
        if report.accepted:
            console.print("Restart the bot (`make run`) so its answers use the retrained model.")

    run_command(body)


def register(app: typer.Typer) -> None:
    """Add ``beacon retrain`` to the top-level app."""
    app.command()(retrain)
