"""``beacon compare``: sentiment or engagement across two platforms or two periods."""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from beacon.cli._common import JSON_OPTION, console, print_json, run_command
from foundation.exceptions import InputError


def _pair(text: str, flag: str) -> tuple[str, str]:
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if len(parts) != 2:
        raise InputError(f"{flag} takes two values separated by a comma (got {text!r})")
    return parts[0], parts[1]


def compare(
    metric: str = typer.Option(
        "sentiment", "--metric", help="sentiment (brand talk) or engagement (own posts)."
    ),
    platforms: str = typer.Option(
        None, "--platforms", help="Two platforms, e.g. 'instagram,facebook' (same period)."
    ),
    periods: str = typer.Option(
        None, "--periods", help="Two periods, e.g. 'this month,last month' (same platform)."
    ),
    period: str = typer.Option(
        None, "--period", help="With --platforms: the period (default: last 30 days)."
    ),
    platform: str = typer.Option(None, "--platform", help="With --periods: only this platform."),
    topic: str = typer.Option(None, "--topic", help="Sentiment only: posts about this."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Two platforms in one period, or two periods on one platform, with 95% intervals."""
    from analytics.comparisons import (
        COMPARISON_METRICS,
        Side,
        compare_engagement,
        compare_sentiment,
    )
    from analytics.periods import parse_period
    from beacon.scoring import current_scorer
    from foundation.settings import get_settings
    from foundation.workspace import PLATFORMS, Workspace

    def body() -> None:
        if metric not in COMPARISON_METRICS:
            raise InputError(
                f"--metric must be one of {', '.join(COMPARISON_METRICS)} (got {metric!r})"
            )
        if (platforms is None) == (periods is None):
            raise InputError("pass exactly one of --platforms a,b or --periods p1,p2")
        today = datetime.now(UTC).date()
        if platforms is not None:
            names = _pair(platforms, "--platforms")
            for name in names:
                if name not in PLATFORMS:
                    raise InputError(
                        f"--platforms must name platforms among {', '.join(PLATFORMS)} (got {name!r})"
                    )
            when = parse_period(period, today)
            left, right = Side(when, names[0]), Side(when, names[1])
        else:
            assert periods is not None
            first, second = (parse_period(p, today) for p in _pair(periods, "--periods"))
            left, right = Side(first, platform), Side(second, platform)
        with Workspace(get_settings().workspace_path).connect(read_only=True) as con:
            if metric == "sentiment":
                result = compare_sentiment(
                    con, left, right, model_version=current_scorer().version, topic=topic
                )
            else:
                result = compare_engagement(con, left, right)  # type: ignore[assignment]
        payload = result.to_dict()
        if as_json:
            print_json(payload)
            return
        console.print(f"{payload['left']['label']} vs {payload['right']['label']}", highlight=False)
        if metric == "sentiment":
            for label, diff in payload["differences"].items():
                flag = "more than noise" if diff["significant"] else "within noise"
                console.print(
                    f"  {label}: {diff['points']:+.1f} points (95% CI {diff['ci'][0]:+.1f} to "
                    f"{diff['ci'][1]:+.1f}), {flag}",
                    highlight=False,
                )
        elif payload["difference"] is not None and payload["difference"]["ci"] is not None:
            diff = payload["difference"]
            flag = "more than noise" if diff["significant"] else "within noise"
            console.print(
                f"  median {diff['left_median']:.4f} vs {diff['right_median']:.4f}: "
                f"{diff['difference']:+.4f} (95% CI {diff['ci'][0]:+.4f} to {diff['ci'][1]:+.4f}), "
                f"{flag}",
                highlight=False,
            )

    run_command(body)


def register(app: typer.Typer) -> None:
    """Add ``compare`` to the top-level app."""
    app.command()(compare)
