"""Recommended actions: rules over the week's numbers, each naming the finding it comes from.

A rule fires only on a finding that is more than noise (an interval that excludes no
change, an anomaly alert, an experiment verdict, a creator who mentioned us), and its
sentence carries the numbers that made it fire.
"""

from __future__ import annotations

from analytics.anomalies import Alert
from analytics.periods import format_range
from beacon.digest._types import (
    DRIVER_EFFECT,
    AnomaliesSection,
    CreatorsSection,
    EngagementSection,
    ExperimentsSection,
    RecommendedAction,
    SentimentSection,
    VolumeSection,
    pct,
    rate_pct,
)
from foundation.workspace import platform_name

MIN_PLATFORM_POSTS = 10


def _alert_action(alert: Alert) -> RecommendedAction:
    where = platform_name(alert.platform)
    drivers = ", ".join(f"'{d.term}'" for d in alert.drivers[:3])
    example = f" (e.g. {alert.examples[0].post_id})" if alert.examples else ""
    about = f" about {drivers}" if drivers else ""
    dates = format_range(alert.start, alert.end)
    if alert.metric == "negative share" and alert.direction == "up":
        text = (
            f"Answer the complaints{about} on {where}: negative share hit "
            f"{pct(alert.observed)} on {dates} (usually {pct(alert.expected)}){example}."
        )
        return RecommendedAction(text, "anomalies", "negative_spike")
    if alert.metric == "volume" and alert.direction == "up":
        text = (
            f"Find out what drove the jump in talk on {where} ({alert.observed:.0f} posts a day on "
            f"{dates}, usually {alert.expected:.0f}){about}{example} and reply where it helps."
        )
        return RecommendedAction(text, "anomalies", "volume_spike")
    text = (
        f"Check {where}: {alert.metric} dropped to "
        + (
            f"{pct(alert.observed)}"
            if alert.metric == "negative share"
            else f"{alert.observed:.0f} a day"
        )
        + f" on {dates} (usually "
        + (
            f"{pct(alert.expected)}"
            if alert.metric == "negative share"
            else f"{alert.expected:.0f}"
        )
        + "); make sure listening still collects it."
    )
    return RecommendedAction(text, "anomalies", "drop")


def _sentiment_actions(section: SentimentSection, brand: str) -> list[RecommendedAction]:
    s = section.summary
    moved = {c.label: c for c in s.changes if c.significant}
    out = []
    negative = moved.get("negative")
    if negative is not None and negative.points > 0:
        busy = {p: v for p, v in s.by_platform.items() if v["posts"] >= MIN_PLATFORM_POSTS}
        worst = max(busy, key=lambda p: busy[p]["negative"]) if busy else None
        where = (
            f", starting on {platform_name(worst)} ({pct(busy[worst]['negative'])} negative)"
            if worst
            else ""
        )
        out.append(
            RecommendedAction(
                f"Read this week's negative posts about {brand}{where}: negative share rose "
                f"{negative.points:.1f} points to {pct(s.share('negative'))} (95% CI "
                f"{negative.ci_low:+.1f} to {negative.ci_high:+.1f}).",
                "sentiment",
                "negative_share_up",
            )
        )
    positive = moved.get("positive")
    if positive is not None and positive.points > 0:
        out.append(
            RecommendedAction(
                f"Share this week's happiest customer posts: positive share rose "
                f"{positive.points:.1f} points to {pct(s.share('positive'))} (95% CI "
                f"{positive.ci_low:+.1f} to {positive.ci_high:+.1f}).",
                "sentiment",
                "positive_share_up",
            )
        )
    elif positive is not None and negative is None:
        out.append(
            RecommendedAction(
                f"Look for what cooled the mood: positive share fell {abs(positive.points):.1f} "
                f"points to {pct(s.share('positive'))} (95% CI {positive.ci_low:+.1f} to "
                f"{positive.ci_high:+.1f}) while negative talk did not rise beyond noise.",
                "sentiment",
                "positive_share_down",
            )
        )
    return out


def _volume_actions(section: VolumeSection, alerted: set[str]) -> list[RecommendedAction]:
    out = []
    for row in section.rows:
        change = row.change
        if change is None or not change.significant or row.platform in alerted:
            continue
        if change.ratio < 1:
            out.append(
                RecommendedAction(
                    f"Talk about us on {platform_name(row.platform)} fell {1 - change.ratio:.0%} "
                    f"({row.brand_posts:,} vs {row.previous_brand_posts:,} posts, 95% CI "
                    f"{change.low - 1:+.0%} to {change.high - 1:+.0%}); check whether our own "
                    f"posting there ({row.own_posts} vs {row.previous_own_posts}) or a campaign ending explains it.",
                    "volume",
                    "volume_down",
                )
            )
    return out


def _engagement_actions(section: EngagementSection) -> list[RecommendedAction]:
    out = []
    for row in section.rows:
        if row.change is not None and row.change.significant and row.change.ratio < 1:
            out.append(
                RecommendedAction(
                    f"Engagement on {platform_name(row.platform)} fell {1 - row.change.ratio:.0%} "
                    f"({rate_pct(row.rate or 0)} vs {rate_pct(row.previous_rate or 0)}, 95% CI "
                    f"{row.change.low - 1:+.0%} to {row.change.high - 1:+.0%}); compare this week's "
                    "posts with the best post's format and timing.",
                    "engagement",
                    "engagement_down",
                )
            )
    best, worst = section.best, section.worst
    if best is not None and best.relative > 1:
        helped = [d for d in best.drivers if d.multiplier >= DRIVER_EFFECT]
        if helped:
            traits = ", ".join(f"{d.value} ({d.multiplier:.1f}×)" for d in helped)
            out.append(
                RecommendedAction(
                    f"Plan more posts like {best.post_id} ({best.relative:.1f}× the typical "
                    f"{platform_name(best.platform)} rate): on {platform_name(best.platform)}, "
                    f"{traits} usually beat the typical post.",
                    "engagement",
                    "repeat_best_drivers",
                )
            )
    if worst is not None and worst.relative < 1:
        hurt = [d for d in worst.drivers if d.multiplier <= 1 / DRIVER_EFFECT]
        if hurt:
            traits = ", ".join(f"{d.value} ({d.multiplier:.1f}×)" for d in hurt)
            out.append(
                RecommendedAction(
                    f"Avoid repeating what held back {worst.post_id} ({worst.relative:.2f}× the "
                    f"typical rate): on {platform_name(worst.platform)}, {traits} usually trail "
                    "the typical post.",
                    "engagement",
                    "avoid_worst_drivers",
                )
            )
    return out


def _experiment_actions(section: ExperimentsSection) -> list[RecommendedAction]:
    out = []
    for o in section.concluded:
        if o.verdict == "srm":
            out.append(
                RecommendedAction(
                    f"Fix the assignment of the {o.name} and rerun it before acting on it: "
                    + (o.warnings[0].split(". ")[0] if o.warnings else "sample-ratio mismatch")
                    + ".",
                    "experiments",
                    "experiment_srm",
                )
            )
        elif o.verdict == "winner":
            evidence = next(
                (
                    line
                    for line in o.metric_lines
                    if "a real difference" in line and any(w in line for w in o.winners)
                ),
                "",
            )
            out.append(
                RecommendedAction(
                    f"Roll out {', '.join(o.winners)} from the {o.name}"
                    + (f" ({evidence.rstrip('.')})" if evidence else "")
                    + ".",
                    "experiments",
                    "experiment_winner",
                )
            )
        elif o.verdict == "loser":
            out.append(
                RecommendedAction(
                    f"Keep {o.control} in the {o.name}: the other variant did worse.",
                    "experiments",
                    "experiment_loser",
                )
            )
        else:
            out.append(
                RecommendedAction(
                    f"Don't roll out a variant from the {o.name}: no clear effect across "
                    f"{o.units:,} units; keep {o.control} or test a bolder change.",
                    "experiments",
                    "experiment_no_effect",
                )
            )
    return out


def _creator_actions(section: CreatorsSection) -> list[RecommendedAction]:
    out = []
    for m in section.mentions:
        if m.flags:
            out.append(
                RecommendedAction(
                    f"Vet {m.handle} before any partnership even though they mentioned us "
                    f"({m.mentions} posts): {m.flags[0]}.",
                    "creators",
                    "creator_flagged",
                )
            )
        else:
            rate = (
                f", shrunk engagement rate {rate_pct(m.rate)} ({m.tier} tier)"
                if m.rate is not None
                else ""
            )
            out.append(
                RecommendedAction(
                    f"Thank {m.handle} for mentioning us ({m.mentions} "
                    f"{'post' if m.mentions == 1 else 'posts'}, {m.engagements:,} "
                    f"likes+comments+shares{rate}) and consider them for outreach.",
                    "creators",
                    "creator_outreach",
                )
            )
    return out


def recommend(
    brand: str,
    volume: VolumeSection,
    sentiment: SentimentSection,
    engagement: EngagementSection,
    experiments: ExperimentsSection,
    anomalies: AnomaliesSection,
    creators: CreatorsSection,
    /,
) -> tuple[RecommendedAction, ...]:
    """Every rule that fires on this week's findings, most urgent first.

    The sections come in :data:`~beacon.digest.SECTION_TITLES` order; each has its own
    type, so the type checker catches any two swapped.
    """
    actions = [_alert_action(a) for a in anomalies.report.alerts]
    actions += _sentiment_actions(sentiment, brand)
    actions += _volume_actions(volume, {a.platform for a in anomalies.report.alerts})
    actions += _experiment_actions(experiments)
    actions += _engagement_actions(engagement)
    actions += _creator_actions(creators)
    return tuple(actions)
