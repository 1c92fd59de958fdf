"""A small client for the bot's REST channel (``beacon chat``, the digest, tests)."""

from __future__ import annotations

from typing import Any

import httpx

from foundation.exceptions import ServiceUnavailableError
from foundation.text import visible_text


class BotClient:
    """Talks to Rasa's REST channel.

    Args:
        base_url: The Rasa server, e.g. ``http://localhost:5005``.
        staff_token: Sent as a Bearer token to be treated as staff; None = customer.
        timeout_s: Timeout of each request.
        transport: An httpx transport (tests inject ``httpx.MockTransport``).
    """

    def __init__(
        self,
        base_url: str,
        *,
        staff_token: str | None = None,
        timeout_s: float = 60.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {"Authorization": f"Bearer {staff_token}"} if staff_token else {}
        self._client = httpx.Client(headers=headers, timeout=timeout_s, transport=transport)

    def send(self, sender: str, text: str) -> list[dict[str, Any]]:
        """Send one message; returns the bot's messages (``text``, ``image``, ``buttons``...).

        Raises:
            ServiceUnavailableError: The bot cannot be reached or answered with an error.
        """
        url = f"{self.base_url}/webhooks/rest/webhook"
        try:
            reply = self._client.post(url, json={"sender": sender, "message": text})
        except httpx.HTTPError as error:
            raise ServiceUnavailableError(
                f"can't reach Beacon at {self.base_url} ({type(error).__name__}); "
                "start it with `make run` or set BEACON_BOT_URL"
            ) from None
        if reply.status_code != 200:
            raise ServiceUnavailableError(
                f"Beacon at {self.base_url} answered {reply.status_code}: {reply.text[:200]}"
            )
        messages: list[dict[str, Any]] = reply.json()
        return messages

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> BotClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def render_message(message: dict[str, Any]) -> str:
    """One bot message as terminal text (text, image link, buttons).

    Replies may quote customers' and posts' words, so control characters (ANSI
    escapes) are removed before anything reaches the terminal.
    """
    parts = []
    if message.get("text"):
        parts.append(str(message["text"]))
    if message.get("image"):
        parts.append(f"[image] {message['image']}")
    buttons = message.get("buttons") or []
    if buttons:
        parts.append("  ".join(f"[{b.get('title')}]" for b in buttons))
    return visible_text("\n".join(parts))
