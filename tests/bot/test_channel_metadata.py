"""The metadata contract the channels build and the actions read (foundation/channel_metadata.py).

The module is standard library only, so it runs here (Python 3.11) as it does under
Rasa's Python 3.10, where tests/bot/test_slack_channel.py imports it through the channels.
"""

from __future__ import annotations

from typing import Any

import pytest

from foundation.channel_metadata import (
    CUSTOMER,
    SLACK_FILE_FIELDS,
    STAFF,
    SlackFile,
    action_server_error,
    read_audience,
    read_slack_files,
    slack_file,
    slack_origin,
    user_metadata,
)

SHOE = {
    "id": "F1",
    "name": "shoe.jpg",
    "mimetype": "image/jpeg",
    "size": 2048,
    "url_private": "https://files.slack.com/files-pri/T1-F1/shoe.jpg",
}


def test_the_channel_side_builds_what_the_action_side_reads() -> None:
    shared = slack_file({**SHOE, "title": "x"})  # fields outside the contract stay behind
    assert shared is not None
    origin = slack_origin("U1", "C1", "17.1", [shared])
    metadata = user_metadata(STAFF, origin)
    assert metadata == {
        "audience": "staff",
        "slack": {"user": "U1", "channel": "C1", "thread_ts": "17.1", "files": [SHOE]},
    }
    assert read_audience(metadata) == STAFF
    assert read_slack_files(metadata) == [SHOE]
    assert user_metadata(CUSTOMER) == {"audience": "customer"}
    assert "files" not in slack_origin("U1", "C1", "17.1")
    assert action_server_error() == {"error": "action_server"}


@pytest.mark.parametrize(
    "metadata",
    [None, {}, {"audience": None}, {"audience": "Staff"}, {"audience": "admin"}, {"x": 1}],
)
def test_anything_but_staff_reads_as_a_customer(metadata: dict[str, Any] | None) -> None:
    assert read_audience(metadata) == CUSTOMER


def test_an_unknown_audience_is_refused_on_the_channel_side() -> None:
    with pytest.raises(ValueError, match=r"audience must be 'staff' or 'customer', got 'admin'"):
        user_metadata("admin")


def test_only_files_with_a_private_url_are_passed_on_with_the_contracts_fields() -> None:
    assert set(SLACK_FILE_FIELDS) == SlackFile.__required_keys__ | SlackFile.__optional_keys__
    assert slack_file({"id": "F2"}) is None and slack_file("junk") is None
    assert slack_file({"url_private": "https://x/y.png", "size": [1]}) == {
        "url_private": "https://x/y.png"
    }
    files = [SHOE, {"id": "F2"}, "junk"]
    assert read_slack_files({"slack": {"files": files}}) == [SHOE]
    assert read_slack_files({"audience": "staff"}) == []
    assert read_slack_files({"slack": {"files": "nope"}}) == []
