"""What Beacon can do, per audience: the one list behind "help" and the fallback replies."""

from __future__ import annotations

from dataclasses import dataclass

from actions.audience import CUSTOMER, STAFF


@dataclass(frozen=True)
class Capability:
    """One thing Beacon answers.

    Attributes:
        action_name: The custom action that answers it.
        description: What it does, for the help reply.
        example: A question that triggers it.
        audiences: Who may use it.
        customer_wording: ``(description, example)`` said to customers instead, whose
            words differ from the team's (None: the same words).
        available: False while the capability is still being built; its action then
            says so honestly instead of answering.
    """

    action_name: str
    description: str
    example: str
    audiences: frozenset[str]
    available: bool
    customer_wording: tuple[str, str] | None = None


_BOTH = frozenset({STAFF, CUSTOMER})
_STAFF = frozenset({STAFF})
_CUSTOMER = frozenset({CUSTOMER})

CAPABILITIES: tuple[Capability, ...] = (
    Capability("action_sentiment_summary", "sentiment and brand health by platform, topic and period",
               "how is sentiment on twitter this month?", _STAFF, True),
    Capability("action_anomalies", "unusual spikes in volume or negative talk",
               "anything unusual in october?", _STAFF, True),
    Capability("action_predict_engagement", "how a draft post will perform, and why",
               "how will this post do: 'New Sprint 3 colours are here!'", _STAFF, True),
    Capability("action_explain_post", "why a published post did well or badly",
               "why did post tw-000123 do so well?", _STAFF, True),
    Capability("action_recommend_content", "when and how to post (time, hashtags, format)",
               "when should we post on instagram?", _STAFF, True),
    Capability("action_knowledge_answer", "answers from our guidelines, briefs and FAQ, with sources",
               "what does our style guide say about emoji?", _BOTH, True,
               ("orders, shipping, returns, sizing and product care, quoted from our help pages",
                "what is your return policy?")),
    Capability("action_knowledge_followup", "follow-ups to a document answer: more passages, or where it says that",
               "show me more", _BOTH, True),
    Capability("action_analyze_experiment", "A/B test results, lift, ROI and who to target",
               "did the subject-line test win?", _STAFF, True),
    Capability("action_rank_influencers", "influencers that fit a topic and budget",
               "which influencers fit trail running under 5k?", _STAFF, True),
    Capability("action_tag_image", "what is in an image or video, and whether it is brand-safe",
               "tag the image in ig-000045", _STAFF, True),
    Capability("action_request_digest", "the weekly insight digest",
               "send me the weekly summary", _STAFF, True),
    Capability("action_request_human", "passing you to a person on our team",
               "I'd like to talk to a person", _CUSTOMER, True),
    Capability("action_record_feedback", "corrections to my answers, so the models learn",
               "that's wrong, it should be negative", _BOTH, True,
               ("telling me when an answer was wrong", "that's not right")),
    Capability("action_feedback_status", "how many corrections I hold and what retraining changed",
               "what did my corrections change?", _STAFF, True),
)  # fmt: skip

BY_ACTION = {capability.action_name: capability for capability in CAPABILITIES}


def help_text(audience: str, brand: str = "our") -> str:
    """The help reply for ``audience``: what works now, with examples, and what is coming.

    Customers get only what they may use, in their own words, and nothing still being
    built; ``brand`` names the company in a customer's help.
    """
    mine = [c for c in CAPABILITIES if audience in c.audiences]
    ready = [c for c in mine if c.available]
    coming = [c for c in mine if not c.available]
    if audience == CUSTOMER:
        lines = [f"I'm Beacon, {brand}'s support assistant. I can help with:"]
        for c in ready:
            description, example = c.customer_wording or (c.description, c.example)
            lines.append(f"• {description} — e.g. “{example}”")
        return "\n".join(lines)
    lines = ["I'm Beacon, your marketing assistant. Right now I can tell you about:"]
    lines += [f"• {c.description} — e.g. “{c.example}”" for c in ready]
    if coming:
        lines.append("Still being built: " + "; ".join(c.description for c in coming) + ".")
    return "\n".join(lines)


def not_available_text(action_name: str) -> str:
    """The honest one-sentence reply of a capability that is not built yet."""
    capability = BY_ACTION[action_name]
    return (
        f"Sorry, {capability.description} isn't available in Beacon yet; "
        "ask me for help to see what I can do today."
    )
