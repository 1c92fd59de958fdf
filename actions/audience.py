"""Who is asking: staff or customer, as decided by the channel (never by the text).

The Rasa channels put a :class:`~foundation.channel_metadata.UserMetadata` on each
user message (bot/channels.py, bot/slack.py). Anything without ``"audience": "staff"``
in it — a missing value, an unknown one, a test shell — counts as a customer, the
safe side. Which actions each audience may run is in actions/capabilities.py.
"""

from __future__ import annotations

from rasa_sdk import Tracker

from foundation.channel_metadata import CUSTOMER, STAFF, Audience, read_audience

__all__ = ["CUSTOMER", "STAFF", "audience_of"]


def audience_of(tracker: Tracker) -> Audience:
    """The audience of the tracker's latest user message."""
    return read_audience((tracker.latest_message or {}).get("metadata"))
