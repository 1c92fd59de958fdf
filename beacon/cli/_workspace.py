"""Workspace commands: ``beacon ingest``, ``forget``, ``purge``, ``demo``, ``score``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import typer

from beacon.cli._common import JSON_OPTION, console, print_json, progress, run_command
from beacon.cli._engine import ENGINE_OPTION, MASTER_OPTION, SHARDS_OPTION, Engine, spark_choice
from foundation.exceptions import BeaconError, InputError
from foundation.settings import Settings, get_settings
from foundation.workspace import (
    BATCH_LOCK_WAIT_SECONDS,
    READERS,
    Pseudonymizer,
    Workspace,
    conversation_ids,
    forget_account,
    forget_conversation,
    forget_tracker_events,
    ingest_file,
    purge_older_than,
    purge_tracker_events,
    workspace_pseudonymizer,
)


def _workspace() -> tuple[Workspace, Pseudonymizer]:
    settings = get_settings()
    workspace = Workspace(settings.workspace_path)
    return workspace, workspace_pseudonymizer(
        workspace, settings.pseudonym_key(), region=settings.phone_region
    )


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
    account: str | None = typer.Option(
        None, "--account", help="The account's handle (as in the source data)."
    ),
    conversation: str | None = typer.Option(
        None,
        "--conversation",
        help="A chat's conversation id (as stored, as the widget sent it, or the "
        "hand-off reference H-XXXXXX the customer was given).",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Remove one account's or one conversation's data everywhere and say how many rows went.

    --account: the account's posts and their scores, influencer and quarantined rows,
    and its mentions in other posts. --conversation: the chat's support posts and
    scores, audit rows, feedback, ratings and its events in Rasa's tracker store.
    The similar-posts index is refreshed when posts went. Copies already posted to
    Slack (support hand-offs) must be deleted in Slack.
    """

    def body() -> None:
        if (account is None) == (conversation is None):
            raise InputError(
                "give either --account HANDLE or --conversation ID (one of them, not both)"
            )
        if conversation is not None and not conversation.strip():
            raise InputError("--conversation needs the conversation's id (got an empty one)")
        workspace, pseudonymizer = _workspace()
        result: dict[str, Any] = {}
        ids: list[str] = []
        shared_rows: int | None = None
        with workspace.connect(wait=BATCH_LOCK_WAIT_SECONDS) as con:
            # Rows still waiting would come back after the delete.
            workspace.journal.drain(con, then=workspace.outbox if workspace.shared else None)
            if account is not None:
                result["account"] = pseudonymizer.account(account)
                counts = forget_account(con, account, pseudonymizer)
            elif conversation is not None:
                ids = result["conversation"] = conversation_ids(con, conversation)
                # The shared record first: if it does not answer, nothing is deleted here.
                shared_rows = _forget_shared(workspace, ids, pseudonymizer)
                counts = forget_conversation(con, ids, pseudonymizer)
        if shared_rows is not None:
            counts["shared_record"] = shared_rows
        notes: list[str] = []
        if ids:
            events, note = _tracker(get_settings(), lambda db: forget_tracker_events(db, ids))
            counts["tracker_events"] = events
            notes += [note] if note else []
        if counts.get("posts") or counts.get("mentions_redacted"):
            notes += _refresh_post_index(workspace)
        _report({**result, "removed": counts, "notes": notes}, as_json, "forgot")

    run_command(body)


def _forget_shared(
    workspace: Workspace, ids: list[str], pseudonymizer: Pseudonymizer
) -> int | None:
    """Forget conversations in the shared record (the other replicas follow its
    tombstones); None on a single host.

    Raises:
        SharedRecordUnavailable: It did not answer (its outbox is sent first, so no row
            of these conversations reaches it after the delete).
    """
    shared = workspace.shared
    if shared is None or not ids:
        return None
    workspace.outbox.drain_to(shared.insert)
    accounts = [pseudonymizer.account(conversation_id) for conversation_id in ids]
    return shared.forget(ids, accounts)


def purge(
    older_than: int | None = typer.Option(
        None,
        "--older-than",
        min=1,
        help="Delete what is older than this many days (default: BEACON_RETENTION_DAYS, 90).",
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Count what would be deleted and delete nothing."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Delete conversation data older than the retention period.

    Support chats (posts and their scores), the audit rows of conversations, feedback,
    ratings and the events in Rasa's tracker store. Social posts, campaigns and
    experiments stay; so do batch jobs' audit records (retrains, posted digests).
    `beacon schedule` runs this after each weekly digest.
    """

    def body() -> None:
        result = purge_expired(get_settings(), older_than, dry_run=dry_run)
        _report(result, as_json, "would purge" if dry_run else "purged")

    run_command(body)


def purge_expired(
    settings: Settings, older_than: int | None = None, *, dry_run: bool = False
) -> dict[str, Any]:
    """Purge what is older than ``older_than`` days (default: the retention setting).

    Returns:
        ``{"older_than_days", "cutoff", "removed": {table: rows}, "notes": [...]}``;
        ``removed`` is empty when retention is off and no days were given.
    """
    days = older_than if older_than is not None else settings.retention_days
    if days is None:
        return {
            "older_than_days": None,
            "removed": {},
            "notes": ["retention is off (BEACON_RETENTION_DAYS=0): nothing purged"],
        }
    cutoff = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=days)
    counts: dict[str, int] = {}
    workspace = Workspace(settings.workspace_path)
    if workspace.path.exists():
        with workspace.connect(wait=BATCH_LOCK_WAIT_SECONDS) as con:
            workspace.journal.drain(con, then=workspace.outbox if workspace.shared else None)
            counts = purge_older_than(con, cutoff, dry_run=dry_run)
    notes: list[str] = []
    if workspace.shared is not None:
        if dry_run:
            notes.append("the shared record (BEACON_DATABASE_URL) is not counted in a dry run")
        else:
            # Every replica purges its own workspace (each host runs `beacon schedule`).
            counts["shared_record"] = workspace.shared.purge(cutoff)
    events, note = _tracker(settings, lambda db: purge_tracker_events(db, cutoff, dry_run=dry_run))
    counts["tracker_events"] = events
    return {
        "older_than_days": days,
        "cutoff": cutoff.isoformat(timespec="seconds"),
        "removed": counts,
        "notes": notes + ([note] if note else []),
    }


def _tracker(settings: Settings, delete: Callable[[Path], int]) -> tuple[int, str | None]:
    """Run ``delete(db)`` on Rasa's SQLite tracker store: (events, None), or (0, why not)."""
    url = settings.tracker_store_url()
    scheme, _, rest = url.partition("://")
    if scheme != "sqlite" or not rest.startswith("/"):
        return 0, (
            f"the tracker store (BEACON_TRACKER_URL) is {scheme or 'not a URL'}, not SQLite: "
            "delete these events there (table events, by sender_id and timestamp)"
        )
    return delete(Path(rest[1:])), None


def _refresh_post_index(workspace: Workspace) -> list[str]:
    """Refresh the similar-posts index when there is one, so forgotten posts leave it too."""
    from knowledge import PostIndex, default_post_index_dir

    folder = default_post_index_dir(workspace.path)
    if not folder.is_dir():
        return []
    try:
        report = PostIndex.update(workspace, folder)
    except BeaconError as error:
        return [
            f"the similar-posts index was not refreshed ({error}); "
            "run `beacon knowledge index-posts --rebuild`"
        ]
    return [f"similar-posts index refreshed: {report.removed} post(s) removed from it"]


def _report(result: dict[str, Any], as_json: bool, verb: str) -> None:
    if as_json:
        print_json(result)
        return
    who = result.get("account") or ", ".join(result.get("conversation") or [])
    if not who and result.get("older_than_days"):
        who = f"data older than {result['older_than_days']} days (before {result['cutoff']} UTC)"
    detail = ", ".join(f"{table}: {n}" for table, n in result["removed"].items())
    if who or detail:
        console.print(f"{verb} {who} — {detail or 'nothing'}", highlight=False)
    for note in result["notes"]:
        console.print(note, highlight=False)


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


def score(
    engine: Engine = ENGINE_OPTION,
    master: str | None = MASTER_OPTION,
    shards: Path | None = SHARDS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Score every post not yet scored by the current sentiment model (incremental).

    With --engine spark, Spark executors each load the model once and hand back
    Parquet shards, which go into the workspace in one short transaction.
    """
    from beacon.scoring import ScoreReport, current_model_dir, current_scorer, score_posts

    def body() -> None:
        spark = spark_choice(engine, master, shards)
        if spark is not None:
            from beacon.spark_scoring import check_spark

            check_spark(spark.master, spark.shards)  # before the workspace and the model
        workspace, _ = _workspace()
        with workspace.connect(read_only=True) as con:
            total = int(con.execute("SELECT count(*) FROM posts").fetchall()[0][0])
        report: ScoreReport
        if spark is None:
            with progress("scoring posts", total, enabled=not as_json) as advance:
                report = score_posts(workspace, current_scorer(), on_batch=advance)
        else:
            from beacon.spark_scoring import score_posts_on_spark

            scorer = current_scorer()
            with progress(
                f"scoring posts on Spark ({spark.master})", total, enabled=not as_json
            ) as advance:
                report = score_posts_on_spark(
                    workspace,
                    model_dir=current_model_dir(),
                    model_version=scorer.version,
                    master=spark.master,
                    shards=spark.shards,
                    on_progress=advance,
                )
        if as_json:
            print_json(report.__dict__ | {"engine": engine.value})
        else:
            where = f" on Spark ({spark.master})" if spark else ""
            console.print(
                f"scored {report.scored} new posts with {report.model_version}{where} "
                f"({report.already_scored} already scored)"
            )

    run_command(body)


def register(app: typer.Typer) -> None:
    """Add the workspace commands to the top-level app."""
    app.command()(ingest)
    app.command()(forget)
    app.command()(purge)
    app.command()(demo)
    app.command()(score)
