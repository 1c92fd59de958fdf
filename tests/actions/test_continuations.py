"""Follow-ups the classifier missed, answered from the previous answer by their words.

Each conversation runs through the real actions on the demo workspace; the second turn
arrives as the classifier would leave it (``nlu_fallback``, a bare ``inform`` or
``ask_more``), so only :mod:`actions.continuations` can make sense of it.
"""

from __future__ import annotations

import re

from actions.anomalies import ActionAnomalies
from actions.campaigns import ActionCampaignReport
from actions.context import FOLLOW_UP_MAX_WORDS
from actions.experiments import ActionAnalyzeExperiment
from actions.fallbacks import NOT_UNDERSTOOD, ActionFallback
from actions.followups import ActionAskWhatAbout, ActionFollowup
from actions.sample_size import ActionSampleSize
from actions.services import Services
from tests.actions.conftest import Chat, twitter_sentiment_chat
from tests.conftest import answered_from_public_pages


def _campaign_chat() -> Chat:
    chat = Chat()
    chat.say(
        "how did summer sprint do?",
        "ask_campaign",
        ActionCampaignReport(),
        entities=[{"entity": "topic", "value": "summer sprint"}],
    )
    return chat


def _experiment_chat() -> Chat:
    chat = Chat()
    chat.say(
        "did the subject line test win or not",
        "analyze_experiment",
        ActionAnalyzeExperiment(),
        slots={"experiment": "exp-subject-line"},
    )
    return chat


def _october_alert(chat: Chat) -> Chat:
    """``chat`` after the October anomaly answer (the planted Twitter/X spike)."""
    chat.say(
        "anything unusual in october?",
        "ask_anomalies",
        ActionAnomalies(),
        slots={"period": "october"},
    )
    return chat


def test_what_a_campaign_cost_is_its_report(services: Services) -> None:
    run = _campaign_chat().say("what did it cost us", "nlu_fallback", ActionFallback())
    assert run.text.startswith("Summer Sprint (summer-sprint):") and "budget €120,000" in run.text
    assert run.remembered is not None and run.remembered["kind"] == "campaign"


def test_which_campaign_is_best_reports_them_all(services: Services) -> None:
    chat = Chat()
    chat.say("how are our campaigns doing overall", "ask_campaign", ActionCampaignReport())
    run = chat.say("which one is doing best", "ask_more", ActionFollowup())
    assert run.text.startswith("Trailbird's 3 campaigns")


def test_what_an_experiment_made_is_its_analysis(services: Services) -> None:
    chat = _experiment_chat()
    run = chat.say("how much money did it make us", "nlu_fallback", ActionFallback())
    assert "Subject-line test" in run.text and re.search(r"worth €[\d.,]+ per", run.text)
    again = chat.say("and are we sure about it?", "ask_more", ActionFollowup())
    assert "Subject-line test" in again.text


def test_rolling_out_read_as_a_campaign_question_stays_on_the_test(services: Services) -> None:
    chat = _experiment_chat()
    # The classifier hears "roll out" as a campaign question; the test is what was asked.
    run = chat.say("worth rolling it out?", "ask_campaign", ActionCampaignReport())
    assert "Subject-line test" in run.text and "campaigns" not in run.text
    # Without a test before it, the same words are a campaign question.
    fresh = Chat().say("worth rolling it out?", "ask_campaign", ActionCampaignReport())
    assert fresh.text.startswith("Trailbird's 3 campaigns")


def test_a_plan_follow_up_keeps_the_plan(services: Services) -> None:
    chat = Chat()
    first = chat.say(
        "how long would a test need to run to see a 10% lift",
        "ask_sample_size",
        ActionSampleSize(),
    )
    assert "80% power" in first.text
    run = chat.say("and with 90% power?", "inform", ActionAskWhatAbout())
    assert "90% power" in run.text and "per variant" in run.text
    # The effect and baseline are the first plan's: the same change is asked for.
    change = re.search(r"To detect (.+?) with", first.text)
    assert change is not None and change.group(1) in run.text


def test_what_caused_an_anomaly_is_its_posts(services: Services) -> None:
    chat = _october_alert(Chat())
    run = chat.say("what caused it", "nlu_fallback", ActionFallback())
    assert run.text.startswith("Negative posts about Trailbird on Twitter/X, the unusual days")
    assert re.search(r"sole|peel|glue", run.text, re.IGNORECASE)


def test_show_me_the_posts_behind_a_summary_or_an_alert(services: Services) -> None:
    chat = twitter_sentiment_chat()
    run = chat.say("show me the posts", "nlu_fallback", ActionFallback())
    assert run.text.startswith("Posts about Trailbird on Twitter/X, this month"), run.text
    _october_alert(chat)
    run = chat.say("show me the posts", "nlu_fallback", ActionFallback())
    assert run.text.startswith("Negative posts about Trailbird on Twitter/X, the unusual days")


def test_a_message_without_the_kinds_words_is_not_a_follow_up(services: Services) -> None:
    run = _campaign_chat().say("the blue one with stripes", "nlu_fallback", ActionFallback())
    assert NOT_UNDERSTOOD in run.text and "Summer Sprint (" not in run.text


def test_a_long_message_is_a_new_question_not_a_follow_up(services: Services) -> None:
    text = (
        "what would it cost us to " + " ".join(["really"] * FOLLOW_UP_MAX_WORDS) + " fix the site"
    )
    run = _campaign_chat().say(text, "nlu_fallback", ActionFallback())
    assert "Summer Sprint (" not in run.text


def test_the_wrong_kind_of_previous_answer_is_not_continued(services: Services) -> None:
    chat = Chat()
    chat.say("how long to see a 10% lift", "ask_sample_size", ActionSampleSize())
    run = chat.say("what did it cost us", "nlu_fallback", ActionFallback())
    assert "Summer Sprint (" not in run.text and "per variant" not in run.text


def test_customers_never_get_a_staff_follow_up(services: Services) -> None:
    chat = Chat(audience="customer", sender="web-cost")
    run = chat.say("what did it cost", "nlu_fallback", ActionFallback())
    assert answered_from_public_pages(run.text) and "campaign" not in run.text.lower()
