"""The real stack for end-to-end tests: action server + Rasa server on free loopback ports.

The Rasa model is trained once (or reused by its fingerprint, in the default
home's rasa-models folder); the workspace is a fresh demo ending today, because
the running action server answers about the real "today". Rasa's Slack channel
talks to a local fake Slack Web API (:class:`SlackE2E`), configured through the
environment before the stack starts.
"""

from __future__ import annotations

import secrets
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from beacon.chat import BotClient
from beacon.stack import Stack, StackConfig, ensure_model, free_port
from foundation.settings import Settings, get_settings
from tests.conftest import DemoWorkspace, build_scored_demo, copy_demo
from tests.fakes.slack import FakeSlack
from tests.leaks import leaks

if TYPE_CHECKING:
    from playwright.sync_api import Browser

# Shorter than Slack's 3,000-character limit, so real Beacon answers (about 700-2,000
# characters) show the splitting end to end; tests/bot covers the 3,000 limit itself.
SLACK_SECTION_CHARS = 500


@dataclass
class SlackE2E:
    """The fake Slack Web API the bot's Slack channel posts to, and the app's secrets."""

    fake: FakeSlack
    bot_token: str
    signing_secret: str


class ScannedBotClient(BotClient):
    """A :class:`BotClient` that fails the test on any reply showing internal detail.

    Every end-to-end turn goes through it, so the whole suite checks that no user
    ever reads a file path, an exception name or a stack trace.
    """

    def send(self, sender: str, text: str) -> list[dict[str, Any]]:
        messages = super().send(sender, text)
        for message in messages:
            shown = message.get("text") or ""
            found = leaks(shown, said=text)
            assert not found, f"reply to {text[:80]!r} shows {found}: {shown[:300]!r}"
        return messages


@dataclass
class E2E:
    """A running stack and how to talk to it."""

    stack: Stack
    demo: DemoWorkspace
    staff_token: str

    def client(self, staff: bool = True) -> BotClient:
        return ScannedBotClient(
            self.stack.config.bot_url,
            staff_token=self.staff_token if staff else None,
            timeout_s=120,
        )

    def ask(self, text: str, sender: str | None = None, staff: bool = True) -> str:
        with self.client(staff) as client:
            messages = client.send(sender or f"e2e-{uuid.uuid4().hex[:8]}", text)
        return "\n".join(m.get("text") or "" for m in messages)


@pytest.fixture(scope="session")
def slack() -> Iterator[SlackE2E]:
    """A fake Slack, and the environment that points the bot's Slack channel at it.

    Set before the stack starts (``e2e`` depends on this) and restored after it stops.
    """
    with FakeSlack() as fake, pytest.MonkeyPatch.context() as env:
        value = SlackE2E(
            fake=fake,
            bot_token=f"xoxb-e2e-{secrets.token_hex(8)}",
            signing_secret=secrets.token_hex(16),
        )
        env.setenv("SLACK_BOT_TOKEN", value.bot_token)
        env.setenv("SLACK_SIGNING_SECRET", value.signing_secret)
        env.setenv("BEACON_SLACK_API_URL", fake.base_url)
        env.setenv("BEACON_SLACK_SECTION_CHARS", str(SLACK_SECTION_CHARS))
        # test_vision.py serves its image from loopback, which links may not reach by default.
        env.setenv("BEACON_MEDIA_ALLOWED_NETS", "127.0.0.1/32")
        yield value


@pytest.fixture(scope="session")
def today_demo(tmp_path_factory: pytest.TempPathFactory) -> DemoWorkspace:
    """The demo workspace ending today, built once; stacks run on copies of its folder."""
    folder = tmp_path_factory.mktemp("today-demo")
    return build_scored_demo(folder / "beacon.duckdb", datetime.now(UTC).date())


@pytest.fixture(scope="session")
def e2e(
    tmp_path_factory: pytest.TempPathFactory,
    slack: SlackE2E,
    today_demo: DemoWorkspace,
    knowledge_index: Path,
    engagement_dirs: tuple[Path, Path],
) -> Iterator[E2E]:
    model, _ = ensure_model(get_settings())
    home: Path = tmp_path_factory.mktemp("e2e-home")
    demo = copy_demo(today_demo, home)
    # The session's index of the same documents, and the ensemble trained on the same demo
    # posts (ending on another day, as a model trained last week would be): each built once.
    shutil.copytree(knowledge_index, home / "knowledge")
    shutil.copytree(engagement_dirs[0], home / "models" / "engagement")
    shutil.copytree(engagement_dirs[1], home / "cache" / "engagement")
    staff_token = secrets.token_hex(16)
    settings = Settings(
        home=home,
        workspace_path=demo.workspace.path,
        data_dir=None,
        staff_token=staff_token,
        action_timeout_s=8.0,
    )
    config = StackConfig(
        settings=settings,
        bot_port=free_port(),
        action_port=free_port(),
        dashboard_port=free_port(),
        log_dir=home / "logs",
    )
    # The action server pseudonymises nothing itself, but must share the test key's workspace.
    stack = Stack(config, model)
    stack.start()
    try:
        yield E2E(stack=stack, demo=demo, staff_token=staff_token)
    finally:
        stack.stop()


CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium driven by Playwright (never Playwright's own download)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip(
            "playwright is not installed: .venv/bin/pip install playwright (no browser "
            "download needed; the tests drive Debian's chromium)"
        )
    executable = CHROMIUM if CHROMIUM.exists() else shutil.which("chromium")
    if not executable:
        pytest.skip(
            f"Debian's chromium is not installed at {CHROMIUM}: apt-get install -y chromium"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(executable), headless=True)
        try:
            yield launched
        finally:
            launched.close()
