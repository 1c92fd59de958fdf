"""`beacon digest` and `beacon schedule` through the real CLI entry point."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from beacon.cli import app
from beacon.digest import last_complete_week
from foundation.settings import get_settings
from tests.conftest import DemoWorkspace
from tests.fakes.slack import FakeSlack


@pytest.fixture
def env(
    demo_copy: DemoWorkspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeSlack]:
    """The demo workspace copy as BEACON_WORKSPACE, a fake Slack, a Slack token."""
    monkeypatch.setenv("BEACON_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("BEACON_WORKSPACE", str(demo_copy.workspace.path))
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-cli")
    get_settings.cache_clear()
    with FakeSlack() as fake:
        monkeypatch.setenv("BEACON_SLACK_API_URL", fake.base_url)
        yield fake
    get_settings.cache_clear()


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_digest_writes_html_and_posts_once(env: FakeSlack, tmp_path: Path) -> None:
    out = tmp_path / "digest.html"
    args = (
        "digest",
        "--week",
        "2026-W46",
        "--out",
        str(out),
        "--slack-channel",
        "marketing",
        "--json",
    )
    code, stdout, stderr = invoke(*args)
    assert code == 0, stderr
    first = json.loads(stdout)
    assert first["week"] == "2026-W46" and first["html"] == str(out)
    assert first["slack"]["posted"] is True and first["slack"]["channel"] == "C0MARKETING"
    assert "Subject-line test" in first["headlines"]["experiments"]
    page = out.read_text(encoding="utf-8")
    assert all(audit_id in page for audit_id in first["audit_ids"].values())
    assert len(env.calls_to("chat.postMessage")) == 1
    assert len(env.calls_to("files.completeUploadExternal")) == 1

    code, stdout, _ = invoke(*args)
    second = json.loads(stdout)
    assert code == 0 and second["slack"]["posted"] is False
    assert second["slack"]["marker_id"] == first["slack"]["marker_id"]
    assert len(env.calls_to("chat.postMessage")) == 1, "no second post without --force"
    page_again = out.read_text(encoding="utf-8")
    assert all(audit_id in page_again for audit_id in second["audit_ids"].values()), "rewritten"

    code, stdout, _ = invoke(*args, "--force")
    assert code == 0 and json.loads(stdout)["slack"]["posted"] is True
    assert len(env.calls_to("chat.postMessage")) == 2


def test_plain_output_names_the_file_and_the_post(env: FakeSlack, tmp_path: Path) -> None:
    code, _, stderr = invoke("digest", "--week", "2026-W43", "--out", str(tmp_path / "d.html"))
    assert code == 0
    assert f"wrote {tmp_path / 'd.html'}" in stderr.replace("\n", "")
    assert "Answer the complaints" in stderr
    assert env.calls == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--week", "2026-48"), "error: --week must be an ISO week like"),
        (("--week", "2030-W01"), "error: week 2030-W01 is not over yet"),
    ],
)
def test_bad_week_is_a_one_line_error(env: FakeSlack, args: tuple[str, ...], message: str) -> None:
    code, stdout, stderr = invoke("digest", *args)
    assert code == 2 and stdout == ""
    assert stderr.startswith(message) and stderr.strip().count("\n") == 0


def test_missing_token_fails_before_any_work(
    env: FakeSlack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SLACK_BOT_TOKEN")
    out = tmp_path / "never.html"
    code, _, stderr = invoke(
        "digest", "--week", "2026-W46", "--out", str(out), "--slack-channel", "marketing"
    )
    assert code == 2
    assert stderr.strip() == (
        "error: posting to Slack needs a bot token: set SLACK_BOT_TOKEN (xoxb-…) in the environment"
    )
    assert not out.exists() and env.calls == []


def test_schedule_once_now_writes_the_last_complete_week(env: FakeSlack, tmp_path: Path) -> None:
    week = last_complete_week(datetime.now(UTC).date())
    code, _, stderr = invoke(
        "schedule",
        "--once-now",
        "--out-dir",
        str(tmp_path / "digests"),
        "--slack-channel",
        "marketing",
    )
    assert code == 0, stderr
    assert (tmp_path / "digests" / f"digest-{week.label}.html").is_file()
    assert len(env.calls_to("chat.postMessage")) == 1
    code, _, stderr = invoke("schedule", "--day", "someday")
    assert code == 2 and stderr.startswith("error: --day must be one of mon, tue")
