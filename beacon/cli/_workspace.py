"""Workspace commands: ``beacon ingest``, ``beacon forget``, ``beacon demo``, ``beacon score``."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import typer

from beacon.cli._common import JSON_OPTION, console, print_json, progress, run_command
from foundation.settings import get_settings
from foundation.workspace import (
    BATCH_LOCK_WAIT_SECONDS,
    READERS,
    Pseudonymizer,
    Workspace,
    forget_account,
    ingest_file,
)


def _workspace() -> tuple[Workspace, Pseudonymizer]:
    settings = get_settings()
    return Workspace(settings.workspace_path), Pseudonymizer(settings.pseudonym_key())


def ingest(
    file: Path = typer.Argument(..., help="The file to read (CSV)."),
    fmt: str = typer.Option(
        "canonical", "--format", help=f"Reader to use: {', '.join(sorted(READERS))}."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Validate and store posts; bad rows go to the quarantine table with their reason.

    Handles, e-mail addresses and phone numbers are pseudonymised on the way in.
    A second ingest of the same file adds nothing.
    """

    def body() -> None:
        workspace, pseudonymizer = _workspace()
        with progress("storing posts", None, enabled=not as_json) as advance:
            report = ingest_file(
                workspace, file, fmt=fmt, pseudonymizer=pseudonymizer, on_batch=advance
            )
        if as_json:
            print_json(report.to_dict())
        else:
            console.print(report.summary())

    run_command(body)


def forget(
    account: str = typer.Option(
        ..., "--account", help="The account's handle (as in the source data)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Remove one account's data from every table and say how many rows went."""

    def body() -> None:
        workspace, pseudonymizer = _workspace()
        with workspace.connect(wait=BATCH_LOCK_WAIT_SECONDS) as con:
            counts = forget_account(con, account, pseudonymizer)
        if as_json:
            print_json({"account": pseudonymizer.account(account), "removed": counts})
        else:
            detail = ", ".join(f"{table}: {n}" for table, n in counts.items())
            console.print(f"forgot {pseudonymizer.account(account)} — {detail}")

    run_command(body)


def demo(
    end_date: str = typer.Option(
        None,
        "--end-date",
        help="Last day of the demo's six months (YYYY-MM-DD; default today, UTC).",
    ),
    seed: int = typer.Option(7, "--seed", help="Random seed."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Build the demo workspace: Trailbird's posts, campaigns, experiments and influencers.

    Idempotent; posts are scored by the current sentiment model, the demo
    documents (data/knowledge) are indexed for knowledge answers and the engagement
    ensemble is trained on the brand's own posts. The manifest of
    what is planted is written next to the workspace (demo-manifest.json).
    """
    from beacon.demo import DEMO_STEPS, build_demo_home

    def body() -> None:
        end = date.fromisoformat(end_date) if end_date else datetime.now(UTC).date()
        settings = get_settings()
        with progress("building the demo", len(DEMO_STEPS), enabled=not as_json) as advance:
            home = build_demo_home(
                settings, end_date=end, seed=seed, on_step=lambda _step: advance(1)
            )
        report, scores, index = home.report, home.scores, home.knowledge
        if as_json:
            print_json(
                {
                    "posts": report.posts.to_dict(),
                    "scored": scores.scored,
                    "knowledge": index.to_dict(),
                    "engagement_model": str(home.engagement_model_dir),
                    "manifest": str(report.manifest_path),
                    "workspace": str(settings.workspace_path),
                }
            )
        else:
            console.print(report.posts.summary())
            console.print(f"scored {scores.scored} new posts with {scores.model_version}")
            console.print(
                f"knowledge index: {index.added} added, {index.updated} updated, "
                f"{index.unchanged} unchanged, {index.removed} removed"
            )
            console.print(
                f"engagement ensemble trained on our own posts: {home.engagement_model_dir}"
            )
            console.print(f"workspace: {settings.workspace_path}\nmanifest: {report.manifest_path}")

    run_command(body)


def score(as_json: bool = JSON_OPTION) -> None:
    """Score every post not yet scored by the current sentiment model (incremental)."""
    from beacon.scoring import current_scorer, score_posts

    def body() -> None:
        workspace, _ = _workspace()
        with workspace.connect(read_only=True) as con:
            total = int(con.execute("SELECT count(*) FROM posts").fetchall()[0][0])
        with progress("scoring posts", total, enabled=not as_json) as advance:
            report = score_posts(workspace, current_scorer(), on_batch=advance)
        if as_json:
            print_json(report.__dict__)
        else:
            console.print(
                f"scored {report.scored} new posts with {report.model_version} "
                f"({report.already_scored} already scored)"
            )

    run_command(body)


def register(app: typer.Typer) -> None:
    """Add the workspace commands to the top-level app."""
    app.command()(ingest)
    app.command()(forget)
    app.command()(demo)
    app.command()(score)
