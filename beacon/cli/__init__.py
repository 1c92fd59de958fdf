"""The ``beacon`` command line.

Each command group lives in its own private module and registers itself here;
every command has ``--help``, exits non-zero with a one-line reason on bad
input (see :func:`beacon.cli._common.run_command`) and prints JSON with ``--json``.
"""

from __future__ import annotations

import typer

from beacon import __version__
from beacon.cli import (
    _bot,
    _campaigns,
    _compare,
    _digest,
    _engagement,
    _experiment,
    _influencers,
    _knowledge,
    _listening,
    _plan,
    _posts,
    _retrain,
    _sentiment,
    _token,
    _vision,
    _workspace,
)

app = typer.Typer(
    name="beacon",
    help="Beacon, the conversational marketing assistant: workspace, models and bot.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"beacon {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(
        False,
        "--version",
        callback=_print_version,
        is_eager=True,
        help="Print Beacon's version and exit.",
    ),
) -> None:
    """Options taken before any command: ``--version``."""


_workspace.register(app)
_bot.register(app)
_digest.register(app)
_retrain.register(app)
_compare.register(app)
_plan.register(_experiment.app)
app.add_typer(_sentiment.app, name="sentiment")
app.add_typer(_listening.app, name="listening")
app.add_typer(_knowledge.app, name="knowledge")
app.add_typer(_experiment.app, name="experiment")
app.add_typer(_influencers.app, name="influencers")
app.add_typer(_engagement.app, name="engagement")
app.add_typer(_vision.app, name="vision")
app.add_typer(_posts.app, name="posts")
app.add_typer(_campaigns.app, name="campaigns")
app.add_typer(_token.app, name="token")


def main() -> None:
    """Console-script entry point."""
    app()


__all__ = ["app", "main"]
