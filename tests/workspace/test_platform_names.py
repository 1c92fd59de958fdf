"""One table of platform display names, next to the platforms themselves."""

from __future__ import annotations

import pytest

from analytics.support import SUPPORT_PLATFORM
from foundation.workspace import PLATFORM_NAMES, PLATFORMS, platform_name


def test_every_platform_has_a_display_name() -> None:
    assert list(PLATFORM_NAMES) == list(PLATFORMS)
    assert SUPPORT_PLATFORM in PLATFORM_NAMES
    assert len(set(PLATFORM_NAMES.values())) == len(PLATFORM_NAMES)


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("twitter", "Twitter/X"),
        ("instagram", "Instagram"),
        ("linkedin", "LinkedIn"),
        ("other", "other platforms"),
        ("support", "support chats"),
        (None, "all platforms"),  # no platform filter
        ("all", "all platforms"),  # a total over platforms
        ("myspace", "myspace"),  # not a workspace platform: shown as it is
    ],
)
def test_platform_name(code: str | None, name: str) -> None:
    assert platform_name(code) == name
