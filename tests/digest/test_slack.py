"""Posting to Slack (a local fake of its Web API): once per week and channel."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest
from slack_sdk import WebClient

from beacon.digest import (
    POSTED_KIND,
    SlackImage,
    SlackPoster,
    build_digest,
    digest_blocks,
    escape_mrkdwn,
    publish_digest,
)
from beacon.scoring import current_scorer
from bot._slack_format import escape_mrkdwn as bot_escape_mrkdwn
from foundation.exceptions import ConfigError, InputError, ServiceUnavailableError
from tests.conftest import DemoWorkspace
from tests.digest.conftest import SPIKE_WEEK, DemoDigests
from tests.fakes.slack import FakeSlack


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


def _poster(fake: FakeSlack) -> SlackPoster:
    return SlackPoster(WebClient(token="xoxb-test", base_url=fake.base_url, timeout=5))


def test_blocks_carry_the_headline_numbers(demo_digests: DemoDigests) -> None:
    digest = demo_digests.digests[SPIKE_WEEK]
    blocks = digest_blocks(digest)
    assert blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Trailbird weekly digest · 2026-W43"},
    }
    assert blocks[-1]["type"] == "context"
    assert "2026-W43 (19–25 Oct 2026)" in blocks[-1]["elements"][0]["text"]
    text = json.dumps(blocks, ensure_ascii=False)
    assert f"{digest.volume.total.brand_posts} posts about the brand" in text
    negative = next(c for c in digest.sentiment.summary.changes if c.label == "negative")
    assert negative.significant and f"negative up {negative.points:.1f} points" in text
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section")
    assert len(blocks) <= 50


def test_posts_once_then_only_with_force(demo_copy: DemoWorkspace, fake: FakeSlack) -> None:
    digest = build_digest(demo_copy.workspace, SPIKE_WEEK, model_version=current_scorer().version)
    poster = _poster(fake)
    first = publish_digest(demo_copy.workspace, digest, poster, "#marketing")
    assert first.posted and first.channel == "C0MARKETING"
    [message] = fake.calls_to("chat.postMessage")
    assert message.token == "xoxb-test" and message.params["channel"] == "C0MARKETING"
    assert message.params["blocks"] == digest_blocks(digest)
    [complete] = fake.calls_to("files.completeUploadExternal")
    assert complete.params["thread_ts"] == first.ts
    assert complete.params["channel_id"] == "C0MARKETING"
    assert len(fake.calls_to("upload")) == 2 and all(
        c.body.startswith(b"\x89PNG") for c in fake.calls_to("upload")
    )
    assert len(first.file_ids) == 2

    again = publish_digest(demo_copy.workspace, digest, poster, "marketing")
    assert not again.posted and again.ts == first.ts and again.marker_id == first.marker_id
    assert len(fake.calls_to("chat.postMessage")) == 1 and len(fake.calls_to("upload")) == 2

    forced = publish_digest(demo_copy.workspace, digest, poster, "C0MARKETING", force=True)
    assert forced.posted and forced.ts != first.ts
    assert len(fake.calls_to("chat.postMessage")) == 2

    other = publish_digest(demo_copy.workspace, digest, poster, "C0OTHERCHAN")
    assert other.posted, "the marker is per channel"
    with demo_copy.workspace.connect() as con:
        markers = con.execute(
            "SELECT json_extract_string(inputs, '$.week'), json_extract_string(inputs, '$.channel') "
            "FROM audit WHERE kind = ? ORDER BY created_at",
            [POSTED_KIND],
        ).fetchall()
    assert markers == [
        ("2026-W43", "C0MARKETING"),
        ("2026-W43", "C0MARKETING"),
        ("2026-W43", "C0OTHERCHAN"),
    ]


def test_poster_is_reusable_for_a_message_and_images_in_a_thread(fake: FakeSlack) -> None:
    poster = _poster(fake)
    parent = poster.post_message("marketing", "hello")
    sent = poster.post(
        "marketing",
        "a reply with a chart",
        images=[SlackImage("c.png", "Chart", "a chart", b"\x89PNG fake")],
        thread_ts=parent.ts,
    )
    assert sent.channel == "C0MARKETING" and len(sent.file_ids) == 1
    assert fake.calls_to("chat.postMessage")[1].params["thread_ts"] == parent.ts
    assert fake.calls_to("files.completeUploadExternal")[0].params["thread_ts"] == parent.ts
    assert len(fake.calls_to("conversations.list")) == 1, "channel ids are cached"


def test_rate_limits_and_server_errors_are_retried_and_post_once(fake: FakeSlack) -> None:
    poster = SlackPoster.from_env(
        {"SLACK_BOT_TOKEN": "xoxb-test", "BEACON_SLACK_API_URL": fake.base_url}
    )
    fake.fail_next("chat.postMessage", 429, retry_after=0)
    fake.fail_next("chat.postMessage", 503)
    sent = poster.post_message("marketing", "hello")
    assert [c.params["text"] for c in fake.calls_to("chat.postMessage")] == ["hello"]
    assert [c.method for c in fake.failed] == ["chat.postMessage"] * 2
    assert sent.ts


def test_slack_that_keeps_failing_is_one_clear_error_and_posts_nothing(fake: FakeSlack) -> None:
    poster = SlackPoster.from_env(
        {"SLACK_BOT_TOKEN": "xoxb-test", "BEACON_SLACK_API_URL": fake.base_url}
    )
    fake.fail_next("chat.postMessage", 500, times=3)
    with pytest.raises(ServiceUnavailableError) as caught:
        poster.post_message("marketing", "hello")
    assert "\n" not in str(caught.value)
    assert fake.calls_to("chat.postMessage") == [] and len(fake.failed) == 3


def test_unknown_channel_and_missing_token(fake: FakeSlack) -> None:
    with pytest.raises(InputError, match=r"no Slack channel named 'sales' is visible to the bot"):
        _poster(fake).channel_id("#sales")
    with pytest.raises(ConfigError, match=r"set SLACK_BOT_TOKEN \(xoxb-…\) in the environment"):
        SlackPoster.from_env({"BEACON_SLACK_API_URL": fake.base_url})
    poster = SlackPoster.from_env(
        {"SLACK_BOT_TOKEN": "xoxb-env", "BEACON_SLACK_API_URL": fake.base_url}
    )
    assert poster.client.base_url == fake.base_url and poster.client.timeout == 10
    poster.post_message("marketing", "hi")
    assert fake.calls_to("chat.postMessage")[0].token == "xoxb-env"


def test_unreachable_slack_is_a_service_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    poster = SlackPoster(
        WebClient(token="xoxb-test", base_url=f"http://127.0.0.1:{port}/api/", timeout=2)
    )
    with pytest.raises(ServiceUnavailableError, match=r"cannot reach Slack for chat.postMessage"):
        poster.post_message("C0MARKETING", "hello")


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("<!channel> hello", "&lt;!channel&gt; hello"),
        ("<!here|here>", "&lt;!here|here&gt;"),
        ("ping <@U0ADMIN>", "ping &lt;@U0ADMIN&gt;"),
        (
            "<https://evil.example|Your Slack session expired>",
            "&lt;https://evil.example|Your Slack session expired&gt;",
        ),
        ("fish & chips &amp; peas", "fish &amp; chips &amp;amp; peas"),
        ("plain words", "plain words"),
    ],
)
def test_escape_mrkdwn_neutralises_mentions_and_links_as_the_bot_does(
    text: str, escaped: str
) -> None:
    assert escape_mrkdwn(text) == escaped
    # The Rasa side has its own copy (it cannot import beacon): both must agree.
    assert bot_escape_mrkdwn(text) == escaped
