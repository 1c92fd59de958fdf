"""The domain, the actions rasa-sdk registers and the audience table agree.

A domain action without a class fails only when Rasa calls it; a class missing from
the domain is never called; an action missing from actions/capabilities.py refuses
customers without anyone having decided so. These checks catch all three at once.
"""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path

import pytest
import yaml
from rasa_sdk import Action
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher
from rasa_sdk.utils import all_subclasses

from actions.audience import CUSTOMER, STAFF
from actions.base import BeaconAction
from actions.capabilities import (
    AUDIENCES,
    CAPABILITIES,
    SUPPORTING_ACTIONS,
    help_text,
    may_run,
)
from actions.services import Services
from tests.actions.conftest import load_tracker
from tests.conftest import answered_from_public_pages

DOMAIN = Path(__file__).resolve().parents[2] / "bot" / "domain"

pytestmark = pytest.mark.filterwarnings("ignore:You are using an old version of rasa")


def domain_actions() -> set[str]:
    """The ``actions:`` of every domain file (``validate_*`` and ``action_ask_*`` included)."""
    names: set[str] = set()
    for path in sorted(DOMAIN.glob("*.yml")):
        names.update((yaml.safe_load(path.read_text()) or {}).get("actions") or [])
    return names


def registered_actions() -> dict[str, type[Action]]:
    """Action name → class, as the action server registers them (actions/server.py)."""
    executor = ActionExecutor()
    executor.register_package("actions")
    classes = {name: type(run.__self__) for name, run in executor.actions.items()}
    return {name: cls for name, cls in classes.items() if cls.__module__.startswith("actions.")}


def test_every_domain_action_has_a_class_and_every_class_is_in_the_domain() -> None:
    domain, registered = domain_actions(), registered_actions()
    assert domain, f"no actions found in {DOMAIN}/*.yml"
    assert domain - set(registered) == set(), "domain actions without a class under actions/"
    assert set(registered) - domain == set(), "action classes the domain does not list"
    concrete = [
        cls
        for cls in all_subclasses(Action)
        if cls.__module__.startswith("actions.") and not inspect.isabstract(cls)
    ]
    assert sorted(registered.values(), key=repr) == sorted(concrete, key=repr), (
        "two classes share an action name: rasa-sdk keeps only one of them"
    )


def test_every_action_has_exactly_one_audience_decision() -> None:
    capability_names = [c.action_name for c in CAPABILITIES]
    assert len(capability_names) == len(set(capability_names)), "a capability is listed twice"
    both = set(capability_names) & set(SUPPORTING_ACTIONS)
    assert both == set(), "in CAPABILITIES and in SUPPORTING_ACTIONS"
    assert set(AUDIENCES) == set(registered_actions())
    for name, audiences in AUDIENCES.items():
        assert audiences and audiences <= {STAFF, CUSTOMER}, (name, audiences)


def test_only_beacon_actions_may_be_closed_to_customers() -> None:
    """BeaconAction.run does the refusing: any other class would answer a customer."""
    for name, cls in registered_actions().items():
        if not may_run(name, CUSTOMER):
            assert issubclass(cls, BeaconAction), f"{name} ({cls.__name__}) cannot refuse"


def test_staff_may_run_everything_and_unknown_actions_refuse_customers() -> None:
    assert all(may_run(name, STAFF) for name in registered_actions())
    assert not may_run("action_not_in_the_table", CUSTOMER)
    assert may_run("action_knowledge_answer", CUSTOMER)
    assert not may_run("action_sentiment_summary", CUSTOMER)
    assert not may_run("action_sentiment_summary", "visitor")  # read as a customer


def test_customers_help_lists_only_what_they_may_run() -> None:
    customer = help_text(CUSTOMER)
    for capability in CAPABILITIES:
        wording = capability.customer_wording or (capability.description, capability.example)
        listed = may_run(capability.action_name, CUSTOMER)
        assert (wording[1] in customer) == listed, capability.action_name


def test_every_action_closed_to_customers_answers_from_the_public_pages(services: Services) -> None:
    """No staff-only action says anything to a customer (or to no audience) but what the
    public help pages say, and it only remembers that answer and offers a person."""
    closed = {n: c for n, c in registered_actions().items() if not may_run(n, CUSTOMER)}
    assert "action_sentiment_summary" in closed and "action_ask_experiment" in closed
    for fixture in ("customer_sentiment.json", "no_audience_sentiment.json"):
        for name, cls in sorted(closed.items()):
            dispatcher = CollectingDispatcher()
            events = asyncio.run(cls().run(dispatcher, load_tracker(fixture), {}))
            said = [m.get("text") or "" for m in dispatcher.messages]
            assert len(said) == 1 and answered_from_public_pages(said[0]), (fixture, name, said)
            slots = {e["name"] for e in events}
            assert all(e["event"] == "slot" for e in events), (fixture, name, events)
            assert slots <= {"last_answer", "pending_offer"}, (fixture, name, events)
    with services.workspace.connect() as con:
        refused = con.execute(
            "SELECT json_extract_string(inputs, '$.action') FROM audit "
            "WHERE kind = 'refused_staff_only'"
        ).fetchall()
    assert sorted(row[0] for row in refused) == sorted([*closed, *closed])
