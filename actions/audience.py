"""Who is asking: staff or customer, as decided by the channel (never by the text).

The Rasa channels put ``{"audience": ...}`` into each user message's metadata
(bot/channels.py). Anything else — a missing value, an unknown one, a test shell —
counts as a customer, the safe side.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

STAFF = "staff"
CUSTOMER = "customer"


def audience_of(tracker: Tracker) -> str:
    """The audience of the tracker's latest user message."""
    latest: dict[str, Any] = tracker.latest_message or {}
    metadata = latest.get("metadata") or {}
    return STAFF if metadata.get("audience") == STAFF else CUSTOMER
