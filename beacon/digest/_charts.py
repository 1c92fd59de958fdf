"""The digest's charts as PNG bytes (:mod:`analytics._figures`), each with its alt text."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING

import numpy as np

from analytics._figures import new_figure, png_bytes
from analytics.periods import format_range
from analytics.sentiment import LABELS
from beacon.digest._types import Chart, SentimentSection, VolumeSection, pct
from beacon.digest._week import IsoWeek
from foundation.workspace import platform_name

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

PLATFORM_COLOURS = {
    "twitter": "#1d9bf0",
    "instagram": "#c13584",
    "facebook": "#1877f2",
    "reddit": "#ff4500",
    "linkedin": "#0a66c2",
    "tiktok": "#222222",
    "youtube": "#ff0000",
    "other": "#888888",
}
LABEL_COLOURS = {"negative": "#d62728", "neutral": "#bbbbbb", "positive": "#2ca02c"}
#: The digest's charts are 800 × 380 pixels: 8 × 3.8 inches at this many dots per inch.
DPI = 100


def _figure() -> tuple[Figure, Axes]:
    figure = new_figure(8, 3.8)
    return figure, figure.subplots()


def _frame_days(daily: Mapping[str, Mapping[str, int]]) -> list[date]:
    return [date.fromisoformat(day) for day in sorted(daily)]


def _week_divider(axis: Axes, days: list[date], week: IsoWeek) -> None:
    split = days.index(week.start) - 0.5 if week.start in days else None
    if split is not None:
        axis.axvline(split, color="black", linestyle="--", linewidth=1)
        top = axis.get_ylim()[1]
        axis.text(split - 0.2, top * 0.97, week.previous().label, ha="right", va="top", fontsize=8)
        axis.text(split + 0.2, top * 0.97, week.label, ha="left", va="top", fontsize=8)


def _legend(axis: Axes, columns: int) -> None:
    axis.legend(
        loc="upper center",
        bbox_to_anchor=(0.5, -0.2),
        fontsize=8,
        frameon=False,
        ncol=max(1, columns),
    )


def _day_ticks(axis: Axes, days: list[date]) -> None:
    axis.set_xticks(range(len(days)))
    axis.set_xticklabels([f"{d:%a}\n{d.day}" for d in days], fontsize=7)


def volume_chart(section: VolumeSection, week: IsoWeek, brand: str) -> Chart:
    """Posts about the brand per day and platform, previous week and this week."""
    days = _frame_days(section.daily)
    platforms = sorted({p for counts in section.daily.values() for p in counts})
    figure, axis = _figure()
    bottom = np.zeros(len(days))
    for platform in platforms:
        values = np.array([section.daily[d.isoformat()].get(platform, 0) for d in days], float)
        axis.bar(
            range(len(days)),
            values,
            bottom=bottom,
            label=platform_name(platform),
            color=PLATFORM_COLOURS.get(platform, "#888888"),
            width=0.85,
        )
        bottom += values
    axis.set_ylim(0, max(1.0, float(bottom.max()) * 1.18))
    axis.set_ylabel("posts per day")
    _day_ticks(axis, days)
    _week_divider(axis, days, week)
    title = f"Posts about {brand} per day, {format_range(days[0], days[-1])}"
    axis.set_title(title, fontsize=10)
    if platforms:
        _legend(axis, len(platforms))
    totals = dict(zip(days, bottom.astype(int), strict=True))
    this_week = [d for d in days if d >= week.start]
    busiest = max(this_week, key=lambda d: (totals[d], d)) if this_week else None
    alt = (
        f"Stacked bar chart of posts about {brand} per day by platform "
        f"({', '.join(platform_name(p) for p in platforms) or 'none'}), "
        f"{format_range(days[0], days[-1])}: {section.total.brand_posts:,} posts in {week.label} "
        f"vs {section.total.previous_brand_posts:,} in {week.previous().label}"
        + (f"; busiest day {busiest:%a %d %b} with {totals[busiest]:,} posts." if busiest else ".")
    )
    return Chart("volume", title, alt, png_bytes(figure, dpi=DPI))


def sentiment_chart(section: SentimentSection, week: IsoWeek, brand: str) -> Chart:
    """Daily shares of each sentiment label, previous week and this week."""
    days = _frame_days(section.daily)
    counts = {
        label: np.array([section.daily[d.isoformat()][label] for d in days], float)
        for label in LABELS
    }
    totals = sum(counts.values())
    safe = np.where(totals > 0, totals, 1.0)
    figure, axis = _figure()
    bottom = np.zeros(len(days))
    for label in ("negative", "neutral", "positive"):
        share = 100 * counts[label] / safe
        axis.bar(
            range(len(days)),
            share,
            bottom=bottom,
            label=label,
            color=LABEL_COLOURS[label],
            width=0.85,
        )
        bottom += share
    axis.set_ylim(0, 118)
    axis.set_yticks([0, 25, 50, 75, 100])
    axis.set_ylabel("share of posts (%)")
    _day_ticks(axis, days)
    _week_divider(axis, days, week)
    title = f"Sentiment about {brand} per day, {format_range(days[0], days[-1])}"
    axis.set_title(title, fontsize=10)
    _legend(axis, 3)
    s = section.summary
    alt = (
        f"Stacked bar chart of the daily shares of negative, neutral and positive posts about "
        f"{brand}, {format_range(days[0], days[-1])}. {week.label}: "
        f"{pct(s.share('negative'))} negative, {pct(s.share('neutral'))} neutral, "
        f"{pct(s.share('positive'))} positive of {s.total:,} posts; {week.previous().label}: "
        f"{pct(s.previous_share('negative'))} negative, {pct(s.previous_share('positive'))} "
        f"positive of {s.previous_total:,}."
    )
    return Chart("sentiment", title, alt, png_bytes(figure, dpi=DPI))
