"""``beacon listening ...``: sentiment summaries and anomaly alerts over the workspace."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import typer

from beacon.cli._common import JSON_OPTION, console, print_json, run_command

if TYPE_CHECKING:
    from analytics.scope import Scope
    from foundation.workspace import Workspace

app = typer.Typer(
    help="Social listening: brand sentiment and unusual spikes.", no_args_is_help=True
)

PERIOD_OPTION = typer.Option(
    None, "--period", help="e.g. 'this month', 'last week', 'october', '2026-W47'."
)
PLATFORM_OPTION = typer.Option(None, "--platform", help="Only this platform (default: all).")
TOPIC_OPTION = typer.Option(
    None, "--topic", help="Only posts containing this word, hashtag or campaign id."
)


def _asked(
    period: str | None,
    platform: str | None,
    topic: str | None,
    *,
    default_period: str | None = None,
) -> Scope:
    """What the flags ask about, scored by the current sentiment model (before the brand)."""
    from analytics.periods import parse_period
    from analytics.scope import Scope
    from beacon.scoring import current_scorer

    return Scope(
        period=parse_period(period or default_period, datetime.now(UTC).date()),
        model_version=current_scorer().version,
        platform=platform,
        topic=topic,
    )


def _workspace() -> Workspace:
    from foundation.settings import get_settings
    from foundation.workspace import Workspace

    return Workspace(get_settings().workspace_path)


@app.command()
def sentiment(
    period: str = PERIOD_OPTION,
    platform: str = PLATFORM_OPTION,
    topic: str = TOPIC_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Shares of positive/neutral/negative brand talk, with the change vs the previous period."""
    from analytics.listening import sentiment_summary, sentiment_themes

    def body() -> None:
        asked = _asked(period, platform, topic)
        with _workspace().connect(read_only=True) as con:
            scope = asked.for_brand(con)
            summary = sentiment_summary(con, scope)
            themes = sentiment_themes(con, scope)
        if as_json:
            print_json(
                summary.to_dict()
                | {"themes": {label: [asdict(t) for t in found] for label, found in themes.items()}}
            )
        else:
            shares = ", ".join(
                f"{100 * summary.share(label):.0f}% {label}" for label in summary.counts
            )
            console.print(f"{summary.period.describe()}: {shares} across {summary.total:,} posts")
            for change in summary.changes:
                flag = "more than noise" if change.significant else "within noise"
                console.print(
                    f"  {change.label}: {change.points:+.1f} points "
                    f"(95% CI {change.ci_low:+.1f} to {change.ci_high:+.1f}), {flag}"
                )
            for label, found in themes.items():
                for theme in found:
                    example = theme.examples[0] if theme.examples else ("", "")
                    console.print(
                        f"  {label} theme '{theme.term}' (z {theme.z:.1f}, {theme.count}×): "
                        f"{example[0]} {example[1]}",
                        markup=False,
                        highlight=False,
                    )

    run_command(body)


@app.command()
def anomalies(
    period: str = PERIOD_OPTION,
    platform: str = PLATFORM_OPTION,
    topic: str = TOPIC_OPTION,
    sensitivity: float = typer.Option(
        4.0, "--sensitivity", help="Robust SDs from normal that raise an alert."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Unusual volume or negative share per platform, weekday-aware, with likely drivers."""
    from analytics.anomalies import detect_anomalies

    def body() -> None:
        asked = _asked(period, platform, topic, default_period="last 14 days")
        with _workspace().connect(read_only=True) as con:
            report = detect_anomalies(con, asked.for_brand(con), sensitivity=sensitivity)
        if as_json:
            print_json(report.to_dict())
        else:
            console.print(report.text(), highlight=False)

    run_command(body)
