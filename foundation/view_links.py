"""Signed, expiring links to a dashboard view: made by the actions and the digest, read by the dashboard.

A link names a view and its filters and carries an expiry and an HMAC-SHA256 over all
three, keyed with a key derived from the staff secret. Anyone holding the link sees
that view with those filters until it expires; changing a filter or the expiry in the
address breaks the signature, so a forwarded Slack message opens nothing else and
nothing for ever. The dashboard asks for a staff token when a link is missing or bad.

Standard library only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

#: The dashboard's views, in the order its menu lists them.
VIEWS = ("brand", "posts", "experiments", "creators", "support", "pins")
#: How long a link opens its view: a week, the digest's rhythm.
DEFAULT_TTL_S = 7 * 24 * 3600
#: The filters a link may carry (anything else is refused, not ignored).
FILTERS = frozenset(
    {"platform", "start", "end", "topic", "experiment", "brief", "post_id", "board"}
)
_MAX_VALUE = 500


class LinkError(ValueError):
    """A dashboard link that opens nothing: unsigned, tampered with, expired or malformed."""


@dataclass(frozen=True)
class ViewLink:
    """What a valid link opens.

    Attributes:
        view: One of :data:`VIEWS`.
        filters: Filter name → value (names from :data:`FILTERS`).
        expires: Unix time after which the link opens nothing.
    """

    view: str
    filters: Mapping[str, str] = field(default_factory=dict)
    expires: int = 0


def link_key(staff_secret: str) -> bytes:
    """The signing key for links, derived from the staff secret (never the secret itself)."""
    return hmac.new(staff_secret.encode(), b"beacon dashboard links v1", hashlib.sha256).digest()


def _payload(view: str, filters: Mapping[str, str], expires: int) -> bytes:
    return json.dumps(
        {"view": view, "filters": dict(sorted(filters.items())), "expires": expires},
        sort_keys=True,
        separators=(",", ":"),
    ).encode()


def _signature(key: bytes, view: str, filters: Mapping[str, str], expires: int) -> str:
    digest = hmac.new(key, _payload(view, filters, expires), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _checked(view: str, filters: Mapping[str, str]) -> dict[str, str]:
    if view not in VIEWS:
        raise LinkError(f"unknown dashboard view {view!r}; expected one of {', '.join(VIEWS)}")
    unknown = sorted(set(filters) - FILTERS)
    if unknown:
        raise LinkError(
            f"unknown dashboard filter(s) {', '.join(unknown)}; "
            f"expected some of {', '.join(sorted(FILTERS))}"
        )
    kept = {name: str(value) for name, value in filters.items() if value not in (None, "")}
    if any(len(value) > _MAX_VALUE for value in kept.values()):
        raise LinkError(f"a dashboard filter value is longer than {_MAX_VALUE} characters")
    return kept


def sign_link(
    base_url: str,
    view: str,
    filters: Mapping[str, str | None],
    key: bytes,
    *,
    ttl_s: int = DEFAULT_TTL_S,
    now: float | None = None,
) -> str:
    """The address that opens ``view`` with ``filters`` for ``ttl_s`` seconds.

    Args:
        base_url: The dashboard's public address (``BEACON_DASHBOARD_URL``).
        view: One of :data:`VIEWS`.
        filters: Filter name → value; None or empty values are left out.
        key: From :func:`link_key`.
        ttl_s: Seconds the link works.
        now: Unix time to count from (tests); the clock by default.

    Raises:
        LinkError: Unknown view or filter, or a value over 500 characters.
    """
    kept = _checked(view, {name: value for name, value in filters.items() if value is not None})
    expires = int((time.time() if now is None else now) + ttl_s)
    query = {
        "view": view,
        **kept,
        "expires": str(expires),
        "sig": _signature(key, view, kept, expires),
    }
    return f"{base_url.rstrip('/')}/?{urlencode(query)}"


def read_link(query: Mapping[str, str], key: bytes, *, now: float | None = None) -> ViewLink:
    """The view a link's query parameters open, after checking its signature and expiry.

    Args:
        query: The address's query parameters (one value each).
        key: From :func:`link_key`.
        now: Unix time to check the expiry against (tests); the clock by default.

    Raises:
        LinkError: No signature, a signature that does not match (a changed view,
            filter or expiry), an expired link, or unknown parameters.
    """
    params = dict(query)
    signature = params.pop("sig", "")
    view = params.pop("view", "")
    expires_text = params.pop("expires", "")
    if not signature or not expires_text.isdigit():
        raise LinkError("this address is not a signed dashboard link; sign in with a staff token")
    filters = _checked(view, params)
    expires = int(expires_text)
    expected = _signature(key, view, filters, expires)
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        raise LinkError(
            "this dashboard link has been changed or was signed for another installation; "
            "ask Beacon again for a fresh link, or sign in with a staff token"
        )
    if (time.time() if now is None else now) >= expires:
        raise LinkError(
            "this dashboard link has expired; ask Beacon again for a fresh link, "
            "or sign in with a staff token"
        )
    return ViewLink(view, filters, expires)
