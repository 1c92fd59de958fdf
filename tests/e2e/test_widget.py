"""The support chat widget in a real headless Chromium, talking to the real stack as a customer.

Needs Debian's ``chromium`` (``apt-get install -y chromium``) and the ``playwright``
Python package; Playwright's own browser downloads are never used. Skips with the
reason when either is missing.
"""

from __future__ import annotations

import html
import json
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from actions.base import HANDOFF_OFFER
from beacon.widget import make_server
from foundation.settings import PROJECT_ROOT
from tests.e2e.conftest import E2E, SlackE2E

try:
    from playwright.sync_api import Browser, Page, Route, expect
except ImportError:
    pytest.skip(
        "playwright is not installed: .venv/bin/pip install playwright (no browser download "
        "needed; the test drives Debian's chromium)",
        allow_module_level=True,
    )

pytestmark = pytest.mark.e2e

PUBLIC_DOCS = PROJECT_ROOT / "data" / "knowledge" / "public"
ANSWER_TIMEOUT_MS = 90_000  # a knowledge answer on a busy 2-core machine


@pytest.fixture(scope="module")
def page_url(e2e: E2E) -> Iterator[str]:
    """The demo support page, served on a free port, pointing at the e2e stack's bot."""
    server = make_server("127.0.0.1", 0, e2e.stack.config.bot_url)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    try:
        yield f"http://{host!s}:{port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _ask(page: Page, question: str) -> str:
    """Type ``question`` into the widget, send it with Enter and return the new bot text
    (all the messages of the reply)."""
    bot = page.locator(".bw-message--bot")
    before = bot.count()
    box = page.get_by_label("Your message")
    box.fill(question)
    box.press("Enter")
    expect(page.locator(".bw-message--user").last).to_contain_text(question)
    expect(bot.nth(before)).to_be_attached(timeout=ANSWER_TIMEOUT_MS)  # one reply or more
    expect(page.get_by_role("status")).to_be_hidden(timeout=ANSWER_TIMEOUT_MS)
    return "\n".join(bot.all_inner_texts()[before:])


def _sent(route: Route) -> str:
    """The message a held request to the bot carries."""
    body = json.loads(route.request.post_data or "{}")
    return str(body.get("message"))


def _assert_quotes_from_public_documents(answer: str) -> None:
    """Every passage the answer quotes is in the public document it cites."""
    quotes = re.findall(r"^“([^”]+)”\s*—\s*(public/[\w/-]+\.\w+)", answer, re.MULTILINE)
    assert quotes, f"no quoted passage with a public source in: {answer}"
    for quote, source in quotes:
        document = (PUBLIC_DOCS / source.removeprefix("public/")).read_text()
        words = re.sub(r"<[^>]+>", " ", document)
        text = " ".join(html.unescape(words).split())
        assert " ".join(quote.rstrip(".…").split()) in text, (quote, source)


def test_customer_asks_two_questions_and_the_history_survives_a_reload(
    browser: Browser, page_url: str, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: console_errors.append(str(error)))
    requests: list[dict[str, str]] = []
    page.on(
        "request",
        lambda r: requests.append(r.headers) if r.url.endswith("/webhooks/rest/webhook") else None,
    )
    try:
        page.goto(page_url)
        expect(page.get_by_role("heading", name="How can we help?")).to_be_visible()
        launcher = page.get_by_role("button", name="Chat with us")
        expect(launcher).to_have_attribute("aria-expanded", "false")

        # Keyboard: open with Enter, focus lands in the input, Escape closes and returns focus.
        launcher.focus()
        page.keyboard.press("Enter")
        dialog = page.get_by_role("dialog", name="Trailbird support")
        expect(dialog).to_be_visible()
        expect(page.get_by_label("Your message")).to_be_focused()
        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()
        expect(launcher).to_be_focused()
        expect(launcher).to_have_attribute("aria-expanded", "false")
        launcher.click()
        expect(dialog).to_be_visible()
        expect(page.get_by_role("log", name="Conversation")).to_have_attribute(
            "aria-live", "polite"
        )

        returns = _ask(page, "what is your return policy?")
        assert "public/shipping-and-returns.html" in returns, returns
        assert re.search(r"\breturn", returns, re.IGNORECASE), returns
        _assert_quotes_from_public_documents(returns)
        shipping = _ask(page, "how long does shipping take?")
        assert "public/shipping-and-returns.html" in shipping, shipping
        assert re.search(r"\d+ to \d+ working days", shipping), shipping
        _assert_quotes_from_public_documents(shipping)

        # A customer: no staff token ever leaves the page.
        assert requests and not any("authorization" in h for h in requests)
        sender = page.evaluate("window.BeaconWidget.sender()")
        assert sender.startswith("web-")

        page.reload()
        expect(dialog).to_be_visible()  # it was open before the reload
        messages = page.locator(".bw-message")
        expect(messages).to_have_count(4)
        restored = messages.all_inner_texts()
        assert "what is your return policy?" in restored[0]
        assert returns.strip() in restored[1]
        assert "how long does shipping take?" in restored[2]
        assert shipping.strip() in restored[3]
        assert page.evaluate("window.BeaconWidget.sender()") == sender

        screenshot = tmp_path / "widget.png"
        page.screenshot(path=str(screenshot), full_page=False)
        record_property("screenshot", str(screenshot))
        print(f"widget screenshot: {screenshot}")
        assert screenshot.stat().st_size > 10_000
        assert not console_errors, console_errors
    finally:
        context.close()


def test_typing_quick_replies_images_and_errors(browser: Browser, page_url: str) -> None:
    """The widget's handling of Rasa's message kinds and of a bot that can't be reached.

    The browser's requests to the bot are intercepted here (the stack's bot sends no
    buttons or images to customers), so each state can be held and looked at.
    """
    context = browser.new_context()
    page = context.new_page()
    held: list[Route] = []
    page.route("**/webhooks/rest/webhook", lambda route: held.append(route))
    page.route(
        "http://images.test/**", lambda route: route.fulfill(body=PNG, content_type="image/png")
    )
    try:
        page.goto(page_url)
        page.get_by_role("button", name="Chat with us").click()
        box = page.get_by_label("Your message")
        box.fill("my shoes don't fit")
        box.press("Enter")
        typing = page.get_by_role("status")
        expect(typing).to_be_visible()
        expect(typing).to_contain_text("typing")
        expect(page.get_by_role("button", name="Send")).to_be_disabled()
        page.wait_for_timeout(50)
        assert len(held) == 1 and _sent(held[0]) == "my shoes don't fit"
        held.pop().fulfill(
            json=[
                {
                    "recipient_id": "x",
                    "text": "Do you want to exchange or return them?",
                    "buttons": [
                        {"title": "Exchange", "payload": "/exchange"},
                        {"title": "Return", "payload": "/return"},
                    ],
                },
                {"recipient_id": "x", "image": "http://images.test/size-chart.png"},
            ]
        )
        expect(typing).to_be_hidden()
        expect(page.locator(".bw-message--bot img")).to_have_attribute(
            "src", "http://images.test/size-chart.png"
        )
        assert page.locator(".bw-message--bot img").evaluate("img => img.naturalWidth") >= 1
        replies = page.get_by_role("group", name="Suggested replies")
        exchange = replies.get_by_role("button", name="Exchange")
        exchange.focus()
        page.keyboard.press("Enter")  # quick replies work from the keyboard
        expect(page.locator(".bw-message--user").last).to_contain_text("Exchange")
        expect(exchange).to_be_disabled()
        page.wait_for_timeout(50)
        assert _sent(held[0]) == "/exchange"  # the payload is sent

        held.pop().abort("connectionrefused")  # the bot is unreachable
        alert = page.get_by_role("alert")
        expect(alert).to_contain_text("Can't reach support right now")
        expect(page.locator(".bw-message--user").last).to_contain_text("Not delivered")
        expect(typing).to_be_hidden()
        page.get_by_role("button", name="Try again").click()
        expect(alert).to_be_hidden()
        page.wait_for_timeout(50)
        held.pop().fulfill(json=[{"recipient_id": "x", "text": "Exchanges are free."}])
        expect(page.locator(".bw-message--bot").last).to_contain_text("Exchanges are free.")
        expect(page.locator(".bw-message--failed")).to_have_count(0)
    finally:
        context.close()


def test_a_slow_bot_times_out_with_a_message(browser: Browser, page_url: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    held: list[Route] = []
    page.route("**/webhooks/rest/webhook", lambda route: held.append(route))  # never answered

    def short_timeout(route: Route) -> None:  # the page's script tag, with data-timeout-ms
        html = route.fetch().text().replace(" defer>", ' data-timeout-ms="1500" defer>')
        route.fulfill(body=html, content_type="text/html; charset=utf-8")

    page.route(page_url, short_timeout)
    try:
        page.goto(page_url)
        page.get_by_role("button", name="Chat with us").click()
        box = page.get_by_label("Your message")
        box.fill("hello?")
        box.press("Enter")
        expect(page.get_by_role("alert")).to_contain_text("took too long")
        expect(page.get_by_role("status")).to_be_hidden()
        assert len(held) == 1
    finally:
        context.close()


def test_frustrated_customer_is_offered_a_person_and_handed_to_slack(
    browser: Browser, page_url: str, slack: SlackE2E
) -> None:
    """The real stack: an upset message gets the offer, the button hands off to Slack."""
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(page_url)
        page.get_by_role("button", name="Chat with us").click()
        _ask(page, "where is my order? I ordered it last week")
        answer = _ask(page, "WHERE IS MY ORDER?? I want my money back now!")
        assert HANDOFF_OFFER in answer
        before = len(slack.fake.calls_to("chat.postMessage"))
        bot = page.locator(".bw-message--bot")
        count = bot.count()
        offer = page.get_by_role("group", name="Suggested replies").last
        offer.get_by_role("button", name="Yes, talk to a person").click()
        expect(bot).to_have_count(count + 2, timeout=ANSWER_TIMEOUT_MS)
        reply = "\n".join(bot.all_inner_texts()[count:])
        reference = re.search(r"reference (H-[0-9A-F]{6})", reply)
        assert reference, reply
        posted = slack.fake.wait_for("chat.postMessage", count=before + 1)[before:]
        assert [c.params["channel"] for c in posted if reference.group(1) in c.params["text"]] == [
            "C0SUPPORT"
        ]
        # The rating question comes with its buttons; a click is kept.
        page.get_by_role("group", name="Suggested replies").last.get_by_role(
            "button", name=re.compile("^5")
        ).click()
        expect(bot.last).to_contain_text("(5/5)", timeout=ANSWER_TIMEOUT_MS)
    finally:
        context.close()


def test_rate_limited_customer_sees_a_friendly_message(browser: Browser, page_url: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.route(
        "**/webhooks/rest/webhook",
        lambda route: route.fulfill(
            status=429,
            json={"error": "slow down", "retry_after_s": 3},
            headers={"Retry-After": "3"},
        ),
    )
    try:
        page.goto(page_url)
        page.get_by_role("button", name="Chat with us").click()
        box = page.get_by_label("Your message")
        box.fill("hello?")
        box.press("Enter")
        expect(page.get_by_role("alert")).to_contain_text("faster than I can answer")
        expect(page.get_by_role("button", name="Try again")).to_be_visible()
    finally:
        context.close()


# A 2x2 PNG (red, green / blue, white).
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000002000000020802000000fdd49a73000000124944415478"
    "9c63f8cfc0c000c20cff8100001fee05fb0bd9688b0000000049454e44ae426082"
)
