"""``predict_engagement``, ``explain_post`` and ``recommend_content``: the engagement ensemble."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import BeaconAction, Events
from actions.formatting import platform_name
from actions.parsing import SlotValueError, parse_platform
from actions.services import Services
from analytics.engagement import Draft, EngagementModel
from beacon.workspace import fetch_one, get_meta, record_audit


def _next_hour() -> datetime:
    now = datetime.now(UTC).replace(tzinfo=None, minute=0, second=0, microsecond=0)
    return now + timedelta(hours=1)


def _account_key(con: Any, platform: str, model: EngagementModel) -> str:
    """The model's key for our own account on ``platform`` ("<account>@<platform>")."""
    own = get_meta(con, "own_accounts", [])
    keys = [f"{account}@{platform}" for account in own]
    known = set(model.history_.times)
    for key in keys:
        if key in known:
            return key
    raise SlotValueError(
        f"I have no post history for our {platform_name(platform)} account, so I can't predict there yet."
    )


def _recommendation_lines(model: EngagementModel, draft: Draft) -> list[str]:
    recommendations = model.recommend(draft, top=3)
    if not recommendations:
        return ["I found no change to time, media, hashtags or length that would clearly help."]
    return ["What would raise it:"] + [f"• {r.text()}" for r in recommendations]


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
        model = services.engagement()
        with services.workspace.connect() as con:
            draft = Draft(
                text=text, account=_account_key(con, platform, model), posted_at=_next_hour()
            )
            explanation = model.explain(draft)
            reply = "\n".join(
                [
                    f"Draft for {platform_name(platform)}, posted at {draft.posted_at:%H:%M} UTC, "
                    "text only:",
                    explanation.text(),
                    *_recommendation_lines(model, draft),
                    "Source: the engagement ensemble trained on our own posts in the workspace; "
                    "the probability is calibrated on held-out posts.",
                ]
            )
            record_audit(
                con,
                kind="engagement_prediction",
                inputs={"text": text, "platform": platform, "posted_at": draft.posted_at},
                sources=["model:engagement-ensemble", "workspace:posts"],
                output=reply,
                model_version="engagement-ensemble-1",
                conversation_id=tracker.sender_id,
            )
        dispatcher.utter_message(text=reply)
        return [SlotSet("draft_text", None)]


class ActionExplainPost(BeaconAction):
    """Why a published post did well or badly: its outcome next to the model's reasons."""

    action_name = "action_explain_post"

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        post_id = (tracker.get_slot("post_id") or "").strip()
        if not post_id:
            raise SlotValueError("Which post? Give me its id, like tw-000123 or ig-000045.")
        model = services.engagement()
        with services.workspace.connect() as con:
            row = fetch_one(
                con,
                "SELECT platform, text, posted_at, media_type, likes + comments + shares, account "
                "FROM posts WHERE post_id = ?",
                [post_id],
            )
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
            reply = "\n".join(
                [
                    f"{post_id} on {platform_name(platform)} ({posted_at:%d %b %Y %H:%M} UTC, "
                    f"{media_type}): it got {engagement:,} likes+comments+shares.",
                    "Before it went out, the model would have said: " + explanation.text(),
                    "Source: the engagement ensemble and the post's row in the workspace.",
                ]
            )
            record_audit(
                con,
                kind="post_explanation",
                inputs={"post_id": post_id},
                sources=[f"workspace:posts/{post_id}", "model:engagement-ensemble"],
                output=reply,
                model_version="engagement-ensemble-1",
                conversation_id=tracker.sender_id,
            )
        dispatcher.utter_message(text=reply)
        return []


class ActionRecommendContent(BeaconAction):
    """When and how to post, found by the model on our latest post (or the draft) as a template."""

    action_name = "action_recommend_content"

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        platform = parse_platform(tracker.get_slot("platform")) or "instagram"
        model = services.engagement()
        with services.workspace.connect() as con:
            key = _account_key(con, platform, model)
            latest = fetch_one(
                con,
                "SELECT post_id, text, media_type FROM posts WHERE account = ? AND platform = ? "
                "ORDER BY posted_at DESC LIMIT 1",
                [key.rsplit("@", 1)[0], platform],
            )
            draft_text = tracker.get_slot("draft_text")
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
                posted_at=_next_hour(),
                media_type=latest[2] if latest and not draft_text else "none",
            )
            lines = [
                f"For {platform_name(platform)}, using {source} as the template, posted next hour:",
                *_recommendation_lines(model, draft),
                "Source: the engagement ensemble trained on our own posts; "
                "each change is scored by the calibrated model, with how many members agree.",
            ]
            reply = "\n".join(lines)
            record_audit(
                con,
                kind="content_recommendation",
                inputs={"platform": platform, "template": template},
                sources=["model:engagement-ensemble"],
                output=reply,
                model_version="engagement-ensemble-1",
                conversation_id=tracker.sender_id,
            )
        dispatcher.utter_message(text=reply)
        return []
