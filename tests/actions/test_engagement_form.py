"""The engagement form's posting time: the question, the validator, and the prediction's use of it."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import datetime, timedelta
from typing import Any

import pytest
import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.context import LastAnswer
from actions.engagement import (
    ActionExplainPost,
    ActionPredictEngagement,
    ActionRecommendContent,
    planning_now,
)
from actions.fallbacks import ActionFallback
from actions.followups import ActionAskWhatAbout
from actions.forms import ASK_POSTING_TIME, ActionAskPostingTime, ValidateEngagementForm
from actions.knowledge import ActionKnowledgeAnswer
from actions.parsing import asks_how_a_draft_will_do, handed_over_draft, inline_draft
from actions.services import Services
from tests.actions.conftest import FIXTURES, ActionRun
from tests.conftest import PROJECT_ROOT, answered_from_public_pages

pytestmark = pytest.mark.filterwarnings("ignore:You are using an old version of rasa")

# The demo ends on Monday 30 Nov 2026 (the services' pinned "today").
FRIDAY_9 = "2026-12-04T09:00"


def _domain() -> dict[str, Any]:
    """The parts of bot/domain/engagement.yml the validator reads (forms and slots)."""
    return dict(yaml.safe_load((PROJECT_ROOT / "bot/domain/engagement.yml").read_text()))


def _tracker(
    text: str,
    *,
    intent: str = "inform",
    slots: dict[str, Any] | None = None,
    candidates: dict[str, Any] | None = None,
    audience: str = "staff",
    before: list[dict[str, Any]] | None = None,
) -> Tracker:
    """The saved prediction tracker with another latest message, slots and trailing events.

    ``candidates`` become the slot events after the form's action, as Rasa sends them
    to the validation action; ``before`` are events inserted before the latest message.
    """
    data = json.loads((FIXTURES / "staff_predict_engagement.json").read_text())
    data["slots"].update({"draft_text": None, "posting_time": None, **(slots or {})})
    user = data["events"][-1]
    for message in (data["latest_message"], user["parse_data"]):
        message["text"] = text
        message["intent"] = {"name": intent, "confidence": 0.9}
        message["metadata"] = {"audience": audience}
    user["text"] = text
    user["metadata"] = {"audience": audience}
    data["events"][-1:-1] = before or []
    for event in before or []:  # Rasa sends the slots as the events left them
        if event["event"] == "slot":
            data["slots"][event["name"]] = event["value"]
    data["events"].append({"event": "action", "name": "engagement_form", "timestamp": 1.0})
    data["events"] += [
        {"event": "slot", "name": name, "value": value, "timestamp": 1.0}
        for name, value in (candidates or {}).items()
    ]
    return Tracker.from_dict(data)


def _run(action: Action, tracker: Tracker) -> ActionRun:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, _domain()))
    return ActionRun(events=list(events), messages=dispatcher.messages)


def _slots(run: ActionRun) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in run.events if e.get("event") == "slot"}


def _answer(text: str, audience: str = "staff") -> ActionRun:
    """Run the validator on ``text`` as the answer to "When will it go out?"."""
    tracker = _tracker(
        text,
        slots={"requested_slot": "posting_time", "draft_text": "New Sprint 3 colours!"},
        candidates={"posting_time": text},
        audience=audience,
    )
    return _run(ValidateEngagementForm(), tracker)


# ----------------------------------------------------------------------------- the question
def test_the_form_asks_for_the_time_with_the_current_utc_time(services: Services) -> None:
    run = _run(ActionAskPostingTime(), _tracker("instagram"))
    assert run.text.startswith(ASK_POSTING_TIME)
    assert re.search(r"; it is Mon 30 Nov \d\d:\d\d UTC now\.$", run.text)
    assert run.events == []


def test_customers_are_not_asked(services: Services) -> None:
    text = _run(ActionAskPostingTime(), _tracker("hi", audience="customer")).text
    assert answered_from_public_pages(text) and ASK_POSTING_TIME not in text


# ---------------------------------------------------------------------------- the validator
def test_an_answer_becomes_an_iso_timestamp(services: Services) -> None:
    run = _answer("tomorrow at 9")
    assert _slots(run) == {"posting_time": "2026-12-01T09:00"}
    assert run.messages == []


def test_a_fuzzy_answer_says_which_hour_it_means(services: Services) -> None:
    run = _answer("friday morning")
    assert _slots(run) == {"posting_time": FRIDAY_9}
    assert run.text == "I read that as Fri 4 Dec 09:00 UTC (morning = 09:00)."


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("whatever man", "I couldn't read a time in “whatever man”."),
        ("3/12 9am", "'3/12' could be 3 Dec or 12 Mar; write it like 'Dec 3' or '2026-12-03'."),
        ("yesterday at 9", "Sun 29 Nov 09:00 UTC is already past (it is Mon 30 Nov "),
        ("jan 20", "Wed 20 Jan 2027 09:00 UTC is more than 30 days ahead;"),
    ],
)
def test_an_unusable_answer_gets_a_reason_and_is_asked_again(
    services: Services, text: str, reason: str
) -> None:
    run = _answer(text)
    assert _slots(run) == {"posting_time": None}  # the form asks again
    assert len(run.messages) == 1 and run.text.startswith(reason)


@pytest.mark.parametrize("text", ["not sure", "you pick", "whenever"])
def test_leaving_it_to_us_takes_the_next_full_hour(services: Services, text: str) -> None:
    before = planning_now(services)
    run = _answer(text)
    when = datetime.fromisoformat(_slots(run)["posting_time"])
    assert when.minute == 0 and before < when <= before + timedelta(hours=1)
    assert run.text.startswith(f"Then I'll take the next full hour, {when:%a} {when.day} {when:%b}")
    assert '"how can I improve it?"' in run.text


def test_customers_get_no_messages_from_the_validator(services: Services) -> None:
    run = _answer("3/12 9am", audience="customer")
    assert _slots(run) == {"posting_time": None} and run.messages == []


def test_a_time_in_the_opening_message_fills_the_slot(services: Services) -> None:
    tracker = _tracker("how will this do if I post it friday at 9am", intent="predict_engagement")
    run = _run(ValidateEngagementForm(), tracker)
    assert _slots(run) == {"posting_time": FRIDAY_9}


def test_a_time_with_the_platform_answer_fills_the_slot(services: Services) -> None:
    tracker = _tracker(
        "instagram, tomorrow 9am",
        slots={"requested_slot": "platform", "draft_text": "New Sprint 3 colours!"},
        candidates={"platform": "instagram"},
    )
    run = _run(ValidateEngagementForm(), tracker)
    assert _slots(run) == {"platform": "instagram", "posting_time": "2026-12-01T09:00"}


def test_a_past_time_in_the_opening_message_is_refused_and_asked_for(services: Services) -> None:
    tracker = _tracker("how would this have done yesterday at 9", intent="predict_engagement")
    run = _run(ValidateEngagementForm(), tracker)
    assert _slots(run) == {"posting_time": None}
    assert "is already past" in run.text


@pytest.mark.parametrize(
    ("text", "intent", "requested"),
    [
        ("how will my draft post do?", "predict_engagement", None),  # no time in it
        ("sale ends friday at 9am, grab a pair", "inform", "draft_text"),  # the draft itself
        ("what is our return policy for friday orders", "ask_knowledge", "platform"),
    ],
)
def test_other_messages_are_not_read_as_the_time(
    services: Services, text: str, intent: str, requested: str | None
) -> None:
    tracker = _tracker(text, intent=intent, slots={"requested_slot": requested})
    assert "posting_time" not in _slots(_run(ValidateEngagementForm(), tracker))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "how will this do on instagram: New colours are in!",
            ("how will this do on instagram", "New colours are in!"),
        ),
        (
            'score "Sunrise miles hit different" for friday 9am',
            ("score for friday 9am", "Sunrise miles hit different"),
        ),
        ("rate “Trail socks, now in teal.” please", ("rate please", "Trail socks, now in teal.")),
        (
            "gonna tweet 'Restock alert: vests, today only' at noon, will it flop?",
            ("gonna tweet at noon, will it flop?", "Restock alert: vests, today only"),
        ),
        ("it's the runner's choice: don't miss it", ("it's the runner's choice", "don't miss it")),
        ("predict engagement for a post going out at 17:00", None),  # a time, not a draft
        ("how will this do: ok", None),  # one word is not a draft
        ("how will my draft post do?", None),
        (
            "a very long message that goes on and on about many things, the weather, the "
            "team and the office, before it finally gets to the point: and then says more",
            None,
        ),
    ],
)
def test_a_draft_given_with_the_request_is_found(
    text: str, expected: tuple[str, str] | None
) -> None:
    assert inline_draft(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "thinking of tweeting this: new trail map is live, find routes near you",
            ("thinking of tweeting this", "new trail map is live, find routes near you", "twitter"),
        ),
        (
            "here's tomorrow's insta caption: fresh colours for the swift 3",
            ("here's tomorrow's insta caption", "fresh colours for the swift 3", "instagram"),
        ),
        (
            'planning to post "Sunrise miles hit different" next week',
            ("planning to post next week", "Sunrise miles hit different", None),
        ),
        (  # a lead-in that names a platform hands the draft over too
            "quick one, i want to put this on instagram: 'mud, sweat and ten years of trails'",
            (
                "quick one, i want to put this on instagram:",
                "mud, sweat and ten years of trails",
                "instagram",
            ),
        ),
        (  # so does one that asks how it will do
            "how likely is this to do well: 'giveaway! comment your favourite trail'",
            ("how likely is this to do well:", "giveaway! comment your favourite trail", None),
        ),
        ("what does the guide say about tone: formal or casual?", None),  # no posting
        ("thinking of tweeting something later", None),  # no draft
    ],
)
def test_a_draft_handed_over_with_a_lead_in_is_found_with_its_platform(
    text: str, expected: tuple[str, str, str | None] | None
) -> None:
    assert handed_over_draft(text) == expected


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        (
            "i've got a fb post lined up for friday 6pm - 'free trail clinic at our store, "
            "bring your worn-out shoes'. how do we think it'll go",
            True,
        ),
        ("scoring request: 'we planted a tree for every pair sold' on instagram", True),
        ("is 'your feet deserve better. so do your trails.' a strong post for twitter", True),
        ("is 'attack the hill' ok as a headline or is that off brand", False),
        ("does the voice guide allow 'game-changing grip' on the banner? good idea?", False),
        ("can i open the newsletter with 'hey guys'? asking before i hit send", False),
    ],
)
def test_a_draft_asked_about_is_told_from_a_phrase_asked_about(text: str, asks: bool) -> None:
    assert asks_how_a_draft_will_do(text) is asks


def test_a_draft_read_as_a_bare_entity_or_unclear_starts_the_form(services: Services) -> None:
    for action, intent in ((ActionAskWhatAbout(), "inform"), (ActionFallback(), "nlu_fallback")):
        text = "here's tomorrow's insta caption: fresh colours for the swift 3, out at dawn"
        run = _run(action, _tracker(text, intent=intent, slots={"platform": "facebook"}))
        assert run.messages == []  # the form asks what is missing
        assert _slots(run) == {
            "draft_text": "fresh colours for the swift 3, out at dawn",
            "platform": "instagram",  # from the lead-in, not the stale slot
            "posting_time": "here's tomorrow's insta caption",  # "tomorrow": the form reads it
        }
        followups = [e["name"] for e in run.events if e.get("event") == "followup"]
        assert followups == ["engagement_form"], run.events


def test_a_draft_asked_about_but_read_as_a_documents_question_starts_the_form(
    services: Services,
) -> None:
    text = "got a fb post lined up for friday 6pm - 'free trail clinic at our store'. how'd it go?"
    run = _run(ActionKnowledgeAnswer(), _tracker(text, intent="ask_knowledge"))
    assert run.messages == []
    assert _slots(run)["draft_text"] == "free trail clinic at our store"
    assert _slots(run)["platform"] == "facebook"
    assert [e["name"] for e in run.events if e.get("event") == "followup"] == ["engagement_form"]
    # A phrase asked about against the rules stays a question for the documents.
    asked = "is 'attack the hill' ok as a headline or is that off brand"
    run = _run(ActionKnowledgeAnswer(), _tracker(asked, intent="ask_knowledge"))
    assert not any(e.get("event") == "followup" for e in run.events)
    assert run.messages and "From your documents" in run.messages[0]["text"]


def test_a_customer_draft_like_message_never_opens_the_staff_form(services: Services) -> None:
    text = "thinking of posting this: your shoes fell apart after a week"
    run = _run(ActionAskWhatAbout(), _tracker(text, intent="inform", audience="customer"))
    assert not any(event.get("event") == "followup" for event in run.events)


def test_a_draft_in_the_opening_message_fills_the_slot_and_its_words_are_not_the_time(
    services: Services,
) -> None:
    text = "how will this do on instagram: New trail shoe drop this Friday! Who is running with us?"
    run = _run(ValidateEngagementForm(), _tracker(text, intent="predict_engagement"))
    assert _slots(run) == {"draft_text": "New trail shoe drop this Friday! Who is running with us?"}


def test_a_draft_and_a_time_in_the_opening_message_fill_both(services: Services) -> None:
    text = 'how will "New Sprint 3 colours are in, this weekend only" do friday at 9am'
    run = _run(ValidateEngagementForm(), _tracker(text, intent="predict_engagement"))
    assert _slots(run) == {
        "draft_text": "New Sprint 3 colours are in, this weekend only",
        "posting_time": FRIDAY_9,
    }


def test_a_customer_or_a_later_answer_does_not_fill_the_draft_from_a_colon(
    services: Services,
) -> None:
    text = "how will this do on instagram: New colours are in!"
    customer = _tracker(text, intent="predict_engagement", audience="customer")
    assert "draft_text" not in _slots(_run(ValidateEngagementForm(), customer))
    later = _tracker(text, intent="inform", slots={"requested_slot": "platform"})
    assert "draft_text" not in _slots(_run(ValidateEngagementForm(), later))


# --------------------------------------------------------------- prediction and recommendation
def test_the_prediction_is_for_the_planned_time_and_clears_it(services: Services) -> None:
    tracker = _tracker(
        "friday 9am", slots={"draft_text": "New Sprint 3 colours!", "posting_time": FRIDAY_9}
    )
    run = _run(ActionPredictEngagement(), tracker)
    assert run.text.startswith("Draft for Instagram, posted Fri 4 Dec 09:00 UTC, text only:")
    slots = _slots(run)
    assert {k: slots[k] for k in ("draft_text", "posting_time")} == {
        "draft_text": None,
        "posting_time": None,
    }
    assert slots["last_answer"]["kind"] == "prediction"
    assert slots["last_answer"]["params"]["draft"] == "New Sprint 3 colours!"
    with services.workspace.connect() as con:
        inputs = con.execute(
            "SELECT inputs FROM audit WHERE kind = 'engagement_prediction'"
        ).fetchall()[0][0]
    assert json.loads(inputs)["posted_at"] == "2026-12-04 09:00:00"
    assert json.loads(inputs)["posting_time_given"] is True


def _predicted(when: str) -> list[dict[str, Any]]:
    """The events of a prediction for ``when``, as the tracker holds them afterwards."""
    return [
        {"event": "slot", "name": "draft_text", "value": "New Sprint 3 colours!", "timestamp": 1},
        {"event": "slot", "name": "posting_time", "value": when, "timestamp": 1},
        {"event": "action", "name": "action_predict_engagement", "timestamp": 1},
        {"event": "slot", "name": "draft_text", "value": None, "timestamp": 1},
        {"event": "slot", "name": "posting_time", "value": None, "timestamp": 1},
        {
            "event": "slot",
            "name": "last_answer",
            "value": LastAnswer(
                "prediction",
                params={
                    "draft": "New Sprint 3 colours!",
                    "platform": "instagram",
                    "posted_at": when,
                },
            ).to_slot(),
            "timestamp": 1,
        },
        {"event": "action", "name": "action_listen", "timestamp": 1},
    ]


def test_improving_a_prediction_uses_its_draft_and_searches_from_its_time(
    services: Services,
) -> None:
    tracker = _tracker(
        "how can i improve it", intent="recommend_content", before=_predicted(FRIDAY_9)
    )
    text = _run(ActionRecommendContent(), tracker).text
    assert text.startswith(
        "For Instagram, using your draft as the template, posted Fri 4 Dec 09:00 UTC as planned"
    )
    with services.workspace.connect() as con:
        inputs = con.execute(
            "SELECT inputs FROM audit WHERE kind = 'content_recommendation'"
        ).fetchall()[0][0]
    assert json.loads(inputs)["posted_at"] == "2026-12-04 09:00:00"
    assert json.loads(inputs)["template"] == "New Sprint 3 colours!"


def test_improving_a_prediction_whose_time_has_passed_starts_next_hour(
    services: Services,
) -> None:
    tracker = _tracker(
        "how can i improve it", intent="recommend_content", before=_predicted("2026-11-30T00:00")
    )
    text = _run(ActionRecommendContent(), tracker).text
    assert text.startswith("For Instagram, using your draft as the template, posted next hour:")


def _asked_why(post_id: str | None = None) -> list[dict[str, Any]]:
    """A "why?" turn answered by action_explain_post (naming ``post_id`` when given).

    The answer remembers what it explained: the draft, or the published post.
    """
    named = [{"event": "slot", "name": "post_id", "value": post_id, "timestamp": 1}]
    explained = (
        LastAnswer("explanation", ids=(post_id,), params={"platform": "instagram"})
        if post_id
        else LastAnswer(
            "explanation",
            params={
                "draft": "New Sprint 3 colours!",
                "platform": "instagram",
                "posted_at": FRIDAY_9,
            },
        )
    )
    return [
        {
            "event": "user",
            "text": "why?",
            "timestamp": 1,
            "parse_data": {"intent": {"name": "explain_post", "confidence": 0.9}, "entities": []},
        },
        *(named if post_id else []),
        {"event": "action", "name": "action_explain_post", "timestamp": 1},
        {"event": "slot", "name": "last_answer", "value": explained.to_slot(), "timestamp": 1},
        {"event": "action", "name": "action_listen", "timestamp": 1},
    ]


def test_why_right_after_a_prediction_explains_that_draft(services: Services) -> None:
    tracker = _tracker("why?", intent="explain_post", before=_predicted(FRIDAY_9))
    run = _run(ActionExplainPost(), tracker)
    assert run.text.startswith("Your draft for Instagram, posted Fri 4 Dec 09:00 UTC, text only:")
    assert re.search(r"Chance of landing in this account's top 30%: \d+%", run.text)
    assert "Strongest reasons:" in run.text and "How to read it:" in run.text
    slots = _slots(run)
    assert "post_id" not in slots  # no post was named
    assert slots["last_answer"]["kind"] == "explanation"
    assert slots["last_answer"]["params"]["draft"] == "New Sprint 3 colours!"
    with services.workspace.connect() as con:
        rows = con.execute("SELECT kind, inputs FROM audit").fetchall()
    assert [kind for kind, _ in rows] == ["draft_explanation"]
    assert json.loads(rows[0][1])["text"] == "New Sprint 3 colours!"


def test_why_without_a_prediction_before_asks_which_post(services: Services) -> None:
    run = _run(ActionExplainPost(), _tracker("why?", intent="explain_post"))
    assert run.text.startswith("Which post?")


def test_improving_after_why_still_means_the_draft(services: Services) -> None:
    before = _predicted(FRIDAY_9) + _asked_why()
    tracker = _tracker("how can i improve it", intent="recommend_content", before=before)
    text = _run(ActionRecommendContent(), tracker).text
    assert text.startswith("For Instagram, using your draft as the template")


def test_improving_after_explaining_a_published_post_is_not_about_the_draft(
    services: Services,
) -> None:
    before = _predicted(FRIDAY_9) + _asked_why(post_id="ig-000045")
    tracker = _tracker("how can i improve it", intent="recommend_content", before=before)
    text = _run(ActionRecommendContent(), tracker).text
    assert text.startswith("For Instagram, using our latest Instagram post (ig-")


def test_a_recommendation_not_after_a_prediction_is_for_the_next_hour(services: Services) -> None:
    tracker = _tracker("when should we post on instagram", intent="recommend_content")
    text = _run(ActionRecommendContent(), tracker).text
    assert text.startswith("For Instagram, using our latest Instagram post (ig-")
    assert "posted next hour:" in text
