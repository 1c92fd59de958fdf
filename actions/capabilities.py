"""Who may run each action, and what Beacon can do per audience.

The one home of both, behind the audience check of every action (actions/base.py) and the
"help" reply: :data:`CAPABILITIES` are the things Beacon answers, listed in help;
:data:`SUPPORTING_ACTIONS` are the rest (greetings, the forms' questions, helpers).
Staff may run every action (DESIGN.md, "Two audiences"); a customer only those whose
audiences name customers. tests/actions/test_registry.py checks that every action in
the domain and in this package has exactly one entry here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from actions.audience import CUSTOMER, STAFF


@dataclass(frozen=True)
class Capability:
    """One thing Beacon answers.

    Attributes:
        action_name: The custom action that answers it.
        description: What it does, for the help reply.
        example: A question that triggers it.
        audiences: Who it is for: their help lists it, and customers may run it only
            when it names them (staff may run every action).
        customer_wording: ``(description, example)`` said to customers instead, whose
            words differ from the team's (None: the same words).
    """

    action_name: str
    description: str
    example: str
    audiences: frozenset[str]
    customer_wording: tuple[str, str] | None = None


_BOTH = frozenset({STAFF, CUSTOMER})
_STAFF = frozenset({STAFF})
_CUSTOMER = frozenset({CUSTOMER})

CAPABILITIES: tuple[Capability, ...] = (
    Capability("action_sentiment_summary", "sentiment and brand health by platform, topic and period",
               "how is sentiment on twitter this month?", _STAFF),
    Capability("action_anomalies", "unusual spikes in volume or negative talk",
               "anything unusual in october?", _STAFF),
    Capability("action_predict_engagement", "how a draft post will perform, and why",
               "how will this post do: 'New Sprint 3 colours are here!'", _STAFF),
    Capability("action_explain_post", "why a published post did well or badly",
               "why did post tw-000123 do so well?", _STAFF),
    Capability("action_recommend_content", "when and how to post (time, hashtags, format)",
               "when should we post on instagram?", _STAFF),
    Capability("action_knowledge_answer", "answers from our guidelines, briefs and FAQ, with sources",
               "what does our style guide say about emoji?", _BOTH,
               ("orders, shipping, returns, sizing and product care, quoted from our help pages",
                "what is your return policy?")),
    Capability("action_knowledge_followup", "follow-ups to a document answer: more passages, or where it says that",
               "show me more", _BOTH),
    Capability("action_analyze_experiment", "A/B test results: lift, ROI and a verdict on what to do",
               "did the subject-line test win?", _STAFF),
    Capability("action_rank_influencers", "influencers that fit a topic and budget",
               "which influencers fit trail running under 5k?", _STAFF),
    Capability("action_tag_image", "what is in an image or video, and whether it is brand-safe",
               "tag the image in ig-000045", _STAFF),
    Capability("action_request_digest", "the weekly insight digest",
               "send me the weekly summary", _STAFF),
    Capability("action_request_human", "passing you to a person on our team",
               "I'd like to talk to a person", _CUSTOMER),
    Capability("action_record_feedback", "corrections to my answers, so the models learn",
               "that's wrong, it should be negative", _BOTH,
               ("telling me when an answer was wrong", "that's not right")),
    Capability("action_feedback_status", "how many corrections I hold and what retraining changed",
               "what did my corrections change?", _STAFF),
    Capability("action_top_posts", "our best and worst posts by period, platform and metric",
               "what were our top instagram posts last month?", _STAFF),
    Capability("action_campaign_report", "campaign results: posts, experiments, ROI and what can't be attributed",
               "how did summer sprint do?", _STAFF),
    Capability("action_comparison", "side-by-side sentiment or engagement across platforms or periods",
               "instagram vs facebook sentiment this quarter", _STAFF),
    Capability("action_sample_size", "how many people and days an A/B test needs to see a lift",
               "how long must a test run to see a 10% lift?", _STAFF),
    Capability("action_pin_answer", "pinning an answer to your dashboard (or a team's), worked out again when it opens",
               "pin this", _STAFF),
    Capability("action_list_pins", "what is pinned to your dashboard, with a link to it",
               "what's on my dashboard?", _STAFF),
    Capability("action_unpin_answer", "taking a tile off a dashboard",
               "unpin the sentiment tile", _STAFF),
)  # fmt: skip

BY_ACTION = {capability.action_name: capability for capability in CAPABILITIES}

#: Actions that are no capability of their own (never in help), with who they are for.
SUPPORTING_ACTIONS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        # Conversation: each answers in the words of the audience's assistant.
        "action_greet": _BOTH,
        "action_thank": _BOTH,
        "action_goodbye": _BOTH,
        "action_help": _BOTH,
        "action_rate_conversation": _BOTH,
        # A bare statement: staff are asked what they want to know, customers get the
        # public help pages.
        "action_ask_what_about": _BOTH,
        # The retrieval safety net and follow-ups: customers only ever get the public
        # pages from them (actions/answers.py), staff the documents and their answers.
        "action_fallback": _BOTH,
        "action_out_of_scope": _BOTH,
        "action_answer_offer": _BOTH,
        "action_followup": _BOTH,
        # The forms' questions: the forms fill slots of staff capabilities.
        "action_ask_draft_text": _STAFF,
        "action_ask_platform": _STAFF,
        "action_ask_posting_time": _STAFF,
        "action_ask_experiment": _STAFF,
        # Runs for everyone while its form is active (it is no BeaconAction, so no
        # refusal applies), but reads slots and speaks for staff only (actions/forms.py).
        "validate_engagement_form": _BOTH,
        "validate_experiment_form": _BOTH,
    }
)

#: Every action Beacon defines, with who it is for.
AUDIENCES: Mapping[str, frozenset[str]] = MappingProxyType(
    {**{c.action_name: c.audiences for c in CAPABILITIES}, **SUPPORTING_ACTIONS}
)


def may_run(action_name: str, audience: str) -> bool:
    """Whether ``audience`` may run ``action_name``.

    Staff may run every action; anyone else only an action whose audiences name
    customers. An action missing from :data:`AUDIENCES` refuses customers (the safe
    side); tests/actions/test_registry.py makes sure none is missing.
    """
    return audience == STAFF or CUSTOMER in AUDIENCES.get(action_name, frozenset())


def help_text(audience: str, brand: str = "our") -> str:
    """The help reply for ``audience``: what it can do, with examples.

    Customers get only what they may use, in their own words; ``brand`` names the
    company in a customer's help.
    """
    mine = [c for c in CAPABILITIES if audience in c.audiences]
    if audience == CUSTOMER:
        lines = [f"I'm Beacon, {brand}'s support assistant. I can help with:"]
        for c in mine:
            description, example = c.customer_wording or (c.description, c.example)
            lines.append(f"• {description} — e.g. “{example}”")
        return "\n".join(lines)
    lines = ["I'm Beacon, your marketing assistant. Right now I can tell you about:"]
    lines += [f"• {c.description} — e.g. “{c.example}”" for c in mine]
    return "\n".join(lines)
