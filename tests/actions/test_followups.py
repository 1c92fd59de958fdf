"""Follow-ups resolved against the previous answer, typed yes/no to offers, the safety net.

Each test plays a short conversation through the real actions on the demo workspace
(:class:`~tests.actions.conftest.Chat`): the intent stands in for the NLU, everything
else (slots, the remembered answer, the offer) is what the actions themselves returned.
"""

from __future__ import annotations

import re

import pytest
from rasa_sdk import Tracker

from actions.anomalies import ActionAnomalies
from actions.context import LastAnswer, pending_offer
from actions.engagement import ActionExplainPost, ActionPredictEngagement, ActionRecommendContent
from actions.experiments import ActionAnalyzeExperiment
from actions.fallbacks import (
    NOT_UNDERSTOOD,
    OUT_OF_SCOPE,
    UNSURE_LEAD,
    ActionFallback,
    ActionOutOfScope,
)
from actions.followups import ASK_WHAT_ABOUT, NOTHING_TO_FOLLOW, ActionAskWhatAbout, ActionFollowup
from actions.influencers import ActionRankInfluencers
from actions.knowledge import ActionKnowledgeAnswer
from actions.offers import NOTHING_OFFERED_NO, NOTHING_OFFERED_YES, ActionAnswerOffer
from actions.parsing import mentioned_positions
from actions.posts import ActionTopPosts
from actions.sentiment import ActionSentimentSummary
from actions.services import Services
from actions.support import ActionGoodbye, ActionRateConversation
from tests.actions.conftest import Chat, twitter_sentiment_chat
from tests.conftest import answered_from_public_pages

POST_ID = re.compile(r"\b(?:tw|ig|fb)-m?\d{6}\b")


def _last_answer(chat: Chat) -> LastAnswer | None:
    return LastAnswer.from_slot(chat.data["slots"].get("last_answer"))


# ------------------------------------------------------------------------ creator rankings
def test_ranking_follow_ups_point_at_places(services: Services) -> None:
    chat = Chat()
    ranked = chat.say(
        "who should we work with for trail running?", "rank_influencers", ActionRankInfluencers()
    )
    shown = _last_answer(chat)
    assert shown is not None and shown.kind == "ranking" and len(shown.ids) == 5
    third = chat.say("tell me more about the third", "ask_more", ActionFollowup())
    assert third.text.startswith("#3 ") and "Where the score comes from" in third.text
    handle = third.text.split()[1]
    assert f"3. {handle}" in ranked.text  # the same creator the ranking showed third
    why = chat.say("why is number one ahead of number two?", "explain_post", ActionExplainPost())
    assert why.text.startswith("#1 ") and "is placed above #2" in why.text
    again = chat.say("and why is #2 over #4", "ask_more", ActionFollowup())
    assert again.text.startswith("#2 ") and "is placed above #4" in again.text


def test_a_ranking_follow_up_without_a_place_asks_which(services: Services) -> None:
    chat = Chat()
    chat.say("creators for hiking content", "rank_influencers", ActionRankInfluencers())
    run = chat.say("tell me more", "ask_more", ActionFollowup())
    assert run.text.startswith("Which creator? I ranked 5")


# ---------------------------------------------------------------- examples behind an answer
def test_examples_behind_a_sentiment_answer(services: Services) -> None:
    chat = twitter_sentiment_chat()
    run = chat.say("show me a few of the negative ones", "ask_more", ActionFollowup())
    lines = run.text.splitlines()
    assert lines[0].startswith("Negative posts about Trailbird on Twitter/X, this month")
    assert 1 <= len(lines) - 1 <= 5
    assert all(POST_ID.search(line) and "— negative," in line for line in lines[1:])
    assert all("tw-m" in line for line in lines[1:])  # talk about the brand, not its own posts


@pytest.mark.parametrize(
    "asked", ["hmm and which posts drag it down", "which posts are pulling it down"]
)
def test_posts_that_drag_sentiment_down_are_the_negative_ones(
    services: Services, asked: str
) -> None:
    chat = twitter_sentiment_chat()
    run = chat.say(asked, "ask_more", ActionFollowup())
    lines = run.text.splitlines()
    assert lines[0].startswith("Negative posts about Trailbird on Twitter/X"), run.text
    assert len(lines) > 1 and all("— negative," in line for line in lines[1:])


def test_grumbling_read_as_a_sentiment_question_lists_the_complaints(
    services: Services,
) -> None:
    chat = twitter_sentiment_chat()
    # The classifier hears a sentiment question; after a summary it asks for its posts.
    run = chat.say("what are folks grumbling about", "ask_sentiment", ActionSentimentSummary())
    lines = run.text.splitlines()
    assert lines[0].startswith("Negative posts about Trailbird on Twitter/X, this month"), run.text
    assert all("— negative," in line for line in lines[1:]) and len(lines) > 1
    # A new scope is a new summary, not the old summary's posts.
    again = chat.say(
        "and what are people complaining about on instagram",
        "ask_sentiment",
        ActionSentimentSummary(),
        entities=[{"entity": "platform", "value": "instagram"}],
        slots={"platform": "instagram"},
    )
    assert "Instagram" in again.text and "% positive" in again.text, again.text


def test_examples_behind_an_anomaly_are_the_spikes_posts(services: Services) -> None:
    chat = Chat()
    chat.say(
        "anything unusual in october?",
        "ask_anomalies",
        ActionAnomalies(),
        slots={"period": "october"},
    )
    shown = _last_answer(chat)
    assert shown is not None and shown.kind == "anomaly" and "alert" in shown.params
    run = chat.say("which posts?", "ask_more", ActionFollowup())
    assert run.text.startswith("Negative posts about Trailbird on Twitter/X, the unusual days")
    assert re.search(r"sole|peel|glue", run.text, re.IGNORECASE)


def test_a_follow_up_with_nothing_before_says_what_to_ask(services: Services) -> None:
    assert Chat().say("the second one", "ask_more", ActionFollowup()).text == NOTHING_TO_FOLLOW


def test_a_customer_follow_up_never_names_staff_questions(services: Services) -> None:
    chat = Chat(audience="customer", sender="web-follow")
    run = chat.say("show me a few of those", "ask_more", ActionFollowup())
    assert answered_from_public_pages(run.text) and "sentiment" not in run.text


# --------------------------------------------------------------------------- typed yes / no
def _offered_a_person(chat: Chat) -> None:
    """Goodbye, then a low rating: Beacon offers a person (buttons and a pending offer)."""
    chat.say("bye", "goodbye", ActionGoodbye())
    low = chat.say("1", "rate_conversation", ActionRateConversation())
    assert "Would you like a person" in low.text
    assert [b["payload"] for b in low.messages[0]["buttons"]] == ["/request_human", "/deny"]


def test_a_typed_yes_to_the_offer_of_a_person_hands_over(services: Services) -> None:
    chat = Chat(audience="customer", sender="web-offer")
    _offered_a_person(chat)
    handed = chat.say("ok, please do", "affirm", ActionAnswerOffer())
    assert re.search(r"reference H-[0-9A-F]{6}", handed.text), handed.text


def test_a_typed_no_declines_and_the_offer_holds_for_one_turn(services: Services) -> None:
    chat = Chat(audience="customer", sender="web-offer-no")
    _offered_a_person(chat)
    assert chat.say("no thanks", "deny", ActionAnswerOffer()).text == NOTHING_OFFERED_NO
    # The offer was answered: a later "yes" is small talk, not a hand-off.
    assert chat.say("yes", "affirm", ActionAnswerOffer()).text == NOTHING_OFFERED_YES


def test_an_offer_expires_after_another_turn(services: Services) -> None:
    chat = Chat(audience="customer", sender="web-offer-late")
    _offered_a_person(chat)
    chat.say("what is your return policy?", "ask_knowledge", ActionKnowledgeAnswer())
    assert chat.say("yes", "affirm", ActionAnswerOffer()).text == NOTHING_OFFERED_YES


def test_a_long_message_taken_for_a_no_is_answered_as_a_question(services: Services) -> None:
    chat = Chat(audience="customer", sender="web-stop")
    run = chat.say("stop sending me your newsletter please", "deny", ActionAnswerOffer())
    assert answered_from_public_pages(run.text) and "unsubscribe" in run.text.lower()


# ------------------------------------------------------------------------- the safety net
def test_staff_unclear_message_tries_the_documents_first(services: Services) -> None:
    chat = Chat()
    run = chat.say("emoji rules??", "nlu_fallback", ActionFallback())
    assert run.text.startswith(UNSURE_LEAD) and "From your documents:" in run.text
    shown = _last_answer(chat)
    assert shown is not None and shown.kind == "document"


def test_staff_gibberish_gets_the_help_menu(services: Services) -> None:
    run = Chat().say("qwxz plorb fnord", "nlu_fallback", ActionFallback())
    assert run.messages[0]["text"] == NOT_UNDERSTOOD
    assert "Right now I can tell you about:" in run.messages[1]["text"]


def test_out_of_scope_for_staff_and_customers(services: Services) -> None:
    staff = Chat().say("book me a table for dinner", "out_of_scope", ActionOutOfScope())
    assert staff.messages[0]["text"] == OUT_OF_SCOPE
    chat = Chat(audience="customer", sender="web-oos")
    customer = chat.say("how do I wash a merino top?", "out_of_scope", ActionOutOfScope())
    assert customer.text.startswith("From our help pages:") and "merino" in customer.text.lower()


def test_a_staff_number_is_not_taken_for_a_rating(services: Services) -> None:
    chat = Chat()
    run = chat.say("give me the top 3", "rate_conversation", ActionRateConversation())
    assert "Thank you for the rating" not in run.text
    with services.workspace.connect() as con:
        ratings = con.execute(
            "SELECT count(*) FROM support_ratings WHERE conversation_id = 'chat-1'"
        ).fetchall()
    assert ratings == [(0,)]


def test_the_pending_offer_needs_the_very_next_message(services: Services) -> None:
    chat = Chat(audience="customer", sender="web-pending")
    _offered_a_person(chat)
    assert pending_offer(Tracker.from_dict(chat.data)) is None  # no new message yet
    chat.data["events"].append({"event": "user", "text": "yes"})
    offered = pending_offer(Tracker.from_dict(chat.data))
    assert offered is not None and offered["yes"] == "action_request_human"


# ------------------------------------------------------------------------- pure helpers
@pytest.mark.parametrize(
    ("text", "places"),
    [
        ("why is number one ahead of number two?", [1, 2]),
        ("tell me more about the third", [3]),
        ("the last one", [5]),
        ("what about #2", [2]),
        ("how do the first and second compare", [1, 2]),
        ("give me the top 3 posts", []),
        ("first, how is sentiment", []),
        ("the 9th one", []),  # beyond what was shown
    ],
)
def test_mentioned_positions(text: str, places: list[int]) -> None:
    assert mentioned_positions(text, 5) == places


def test_last_answer_round_trip_and_bad_values() -> None:
    answer = LastAnswer("ranking", ids=("a", "b"), params={"brief": "x"}, audit_id="1")
    assert LastAnswer.from_slot(answer.to_slot()) == answer
    assert answer.item(2) == "b" and answer.item(3) is None and answer.item(0) is None
    assert LastAnswer.from_slot({"kind": "something-old"}) is None
    assert LastAnswer.from_slot("nonsense") is None
    with pytest.raises(ValueError, match="kind must be one of"):
        LastAnswer("nonsense")


# ------------------------------------------------------- a bare entity after an answer
def _platform(value: str) -> list[dict[str, object]]:
    return [{"entity": "platform", "value": value, "start": 0, "end": 1}]


def test_a_bare_platform_asks_the_last_sentiment_answer_again(services: Services) -> None:
    chat = twitter_sentiment_chat()
    # A follow-up in between: the stories' "answer, then a platform" no longer applies.
    chat.say("show me a few of those", "ask_more", ActionFollowup())
    run = chat.say(
        "cool, and on ig?",
        "inform",
        ActionAskWhatAbout(),
        entities=_platform("instagram"),
        slots={"platform": "instagram"},
    )
    assert run.text.startswith("Sentiment about Trailbird on Instagram, this month"), run.text
    assert re.search(r"\d+% positive", run.text)
    shown = _last_answer(chat)
    assert shown is not None and shown.kind == "sentiment"


def test_a_bare_platform_after_a_ranking_ranks_the_same_brief_there(services: Services) -> None:
    # The brief comes from the ranking, not from the bare "just instagram".
    chat = Chat()
    chat.say(
        "who should we work with for trail running?", "rank_influencers", ActionRankInfluencers()
    )
    run = chat.say(
        "just instagram",
        "inform",
        ActionAskWhatAbout(),
        entities=_platform("instagram"),
        slots={"platform": "instagram"},
    )
    assert run.text.startswith("Creators for “trail running”"), run.text
    shown = _last_answer(chat)
    assert shown is not None and shown.kind == "ranking"
    assert shown.params == {"brief": "trail running", "budget": None, "platform": "instagram"}


def test_same_but_twitter_after_the_worst_posts_lists_twitters_worst(services: Services) -> None:
    # The miss that set the routing straight: the policy used to send this to sentiment.
    chat = Chat()
    first = chat.say(
        "which instagram posts did worst this month?",
        "ask_top_posts",
        ActionTopPosts(),
        slots={"platform": "instagram", "period": "this month"},
    )
    assert "Instagram" in first.text, first.text
    run = chat.say(
        "same but twitter",
        "inform",
        ActionAskWhatAbout(),
        entities=_platform("twitter"),
        slots={"platform": "twitter"},
    )
    assert "Twitter/X" in run.text and "% positive" not in run.text, run.text
    assert POST_ID.search(run.text) and "tw-" in run.text, run.text
    shown = _last_answer(chat)
    assert shown is not None and shown.kind == "top_posts"
    assert all(post_id.startswith("tw-") for post_id in shown.ids), shown.ids
    assert shown.params["worst"] is True, shown.params  # still the worst, as first asked


def _predicted_on_instagram() -> Chat:
    chat = Chat()
    chat.say(
        "how will this do on instagram: trail season is back, grab a pair",
        "predict_engagement",
        ActionPredictEngagement(),
        slots={"draft_text": "trail season is back, grab a pair", "platform": "instagram"},
    )
    return chat


def test_a_bare_platform_after_a_prediction_predicts_the_same_draft_there(
    services: Services,
) -> None:
    chat = _predicted_on_instagram()
    run = chat.say(
        "and on facebook?",
        "inform",
        ActionAskWhatAbout(),
        entities=_platform("facebook"),
        slots={"platform": "facebook"},
    )
    assert run.text.startswith("Draft for Facebook"), run.text
    shown = _last_answer(chat)
    assert shown is not None and shown.kind == "prediction"
    assert shown.params["draft"] == "trail season is back, grab a pair"
    assert shown.params["platform"] == "facebook"


def test_a_continuation_read_as_a_documents_question_asks_the_prediction_again(
    services: Services,
) -> None:
    chat = _predicted_on_instagram()
    run = chat.say(
        "ok and on facebook instead?",
        "ask_knowledge",
        ActionKnowledgeAnswer(),
        entities=_platform("facebook"),
        slots={"platform": "facebook"},
    )
    assert run.text.startswith("Draft for Facebook"), run.text
    assert "From your documents" not in run.text


def test_a_new_platform_after_a_drafts_explanation_predicts_the_draft_there(
    services: Services,
) -> None:
    chat = _predicted_on_instagram()
    chat.say("hmm why so?", "ask_more", ActionFollowup())
    run = chat.say(
        "and on facebook instead?",
        "ask_knowledge",
        ActionKnowledgeAnswer(),
        entities=_platform("facebook"),
        slots={"platform": "facebook"},
    )
    assert run.text.startswith("Draft for Facebook"), run.text
    shown = _last_answer(chat)
    assert shown is not None and shown.kind == "prediction"
    assert shown.params["draft"] == "trail season is back, grab a pair"


def test_a_new_posting_time_after_a_prediction_predicts_the_draft_then(
    services: Services,
) -> None:
    chat = _predicted_on_instagram()
    run = chat.say("and what if we post it on saturday instead", "nlu_fallback", ActionFallback())
    assert run.text.startswith("Draft for Instagram, posted Sat"), run.text
    shown = _last_answer(chat)
    assert shown is not None and shown.kind == "prediction"
    assert shown.params["draft"] == "trail season is back, grab a pair"
    assert shown.params["posted_at"].startswith("2026-12-05T09:00"), shown.params


def test_an_unclear_short_message_after_a_prediction_asks_about_it(services: Services) -> None:
    chat = _predicted_on_instagram()
    run = chat.say("what would push it higher", "nlu_fallback", ActionFallback())
    assert run.text.startswith("Your draft for Instagram"), run.text
    assert "Strongest reasons:" in run.text and NOT_UNDERSTOOD not in run.text
    shown = _last_answer(chat)
    assert shown is not None and shown.kind == "explanation"


def test_a_bare_platform_after_content_tips_gives_that_platforms_tips(
    services: Services,
) -> None:
    chat = Chat()
    chat.say(
        "when should we post on instagram?",
        "recommend_content",
        ActionRecommendContent(),
        slots={"platform": "instagram"},
    )
    run = chat.say(
        "how about facebook",
        "inform",
        ActionAskWhatAbout(),
        entities=_platform("facebook"),
        slots={"platform": "facebook"},
    )
    assert run.text.startswith("For Facebook"), run.text


def test_a_question_without_entities_after_an_experiment_gets_its_answer_again(
    services: Services,
) -> None:
    chat = Chat()
    first = chat.say(
        "did the button colour test work?",
        "analyze_experiment",
        ActionAnalyzeExperiment(),
        slots={"experiment": "button color test"},
    )
    run = chat.say("so we just keep green?", "inform", ActionAskWhatAbout())
    assert run.text == first.text  # its answer says what to do
    shown = _last_answer(chat)
    assert shown is not None and shown.kind == "experiment"


def test_a_bare_entity_with_no_answer_to_apply_it_to_asks_what_about(services: Services) -> None:
    chat = Chat()
    run = chat.say("instagram", "inform", ActionAskWhatAbout(), entities=_platform("instagram"))
    assert run.text == ASK_WHAT_ABOUT

    assert chat.say(
        "what's the weather in chamonix this weekend", "inform", ActionAskWhatAbout()
    ).text.startswith(OUT_OF_SCOPE)  # long, no entity, not in the documents
    # A period scopes a question; alone it names nothing Beacon knows.
    assert chat.say(
        "who won the champions league last year",
        "inform",
        ActionAskWhatAbout(),
        entities=[{"entity": "period", "value": "last year"}],
    ).text.startswith(OUT_OF_SCOPE)


def test_a_short_follow_up_to_a_documents_answer_leans_on_its_question(
    services: Services,
) -> None:
    chat = Chat()
    first = chat.say(
        "best time to post on linkedin per the posting windows?",
        "ask_knowledge",
        ActionKnowledgeAnswer(),
    )
    assert "social-posting-windows.csv" in first.text, first.text
    run = chat.say("and weekends?", "inform", ActionAskWhatAbout())
    # Searched as "best time to post on linkedin ... and weekends?": the LinkedIn row.
    assert "social-posting-windows.csv" in run.text and "weekend" in run.text.lower(), run.text
    shown = _last_answer(chat)
    assert shown is not None and shown.params["topic"].startswith("best time to post on linkedin")
