"""``ask_sentiment`` → :class:`ActionSentimentSummary`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.base import BeaconAction, Events
from actions.context import FOLLOW_UP_MAX_WORDS, LastAnswer, last_answer, latest_text, remember
from actions.formatting import format_sentiment_summary
from actions.links import view_link, with_link
from actions.parsing import parse_platform, read_period
from actions.services import Services
from analytics.listening import (
    SentimentExample,
    daily_sentiment,
    example_posts,
    plot_sentiment_trend,
    sentiment_summary,
    sentiment_themes,
)
from analytics.periods import Period
from analytics.scope import Scope
from foundation.workspace import get_meta, platform_name, queries


def asked_scope(
    tracker: Tracker, services: Services, *, default_period: str | None = None
) -> Scope:
    """What a turn asks about: its platform, period and topic slots, scored by our model.

    Narrow it to the brand's talk with :meth:`Scope.for_brand` once the workspace is open.

    Raises:
        SlotValueError: The platform or period slot cannot be read (said to the user).
    """
    return Scope(
        period=read_period(tracker.get_slot("period") or default_period, services.today()),
        model_version=services.scorer.version,
        platform=parse_platform(tracker.get_slot("platform")),
        topic=tracker.get_slot("topic") or None,
    )


def scope_params(scope: Scope) -> dict[str, Any]:
    """What a follow-up needs to read the same posts again (JSON values)."""
    return {
        "platform": scope.platform,
        "topic": scope.topic,
        "start": scope.period.start.isoformat(),
        "end": scope.period.end.isoformat(),
        "label": scope.period.label,
    }


def scope_filters(scope: Scope) -> dict[str, str | None]:
    """The dashboard filters that show the same posts as ``scope``."""
    return {
        "platform": scope.platform,
        "topic": scope.topic,
        "start": scope.period.start.isoformat(),
        "end": scope.period.end.isoformat(),
    }


def scope_from_params(params: Mapping[str, Any], services: Services) -> Scope:
    """The scope :func:`scope_params` stored, scored by the current model (not yet for_brand)."""
    period = Period(
        date.fromisoformat(str(params["start"])),
        date.fromisoformat(str(params["end"])),
        str(params.get("label") or ""),
    )
    return Scope(
        period=period,
        model_version=services.scorer.version,
        platform=params.get("platform"),
        topic=params.get("topic"),
    )


class ActionSentimentSummary(BeaconAction):
    """Sentiment shares and counts for a platform/topic/period, vs the period before."""

    action_name = "action_sentiment_summary"

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        previous = last_answer(tracker)
        if previous is not None and asks_for_examples(tracker, previous):
            # "what are folks grumbling about?" after a summary: its negative posts.
            return answer_with_examples(dispatcher, tracker, services, previous)
        asked = asked_scope(tracker, services)
        with services.workspace.connect(read_only=True) as con:
            scope = asked.for_brand(con)
            answer = services.answers.get_or_compute(
                ("sentiment_summary", scope),
                queries.data_version(con),
                lambda: _sentiment_answer(con, scope, services),
            )
        text, chart = answer.text, list(answer.charts)
        audit_id = services.workspace.record_audit(
            kind="sentiment_summary",
            inputs={
                "platform": scope.platform,
                "topic": scope.topic,
                "start": scope.period.start,
                "end": scope.period.end,
            },
            sources=[
                "workspace:posts",
                f"scores:{answer.model_version}",
                *(f"chart:{url.rsplit('/', 1)[-1]}" for url in chart),
                *(f"post:{post_id}" for post_id in answer.examples),
            ],
            output=text,
            model_version=answer.model_version,
            conversation_id=tracker.sender_id,
        )
        link = view_link(tracker, services, "brand", scope_filters(scope))
        dispatcher.utter_message(text=with_link(text, link))
        for url in chart:
            dispatcher.utter_message(image=url)
        return [remember(LastAnswer("sentiment", answer.examples, scope_params(scope), audit_id))]


@dataclass(frozen=True)
class _SentimentAnswer:
    """A sentiment summary as said, kept in the answer cache.

    Attributes:
        text: The reply.
        charts: The trend chart's URL (none when no posts matched).
        model_version: The sentiment model whose labels it counts.
        examples: Post ids quoted under the themes, in order.
    """

    text: str
    charts: tuple[str, ...]
    model_version: str
    examples: tuple[str, ...]


def _sentiment_answer(
    con: duckdb.DuckDBPyConnection, scope: Scope, services: Services
) -> _SentimentAnswer:
    summary = sentiment_summary(con, scope)
    brand = get_meta(con, "brand", "the brand")
    themes = sentiment_themes(con, scope)
    charts: tuple[str, ...] = ()
    if summary.total:
        chart_path, chart_url = services.charts.new_chart()
        plot_sentiment_trend(
            daily_sentiment(con, scope),
            chart_path,
            f"Sentiment about {brand} on {platform_name(scope.platform)}, "
            f"{scope.period.describe()}",
        )
        charts = (chart_url,)
    return _SentimentAnswer(
        text=format_sentiment_summary(summary, brand, themes),
        charts=charts,
        model_version=summary.model_version,
        examples=tuple(
            post_id for found in themes.values() for theme in found for post_id, _ in theme.examples
        ),
    )


#: Examples a "show me a few of those" lists.
EXAMPLES = 5

_NEGATIVE = re.compile(
    r"\b(negative|neg|bad|worst|complain\w*|angry|unhappy|annoyed|critical|"
    r"criticism|haters?|moan\w*|rant\w*|drag\w*|hurt\w*|worse|poor\w*|grumbl\w*|gripe\w*|"
    r"whin\w*|"
    # What pulls a score down or holds it back ("which posts are pulling it down").
    r"(pull|drag|bring|weigh|hold|keep)\w*\s+(\w+\s+)?(down|back))\b"
)
_POSITIVE = re.compile(r"\b(positive|pos|good|best|happy|love\w*|praise\w*|fans?|nice)\b")


#: A follow-up asking what the posts say ("what are folks grumbling about?").
_ASKS_WHAT = re.compile(r"\b(what|which|show|examples?|posts?|saying|about)\b", re.IGNORECASE)


def asks_for_examples(tracker: Tracker, previous: LastAnswer | None) -> bool:
    """Whether the latest message asks what ``previous``, a sentiment or anomaly answer's,
    posts say ("what are folks grumbling about?", "which posts are negative?") rather
    than for a new summary: it follows such an answer, names no new platform, period
    or topic, is short, and asks what the negative or positive posts are.
    """
    message = tracker.latest_message or {}
    text = latest_text(tracker)
    return (
        previous is not None
        and previous.kind in ("sentiment", "anomaly")
        and not message.get("entities")
        and len(text.split()) <= FOLLOW_UP_MAX_WORDS
        and asked_label(text) is not None
        and _ASKS_WHAT.search(text) is not None
    )


def asked_label(text: str) -> str | None:
    """The sentiment a follow-up asks for ("the negative ones"), or None for any."""
    lowered = text.lower()
    if _NEGATIVE.search(lowered):
        return "negative"
    return "positive" if _POSITIVE.search(lowered) else None


def format_examples(examples: list[SentimentExample], head: str) -> str:
    """A heading, then one line per post: id, day, the text and its label."""
    lines = [head]
    for post in examples:
        text = " ".join(post.text.split())
        text = text if len(text) <= 200 else text[:199].rstrip() + "…"
        lines.append(
            f"• {post.post_id} ({post.posted_at:%d %b}, {platform_name(post.platform)}): "
            f"“{text}” — {post.label}, {100 * post.confidence:.0f}% sure"
        )
    return "\n".join(lines)


def answer_with_examples(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    services: Services,
    answer: LastAnswer,
) -> Events:
    """Examples behind a sentiment or anomaly answer: "show me a few of those".

    The clearest posts of the same scope; for an anomaly, of its strongest alert's days
    and platform (negative ones for a negative spike); negative or positive ones when
    the follow-up says so.
    """
    text = latest_text(tracker)
    scope = scope_from_params(answer.params, services)
    label = asked_label(text)
    alert = answer.params.get("alert")
    if answer.kind == "anomaly" and isinstance(alert, dict):
        # The strongest alert's days and platform; a negative spike's negative posts.
        start, end = (date.fromisoformat(str(alert[key])) for key in ("start", "end"))
        days = Period(start, end, "the unusual days")
        scope = scope.replace(period=days, platform=alert.get("platform"))
        if label is None and alert.get("metric") == "negative share":
            label = "negative"
    with services.workspace.connect(read_only=True) as con:
        scope = scope.for_brand(con)
        examples = example_posts(con, scope, label=label, limit=EXAMPLES)
        brand = get_meta(con, "brand", "the brand")
        kind = f"{label.capitalize()} posts" if label else "Posts"
        head = (
            f"{kind} about {brand} on {platform_name(scope.platform)}, "
            f"{scope.period.describe()}, clearest first:"
        )
        reply = (
            format_examples(examples, head)
            if examples
            else f"I found no {label + ' ' if label else ''}posts about {brand} there."
        )
        audit_id = services.workspace.record_audit(
            kind="example_posts",
            inputs={**answer.params, "label": label, "text": text},
            sources=[f"post:{post.post_id}" for post in examples],
            output=reply,
            model_version=scope.model_version,
            conversation_id=tracker.sender_id,
        )
    dispatcher.utter_message(text=reply)
    shown = LastAnswer(
        answer.kind,
        ids=tuple(post.post_id for post in examples),
        params=answer.params,
        audit_id=audit_id,
    )
    return [remember(shown)]
