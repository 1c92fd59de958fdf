"""The staff dashboard in a real headless Chromium, opened from a real chat answer's link.

The stack runs the dashboard beside the bot (``beacon serve`` does the same); a staff
question gets an answer with a signed link, and the view it opens must show the
answer's numbers, follow a changed filter to what the workspace holds (SQL written
here), refuse a changed or expired link, and let a staff token in.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from beacon.scoring import current_model_version
from foundation.view_links import DEFAULT_TTL_S, sign_link
from tests.dashboard.sql import brand_label_counts
from tests.e2e.conftest import E2E

try:
    from playwright.sync_api import Browser, Page, expect
except ImportError:
    pytest.skip(
        "playwright is not installed: .venv/bin/pip install playwright (no browser download "
        "needed; the test drives Debian's chromium)",
        allow_module_level=True,
    )

pytestmark = pytest.mark.e2e

LINK = re.compile(r"See it in the dashboard \(link valid \d+ days\): (\S+)")
SHARES = re.compile(r"(\d+)% positive, (\d+)% neutral, (\d+)% negative across ([\d,]+) posts")
RENDER_TIMEOUT_MS = 60_000
DONE = '[data-test-script-state="notRunning"]'


def _metrics(page: Page) -> dict[str, str]:
    """The headline numbers on the page: label → value."""
    metrics = page.locator('[data-testid="stMetric"]')
    expect(metrics.first).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    labels = page.locator('[data-testid="stMetricLabel"]').all_inner_texts()
    values = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
    return {label.strip(): value.strip() for label, value in zip(labels, values, strict=True)}


def _shot(page: Page, folder: Path, name: str, record: Callable[[str, object], None]) -> None:
    path = folder / f"dashboard-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    record(f"screenshot-{name}", str(path))
    print(f"dashboard screenshot: {path}")
    assert path.stat().st_size > 10_000


def test_a_link_from_a_chat_answer_opens_the_same_numbers_and_follows_filters(
    e2e: E2E, browser: Browser, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    reply = e2e.ask("how is sentiment about us on instagram this month?")
    said = SHARES.search(reply)
    link = LINK.search(reply)
    assert said and link, reply
    query = dict(parse_qsl(urlsplit(link.group(1)).query))
    assert (query["view"], query["platform"]) == ("brand", "instagram")

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(link.group(1))
    shown = _metrics(page)
    positive, neutral, negative, posts = said.groups()
    assert shown["Posts"] == posts
    assert (shown["Positive"], shown["Neutral"], shown["Negative"]) == (
        f"{positive}%",
        f"{neutral}%",
        f"{negative}%",
    )
    _shot(page, tmp_path, "brand-from-link", record_property)

    # A narrower topic: the numbers follow the workspace, counted here in SQL.
    topic = page.get_by_label("Topic")
    topic.fill("blister")
    topic.press("Enter")
    start, end = (date.fromisoformat(query[name]) for name in ("start", "end"))
    with e2e.demo.workspace.connect(read_only=True) as con:
        counts = brand_label_counts(
            con, current_model_version(), start, end, platform="instagram", topic="blister"
        )
    total = sum(counts.values())
    assert total and total != int(posts.replace(",", ""))
    posts_metric = page.locator('[data-testid="stMetricValue"]').first
    expect(posts_metric).to_have_text(f"{total:,}", timeout=RENDER_TIMEOUT_MS)
    shown = _metrics(page)
    assert shown["Negative"] == f"{100 * counts['negative'] / total:.0f}%"
    _shot(page, tmp_path, "brand-topic", record_property)
    page.close()


def test_a_changed_or_expired_link_is_refused_and_a_staff_token_signs_in(
    e2e: E2E, browser: Browser, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    base = e2e.stack.config.dashboard_url
    assert base
    key = e2e.stack.config.settings.dashboard_link_key()
    link = sign_link(base, "brand", {"platform": "instagram"}, key)
    query = dict(parse_qsl(urlsplit(link).query))
    tampered = f"{base}/?{urlencode({**query, 'platform': 'twitter'})}"
    expired = sign_link(
        base, "brand", {"platform": "instagram"}, key, now=time.time() - DEFAULT_TTL_S - 60
    )

    page = browser.new_page(viewport={"width": 1400, "height": 900})
    for name, url, reason in (
        ("tampered", tampered, "changed"),
        ("expired", expired, "expired"),
        ("unsigned", f"{base}/?view=brand&platform=instagram", "not a signed"),
    ):
        page.goto(url)
        expect(page.get_by_text(reason)).to_be_visible(timeout=RENDER_TIMEOUT_MS)
        expect(page.get_by_label("Staff token")).to_be_visible()
        assert page.locator('[data-testid="stMetric"]').count() == 0, name
        _shot(page, tmp_path, f"refused-{name}", record_property)

    token = page.get_by_label("Staff token")
    token.fill("not-the-token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("not a valid staff token")).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    assert page.locator('[data-testid="stMetric"]').count() == 0

    page.get_by_label("Staff token").fill(e2e.staff_token)
    page.get_by_role("button", name="Sign in").click()
    assert _metrics(page)["Posts"]
    expect(page.get_by_role("heading", name="Brand health")).to_be_visible()
    page.close()


def test_customers_get_no_dashboard_link(e2e: E2E) -> None:
    reply = e2e.ask("how is sentiment about you on instagram this month?", staff=False)
    assert "dashboard" not in reply.lower()
    assert e2e.stack.config.dashboard_url not in reply  # type: ignore[operator]


def test_pin_this_in_chat_puts_a_tile_on_the_board(
    e2e: E2E, browser: Browser, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    sender = f"e2e-pins-{uuid.uuid4().hex[:8]}"
    question = "what is the sentiment on facebook this month?"
    answer = e2e.ask(question, sender=sender)
    said = SHARES.search(answer)
    assert said, answer
    pinned = e2e.ask("pin this", sender=sender)
    tile = re.search(r"as tile ([0-9a-f]{6})", pinned)
    board_link = re.search(r"Open it: (\S+)", pinned)
    assert tile and board_link, pinned

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    # The action server writes the pin through its journal; the board shows it once written.
    deadline = time.monotonic() + 60
    heading = page.get_by_role("heading", name=question)
    while True:
        page.goto(board_link.group(1))
        expect(page.get_by_role("heading", name="Pinned")).to_be_visible(timeout=RENDER_TIMEOUT_MS)
        page.wait_for_selector(DONE, state="attached", timeout=RENDER_TIMEOUT_MS)
        if heading.count() or time.monotonic() > deadline:
            break
        time.sleep(2)
    expect(heading).to_be_visible()
    expect(page.get_by_text(f"tile {tile.group(1)}")).to_be_visible()
    # Worked out again on the same data: the same count as the answer. Waits for the
    # tile's numbers, which draw after its heading.
    posts = page.locator('[data-testid="stMetric"]').filter(has_text="Posts").first
    expect(posts).to_contain_text(said.group(4), timeout=RENDER_TIMEOUT_MS)
    _shot(page, tmp_path, "pinned-board", record_property)

    listed = e2e.ask("what's on my dashboard?", sender=sender)
    assert tile.group(1) in listed
    e2e.ask(f"unpin {tile.group(1)}", sender=sender)
    page.close()
