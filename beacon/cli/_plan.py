"""``beacon experiment plan``: units and days a test needs, with defaults from the workspace."""

from __future__ import annotations

import typer

from beacon.cli._common import JSON_OPTION, console, print_json, run_command


def plan(
    lift: float = typer.Option(
        None, "--lift", help="Relative lift to detect (0.1 = +10%); or use --points."
    ),
    points: float = typer.Option(
        None, "--points", help="Absolute lift to detect, in points (2 = +2 percentage points)."
    ),
    days: int = typer.Option(
        None, "--days", help="Instead of a lift: the smallest lift detectable in this many days."
    ),
    metric: str = typer.Option("converted", "--metric", help="converted or clicked."),
    baseline: float = typer.Option(
        None, "--baseline", help="Current rate in (0,1) (default: the latest test's control)."
    ),
    daily_units: float = typer.Option(
        None, "--daily-units", help="Units per day, both arms (default: the latest test's)."
    ),
    alpha: float = typer.Option(0.05, "--alpha", help="Two-sided significance level."),
    power_: float = typer.Option(0.8, "--power", help="Desired power."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Sample size and days for a lift, filling baseline and traffic from the workspace."""
    from analytics.experiments import plan_test
    from foundation.exceptions import InputError
    from foundation.settings import get_settings
    from foundation.workspace import Workspace

    def body() -> None:
        if sum(x is not None for x in (lift, points, days)) != 1:
            raise InputError("pass exactly one of --lift, --points or --days")
        effect = lift if lift is not None else (points / 100 if points is not None else None)
        with Workspace(get_settings().workspace_path).connect(read_only=True) as con:
            result = plan_test(
                con,
                effect=effect,
                relative=lift is not None,
                metric=metric,
                baseline=baseline,
                daily_units=daily_units,
                days=days,
                alpha=alpha,
                power=power_,
            )
        if as_json:
            print_json(result.to_dict())
            return
        res = result.power
        console.print(
            f"baseline {res.baseline:.4f}, effect {res.mde_abs:+.4f} "
            f"({(res.mde_rel or 0) * 100:+.1f}%): {res.n_control:,} per variant, "
            f"{res.n_total:,} in total"
            + (f", {result.days} days" if result.days is not None and days is None else ""),
            highlight=False,
        )
        for what, test in (("baseline", result.baseline_from), ("traffic", result.traffic_from)):
            if test is not None:
                console.print(f"  {what} from {test.name} ({test.experiment_id})", highlight=False)

    run_command(body)


def register(app: typer.Typer) -> None:
    """Add ``plan`` to ``beacon experiment``."""
    app.command()(plan)
