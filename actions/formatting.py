"""Plain-language replies built from analytics results (pure functions, tested alone)."""

from __future__ import annotations

from analytics.experiments import ExperimentResult, describe_lifts
from analytics.listening import SentimentSummary, ShareChange, Theme, percent
from analytics.sentiment import LABELS
from foundation.workspace import platform_name


def _change_phrase(change: ShareChange) -> str:
    direction = "up" if change.points > 0 else "down"
    return (
        f"{change.label} {direction} {abs(change.points):.1f} points "
        f"(95% CI {change.ci_low:+.1f} to {change.ci_high:+.1f})"
    )


def format_themes(themes: dict[str, list[Theme]]) -> str:
    """One line per sentiment naming what drives it, with a quoted example post as evidence.

    Empty when no theme stood out (see :func:`analytics.listening.sentiment_themes`).
    """
    lines = []
    for label in ("negative", "positive"):
        found = themes.get(label) or []
        if not found:
            continue
        terms = ", ".join(f"“{theme.term}” ({theme.count}×)" for theme in found)
        line = f"{label.capitalize()} talk is driven by {terms}"
        if found[0].examples:
            post_id, text = found[0].examples[0]
            line += f', e.g. "{_clip(text)}" ({post_id})'
        lines.append(line + ".")
    return "\n".join(lines)


def _clip(text: str, limit: int = 140) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def format_sentiment_summary(
    summary: SentimentSummary, brand: str, themes: dict[str, list[Theme]] | None = None
) -> str:
    """The reply to "how is sentiment ...?".

    Names the platform, topic and period, gives shares and counts, says which
    changes against the previous period are more than noise (95% interval excludes
    zero), names the themes behind positive and negative talk when given, and ends
    with the data and model used.
    """
    scope = platform_name(summary.platform)
    if summary.topic:
        scope += f" about “{summary.topic}”"
    if summary.total == 0:
        return (
            f"I found no posts about {brand} on {scope} in {summary.period.describe()}, "
            "so I can't say how sentiment is. Try a longer period or another platform."
        )
    shares = ", ".join(f"{percent(summary.share(label))} {label}" for label in reversed(LABELS))
    lines = [
        f"Sentiment about {brand} on {scope}, {summary.period.describe()}: {shares} "
        f"across {summary.total:,} posts."
    ]
    if summary.changes:
        real = [c for c in summary.changes if c.significant]
        if real:
            lines.append(
                f"Compared with {summary.previous.describe()} ({summary.previous_total:,} posts): "
                + "; ".join(_change_phrase(c) for c in real)
                + ". That is more than day-to-day noise."
            )
        else:
            lines.append(
                f"That is about the same as {summary.previous.describe()} "
                f"({summary.previous_total:,} posts): no change is bigger than noise."
            )
    else:
        lines.append(f"There were no posts in {summary.previous.describe()} to compare with.")
    if summary.platform is None and len(summary.by_platform) > 1:
        parts = [
            f"{platform_name(name)} {percent(stats['positive'])} positive / "
            f"{percent(stats['negative'])} negative ({int(stats['posts']):,} posts)"
            for name, stats in summary.by_platform.items()
        ]
        lines.append("By platform: " + "; ".join(parts) + ".")
    if themes and (theme_text := format_themes(themes)):
        lines.append(theme_text)
    lines.append(
        f"Source: workspace posts mentioning {brand}, not counting its own accounts, "
        f"scored by {summary.model_version}."
    )
    return "\n".join(lines)


def format_experiment(result: ExperimentResult, name: str, roi_sentences: list[str]) -> str:
    """The reply to "did the X test win?": warnings first, then each metric, money, verdict."""
    lines = [f"⚠️ {warning}" for warning in result.warnings]
    units = sum(result.srm.observed.values())
    cuped = any(m.cuped for m in result.metrics)
    lines.append(
        f"{name} ({' vs '.join(result.variants)}, {units:,} units"
        + (", adjusted for pre-period spend with CUPED" if cuped else "")
        + "):"
    )
    lines += [
        f"• {sentence}"
        for metric in result.metrics
        for sentence in describe_lifts(metric, result.control)
    ]
    lines += roi_sentences
    winners = sorted(
        {
            v.name
            for m in result.metrics
            for v in m.variants
            if not v.is_control and v.abs_lift_ci is not None and v.abs_lift_ci[0] > 0
        }
    )
    if result.srm.warning:
        lines.append("Verdict: don't act on these numbers until the assignment problem is fixed.")
    elif winners:
        lines.append(f"Verdict: {', '.join(winners)} beat {result.control}.")
    else:
        lines.append(f"Verdict: no variant beat {result.control}; the test found no clear effect.")
    return "\n".join(line for line in lines if line)
