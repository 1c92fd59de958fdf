"""Secrets and configuration: generated secrets, key lengths, ``.env``, key fingerprints, child envs."""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

import pytest

from beacon.stack import SECRET_VARIABLES, child_env
from foundation.exceptions import ConfigError
from foundation.settings import Settings, ensure_home, load_dotenv_file, local_secret
from foundation.view_links import link_key
from foundation.workspace import Workspace, key_fingerprint, workspace_pseudonymizer

LONG = "k" * 32


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_generated_secret_is_private_and_its_home_too(tmp_path: Path) -> None:
    home = tmp_path / "var"
    first = local_secret(home, "secret.key")
    assert len(first) == 64 and local_secret(home, "secret.key") == first
    assert _mode(home / "secret.key") == 0o600
    assert _mode(home) == 0o700
    assert [p.name for p in home.iterdir()] == ["secret.key"]  # no temporary left behind


def test_a_secret_made_by_another_process_meanwhile_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two processes starting together must end up with one key, not two."""
    home = tmp_path / "var"
    home.mkdir(mode=0o700)
    real_token_hex = secrets.token_hex

    def racing_token_hex(n: int) -> str:
        # Another process writes the file between our "missing?" look and our write.
        (home / "secret.key").write_text("theirs")
        return real_token_hex(n)

    monkeypatch.setattr(secrets, "token_hex", racing_token_hex)
    assert local_secret(home, "secret.key") == "theirs"
    assert (home / "secret.key").read_text() == "theirs"


def test_an_existing_world_readable_home_is_tightened(tmp_path: Path) -> None:
    home = tmp_path / "var"
    home.mkdir(mode=0o755)
    home.chmod(0o755)
    ensure_home(home)
    assert _mode(home) == 0o700


@pytest.mark.parametrize(
    "name", ["BEACON_PSEUDONYM_KEY", "BEACON_STAFF_TOKEN", "BEACON_ACTION_TOKEN"]
)
def test_short_secrets_are_refused_with_how_to_make_one(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BEACON_HOME", str(tmp_path))
    monkeypatch.setenv(name, "short")
    with pytest.raises(ConfigError, match=rf"{name} must be at least 32 characters \(got 5\)"):
        Settings.from_env().pseudonym_key()
    monkeypatch.setenv(name, LONG)
    Settings.from_env().pseudonym_key()


def test_dotenv_fills_what_the_environment_leaves_unset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("BEACON_HTTP_TIMEOUT=7\nBEACON_ACTION_TIMEOUT=9\n")
    monkeypatch.delenv("BEACON_HTTP_TIMEOUT", raising=False)
    monkeypatch.setenv("BEACON_ACTION_TIMEOUT", "3")
    assert load_dotenv_file(env_file)
    settings = Settings.from_env()
    assert (settings.http_timeout_s, settings.action_timeout_s) == (7.0, 3.0)
    assert not load_dotenv_file(tmp_path / "missing.env")


def test_a_workspace_refuses_a_key_other_than_its_own(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path / "w.duckdb")
    # A server only checks: a fresh workspace gets no fingerprint from a turn.
    workspace_pseudonymizer(workspace, b"a" * 32, record=False)
    workspace_pseudonymizer(workspace, b"b" * 32, record=False)
    first = workspace_pseudonymizer(workspace, b"a" * 32)
    assert first.account("@someone") == workspace_pseudonymizer(workspace, b"a" * 32).account(
        "@someone"
    )
    with pytest.raises(ConfigError, match="not the one this workspace was built with") as error:
        workspace_pseudonymizer(workspace, b"b" * 32, record=False)
    assert key_fingerprint(b"a" * 32) in str(error.value)
    assert "a" * 32 not in str(error.value)  # the fingerprint, never the key


def test_each_server_gets_only_the_secrets_it_needs() -> None:
    env = {name: LONG for name in SECRET_VARIABLES} | {"PATH": os.environ.get("PATH", "")}
    assert set(child_env("widget", env)) == {"PATH"}
    actions = set(child_env("actions", env))
    assert "SLACK_SIGNING_SECRET" not in actions and "BEACON_STAFF_TOKEN" not in actions
    assert {"BEACON_PSEUDONYM_KEY", "BEACON_ACTION_TOKEN", "SLACK_BOT_TOKEN"} <= actions
    bot = set(child_env("bot", env))
    assert "BEACON_PSEUDONYM_KEY" not in bot and "BEACON_LLM_API_KEY" not in bot
    assert {"BEACON_STAFF_TOKEN", "SLACK_SIGNING_SECRET"} <= bot
    assert set(child_env("rasa-cli", env)) == {"PATH"}
    # The dashboard checks staff tokens and links; the action server only signs links.
    assert set(child_env("dashboard", env)) == {
        "PATH",
        "BEACON_STAFF_TOKEN",
        "BEACON_DASHBOARD_LINK_KEY",
    }
    assert "BEACON_DASHBOARD_LINK_KEY" in actions and "BEACON_DASHBOARD_LINK_KEY" not in bot


def test_the_dashboard_link_key_comes_from_the_environment_or_the_staff_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(
        home=tmp_path, workspace_path=tmp_path / "w.duckdb", data_dir=None, staff_token="s" * 32
    )
    derived = settings.dashboard_link_key()
    assert derived == link_key("s" * 32) and len(derived) == 32
    monkeypatch.setenv("BEACON_HOME", str(tmp_path))
    monkeypatch.setenv("BEACON_DASHBOARD_LINK_KEY", derived.hex())
    monkeypatch.delenv("BEACON_STAFF_TOKEN", raising=False)
    assert Settings.from_env().dashboard_link_key() == derived
    monkeypatch.setenv("BEACON_DASHBOARD_LINK_KEY", "z" * 64)
    with pytest.raises(ConfigError, match="BEACON_DASHBOARD_LINK_KEY must be hexadecimal"):
        Settings.from_env().dashboard_link_key()
