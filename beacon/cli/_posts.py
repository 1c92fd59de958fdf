"""``beacon posts top``: the best or worst of the brand's own posts."""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from beacon.cli._common import JSON_OPTION, console, print_json, run_command

app = typer.Typer(help="The brand's own posts: best and worst by a metric.", no_args_is_help=True)


@app.command()
def top(
    period: str = typer.Option(
        None, "--period", help="e.g. 'last month', 'october', 'q3' (default: last 30 days)."
    ),
    platform: str = typer.Option(None, "--platform", help="Only this platform (default: all)."),
    metric: str = typer.Option(
        "engagement_rate",
        "--metric",
        help="engagement_rate (interactions ÷ followers), likes, comments, shares or views.",
    ),
    worst: bool = typer.Option(False, "--worst", help="The worst posts instead of the best."),
    n: int = typer.Option(3, "-n", "--n", help="How many posts (1-20)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """The best (or worst) posts of the brand's own accounts, each next to its account's median."""
    from analytics.periods import parse_period
    from analytics.posts import METRIC_NAMES, top_posts
    from foundation.settings import get_settings
    from foundation.workspace import PLATFORMS, Workspace, platform_name

    def body() -> None:
        if platform is not None and platform not in PLATFORMS:
            raise ValueError(f"--platform must be one of {', '.join(PLATFORMS)} (got {platform!r})")
        asked = parse_period(period, datetime.now(UTC).date())
        with Workspace(get_settings().workspace_path).connect(read_only=True) as con:
            result = top_posts(con, asked, platform=platform, metric=metric, n=n, worst=worst)
        if as_json:
            print_json(result.to_dict())
            return
        rate = result.basis == "engagement_rate"
        console.print(
            f"{'worst' if worst else 'best'} by {METRIC_NAMES[result.basis]}, "
            f"{platform_name(platform)}, {asked.describe()} ({result.ranked} posts ranked)",
            highlight=False,
        )
        for post in result.posts:
            value = f"{100 * post.value:.2f}%" if rate else f"{post.value:,.0f}"
            median = f"{100 * post.account_median:.2f}%" if rate else f"{post.account_median:,.0f}"
            console.print(
                f"{post.rank}. {post.post_id} {post.platform} {post.posted_at:%Y-%m-%d} "
                f"{value} (account median {median}) {post.excerpt()}",
                markup=False,
                highlight=False,
            )

    run_command(body)
