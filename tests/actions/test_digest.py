"""action_request_digest: the last complete week's digest as text plus one chart."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.capabilities import BY_ACTION, help_text
from actions.digest import ActionRequestDigest
from actions.services import Services
from analytics.engagement import MODEL_VERSION
from foundation.workspace import get_meta
from tests.actions.conftest import FIXTURES, ActionRun
from tests.conftest import answered_from_public_pages

pytestmark = pytest.mark.filterwarnings("ignore:You are using an old version of rasa")


def _tracker(audience: str, sender: str) -> Tracker:
    """The saved help tracker of ``audience``, asking for the weekly summary instead."""
    data: dict[str, Any] = json.loads((FIXTURES / f"{audience}_help.json").read_text())
    data["sender_id"] = sender
    for message in [data["latest_message"]] + [
        e["parse_data"] for e in data["events"] if e.get("event") == "user"
    ]:
        message["text"] = "send me the weekly summary"
        message["intent"] = {"name": "request_digest", "confidence": 0.96}
    for event in data["events"]:
        if event.get("event") == "user":
            event["text"] = "send me the weekly summary"
    return Tracker.from_dict(data)


def _run(tracker: Tracker) -> ActionRun:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionRequestDigest().run(dispatcher, tracker, {}))
    return ActionRun(events=list(events), messages=dispatcher.messages)


def test_staff_get_the_last_complete_weeks_digest(services: Services) -> None:
    run = _run(_tracker("staff", "staff-digest"))
    assert run.events == []
    assert len(run.messages) == 2
    text = run.messages[0]["text"]
    assert text.startswith("Trailbird weekly digest, 2026-W48 (23–29 Nov 2026), vs 2026-W47:")
    with services.workspace.connect() as con:
        own, terms = get_meta(con, "own_accounts"), get_meta(con, "brand_terms")
        brand_posts = con.execute(
            """SELECT count(*) FROM posts p JOIN scores s
                 ON s.post_id = p.post_id AND s.model_version = ?
               WHERE CAST(p.posted_at AS DATE) BETWEEN '2026-11-23' AND '2026-11-29'
                 AND NOT list_contains(?, p.account)
                 AND (p.platform = 'support' OR regexp_matches(lower(p.text), ?))""",
            [services.scorer.version, own, "|".join(re.escape(t.lower()) for t in terms)],
        ).fetchall()[0][0]
        audits = con.execute(
            "SELECT kind, conversation_id FROM audit ORDER BY created_at"
        ).fetchall()
    assert f"Post volume: {brand_posts:,} posts about the brand" in text
    assert "Best post:" in text and "Worst post:" in text
    assert "Recommended:" in text or "Nothing this week calls for action" in text
    chart = services.charts.path_of(str(run.messages[1]["image"]).rsplit("/", 1)[1])
    assert chart is not None and chart.read_bytes()[:4] == b"\x89PNG"
    assert [kind for kind, _ in audits].count("digest_section") == 8
    assert audits[-1] == ("digest_answer", "staff-digest")
    assert {conversation for _, conversation in audits} == {"staff-digest"}


def test_the_engagement_model_explains_best_and_worst(services: Services) -> None:
    run = _run(_tracker("staff", "staff-digest-model"))
    with services.workspace.connect() as con:
        output = json.loads(
            con.execute(
                "SELECT output FROM audit WHERE kind = 'digest_section' "
                "AND json_extract_string(inputs, '$.section') = 'engagement'"
            ).fetchall()[0][0]
        )
    assert output["model_version"] == MODEL_VERSION  # the model's own version, not re-prefixed
    assert output["best"]["model_text"].startswith("Chance of landing in this account's top 30%")
    assert "Best post" in run.text


def test_customers_get_the_help_pages_not_the_digest(services: Services) -> None:
    run = _run(_tracker("customer", "customer-digest"))
    assert answered_from_public_pages(run.text) and "Digest" not in run.text
    with services.workspace.connect() as con:
        kinds = [r[0] for r in con.execute("SELECT kind FROM audit ORDER BY created_at").fetchall()]
    assert kinds == ["refused_staff_only", "knowledge_answer"]


def test_digest_is_listed_in_staff_help() -> None:
    assert "action_request_digest" in BY_ACTION
    assert "the weekly insight digest — e.g. “send me the weekly summary”" in help_text("staff")
