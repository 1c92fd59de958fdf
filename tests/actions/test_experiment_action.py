"""action_analyze_experiment on the demo workspace's three planted experiments."""

from __future__ import annotations

from pathlib import Path

import pytest

from actions.experiments import ActionAnalyzeExperiment
from actions.forms import ActionAskExperiment
from actions.parsing import match_experiment
from actions.services import Services
from tests.actions.conftest import Chat, run_action

pytestmark = pytest.mark.filterwarnings("ignore:You are using an old version of rasa")

KNOWN = [
    ("exp-subject-line", "Subject-line test"),
    ("exp-button-colour", "Button colour test"),
    ("exp-free-shipping", "Free-shipping banner test"),
]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("the subject line test", "exp-subject-line"),
        ("button color", "exp-button-colour"),
        ("exp-free-shipping", "exp-free-shipping"),
        ("pricing test", None),
        (None, None),
        ("test", None),
    ],
)
def test_match_experiment(value: str | None, expected: str | None) -> None:
    assert match_experiment(value, KNOWN) == expected


def _chart(run_messages: list[dict[str, object]], services: Services) -> Path:
    url = str(run_messages[1]["image"])
    assert url.startswith("http://actions.test/charts/")
    path = services.charts.path_of(url.rsplit("/", 1)[1])
    assert path is not None
    return path


def test_real_effect_is_found_with_a_chart(services: Services) -> None:
    run = run_action(ActionAnalyzeExperiment(), "staff_experiment_subject_line.json")
    text = run.text
    assert text.startswith("Subject-line test (plain vs question, 16,000 units")
    assert "• clicked: question 14.3% vs 12.4%" in text and "a real difference" in text
    assert "Verdict: question beat plain." in text
    assert (
        "question brought 0.89 extra conversions per 100 customers" in text
        and "worth €0.84" in text
    )
    assert _chart(run.messages, services).read_bytes()[:4] == b"\x89PNG"
    assert run.other_events == [
        {"event": "slot", "timestamp": None, "name": "experiment", "value": "exp-subject-line"}
    ]
    assert run.remembered is not None and run.remembered["kind"] == "experiment"
    assert run.remembered["ids"] == ["exp-subject-line"]


def test_null_effect_is_not_called_a_win(services: Services) -> None:
    text = run_action(ActionAnalyzeExperiment(), "staff_experiment_button.json").text
    assert "Verdict: no variant beat green" in text
    assert "a real difference" not in text


def test_sample_ratio_mismatch_is_said_first(services: Services) -> None:
    text = run_action(ActionAnalyzeExperiment(), "staff_experiment_banner.json").text
    assert text.startswith("⚠️ SAMPLE RATIO MISMATCH")
    assert "Verdict: don't act on these numbers" in text


def test_unknown_experiment_lists_the_known_ones(services: Services) -> None:
    run = run_action(ActionAnalyzeExperiment(), "staff_experiment_unknown.json")
    assert run.text == (
        "I can't tell which experiment 'pricing test' is. The experiments I have: "
        "Button colour test, Free-shipping banner test, Subject-line test."
    )
    assert run.events == [{"event": "slot", "timestamp": None, "name": "experiment", "value": None}]


def test_a_question_about_the_test_plan_is_answered_from_it(services: Services) -> None:
    # The classifier read it as an experiment question, but it names no test and asks
    # what the process says: the test plan answers, and the form stops asking.
    run = Chat().say(
        "test finished yesterday. by when do results have to be in the experiment log",
        "analyze_experiment",
        ActionAskExperiment(),
    )
    assert "within two working days" in run.text
    assert "Which experiment" not in run.text
    assert {"event": "slot", "timestamp": None, "name": "requested_slot", "value": None} in (
        run.other_events
    )
    # ... and the form's submit step then says nothing more.
    assert run_action(ActionAnalyzeExperiment(), "staff_help.json").messages == []


def test_a_results_question_naming_no_test_is_asked_which(services: Services) -> None:
    run = Chat().say("did the test win", "analyze_experiment", ActionAskExperiment())
    assert run.text.startswith("Which experiment should I look at? I have: Button colour test")
    assert run.other_events == []
