"""``rank_influencers`` → :class:`ActionRankInfluencers`."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.base import BeaconAction, Events
from actions.parsing import brief_from_request, parse_budget, parse_platform
from actions.services import Services
from analytics.influencers import load_creators_from_workspace, rank_creators
from foundation.workspace import record_audit

TOP_K = 5


class ActionRankInfluencers(BeaconAction):
    """Creators ranked for a brief and budget, each with its reasons, and why #1 beat #2."""

    action_name = "action_rank_influencers"

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        text = (tracker.latest_message or {}).get("text") or ""
        brief = brief_from_request(tracker.get_slot("topic"), text)
        budget = parse_budget(text)
        platform = parse_platform(tracker.get_slot("platform"))
        with services.workspace.connect() as con:
            creators = load_creators_from_workspace(con, platform=platform)
            ranking = rank_creators(
                creators,
                brief,
                budget=budget,
                top_k=TOP_K,
                platform=platform,
                scorer=services.scorer,
                currency="EUR",
            )
            if not ranking.items:
                reply = f"No creator in the workspace fits “{brief}”" + (
                    f" within a budget of {budget:,.0f} EUR." if budget else "."
                )
            else:
                head = f"Creators for “{brief}”" + (
                    f" within a budget of {budget:,.0f} EUR" if budget else ""
                )
                lines = [f"{head} (best first):"]
                lines += [f"{item.position}. {item.reason_line()}" for item in ranking.items]
                if len(ranking.items) > 1:
                    lines.append("Why #1 over #2: " + ranking.explain_pair(1, 2))
                lines.append(
                    f"Source: {len(creators)} creators in the workspace and their recent posts; "
                    "engagement is shrunk toward each follower tier so a few lucky posts don't win."
                )
                reply = "\n".join(lines)
            record_audit(
                con,
                kind="influencer_ranking",
                inputs={"brief": brief, "budget": budget, "platform": platform},
                sources=["workspace:influencers", "workspace:posts"],
                output=ranking.to_dict(),
                model_version=services.scorer.version,
                conversation_id=tracker.sender_id,
            )
        dispatcher.utter_message(text=reply)
        return []
