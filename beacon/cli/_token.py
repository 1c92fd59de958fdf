"""Staff token commands: ``beacon token create|list|revoke``."""

from __future__ import annotations

import typer

from beacon.cli._common import JSON_OPTION, console, print_json, run_command
from foundation.settings import get_settings
from foundation.staff_tokens import DEFAULT_DAYS, StaffTokenStore, TokenError

app = typer.Typer(
    help="Per-person staff tokens for the REST channel (shown once, expire, revocable).",
    no_args_is_help=True,
)


def _store() -> StaffTokenStore:
    return StaffTokenStore(get_settings().staff_tokens_path)


@app.command("create")
def create(
    name: str = typer.Argument(..., help="Whose token it is (a login, e.g. alice)."),
    days: int = typer.Option(DEFAULT_DAYS, "--days", help="Days until it expires (1-366)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Make a staff token; it is printed once and only its hash is kept."""

    def body() -> None:
        try:
            token, record = _store().create(name, days)
        except TokenError as error:
            raise ValueError(str(error)) from None
        if as_json:
            print_json({"token": token, "id": record.token_id, "expires_at": record.expires_at})
            return
        console.print(
            f"staff token {record.token_id} for {record.name}, expires {record.expires_at}. "
            "Copy it now; it is not shown again:",
            highlight=False,
        )
        typer.echo(token)

    run_command(body)


@app.command("list")
def list_tokens(as_json: bool = JSON_OPTION) -> None:
    """List staff tokens (ids, names, expiry, revoked); never the tokens themselves."""

    def body() -> None:
        tokens = _store().tokens()
        if as_json:
            print_json(
                [
                    {
                        "id": t.token_id,
                        "name": t.name,
                        "created_at": t.created_at,
                        "expires_at": t.expires_at,
                        "revoked_at": t.revoked_at,
                    }
                    for t in tokens
                ]
            )
            return
        if not tokens:
            console.print("no staff tokens yet; make one with `beacon token create NAME`")
        for t in tokens:
            state = f"revoked {t.revoked_at}" if t.revoked_at else f"expires {t.expires_at}"
            typer.echo(f"{t.token_id}  {t.name:<20} {state}")

    run_command(body)


@app.command("revoke")
def revoke(
    token_id: str = typer.Argument(..., help="The token's id (`beacon token list`)."),
) -> None:
    """Revoke a staff token; the bot refuses it from the next message on."""

    def body() -> None:
        try:
            token = _store().revoke(token_id)
        except TokenError as error:
            raise ValueError(str(error)) from None
        console.print(f"revoked {token.token_id} ({token.name}) at {token.revoked_at}")

    run_command(body)
