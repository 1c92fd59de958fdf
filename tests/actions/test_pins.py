"""Dashboard tiles from chat: pin the last answer, list a board, unpin a tile."""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk import Tracker

from actions.experiments import ActionAnalyzeExperiment
from actions.pins import (
    ActionListPins,
    ActionPinAnswer,
    ActionUnpinAnswer,
    asked_board,
    own_board,
    person_of,
)
from actions.sentiment import ActionSentimentSummary
from actions.services import Services
from foundation.workspace import queries
from tests.actions.conftest import Chat


def _tiles(services: Services, board: str) -> list[queries.PinnedTile]:
    with services.workspace.connect(read_only=True) as con:
        return queries.pinned_tiles(con, board)


def test_pin_keeps_the_question_and_parameters_not_the_numbers(services: Services) -> None:
    chat = Chat(sender="pinner")
    answer = chat.say(
        "how is sentiment on twitter this month?",
        "ask_sentiment",
        ActionSentimentSummary(),
        slots={"platform": "twitter", "period": "this month"},
    )
    pinned = chat.say("pin this", "pin_answer", ActionPinAnswer())
    tiles = _tiles(services, own_board("pinner"))
    assert len(tiles) == 1
    tile = tiles[0]
    assert tile.kind == "sentiment"
    assert tile.question == "how is sentiment on twitter this month?"
    assert tile.params["platform"] == "twitter" and tile.params["label"] == "this month"
    assert f"as tile {tile.tile_id}" in pinned.text and "your dashboard" in pinned.text
    numbers = {word for word in answer.text.split() if word.endswith("%")}
    assert numbers and not any(number in json.dumps(tile.params) for number in numbers)

    listed = chat.say("what's on my dashboard?", "list_pins", ActionListPins())
    assert listed.text.startswith("Your dashboard has 1 tile(s):")
    assert tile.tile_id in listed.text

    unpinned = chat.say(f"unpin {tile.tile_id}", "unpin_answer", ActionUnpinAnswer())
    assert unpinned.text.startswith(f"Unpinned tile {tile.tile_id}")
    assert _tiles(services, own_board("pinner")) == []
    empty = chat.say("what's on my dashboard?", "list_pins", ActionListPins())
    assert empty.text.startswith("Nothing is pinned to your dashboard yet")


def test_team_boards_are_shared_and_unpin_asks_which_when_unclear(services: Services) -> None:
    alice, bob = Chat(sender="alice"), Chat(sender="bob")
    alice.say(
        "did the button colour test win?",
        "analyze_experiment",
        ActionAnalyzeExperiment(),
        slots={"experiment": "button colour"},
    )
    alice.say("pin this to the team board", "pin_answer", ActionPinAnswer())
    bob.say(
        "how is sentiment on instagram this month?",
        "ask_sentiment",
        ActionSentimentSummary(),
        slots={"platform": "instagram", "period": "this month"},
    )
    bob.say("add that to the team dashboard", "pin_answer", ActionPinAnswer())
    tiles = _tiles(services, "team")
    assert [tile.kind for tile in tiles] == ["experiment", "sentiment"]
    assert tiles[0].params["experiment"] == "exp-button-colour"
    assert _tiles(services, own_board("alice")) == []

    listed = bob.say("what's on the team board?", "list_pins", ActionListPins())
    assert all(tile.tile_id in listed.text for tile in tiles)
    unclear = bob.say("unpin one from the team board", "unpin_answer", ActionUnpinAnswer())
    assert unclear.text.startswith("Which tile?")
    assert len(_tiles(services, "team")) == 2
    bob.say("remove the experiment tile from the team board", "unpin_answer", ActionUnpinAnswer())
    assert [tile.kind for tile in _tiles(services, "team")] == ["sentiment"]


def test_nothing_to_pin_says_what_can_be_pinned(services: Services) -> None:
    run = Chat().say("pin this", "pin_answer", ActionPinAnswer())
    assert run.text.startswith("There is nothing to pin yet")
    assert "sentiment" in run.text


def test_customers_cannot_pin(services: Services) -> None:
    run = Chat(audience="customer").say("pin this", "pin_answer", ActionPinAnswer())
    assert "pinned" not in run.text.lower()
    with services.workspace.connect(read_only=True) as con:
        assert queries.boards(con) == []


def test_boards_are_read_from_the_words() -> None:
    assert asked_board("pin this", "u1") == "person:u1"
    assert asked_board("add this to my dashboard", "u1") == "person:u1"
    assert asked_board("pin that to the team dashboard", "u1") == "team"
    assert asked_board("put this on the Spring Launch board", "u1") == "spring-launch"


def test_a_slack_users_board_is_theirs_in_every_thread() -> None:
    def tracker(sender: str, metadata: dict[str, Any]) -> Tracker:
        return Tracker.from_dict(
            {"sender_id": sender, "events": [], "latest_message": {"metadata": metadata}}
        )

    slack = {"audience": "staff", "slack": {"user": "U42", "channel": "C1", "thread_ts": "1.1"}}
    assert person_of(tracker("slack-C1-1.1", slack)) == "slack:U42"
    assert person_of(tracker("slack-C9-7.7", slack)) == "slack:U42"
    assert person_of(tracker("rest-abc", {"audience": "staff"})) == "rest-abc"
