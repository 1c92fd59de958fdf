"""``rank_influencers`` → :class:`ActionRankInfluencers`; its follow-ups live in actions/followups.py."""

from __future__ import annotations

import re
from typing import Any

import duckdb
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.base import BeaconAction, Events
from actions.context import LastAnswer, last_answer, latest_text, remember
from actions.links import view_link, with_link
from actions.parsing import brief_from_request, mentioned_positions, parse_budget, parse_platform
from actions.services import Services
from analytics.influencers import Ranking, load_creators_from_workspace, rank_creators
from foundation.workspace import queries

TOP_K = 5

_COMPARE = re.compile(r"\b(why|ahead|above|over|beat|better|worse|vs|versus|compare\w*)\b")


def rank_for_brief(
    services: Services, brief: str, budget: float | None, platform: str | None
) -> tuple[int, Ranking]:
    """How many creators the workspace holds, and their ranking for the brief.

    The ranking is deterministic for the same workspace, so a follow-up ("tell me more
    about the third") ranks again from the parameters the answer remembered.
    """

    def rank(con: duckdb.DuckDBPyConnection) -> tuple[int, Ranking]:
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
        return len(creators), ranking

    key = ("influencer_ranking", brief, budget, platform, services.scorer.version)
    with services.workspace.connect(read_only=True) as con:
        return services.answers.get_or_compute(key, queries.data_version(con), lambda: rank(con))


class ActionRankInfluencers(BeaconAction):
    """Creators ranked for a brief and budget, each with its reasons, and why #1 beat #2."""

    action_name = "action_rank_influencers"

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        text = latest_text(tracker)
        brief = brief_from_request(tracker.get_slot("topic"), text)
        budget = parse_budget(text)
        platform = parse_platform(tracker.get_slot("platform"))
        return self.rank(dispatcher, tracker, services, brief, budget, platform)

    def rank(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        services: Services,
        brief: str,
        budget: float | None,
        platform: str | None,
    ) -> Events:
        """Rank the creators for ``brief`` within ``budget`` on ``platform`` and answer."""
        count, ranking = rank_for_brief(services, brief, budget, platform)
        within = f" within a budget of {budget:,.0f} EUR" if budget else ""
        if not ranking.items:
            reply = f"No creator in the workspace fits “{brief}”{within}."
        else:
            lines = [f"Creators for “{brief}”{within} (best first):"]
            lines += [f"{item.position}. {item.reason_line()}" for item in ranking.items]
            if len(ranking.items) > 1:
                lines.append("Why #1 over #2: " + ranking.explain_pair(1, 2))
            lines.append(
                f"Source: {count} creators in the workspace and their recent posts; "
                "engagement is shrunk toward each follower tier so a few lucky posts don't win."
            )
            reply = "\n".join(lines)
        params: dict[str, Any] = {"brief": brief, "budget": budget, "platform": platform}
        audit_id = services.workspace.record_audit(
            kind="influencer_ranking",
            inputs=params,
            sources=["workspace:influencers", "workspace:posts"],
            output=ranking.to_dict(),
            model_version=services.scorer.version,
            conversation_id=tracker.sender_id,
        )
        link = view_link(tracker, services, "creators", {"brief": brief, "platform": platform})
        dispatcher.utter_message(text=with_link(reply, link) if ranking.items else reply)
        shown = tuple(item.creator_id for item in ranking.items)
        return [remember(LastAnswer("ranking", ids=shown, params=params, audit_id=audit_id))]


def rank_again(dispatcher: CollectingDispatcher, tracker: Tracker, services: Services) -> Events:
    """The last ranking again, with what a bare follow-up names ("and on tiktok?").

    A bare message is no brief: the brief, budget and platform come from the answer,
    and only what the message named replaces them (a platform, a topic, a budget).
    """
    answer = last_answer(tracker)
    params = answer.params if answer is not None else {}
    named = {
        entity.get("entity"): entity.get("value")
        for entity in (tracker.latest_message or {}).get("entities") or []
    }
    text = latest_text(tracker)
    brief = str(named.get("topic") or params.get("brief") or "").strip() or brief_from_request(
        None, text
    )
    budget = parse_budget(text) or params.get("budget")
    platform = parse_platform(tracker.get_slot("platform")) if "platform" in named else None
    return ActionRankInfluencers().rank(
        dispatcher, tracker, services, brief, budget, platform or params.get("platform")
    )


def answer_ranking_followup(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    services: Services,
    answer: LastAnswer,
) -> Events:
    """A follow-up to a creator ranking: one creator's details, or why one is above another.

    The ranking is made again from the parameters the answer remembered; "why is number
    one ahead of number two?" compares the two, "tell me more about the third" gives
    everything behind that place, and a bare "why?" compares the top two.
    """
    text = latest_text(tracker)
    params = answer.params
    _, ranking = rank_for_brief(
        services, str(params.get("brief") or ""), params.get("budget"), params.get("platform")
    )
    positions = mentioned_positions(text, len(ranking.items))
    if len(positions) >= 2 or (not positions and _COMPARE.search(text.lower())):
        first, second = positions[:2] if positions else (1, 2)  # places are distinct
        reply = ranking.explain_pair(first, second)
    elif positions:
        reply = ranking.describe(positions[0])
    else:
        dispatcher.utter_message(
            text=f"Which creator? I ranked {len(ranking.items)}; say e.g. “tell me more "
            "about the third” or “why is number one ahead of number two?”."
        )
        return []
    services.workspace.record_audit(
        kind="influencer_followup",
        inputs={**params, "text": text, "ranking_audit_id": answer.audit_id},
        sources=["workspace:influencers", "workspace:posts"],
        output=reply,
        model_version=services.scorer.version,
        conversation_id=tracker.sender_id,
    )
    dispatcher.utter_message(text=reply)
    return []  # the ranking stays the previous answer: "and the fourth?" still works
