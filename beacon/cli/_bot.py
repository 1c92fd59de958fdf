"""Bot commands: ``beacon serve``, ``beacon chat`` and ``beacon bot train|validate|test``."""

from __future__ import annotations

import getpass
import secrets
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import typer

from beacon.cli._common import console, fail, run_command
from foundation.settings import get_settings

if TYPE_CHECKING:
    from beacon.stack import Stack

bot_app = typer.Typer(help="Train, validate and test the Rasa bot.", no_args_is_help=True)


@bot_app.command("train")
def train(
    force: bool = typer.Option(False, "--force", help="Train even if the model is current."),
) -> None:
    """Train the Rasa model unless one exists for the current data and config (fingerprint)."""
    from beacon.stack import ensure_model

    def body() -> None:
        path, trained = ensure_model(get_settings(), force=force)
        console.print(f"{'trained' if trained else 'up to date'}: {path}")

    run_command(body)


@bot_app.command("validate")
def validate() -> None:
    """Run `rasa data validate` on the bot's data, failing on any warning."""
    from beacon.stack import validate_data

    code = run_command(validate_data)
    if code:
        raise fail("rasa data validate found problems (see above)", code)


@bot_app.command("test")
def test() -> None:
    """Run the conversation tests in bot/tests against the current model."""
    from beacon.stack import test_conversations

    code = run_command(lambda: test_conversations(get_settings()))
    if code:
        raise fail("conversation tests failed (see above and var/rasa-results)", code)


def _raise_keyboard_interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def serve(
    bot_port: int = typer.Option(5005, help="Rasa server port."),
    action_port: int = typer.Option(5055, help="Action server port."),
    widget_port: int = typer.Option(8080, help="Port of the support page with the chat widget."),
    widget: bool = typer.Option(True, "--widget/--no-widget", help="Serve the support page."),
    dashboard_port: int = typer.Option(8501, help="Port of the staff dashboard."),
    dashboard: bool = typer.Option(
        True, "--dashboard/--no-dashboard", help="Serve the staff dashboard (on loopback)."
    ),
    host: str = typer.Option("127.0.0.1", help="Interface the bot and the widget bind to."),
    action_host: str = typer.Option(
        "127.0.0.1",
        help="Interface the action server binds to (only Rasa calls it: keep it on loopback "
        "unless Rasa runs on another machine).",
    ),
    only: str = typer.Option(
        None,
        "--only",
        help="Run one server alone: bot, actions, widget or dashboard (one systemd unit each, "
        "deploy/systemd/). BEACON_ACTION_TOKEN must then be set, so that a bot and an "
        "action server started apart share it.",
    ),
) -> None:
    """Start the action server, the Rasa server, the support page and the staff dashboard; Ctrl-C stops all."""
    from beacon.stack import Stack, StackConfig, ensure_model

    settings = get_settings()
    if only is not None and only not in SERVERS:
        raise fail(f"--only takes one of {', '.join(SERVERS)} (got {only!r})", 2)
    if only in ("bot", "actions") and not settings.action_token:
        raise fail(
            "--only bot/actions needs BEACON_ACTION_TOKEN set (the same value for both), "
            "so that the two servers started apart trust each other",
            2,
        )

    def body() -> None:
        # Only Rasa needs the trained model; an action server or widget started alone don't.
        model, trained = ensure_model(settings) if only in (None, "bot") else (Path(), False)
        config = StackConfig(
            settings=settings,
            host=host,
            action_host=action_host,
            bot_port=bot_port,
            action_port=action_port,
            widget_port=widget_port if widget or only == "widget" else None,
            dashboard_port=dashboard_port if dashboard or only == "dashboard" else None,
        )
        if settings.action_token:
            config.action_token = settings.action_token
        stack = Stack(config, model)
        # Ctrl-C and `kill` (SIGTERM) both stop everything, even when started from a
        # script that ignores SIGINT.
        signal.signal(signal.SIGINT, _raise_keyboard_interrupt)
        signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
        if only is not None:
            serve_one(stack, only)
            return
        console.print(f"model: {model.name} ({'trained now' if trained else 'reused'})")
        console.print("starting the action server and the Rasa server (about a minute)…")
        page = (
            f"Support page with the chat widget (as a customer):  {config.widget_url}\n"
            if config.widget_url
            else ""
        )
        if config.dashboard_port is not None:
            page += (
                f"Staff dashboard:  http://{config.dashboard_host}:{config.dashboard_port}/  "
                "(staff answers link to it; or sign in with the staff token)\n"
            )
        try:
            stack.start()
            console.print(
                f"\n[bold]Beacon is up.[/bold] Rasa: {config.bot_url}  actions: {config.action_url}\n"
                f"{page}"
                f"Chat in a terminal:  .venv/bin/beacon chat   (as staff)\n"
                f"REST:  curl -XPOST {config.bot_url}/webhooks/rest/webhook "
                '-d \'{"sender": "me", "message": "hi"}\'\n'
                f"Logs: {settings.home / 'logs'}   Stop: Ctrl-C"
            )
            ended = stack.wait()
            raise fail(
                f"the {ended} server stopped unexpectedly; see {settings.home / 'logs' / ended}.log",
                1,
            )
        except KeyboardInterrupt:
            console.print("\nstopping…")
        finally:
            stack.stop()

    run_command(body)


#: The servers `beacon serve --only` starts alone.
SERVERS = ("bot", "actions", "widget", "dashboard")


def serve_one(stack: Stack, name: str) -> None:
    """Run the server ``name`` of ``stack`` alone until it ends or is stopped."""
    logs = stack.config.settings.home / "logs"
    start = {
        "bot": stack.start_bot,
        "actions": stack.start_actions,
        "widget": stack.start_widget,
        "dashboard": stack.start_dashboard,
    }
    try:
        start[name]()
        console.print(f"[bold]Beacon's {name} server is up.[/bold] Logs: {logs}")
        stack.wait()
        raise fail(f"the {name} server stopped; see {logs / name}.log", 1)
    except KeyboardInterrupt:
        console.print("\nstopping…")
    finally:
        stack.stop()


def chat(
    message: list[str] = typer.Option(
        None, "--message", "-m", help="Send this message and exit (repeatable); else interactive."
    ),
    customer: bool = typer.Option(False, "--customer", help="Talk as a customer (no staff token)."),
    sender: str = typer.Option(None, "--sender", help="Conversation id (default: a new one)."),
) -> None:
    """Talk to the running bot over REST (as staff unless --customer)."""
    from rich.markup import escape

    from beacon.chat import BotClient, render_message

    settings = get_settings()
    conversation = sender or f"cli-{getpass.getuser()}-{secrets.token_hex(3)}"
    token = None if customer else settings.staff_token_or_local()

    def say(client: BotClient, text: str) -> None:
        for reply in client.send(conversation, text):
            console.print(
                # escape(): replies may hold [brackets] that rich would read as markup.
                f"[bold cyan]beacon>[/bold cyan] {escape(render_message(reply))}",
                highlight=False,
            )

    def body() -> None:
        with BotClient(
            settings.bot_url, staff_token=token, timeout_s=settings.action_timeout_s + 40
        ) as client:
            if message:
                for text in message:
                    say(client, text)
                return
            console.print(
                f"Talking to {settings.bot_url} as {'customer' if customer else 'staff'}; "
                "Ctrl-D or /quit to leave."
            )
            while True:
                try:
                    text = input("you> ") if sys.stdin.isatty() else sys.stdin.readline()
                except EOFError:
                    return
                if not text or text.strip() in ("/quit", "/exit"):
                    return
                if text.strip():
                    say(client, text.strip())

    run_command(body)


def register(app: typer.Typer) -> None:
    """Add the bot commands to the top-level app."""
    app.command()(serve)
    app.command()(chat)
    app.add_typer(bot_app, name="bot")
