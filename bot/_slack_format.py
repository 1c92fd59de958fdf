"""Turning Rasa's answers into Slack messages: escaping, splitting, Block Kit blocks.

Pure functions over plain dicts, standard library only, so they run (and are
tested) under both Python 3.10 (Rasa) and 3.11 (the test suite).

Slack's limits this module keeps (https://api.slack.com/reference/block-kit):

- a ``section`` block's text: at most 3,000 characters;
- a message: at most 50 blocks;
- an ``actions`` block: at most 25 elements; a button's text at most 75
  characters, its value at most 2,000.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SECTION_TEXT_LIMIT = 3000
MAX_BLOCKS = 50
MAX_ACTIONS_ELEMENTS = 25
BUTTON_TEXT_LIMIT = 75
BUTTON_VALUE_LIMIT = 2000
FALLBACK_TEXT_LIMIT = 3000

FEEDBACK_BLOCK_ID = "beacon_feedback"
FEEDBACK_ACTION_PREFIX = "beacon_feedback_"
REPLY_ACTION_PREFIX = "beacon_reply_"
# What a 👍/👎 click says to Rasa. Both are NLU examples of ``give_feedback``
# (bot/data/nlu/audience.yml), and ``actions.parsing.feedback_verdict`` reads them
# as "up" and "down".
FEEDBACK_TEXTS = {"up": "that answer was helpful", "down": "that was wrong"}
FEEDBACK_LABELS = {"up": "👍", "down": "👎"}
# The 📌 button beside them: "pin this" (an NLU example of ``pin_answer``) pins the
# answer to the clicker's dashboard (actions/pins.py).
PIN_ACTION_ID = "beacon_pin"
PIN_TEXT = "pin this"
PIN_LABEL = "📌 Pin"

Block = dict[str, Any]


@dataclass(frozen=True)
class SlackPost:
    """One ``chat.postMessage`` worth of answer.

    Attributes:
        text: Notification/fallback text (Slack shows the blocks when present).
        blocks: Block Kit blocks, at most :data:`MAX_BLOCKS`.
    """

    text: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class SlackAnswer:
    """Everything Beacon posts in a thread for one turn.

    Attributes:
        posts: Messages to post, in order (empty when the bot said nothing).
        images: Image URLs to download and upload into the thread, in order.
    """

    posts: tuple[SlackPost, ...]
    images: tuple[str, ...]


def escape_mrkdwn(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control (``& < >``)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut_point(text: str, limit: int) -> int:
    """Where to cut ``text`` (longer than ``limit``): paragraph, line, word, else hard."""
    window = text[:limit]
    for separator in ("\n\n", "\n", " "):
        at = window.rfind(separator)
        if at > limit // 2:
            return at
    # Hard cut: never inside an escaped entity such as "&lt;".
    amp = window.rfind("&", max(0, limit - 5))
    if amp != -1 and ";" not in window[amp:]:
        return amp
    return limit


def split_text(text: str, limit: int = SECTION_TEXT_LIMIT) -> list[str]:
    """Split ``text`` into pieces of at most ``limit`` characters.

    Cuts at the last paragraph break in the second half of the window, else the
    last line break, else the last space, else hard at ``limit``. Whitespace at a
    cut is dropped; nothing else is lost or reordered.

    Args:
        text: The text to split.
        limit: Largest piece length; must be at least 10.

    Returns:
        Non-empty pieces, in order (an empty list for blank text).

    Raises:
        ValueError: ``limit`` is below 10.
    """
    if limit < 10:
        raise ValueError(f"limit must be at least 10 characters, got {limit}")
    pieces: list[str] = []
    rest = text.strip()
    while rest:
        if len(rest) <= limit:
            pieces.append(rest)
            break
        cut = _cut_point(rest, limit)
        piece = rest[:cut].rstrip()
        if piece:
            pieces.append(piece)
        rest = rest[cut:].lstrip()
    return pieces


def _button(text: str, value: str, action_id: str) -> Block:
    if len(text) > BUTTON_TEXT_LIMIT:
        text = text[: BUTTON_TEXT_LIMIT - 1] + "…"
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": text, "emoji": True},
        "value": value[:BUTTON_VALUE_LIMIT],
        "action_id": action_id,
    }


def reply_buttons_blocks(buttons: list[dict[str, Any]], start: int = 0) -> list[Block]:
    """Rasa quick-reply buttons (``{"title", "payload"}``) as Block Kit ``actions`` blocks.

    Args:
        buttons: Rasa buttons; ones without a title or payload are skipped.
        start: First index for the ``action_id`` numbering (ids must be unique
            within a message).

    Returns:
        ``actions`` blocks of at most :data:`MAX_ACTIONS_ELEMENTS` buttons each.
    """
    elements = [
        _button(str(button["title"]), str(button["payload"]), f"{REPLY_ACTION_PREFIX}{start + i}")
        for i, button in enumerate(buttons)
        if button.get("title") and button.get("payload")
    ]
    return [
        {"type": "actions", "elements": elements[i : i + MAX_ACTIONS_ELEMENTS]}
        for i in range(0, len(elements), MAX_ACTIONS_ELEMENTS)
    ]


def feedback_block() -> Block:
    """The 👍/👎 and 📌 ``actions`` block every answer ends with."""
    return {
        "type": "actions",
        "block_id": FEEDBACK_BLOCK_ID,
        "elements": [
            *(
                _button(FEEDBACK_LABELS[verdict], verdict, f"{FEEDBACK_ACTION_PREFIX}{verdict}")
                for verdict in ("up", "down")
            ),
            _button(PIN_LABEL, "pin", PIN_ACTION_ID),
        ],
    }


def section_block(text: str) -> Block:
    """A ``section`` block with mrkdwn text (already escaped, at most 3,000 characters)."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _fallback_text(blocks: list[Block]) -> str:
    text = (
        "\n\n".join(block["text"]["text"] for block in blocks if block["type"] == "section")
        or "Beacon's answer"
    )
    if len(text) > FALLBACK_TEXT_LIMIT:
        text = text[: FALLBACK_TEXT_LIMIT - 1] + "…"
    return text


def build_answer(
    messages: list[dict[str, Any]],
    feedback: bool = True,
    section_chars: int = SECTION_TEXT_LIMIT,
) -> SlackAnswer:
    """Slack posts and images for the messages Rasa's ``CollectingOutputChannel`` collected.

    Consecutive texts are joined into one answer (Rasa splits texts at blank
    lines); texts are escaped for mrkdwn and split into sections within Slack's
    limit; quick-reply buttons become ``actions`` blocks after their text; the
    👍/👎 block ends the last post. Posts hold at most :data:`MAX_BLOCKS` blocks.

    Args:
        messages: Rasa output messages (keys ``text``, ``image``, ``buttons``,
            ``attachment``, ``custom``; others are ignored).
        feedback: Whether to add the 👍/👎 block.
        section_chars: Largest section text (Slack's limit, or less for shorter
            sections).

    Returns:
        The posts and the image URLs.

    Raises:
        ValueError: ``section_chars`` is outside 10..3000.
    """
    if not 10 <= section_chars <= SECTION_TEXT_LIMIT:
        raise ValueError(
            f"section_chars must be between 10 and {SECTION_TEXT_LIMIT}, got {section_chars}"
        )
    blocks: list[Block] = []
    images: list[str] = []
    pending: list[str] = []
    n_buttons = 0

    def flush() -> None:
        if pending:
            text = escape_mrkdwn("\n\n".join(pending))
            blocks.extend(section_block(piece) for piece in split_text(text, section_chars))
            pending.clear()

    for message in messages:
        text = message.get("text")
        if isinstance(text, str) and text.strip():
            pending.append(text.strip())
        attachment = message.get("attachment")
        if isinstance(attachment, str) and attachment.strip():
            pending.append(attachment.strip())
        buttons = message.get("buttons")
        if isinstance(buttons, list) and buttons:
            flush()
            blocks.extend(reply_buttons_blocks(buttons, start=n_buttons))
            n_buttons += len(buttons)
        image = message.get("image")
        if isinstance(image, str) and image.strip():
            images.append(image.strip())
    flush()
    if not blocks and not images:
        return SlackAnswer(posts=(), images=())
    if feedback:
        if not blocks:
            blocks.append(section_block("Was this answer helpful?"))
        blocks.append(feedback_block())
    posts = tuple(
        SlackPost(text=_fallback_text(chunk), blocks=tuple(chunk))
        for chunk in (blocks[i : i + MAX_BLOCKS] for i in range(0, len(blocks), MAX_BLOCKS))
    )
    return SlackAnswer(posts=posts, images=tuple(images))


def conversation_id(channel: str, thread_ts: str) -> str:
    """Rasa's sender id for a Slack thread: one conversation per channel and thread."""
    return f"slack-{channel}-{thread_ts}"
