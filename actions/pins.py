"""``pin_answer``, ``unpin_answer``, ``list_pins``: dashboard tiles from chat.

"pin this" keeps the previous answer's question and parameters (never its numbers) as a
tile on the asker's own dashboard board, or on a team board named in the message ("pin
this to the team board", "… to the launch dashboard"); the dashboard works each tile
out again on current data when it opens (:mod:`dashboard.app`). "unpin …" takes one off,
"what's on my dashboard?" lists them. Tiles are ``pin_events`` rows in the workspace
(and in PostgreSQL where the shared record is configured).
"""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.base import BeaconAction, Events
from actions.context import LastAnswer, last_answer, latest_text
from actions.links import view_link
from actions.services import Services
from foundation.workspace import queries, utc_now
from foundation.workspace.queries import PinnedTile

#: Answer kinds a tile can show again, and how a list names them.
PINNABLE = {
    "sentiment": "sentiment",
    "anomaly": "unusual days",
    "experiment": "experiment",
    "ranking": "creator ranking",
    "top_posts": "best or worst posts",
}
TEAM_BOARD = "team"
_NAMED_BOARD = re.compile(
    r"\b(?:to|on|from|in)\s+(?:the|our)\s+([a-z0-9][a-z0-9 -]{0,30}?)\s+(?:board|dashboard)\b"
)
_TILE_ID = re.compile(r"\b([0-9a-f]{6})\b")
_KIND_WORDS = {
    "sentiment": ("sentiment", "brand health", "vibe"),
    "anomaly": ("unusual", "anomal", "spike", "alert"),
    "experiment": ("experiment", "test", "a/b"),
    "ranking": ("creator", "influencer", "ranking"),
    "top_posts": ("post",),
}


def own_board(person: str) -> str:
    """The board of one person (:func:`person_of`)."""
    return f"person:{person}"


def person_of(tracker: Tracker) -> str:
    """Who is asking: their Slack user id in Slack (one board across threads), else the
    conversation id."""
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    slack = metadata.get("slack") if isinstance(metadata, dict) else None
    user = slack.get("user") if isinstance(slack, dict) else None
    return f"slack:{user}" if isinstance(user, str) and user else tracker.sender_id


def asked_board(text: str, person: str) -> str:
    """The board a message names: a team board by name, else the asker's own."""
    lowered = " ".join(text.lower().split())
    found = _NAMED_BOARD.search(lowered)
    if found and found.group(1) not in ("my", "my own"):
        return re.sub(r"[^a-z0-9]+", "-", found.group(1)).strip("-") or TEAM_BOARD
    if re.search(r"\bteam\b", lowered):
        return TEAM_BOARD
    return own_board(person)


def board_name(board: str) -> str:
    """How replies name a board."""
    return "your dashboard" if board.startswith("person:") else f"the “{board}” dashboard"


def asked_question(tracker: Tracker) -> str:
    """The user's message before this one: the question the pinned answer answered."""
    said = [
        str(event.get("text") or "")
        for event in tracker.events
        if event.get("event") == "user" and event.get("text")
    ]
    return said[-2] if len(said) >= 2 else ""


def tile_params(answer: LastAnswer) -> dict[str, Any]:
    """What a tile keeps of an answer to work it out again: its parameters, no numbers."""
    params = dict(answer.params)
    if answer.kind == "experiment" and answer.ids:
        params["experiment"] = answer.ids[0]
    return params


def _keep_event(
    services: Services,
    tracker: Tracker,
    board: str,
    tile_id: str,
    action: str,
    kind: str,
    question: str | None = None,
    params: str | None = None,
) -> None:
    """One ``pin_events`` row (a pin or an unpin), through the workspace's journal."""
    row = [f"pin-{secrets.token_hex(8)}", utc_now(), tracker.sender_id, board, tile_id, action]
    services.workspace.keep("pin_events", [[*row, kind, question, params]])


def _board_link(tracker: Tracker, services: Services, board: str) -> str:
    link = view_link(tracker, services, "pins", {"board": board})
    return f"\nOpen it: {link}" if link else ""


def _tile_line(tile: PinnedTile) -> str:
    question = tile.question or PINNABLE.get(tile.kind, tile.kind)
    return f"• {tile.tile_id}: “{question}” ({PINNABLE.get(tile.kind, tile.kind)})"


class ActionPinAnswer(BeaconAction):
    """Keep the previous answer as a tile on a dashboard board."""

    action_name = "action_pin_answer"

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        answer = last_answer(tracker)
        if answer is None or answer.kind not in PINNABLE:
            kinds = ", ".join(PINNABLE.values())
            dispatcher.utter_message(
                text=f"There is nothing to pin yet: ask about {kinds}, then say “pin this”."
                if answer is None
                else f"Sorry, that answer can't be a tile yet. I can pin answers about {kinds}."
            )
            return []
        board = asked_board(latest_text(tracker), person_of(tracker))
        question = asked_question(tracker)
        tile_id = secrets.token_hex(3)
        params = json.dumps(tile_params(answer), sort_keys=True, default=str)
        _keep_event(services, tracker, board, tile_id, "pin", answer.kind, question[:500], params)
        dispatcher.utter_message(
            text=f"Pinned “{question or PINNABLE[answer.kind]}” to {board_name(board)} as tile "
            f"{tile_id}. It is worked out again on current data whenever the dashboard opens; "
            f"say “unpin {tile_id}” to take it off." + _board_link(tracker, services, board)
        )
        return []


class ActionUnpinAnswer(BeaconAction):
    """Take a tile off a board: by its id, by what it shows, or the latest one."""

    action_name = "action_unpin_answer"

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        text = latest_text(tracker)
        board = asked_board(text, person_of(tracker))
        with services.workspace.connect(read_only=True) as con:
            tiles = queries.pinned_tiles(con, board)
        chosen = _chosen_tiles(text, tiles)
        if not tiles:
            dispatcher.utter_message(text=f"There is nothing on {board_name(board)} to unpin.")
            return []
        if len(chosen) != 1:
            lines = [
                f"Which tile? {board_name(board).capitalize()} has:",
                *(_tile_line(tile) for tile in tiles),
                "Say e.g. “unpin " + tiles[-1].tile_id + "”.",
            ]
            dispatcher.utter_message(text="\n".join(lines))
            return []
        tile = chosen[0]
        _keep_event(services, tracker, board, tile.tile_id, "unpin", tile.kind)
        dispatcher.utter_message(
            text=f"Unpinned tile {tile.tile_id} (“{tile.question or PINNABLE.get(tile.kind)}”) "
            f"from {board_name(board)}."
        )
        return []


def _chosen_tiles(text: str, tiles: list[PinnedTile]) -> list[PinnedTile]:
    """The tiles an unpin message points at: by id, by kind, or "that" for the latest."""
    lowered = text.lower()
    by_id = [tile for tile in tiles if tile.tile_id in _TILE_ID.findall(lowered)]
    if by_id:
        return by_id
    by_kind = [
        tile for tile in tiles if any(word in lowered for word in _KIND_WORDS.get(tile.kind, ()))
    ]
    if by_kind:
        return by_kind
    if tiles and (len(tiles) == 1 or re.search(r"\b(that|this|it|last|latest)\b", lowered)):
        return [tiles[-1]]
    return []


class ActionListPins(BeaconAction):
    """What is on a board, with a link that opens it."""

    action_name = "action_list_pins"

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        board = asked_board(latest_text(tracker), person_of(tracker))
        with services.workspace.connect(read_only=True) as con:
            tiles = queries.pinned_tiles(con, board)
        if not tiles:
            dispatcher.utter_message(
                text=f"Nothing is pinned to {board_name(board)} yet: ask a question, then say "
                "“pin this”."
            )
            return []
        lines = [f"{board_name(board).capitalize()} has {len(tiles)} tile(s):"]
        lines += [_tile_line(tile) for tile in tiles]
        dispatcher.utter_message(text="\n".join(lines) + _board_link(tracker, services, board))
        return []
