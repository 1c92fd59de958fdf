"""``beacon influencers ...``: rank creators for a brief, ingest the Top-200 file."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

import typer

from beacon.cli._common import JSON_OPTION, console, print_json, run_command
from foundation.exceptions import InputError

app = typer.Typer(
    help="Influencer discovery: rank creators for a brief, ingest influencer lists.",
    no_args_is_help=True,
)


@app.command()
def rank(
    brief: str = typer.Option(..., "--brief", help="What the campaign is about."),
    budget: float | None = typer.Option(
        None, "--budget", help="Total budget; creators whose post costs more are left out."
    ),
    platform: str | None = typer.Option(None, "--platform", help="Only creators on this platform."),
    top: int = typer.Option(10, "--top", help="How many creators to list."),
    source: str = typer.Option(
        "workspace",
        "--source",
        help="'workspace' (influencers and their posts) or the path of a Top-200 CSV.",
    ),
    rate_card: Path | None = typer.Option(
        None, "--rate-card", help="CSV with handle (or creator_id) and cost_per_post."
    ),
    currency: str = typer.Option("EUR", "--currency", help="Currency of the rate card."),
    diversity: float = typer.Option(
        0.15, "--diversity", help="Weight of the diversity term (0 = rank by score alone)."
    ),
    why: bool = typer.Option(False, "--why", help="Also explain why #1 beat #2."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Rank creators by fit, shrunk engagement, audience sentiment, consistency and cost."""

    def body() -> None:
        from analytics.influencers import (
            apply_rate_card,
            load_creators_from_workspace,
            load_top200,
            rank_creators,
            read_rate_card,
        )
        from foundation.settings import get_settings
        from foundation.workspace import Workspace, workspace_pseudonymizer

        skipped = 0
        key = None
        if source == "workspace":
            settings = get_settings()
            workspace = Workspace(settings.workspace_path)
            with workspace.connect(read_only=True) as con:
                creators = load_creators_from_workspace(con, platform=platform)
            key = workspace_pseudonymizer(
                workspace, settings.pseudonym_key(), region=settings.phone_region, record=False
            ).account
            if not creators:
                raise InputError(
                    f"no influencers in {workspace.path}"
                    + (f" on {platform}" if platform else "")
                    + "; run `beacon demo` or `beacon influencers ingest FILE` first"
                )
        else:
            path = Path(source)
            if not path.is_file():
                raise InputError(
                    f"--source must be 'workspace' or the path of a Top-200 CSV (got {source!r})"
                )
            creators, rejected = load_top200(path)
            skipped = len(rejected)
        if rate_card is not None:
            creators = apply_rate_card(creators, read_rate_card(rate_card), key=key)
        with console.status("ranking creators…") if not as_json else nullcontext():
            ranking = rank_creators(
                creators,
                brief,
                budget=budget,
                top_k=top,
                platform=platform,
                currency=currency,
                diversity=diversity,
            )
        explanation = ranking.explain_pair(1, 2) if why and len(ranking.ranked) >= 2 else None
        if as_json:
            payload = ranking.to_dict()
            payload["skipped_rows"] = skipped
            if explanation:
                payload["why_first"] = explanation
            print_json(payload)
            return
        out = typer.echo
        out(f"Creators for '{ranking.brief}' ({len(ranking.ranked)} eligible):")
        for item in ranking.items:
            out(f"{item.position:>2}. {item.reason_line()}")
        for creator_id, reason in ranking.excluded:
            out(f"    left out {creator_id}: {reason}")
        if skipped:
            out(
                f"    skipped {skipped} bad row(s) of {source}; `beacon influencers ingest` quarantines them"
            )
        for note in ranking.notes:
            out(f"    note: {note}")
        if explanation:
            out(explanation)

    run_command(body)


@app.command()
def ingest(
    file: Path = typer.Argument(..., help="A Top-200 Instagram influencers CSV."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Store influencers from a Top-200 file; bad rows go to quarantine with their reason.

    Numbers like 475.8m, 3.3k, 29.0b and 1.39% are parsed; handles are pseudonymised.
    Prints read = stored + already present + quarantined.
    """

    def body() -> None:
        from analytics.influencers import ingest_top200
        from foundation.settings import get_settings
        from foundation.workspace import (
            BATCH_LOCK_WAIT_SECONDS,
            Workspace,
            workspace_pseudonymizer,
        )

        settings = get_settings()
        workspace = Workspace(settings.workspace_path)
        pseudonymizer = workspace_pseudonymizer(
            workspace, settings.pseudonym_key(), region=settings.phone_region
        )
        if not Path(file).is_file():
            raise InputError(f"no file at {file}; give the path of a Top-200 influencers CSV")
        with workspace.connect(wait=BATCH_LOCK_WAIT_SECONDS) as con:
            report = ingest_top200(con, file, pseudonymizer=pseudonymizer)
        if as_json:
            print_json(report.to_dict())
        else:
            console.print(report.summary())

    run_command(body)
