"""Helpers every CLI module shares: one-line errors, JSON output, progress bars."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from foundation.exceptions import BeaconError

T = TypeVar("T")

console = Console(stderr=True)

JSON_OPTION = typer.Option(False, "--json", help="Print machine-readable JSON on stdout.")


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print a one-line reason on stderr and return the Exit to raise."""
    first_line = message.strip().splitlines()[0] if message.strip() else "failed"
    print(f"error: {first_line}", file=sys.stderr)
    return typer.Exit(code)


def run_command(func: Callable[[], T]) -> T:
    """Run a command body, turning Beacon's own errors into a one-line reason and exit 2."""
    try:
        return func()
    except (BeaconError, FileNotFoundError, ValueError) as error:
        raise fail(str(error)) from None


def print_json(payload: Any) -> None:
    """Write ``payload`` as indented JSON on stdout."""
    sys.stdout.write(json.dumps(payload, indent=2, default=str, ensure_ascii=False) + "\n")


@contextmanager
def progress(
    description: str, total: int | None, enabled: bool = True
) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr; yields ``advance(n)``.

    Silent when not enabled (``--json``) or when stderr is not a terminal (a log file,
    a pipe, a test), where a bar would only leave blank lines behind.
    """
    if not enabled or not console.is_terminal:
        yield lambda _n: None
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)
