"""Links from staff answers to the dashboard view with the answer's own filters.

Each link is signed and expires (:mod:`foundation.view_links`); customers never get one,
and none is made when no dashboard is configured (``BEACON_DASHBOARD_URL``, which
``beacon serve`` sets for the dashboard it starts).
"""

from __future__ import annotations

from collections.abc import Mapping

from rasa_sdk import Tracker

from actions.audience import STAFF, audience_of
from actions.services import Services
from foundation.view_links import DEFAULT_TTL_S, sign_link


def view_link(
    tracker: Tracker, services: Services, view: str, filters: Mapping[str, str | None]
) -> str | None:
    """A signed link to ``view`` with ``filters`` for a staff member; None for a customer."""
    settings = services.settings
    if audience_of(tracker) != STAFF or not settings.dashboard_url:
        return None
    return sign_link(settings.dashboard_url, view, filters, settings.dashboard_link_key())


def with_link(text: str, link: str | None) -> str:
    """``text`` with a last line that opens the same numbers in the dashboard, when linked."""
    if link is None:
        return text
    return f"{text}\nSee it in the dashboard (link valid {DEFAULT_TTL_S // 86400} days): {link}"
