"""``ask_comparison`` → :class:`ActionComparison`: two platforms, or two periods, side by side."""

from __future__ import annotations

from datetime import date

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.base import BeaconAction, Events
from actions.context import LastAnswer, remember
from actions.parsing import SlotValueError, parse_platform
from actions.posts import format_value
from actions.questions import (
    asks_to_compare,
    compared_platforms,
    entity_values,
    read_comparison_metric,
    wants_previous,
)
from actions.sentiment import ActionSentimentSummary
from actions.services import Services
from analytics.comparisons import (
    EngagementComparison,
    SentimentComparison,
    Side,
    compare_engagement,
    compare_sentiment,
)
from analytics.exceptions import AnalysisInputError
from analytics.periods import find_periods, parse_period
from analytics.posts import METRIC_NAMES
from analytics.sentiment import LABELS
from foundation.workspace import get_meta, platform_name


def comparison_sides(
    platforms: list[str | None],
    periods: list[str],
    *,
    text: str,
    slot_period: str | None,
    slot_platform: str | None,
    today: date,
) -> tuple[Side, Side]:
    """The two sides a comparison asks for.

    Two platforms: each in the same period (the first period named, else the
    conversation's). Otherwise two periods on one platform (the one named, else the
    conversation's): the two named, or the one named (else the conversation's) against the
    same length just before it ("vs the one before", or nothing said).

    Raises:
        SlotValueError: A platform is not one Beacon knows (from :func:`parse_platform`).
        AnalysisInputError: A period can't be read (from :func:`parse_period`).
    """
    periods = _readable_periods(periods, text, today)
    if len(platforms) >= 2:
        period = parse_period(periods[0] if periods else slot_period, today)
        return Side(period, platforms[0]), Side(period, platforms[1])
    platform = platforms[0] if platforms else parse_platform(slot_platform)
    if len(periods) >= 2 and not wants_previous(text):
        first, second = (parse_period(p, today) for p in periods[:2])
        if first != second:
            return Side(first, platform), Side(second, platform)
    period = parse_period(periods[0] if periods else slot_period, today)
    return Side(period, platform), Side(period.previous(), platform)


def _readable_periods(periods: list[str], text: str, today: date) -> list[str]:
    """The extracted periods, or the message's own when one of them can't be read.

    The entity extractor sometimes clips a phrase ("this" out of "this quarter"); the
    message still says what was meant.
    """
    try:
        for period in periods:
            parse_period(period, today)
    except AnalysisInputError:
        found = [phrase for phrase, _ in find_periods(text, today)]
        return found or periods
    return periods


def signed(value: float, digits: int) -> str:
    """``+1.25``, ``-0.40`` or ``0.00``: a sign, except on what rounds to zero."""
    text = f"{value:+.{digits}f}"
    return text[1:] if float(text) == 0 else text


def _pct(share: float) -> str:
    return f"{100 * share:.0f}%"


def _title(what: str, left: Side, right: Side) -> str:
    if left.platform == right.platform:
        return (
            f"{what} on {platform_name(left.platform)}, {left.label(right)} vs {right.label(left)}"
        )
    return f"{what}, {left.label(right)} vs {right.label(left)}, {left.period.describe()}"


def format_sentiment_comparison(result: SentimentComparison, brand: str) -> str:
    """Shares on each side, the differences with 95% intervals, and whether they are noise."""
    left, right = result.left, result.right
    about = f" about “{result.topic}”" if result.topic else ""
    lines = [_title(f"Sentiment about {brand}{about}", left, right) + ":"]
    for side, name, total in (
        ("left", left.label(right), result.left_total),
        ("right", right.label(left), result.right_total),
    ):
        shares = ", ".join(
            f"{_pct(result.share(side, label))} {label}" for label in reversed(LABELS)
        )
        lines.append(f"• {name}: {shares} ({total:,} posts)" if total else f"• {name}: no posts")
    if not result.differences:
        lines.append("One side has no posts, so there is nothing to compare; try a longer period.")
    else:
        parts = []
        for label in ("positive", "negative"):
            d = result.difference(label)
            if d is not None:
                parts.append(
                    f"{label} {d.points:+.1f} points (95% CI {d.ci_low:+.1f} to {d.ci_high:+.1f})"
                )
        real = [
            label
            for label in ("positive", "negative")
            if (d := result.difference(label)) is not None and d.significant
        ]
        verdict = (
            f"The {' and '.join(real)} gap is more than noise."
            if real
            else "Both gaps are within noise: no real difference."
        )
        lines.append(
            f"Difference ({left.label(right)} minus {right.label(left)}): "
            + "; ".join(parts)
            + f". {verdict}"
        )
    lines.append(
        f"Source: workspace posts mentioning {brand}, not counting its own accounts, "
        f"scored by {result.model_version}; intervals for two independent proportions."
    )
    return "\n".join(lines)


def format_engagement_comparison(result: EngagementComparison, brand: str) -> str:
    """Median engagement on each side and the difference with its bootstrap interval."""
    left, right = result.left, result.right
    measure = METRIC_NAMES[result.basis]
    lines = [_title(f"Engagement of {brand}'s own posts", left, right) + ":"]
    diff = result.difference
    for name, posts, median in (
        (left.label(right), result.left_posts, None if diff is None else diff.left_median),
        (right.label(left), result.right_posts, None if diff is None else diff.right_median),
    ):
        if median is None:
            lines.append(f"• {name}: {posts:,} posts" if posts else f"• {name}: no posts")
        else:
            lines.append(
                f"• {name}: median {measure} {format_value(median, result.basis)} over {posts:,} posts"
            )
    if diff is None:
        lines.append("One side has no posts, so there is nothing to compare; try a longer period.")
    elif diff.ci is None:
        lines.append(
            "There are too few posts on one side for an interval, so I can't say whether the gap is real."
        )
    else:
        rate = result.basis == "engagement_rate"
        scale, unit, digits = (100, " points", 2) if rate else (1, "", 0)
        text = (
            f"Difference: {signed(scale * diff.difference, digits)}{unit} "
            f"(95% CI {signed(scale * diff.ci[0], digits)} to {signed(scale * diff.ci[1], digits)})"
        )
        if diff.relative is not None and diff.relative_ci is not None:
            text += (
                f", {signed(100 * diff.relative, 0)}% (95% CI {signed(100 * diff.relative_ci[0], 0)}% "
                f"to {signed(100 * diff.relative_ci[1], 0)}%)"
            )
        text += ". " + (
            "That is more than noise."
            if diff.significant
            else "That is within noise: no real difference."
        )
        lines.append(text)
    if result.basis == "interactions":
        lines.append("Follower counts are missing on a side, so this compares raw interactions.")
    formula = (
        " (likes + comments + shares ÷ followers at posting time)"
        if result.basis == "engagement_rate"
        else ""
    )
    lines.append(
        f"Source: workspace posts of {brand}'s own accounts{formula}; medians per post, "
        "interval by bootstrap."
    )
    return "\n".join(lines)


class ActionComparison(BeaconAction):
    """Sentiment or engagement, side by side across two platforms or two periods."""

    action_name = "action_comparison"

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        message = tracker.latest_message or {}
        text = message.get("text") or ""
        entities = message.get("entities") or []
        metric = read_comparison_metric(text)
        try:
            platforms = compared_platforms(entity_values(entities, "platform"), text)
        except SlotValueError:
            platforms = compared_platforms([], text)
        one_side = len(platforms) < 2 and len(entity_values(entities, "period")) < 2
        if metric == "sentiment" and one_side and not asks_to_compare(text):
            # One platform and one period, nothing to set them against: the classifier
            # took a plain sentiment question for a comparison.
            return ActionSentimentSummary().respond(dispatcher, tracker, services)
        left, right = comparison_sides(
            platforms,
            entity_values(entities, "period"),
            text=text,
            slot_period=tracker.get_slot("period"),
            slot_platform=tracker.get_slot("platform"),
            today=services.today(),
        )
        with services.workspace.connect(read_only=True) as con:
            brand = get_meta(con, "brand", "the brand")
            result: SentimentComparison | EngagementComparison
            if metric == "sentiment":
                result = compare_sentiment(
                    con,
                    left,
                    right,
                    model_version=services.scorer.version,
                    topic=tracker.get_slot("topic") or None,
                )
                reply = format_sentiment_comparison(result, brand)
                sources = ["workspace:posts", f"scores:{result.model_version}"]
            else:
                result = compare_engagement(con, left, right)
                reply = format_engagement_comparison(result, brand)
                sources = ["workspace:posts"]
            params = {"metric": metric, "left": left.to_dict(), "right": right.to_dict()}
            audit_id = services.workspace.record_audit(
                kind="comparison",
                inputs=params,
                sources=sources,
                output={"reply": reply, "result": result.to_dict()},
                model_version=services.scorer.version if metric == "sentiment" else None,
                conversation_id=tracker.sender_id,
            )
        dispatcher.utter_message(text=reply)
        return [remember(LastAnswer("comparison", params=params, audit_id=audit_id))]
