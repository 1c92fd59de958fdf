"""``predict_engagement``, ``explain_post`` and ``recommend_content``: the engagement ensemble."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import BeaconAction, Events
from actions.context import LastAnswer, last_answer, latest_text, remember
from actions.influencers import answer_ranking_followup
from actions.parsing import (
    PostReference,
    SlotValueError,
    mentioned_positions,
    next_full_hour,
    parse_platform,
    post_reference,
    posting_time_label,
    read_posting_time,
)
from actions.sentiment import answer_with_examples
from actions.services import Services
from analytics.engagement import Draft, EngagementModel, own_account_key
from foundation.exceptions import BeaconError
from foundation.workspace import platform_name, queries
from knowledge import SimilarPost

logger = logging.getLogger(__name__)

POST_INDEX_SOURCE = "index:posts"
QUOTE_CHARS = 80
MAX_CANDIDATES = 8  # posts offered as buttons when "our post from Tuesday" is ambiguous
ASK_POST_ID = "Give me its id, like tw-000123 or ig-000045."


def _next_hour() -> datetime:
    return next_full_hour(datetime.now(UTC).replace(tzinfo=None))


def planning_now(services: Services) -> datetime:
    """Now (naive UTC, to the minute) on the services' "today", which tests pin."""
    real = datetime.now(UTC).replace(tzinfo=None, second=0, microsecond=0)
    today = services.today()
    return real if real.date() == today else datetime.combine(today, real.time())


def slot_posting_time(value: Any) -> datetime | None:
    """The ``posting_time`` slot (an ISO timestamp set by the form) as naive UTC, or None."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        logger.warning("posting_time slot is not an ISO timestamp: %r", value)
        return None
    return when.astimezone(UTC).replace(tzinfo=None) if when.tzinfo else when


def _previous_prediction(tracker: Tracker) -> tuple[str, datetime] | None:
    """The draft and planned time of the prediction the previous answer was about.

    A prediction remembers its draft (:mod:`actions.context`), and so does the "why?"
    that explains it, so "how can I improve it?" after either still means that draft.
    None when the previous answer was anything else, a published post's explanation
    included.
    """
    answer = last_answer(tracker)
    if answer is None or answer.kind not in ("prediction", "explanation", "recommendation"):
        return None
    text, when = answer.params.get("draft"), slot_posting_time(answer.params.get("posted_at"))
    return (str(text), when) if text and when else None


def _draft_params(text: str, platform: str, posted_at: datetime) -> dict[str, Any]:
    """What a prediction or a draft's explanation remembers for its follow-ups."""
    return {"draft": text, "platform": platform, "posted_at": posted_at.isoformat()}


def _account_key(con: Any, platform: str, model: EngagementModel) -> str:
    """The model's key for our own account on ``platform`` ("<account>@<platform>")."""
    key = own_account_key(con, platform, model)
    if key is not None:
        return key
    raise SlotValueError(
        f"I have no post history for our {platform_name(platform)} account, so I can't predict there yet."
    )


def _recommendation_lines(model: EngagementModel, draft: Draft) -> list[str]:
    """The best changes, with posting times searched over the 7 days from the draft's time."""
    recommendations = model.recommend(draft, now=draft.posted_at, top=3)
    if not recommendations:
        return ["I found no change to time, media, hashtags or length that would clearly help."]
    return ["What would raise it:"] + [f"• {r.text()}" for r in recommendations]


def similar_post_line(post: SimilarPost) -> str:
    """``tw-000123 (top 30%, 4.1% engagement, 12 Oct) “…”``: one similar post and its outcome."""
    facts = []
    if post.top_30 is not None:
        facts.append("top 30%" if post.top_30 else "below top 30%")
    if post.engagement_rate is not None:
        facts.append(f"{100 * post.engagement_rate:.1f}% engagement")
    else:
        facts.append(f"{post.engagement:,} likes+comments+shares")
    facts.append(f"{post.published_at.day} {post.published_at:%b}")
    text = " ".join(post.text.split())
    if len(text) > QUOTE_CHARS:
        text = text[: QUOTE_CHARS - 1].rstrip() + "…"
    return f"{post.post_id} ({', '.join(facts)}) “{text}”"


def similar_posts_lines(heading: str, posts: Sequence[SimilarPost]) -> list[str]:
    """The heading and one bullet per post; nothing when there are no posts."""
    if not posts:
        return []
    return [heading] + [f"• {similar_post_line(post)}" for post in posts]


def _similar_posts(services: Services, con: Any, **query: Any) -> list[SimilarPost]:
    """Neighbours from the post index, or none when it is missing or unusable."""
    index = services.post_index()
    if index is None:
        return []
    try:
        return index.similar(con=con, **query)
    except BeaconError as error:
        logger.warning("similar posts left out: %s", error)
        return []


def _post_index_source(posts: Sequence[SimilarPost], services: Services) -> str:
    index = services.post_index()
    if not posts or index is None:
        return ""
    return (
        f" Similar posts: our post index (closest in meaning; outcomes as of "
        f"{index.updated_at:%d %b})."
    )


class ActionPredictEngagement(BeaconAction):
    """How a draft will do (calibrated probability), why, and what would raise it."""

    action_name = "action_predict_engagement"

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        text = tracker.get_slot("draft_text") or ""
        platform = parse_platform(tracker.get_slot("platform"))
        if not text.strip() or platform is None:
            raise SlotValueError(
                "I need the draft's text and one platform to predict how it will do."
            )
        planned = slot_posting_time(tracker.get_slot("posting_time"))
        return self.predict(dispatcher, tracker, services, text, platform, planned)

    def predict(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        services: Services,
        text: str,
        platform: str,
        planned: datetime | None,
    ) -> Events:
        """Predict, explain and improve ``text`` on ``platform`` at ``planned`` (or next hour)."""
        posted_at = planned or _next_hour()
        model = services.engagement()
        with services.workspace.connect(read_only=True) as con:
            draft = Draft(
                text=text, account=_account_key(con, platform, model), posted_at=posted_at
            )
            explanation = model.explain(draft)
            similar = _similar_posts(services, con, text=text, k=2, platform=platform)
            reply = "\n".join(
                [
                    f"Draft for {platform_name(platform)}, posted "
                    f"{posting_time_label(posted_at)}, text only:",
                    explanation.text(),
                    *_recommendation_lines(model, draft),
                    *similar_posts_lines("Our posts most like your draft:", similar),
                    "Source: the engagement ensemble trained on our own posts in the workspace; "
                    "its models are weighted by how they did on later posts they had not seen."
                    + _post_index_source(similar, services),
                ]
            )
            audit_id = services.workspace.record_audit(
                kind="engagement_prediction",
                inputs={
                    "text": text,
                    "platform": platform,
                    "posted_at": posted_at,
                    # False: an old conversation without the slot; the next hour was used.
                    "posting_time_given": planned is not None,
                },
                sources=["model:engagement-ensemble", "workspace:posts"]
                + ([POST_INDEX_SOURCE] if similar else []),
                output=reply,
                model_version=model.version,  # the model that answered
                conversation_id=tracker.sender_id,
            )
        dispatcher.utter_message(text=reply)
        shown = LastAnswer("prediction", params=_draft_params(text, platform, posted_at))
        return [
            SlotSet("draft_text", None),
            SlotSet("posting_time", None),
            remember(replace(shown, audit_id=audit_id)),
        ]


def named_posting_time(tracker: Tracker, now: datetime) -> datetime | None:
    """The posting time the latest message names, or None (also for one it can't use)."""
    try:
        named = read_posting_time(latest_text(tracker), now)
    except SlotValueError:
        return None
    return named.when if named is not None else None


def predict_again(dispatcher: CollectingDispatcher, tracker: Tracker, services: Services) -> Events:
    """The last prediction's draft, predicted again on the platform or at the time the
    message names.

    "and on twitter?" after a prediction: the draft and its planned time come from the
    answer (the form's slots were cleared when it answered), the platform from the slot
    the message just filled; "what if we post it on saturday instead?" moves the time.
    """
    answer = last_answer(tracker)
    params = answer.params if answer is not None else {}
    text = str(params.get("draft") or "")
    platform = parse_platform(tracker.get_slot("platform")) or params.get("platform")
    if not text.strip() or platform is None:
        raise SlotValueError("I need the draft's text and one platform to predict how it will do.")
    now = planning_now(services)
    # "and what if we post it on saturday instead?"
    planned = named_posting_time(tracker, now) or slot_posting_time(params.get("posted_at"))
    if planned is not None and planned < now:
        planned = None  # that hour has passed: the next one, as for a new draft
    return ActionPredictEngagement().predict(
        dispatcher, tracker, services, text, str(platform), planned
    )


@dataclass(frozen=True)
class PostCandidate:
    """One of our posts that matches a reference like "our post from Tuesday"."""

    post_id: str
    platform: str
    posted_at: datetime
    text: str

    def line(self) -> str:
        """``tw-000123 (Twitter, 09:00 UTC) “…”``."""
        text = " ".join(self.text.split())
        if len(text) > QUOTE_CHARS:
            text = text[: QUOTE_CHARS - 1].rstrip() + "…"
        return (
            f"{self.post_id} ({platform_name(self.platform)}, "
            f"{self.posted_at:%d %b %H:%M} UTC) “{text}”"
        )


def _post_reference(tracker: Tracker, post_id: str, services: Services) -> PostReference | None:
    """The day (and platform) the latest message names a post by, unless it names an id."""
    latest = tracker.latest_message or {}
    message = str(latest.get("text") or "")
    named = any(e.get("entity") == "post_id" for e in latest.get("entities") or [])
    if named or (post_id and post_id.lower() in message.lower()):
        return None
    return post_reference(message, services.today())


def referenced_posts(con: Any, reference: PostReference, today: date) -> list[PostCandidate]:
    """Our own posts that ``reference`` can mean, latest first.

    A day gives every post of ours that went out that UTC day (on the platform, when
    named), at most :data:`MAX_CANDIDATES` + 1 so the caller can tell there were more;
    "latest" gives our latest post up to ``today``.
    """
    found = queries.own_posts(
        con,
        platform=reference.platform,
        day=reference.day,
        until=today,
        limit=1 if reference.latest else MAX_CANDIDATES + 1,
    )
    return [PostCandidate(*post) for post in found]


def _where(reference: PostReference) -> str:
    platform = f" {platform_name(reference.platform)}" if reference.platform else ""
    return f"our{platform} posts"


def no_post_text(reference: PostReference) -> str:
    """What to say when no post of ours matches, naming the day looked at."""
    if reference.latest:
        return f"I found none of {_where(reference)} in the workspace. {ASK_POST_ID}"
    return (
        f"I found none of {_where(reference)} on {reference.label} (UTC). "
        f"If it went out another day, {ASK_POST_ID[0].lower()}{ASK_POST_ID[1:]}"
    )


def which_post_question(
    reference: PostReference, candidates: Sequence[PostCandidate]
) -> tuple[str, list[dict[str, str]]]:
    """The question listing several matching posts, and one button per post."""
    shown = candidates[:MAX_CANDIDATES]
    count = f"{len(shown)}+" if len(candidates) > MAX_CANDIDATES else f"{len(shown)}"
    lines = [f"On {reference.label} we published {count} posts. Which one should I explain?"]
    lines += [f"• {c.line()}" for c in shown]
    if len(candidates) > MAX_CANDIDATES:
        lines.append(f"Those are the latest {MAX_CANDIDATES}; name the platform or the id.")
    buttons = [
        {
            "title": f"{c.post_id} ({platform_name(c.platform)} {c.posted_at:%H:%M})",
            "payload": "/explain_post" + json.dumps({"post_id": c.post_id}),
        }
        for c in shown
    ]
    return "\n".join(lines), buttons


class ActionExplainPost(BeaconAction):
    """Why a published post did well or badly: its outcome next to the model's reasons."""

    action_name = "action_explain_post"

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        post_id = (tracker.get_slot("post_id") or "").strip()
        reference = _post_reference(tracker, post_id, services)
        if reference is not None:
            with services.workspace.connect(read_only=True) as con:
                candidates = referenced_posts(con, reference, services.today())
            if not candidates:
                raise SlotValueError(no_post_text(reference))
            if len(candidates) > 1:
                text, buttons = which_post_question(reference, candidates)
                dispatcher.utter_message(text=text, buttons=buttons)
                return []
            post_id = candidates[0].post_id
        if not post_id:
            return self._explain_previous(dispatcher, tracker, services)
        events = self.explain_published(dispatcher, tracker, services, post_id)
        return events + ([SlotSet("post_id", post_id)] if reference is not None else [])

    def _explain_previous(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        """A "why?" that names no post: it asks about the previous answer.

        A prediction's (or its explanation's) draft is explained; a ranking says why one
        creator is above another; a list of posts explains the one named by its place
        ("why did the second one do so well?"), else the first; a sentiment or anomaly
        answer shows the posts behind it.
        """
        answer = last_answer(tracker)
        text = latest_text(tracker)
        previous = _previous_prediction(tracker)
        if answer is not None and previous is not None:
            platform = parse_platform(answer.params.get("platform") or tracker.get_slot("platform"))
            if platform is not None:
                return self._explain_draft(dispatcher, tracker, services, previous, platform)
        if answer is not None and answer.kind == "ranking":
            return answer_ranking_followup(dispatcher, tracker, services, answer)
        if answer is not None and answer.kind in ("sentiment", "anomaly"):
            return answer_with_examples(dispatcher, tracker, services, answer)
        posts = (
            () if answer is None else answer.ids[1:] if answer.kind == "campaign" else answer.ids
        )
        if answer is not None and answer.kind in ("top_posts", "campaign") and posts:
            place = (mentioned_positions(text, len(posts)) or [1])[0]
            return self.explain_published(dispatcher, tracker, services, posts[place - 1])
        raise SlotValueError(f"Which post? {ASK_POST_ID}")

    def _explain_draft(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        services: Services,
        previous: tuple[str, datetime],
        platform: str,
    ) -> Events:
        text, posted_at = previous
        model = services.engagement()
        with services.workspace.connect(read_only=True) as con:
            draft = Draft(
                text=text, account=_account_key(con, platform, model), posted_at=posted_at
            )
            explanation = model.explain(draft)
            lines = [
                f"Your draft for {platform_name(platform)}, posted "
                f"{posting_time_label(posted_at)}, text only:",
                explanation.text(),
                "How to read it: a reason's points are what that feature adds to the chance, as "
                "the tree model weighs it against its average training post (SHAP); a word's "
                "points are how far the chance falls when the word is left out.",
                "Source: the engagement ensemble trained on our own posts in the workspace.",
            ]
            reply = "\n".join(lines)
            audit_id = services.workspace.record_audit(
                kind="draft_explanation",
                inputs={"text": text, "platform": platform, "posted_at": posted_at},
                sources=["model:engagement-ensemble", "workspace:posts"],
                output=reply,
                model_version=model.version,  # the model that answered
                conversation_id=tracker.sender_id,
            )
        dispatcher.utter_message(text=reply)
        params = _draft_params(text, platform, posted_at)
        return [remember(LastAnswer("explanation", params=params, audit_id=audit_id))]

    def explain_published(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        services: Services,
        post_id: str,
    ) -> Events:
        """Explain one of our published posts (a follow-up's "tell me about the second" too)."""
        model = services.engagement()
        with services.workspace.connect(read_only=True) as con:
            row = queries.post_outcome(con, post_id)
            if row is None:
                raise SlotValueError(f"I can't find a post with the id {post_id} in the workspace.")
            platform, text, posted_at, media_type, engagement, account = row
            key = f"{account}@{platform}"
            if key not in set(model.history_.times):
                raise SlotValueError(
                    f"{post_id} is not one of our own posts, so the model has no history to compare it with."
                )
            draft = Draft(text=text, account=key, posted_at=posted_at, media_type=media_type)
            explanation = model.explain(draft, now=posted_at)
            similar = _similar_posts(
                services, con, text=text, post_id=post_id, k=3, platform=platform
            )
            reply = "\n".join(
                [
                    f"{post_id} on {platform_name(platform)} ({posted_at:%d %b %Y %H:%M} UTC, "
                    f"{media_type}): it got {engagement:,} likes+comments+shares.",
                    "Before it went out, the model would have said: " + explanation.text(),
                    *similar_posts_lines("Posts like this one:", similar),
                    "Source: the engagement ensemble and the post's row in the workspace."
                    + _post_index_source(similar, services),
                ]
            )
            audit_id = services.workspace.record_audit(
                kind="post_explanation",
                inputs={"post_id": post_id},
                sources=[f"workspace:posts/{post_id}", "model:engagement-ensemble"]
                + ([POST_INDEX_SOURCE] if similar else []),
                output=reply,
                model_version=model.version,  # the model that answered
                conversation_id=tracker.sender_id,
            )
        dispatcher.utter_message(text=reply)
        shown = LastAnswer("explanation", ids=(post_id,), params={"platform": platform})
        return [remember(replace(shown, audit_id=audit_id))]


class ActionRecommendContent(BeaconAction):
    """When and how to post, found by the model on our latest post (or the draft) as a template."""

    action_name = "action_recommend_content"

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        platform = parse_platform(tracker.get_slot("platform")) or "instagram"
        model = services.engagement()
        with services.workspace.connect(read_only=True) as con:
            key = _account_key(con, platform, model)
            latest = queries.latest_post(con, key.rsplit("@", 1)[0], platform)
            draft_text = tracker.get_slot("draft_text")
            # "How can I improve it?" right after a prediction: that draft, at its time.
            previous = None if draft_text else _previous_prediction(tracker)
            if previous is not None:
                draft_text = previous[0]
            planned = previous[1] if previous and previous[1] >= planning_now(services) else None
            posted_at = planned or _next_hour()
            template = draft_text or (latest[1] if latest else "")
            source = (
                "your draft"
                if draft_text
                else f"our latest {platform_name(platform)} post ({latest[0]})"
                if latest
                else "an empty post"
            )
            draft = Draft(
                text=template,
                account=key,
                posted_at=posted_at,
                media_type=latest[2] if latest and not draft_text else "none",
            )
            similar = (
                _similar_posts(
                    services,
                    con,
                    text=template,
                    post_id=None if draft_text or not latest else latest[0],
                    k=2,
                    platform=platform,
                    top_30_only=True,
                )
                if template.strip()
                else []
            )
            lines = [
                f"For {platform_name(platform)}, using {source} as the template, posted "
                + (
                    f"{posting_time_label(posted_at)} as planned (times searched from then):"
                    if planned
                    else "next hour:"
                ),
                *_recommendation_lines(model, draft),
                *similar_posts_lines("Similar posts of ours that made the top 30%:", similar),
                "Source: the engagement ensemble trained on our own posts; "
                "each change is scored by the ensemble, with how many of its models agree."
                + _post_index_source(similar, services),
            ]
            reply = "\n".join(lines)
            audit_id = services.workspace.record_audit(
                kind="content_recommendation",
                inputs={"platform": platform, "template": template, "posted_at": posted_at},
                sources=["model:engagement-ensemble"] + ([POST_INDEX_SOURCE] if similar else []),
                output=reply,
                model_version=model.version,  # the model that answered
                conversation_id=tracker.sender_id,
            )
        dispatcher.utter_message(text=reply)
        # A draft stays the subject ("why?" next explains it); a template post is shown.
        params = _draft_params(draft_text, platform, posted_at) if draft_text else {}
        shown = () if draft_text or not latest else (str(latest[0]),)
        return [remember(LastAnswer("recommendation", shown, params, audit_id))]
