"""The `beacon` workspace commands through the real CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from foundation.settings import get_settings
from tests.conftest import DemoWorkspace, copy_demo
from tests.conftest import invoke_cli as invoke


@pytest.fixture
def home(cli_home: Path) -> Path:
    return cli_home


def test_ingest_reports_counts_and_is_idempotent(home: Path) -> None:
    csv = home / "posts.csv"
    csv.write_text(
        "platform,account,text,posted_at,likes,comments,shares\n"
        "twitter,@ann,hello @bob,2026-11-01T09:00:00Z,3,1,0\n"
        "twitter,@ann,,2026-11-01T09:00:00Z,3,1,0\n"
    )
    code, out, _ = invoke("ingest", str(csv), "--format", "canonical", "--json")
    assert code == 0
    assert json.loads(out) | {"reasons": None} == {
        "source": "canonical:posts.csv",
        "read": 2,
        "stored": 1,
        "duplicates": 0,
        "quarantined": 1,
        "reasons": None,
    }
    code, out, _ = invoke("ingest", str(csv), "--json")
    assert json.loads(out)["stored"] == 0 and json.loads(out)["duplicates"] == 1


def test_bad_input_is_a_one_line_error_with_exit_2(home: Path) -> None:
    code, out, err = invoke("ingest", str(home / "nope.csv"))
    assert code == 2 and out == ""
    assert err.strip().count("\n") == 0 and err.startswith("error: no file at")
    (home / "x.csv").write_text("a,b\n1,2\n")
    code, _, err = invoke("ingest", str(home / "x.csv"), "--format", "instagram-export")
    assert code == 2 and "unknown format 'instagram-export'" in err


def test_forget_counts_rows(home: Path) -> None:
    csv = home / "posts.csv"
    csv.write_text(
        "platform,account,text,posted_at,likes,comments,shares\n"
        "twitter,ann,first,2026-11-01T09:00:00Z,3,1,0\n"
        "twitter,ann,second,2026-11-02T09:00:00Z,3,1,0\n"
        "twitter,bob,hi @ann,2026-11-02T09:00:00Z,3,1,0\n"
    )
    invoke("ingest", str(csv))
    code, out, _ = invoke("forget", "--account", "@ann", "--json")
    assert code == 0
    removed = json.loads(out)["removed"]
    assert removed["posts"] == 2 and removed["mentions_redacted"] == 1


def test_demo_builds_and_scores(home: Path) -> None:
    code, out, _ = invoke("demo", "--end-date", "2026-11-30", "--json")
    assert code == 0
    result = json.loads(out)
    assert result["scored"] > result["posts"]["stored"] > 4000  # creators add their own posts
    assert Path(result["manifest"]).exists()
    code, out, _ = invoke("score", "--json")
    assert json.loads(out)["scored"] == 0


def test_chat_without_a_bot_says_how_to_start_it(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BEACON_BOT_URL", "http://127.0.0.1:9")
    get_settings.cache_clear()
    code, _, err = invoke("chat", "-m", "hi")
    assert code == 2 and "start it with `make run`" in err


def test_every_command_has_help() -> None:
    for command in (
        ["--help"],
        ["ingest", "--help"],
        ["forget", "--help"],
        ["demo", "--help"],
        ["serve", "--help"],
        ["chat", "--help"],
        ["bot", "train", "--help"],
    ):
        code, out, _ = invoke(*command)
        assert code == 0 and "Usage" in out


def test_listening_sentiment_and_anomalies(home: Path, demo: DemoWorkspace) -> None:
    # The session's demo (ending 30 Nov 2026) as this home's workspace: `beacon demo`
    # itself is test_demo_builds_and_scores's.
    copy_demo(demo, home)
    code, out, _ = invoke(
        "listening",
        "sentiment",
        "--period",
        "2026-11-01 to 2026-11-30",
        "--platform",
        "twitter",
        "--json",
    )
    assert code == 0
    summary = json.loads(out)
    assert summary["total"] > 100 and set(summary["shares"]) == {"negative", "neutral", "positive"}
    negative_themes = summary["themes"]["negative"]
    assert negative_themes and all(
        t["term"] in t["examples"][0][1].lower() for t in negative_themes
    )
    code, out, _ = invoke(
        "listening", "anomalies", "--period", "2026-10-15 to 2026-10-31", "--json"
    )
    assert code == 0
    alerts = json.loads(out)["alerts"]
    assert any(a["platform"] == "twitter" and a["metric"] == "negative share" for a in alerts)
    code, _, err = invoke("listening", "anomalies", "--period", "whenever")
    assert code == 2 and err.startswith("error: I can't read 'whenever' as a period")


def test_version_is_the_one_in_beacon_init() -> None:
    import importlib.metadata

    import beacon

    code, out, _ = invoke("--version")
    assert (code, out) == (0, f"beacon {beacon.__version__}\n")
    # pyproject.toml takes its version from beacon.__version__, so the installed package
    # says the same (if not, the install is stale: `make venv` reinstalls it).
    assert importlib.metadata.version("beacon") == beacon.__version__


def test_serve_only_names_one_server_and_needs_a_shared_action_token(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = invoke("serve", "--only", "rasa")
    assert code == 2 and out == ""
    assert err.strip() == "error: --only takes one of bot, actions, widget, dashboard (got 'rasa')"
    monkeypatch.delenv("BEACON_ACTION_TOKEN", raising=False)
    get_settings.cache_clear()
    for server in ("bot", "actions"):
        code, _, err = invoke("serve", "--only", server)
        assert code == 2
        assert err.startswith("error: --only bot/actions needs BEACON_ACTION_TOKEN set"), err


def test_serve_refuses_a_database_url_that_is_not_postgresql_before_starting(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BEACON_ACTION_TOKEN", "t" * 32)
    monkeypatch.setenv("BEACON_DATABASE_URL", "mysql://root:hunter2@db:3306/beacon")
    get_settings.cache_clear()
    code, out, err = invoke("serve", "--only", "actions", "--action-port", "1")
    get_settings.cache_clear()
    assert code != 0 and out == ""
    assert err.strip() == (
        "error: BEACON_DATABASE_URL must be a postgresql:// URL (got mysql://…); leave it "
        "unset to keep the operational record in the local workspace only"
    ), err
    assert not (home / "logs" / "actions.log").exists()  # nothing was started
