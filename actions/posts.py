"""``ask_top_posts`` → :class:`ActionTopPosts`: the brand's best or worst posts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.base import BeaconAction, Events
from actions.context import LastAnswer, last_answer, latest_text, remember
from actions.links import view_link, with_link
from actions.parsing import parse_platform, read_period
from actions.questions import DEFAULT_POSTS, read_post_count, read_post_metric, wants_worst
from actions.services import Services
from analytics.posts import METRIC_NAMES, RankedPost, TopPosts, top_posts
from foundation.workspace import get_meta, platform_name


def format_value(value: float, basis: str) -> str:
    """``2.4% engagement rate``, ``0.45% engagement rate`` or ``1,204 likes``."""
    if basis == "engagement_rate":
        digits = 2 if value < 0.01 else 1
        return f"{100 * value:.{digits}f}%"
    return f"{value:,.0f}"


def _post_line(post: RankedPost, basis: str) -> str:
    name = METRIC_NAMES[basis]
    value = format_value(post.value, basis)
    median = format_value(post.account_median, basis)
    ratio = post.versus_median
    context = (
        f"{ratio:.1f}× the account's median of {median} over {post.account_posts} posts"
        if ratio is not None
        else f"the account's median is {median} over {post.account_posts} posts"
    )
    day = post.posted_at
    return (
        f"{post.rank}. {post.post_id} · {platform_name(post.platform)} · {day:%a} {day.day} {day:%b}: "
        f'"{post.excerpt()}" — {value} {name}, {context}'
    )


def format_top_posts(result: TopPosts, brand: str) -> str:
    """The reply to "what were our top posts ...?": one line per post, then caveats and source."""
    where = platform_name(result.platform)
    which = "worst" if result.worst else "best"
    measure = METRIC_NAMES[result.basis]
    when = result.period.describe()
    if not result.posts:
        return (
            f"I found no posts of {brand}'s own accounts on {where} with {measure} in {when}, "
            "so there is nothing to rank. Try a longer period or another platform."
        )
    shown = len(result.posts)
    count = f"{shown} {which} post" + ("s" if shown != 1 else "")
    lines = [f"{brand}'s {count} on {where} by {measure}, {when}, out of {result.ranked:,} posts:"]
    lines += [_post_line(post, result.basis) for post in result.posts]
    if shown < result.requested:
        lines.append(
            f"There were only {shown} posts to rank, fewer than the {result.requested} asked for."
        )
    if result.metric == "engagement_rate" and result.basis == "interactions":
        lines.append(
            "No post here has a follower count, so these are ranked by raw interactions "
            "(likes + comments + shares) instead of a rate."
        )
    if result.left_out:
        why = (
            "a view count (only videos have one)" if result.basis == "views" else "a follower count"
        )
        lines.append(f"{result.left_out:,} posts without {why} were left out.")
    lines.append(
        "These are the recorded counts, not estimates; the median says what is normal for "
        "each account in the same period."
    )
    formula = (
        " (likes + comments + shares ÷ followers at posting time)"
        if result.basis == "engagement_rate"
        else ""
    )
    lines.append(f"Source: workspace posts of {brand}'s own accounts{formula}.")
    return "\n".join(lines)


class ActionTopPosts(BeaconAction):
    """The best or worst of the brand's own posts by period, platform and metric."""

    action_name = "action_top_posts"

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        text = latest_text(tracker)
        asked_period = tracker.get_slot("period")
        period = read_period(asked_period, services.today())
        platform = parse_platform(tracker.get_slot("platform"))
        # A bare "and on twitter?" after a list of posts: the same list, another platform.
        previous = last_answer(tracker)
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        carried: Mapping[str, Any] = (
            previous.params
            if previous is not None and previous.kind == "top_posts" and intent == "inform"
            else {}
        )
        metric = read_post_metric(text, default=carried.get("metric") or "engagement_rate")
        n = read_post_count(text, default=carried.get("n") or DEFAULT_POSTS)
        worst = wants_worst(text) or bool(carried.get("worst"))
        with services.workspace.connect(read_only=True) as con:
            result = top_posts(con, period, platform=platform, metric=metric, n=n, worst=worst)
            reply = format_top_posts(result, get_meta(con, "brand", "the brand"))
            params = {
                "period": asked_period,
                "start": period.start.isoformat(),
                "end": period.end.isoformat(),
                "platform": platform,
                "metric": metric,
                "n": n,
                "worst": worst,
            }
            ids = [post.post_id for post in result.posts]
            audit_id = services.workspace.record_audit(
                kind="top_posts",
                inputs=params,
                sources=["workspace:posts", *(f"post:{post_id}" for post_id in ids)],
                output=reply,
                conversation_id=tracker.sender_id,
            )
        link = view_link(
            tracker,
            services,
            "posts",
            {"platform": platform, "start": params["start"], "end": params["end"]},
        )
        dispatcher.utter_message(text=with_link(reply, link))
        return [remember(LastAnswer("top_posts", ids=tuple(ids), params=params, audit_id=audit_id))]
