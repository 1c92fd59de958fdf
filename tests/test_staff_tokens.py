"""Per-person staff tokens (foundation/staff_tokens.py) and ``beacon token``."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from beacon.cli import app
from foundation.staff_tokens import StaffTokenStore, TokenError


def test_a_token_works_until_it_expires_and_the_file_keeps_no_secret(tmp_path: Path) -> None:
    store = StaffTokenStore(tmp_path / "staff-tokens.json")
    token, record = store.create("alice", days=7)
    assert len(token) >= 32 and token.startswith("bst_")
    assert store.check(token) == record
    assert store.check(token[:-1] + ("0" if token[-1] != "0" else "1")) is None
    later = datetime.now(UTC) + timedelta(days=8)
    assert store.check(token, now=later) is None
    saved = (tmp_path / "staff-tokens.json").read_text()
    assert token.split("_")[2] not in saved  # only a hash of the secret is kept
    assert stat.S_IMODE((tmp_path / "staff-tokens.json").stat().st_mode) == 0o600


def test_revoking_one_token_leaves_the_others(tmp_path: Path) -> None:
    store = StaffTokenStore(tmp_path / "staff-tokens.json")
    alice, alice_record = store.create("alice")
    bob, _ = store.create("bob")
    revoked = store.revoke(alice_record.token_id)
    assert revoked.revoked_at is not None
    # A second store (another process) sees the change.
    other = StaffTokenStore(tmp_path / "staff-tokens.json")
    assert other.check(alice) is None and other.check(bob) is not None
    with pytest.raises(TokenError, match="no staff token with id 'nope'"):
        store.revoke("nope")


@pytest.mark.parametrize(
    ("name", "days", "message"),
    [("al ice", 30, "a token name is 1-64"), ("alice", 0, "--days must be 1 to 366")],
)
def test_bad_requests_say_what_is_expected(
    tmp_path: Path, name: str, days: int, message: str
) -> None:
    with pytest.raises(TokenError, match=message):
        StaffTokenStore(tmp_path / "t.json").create(name, days)


def test_a_damaged_file_opens_nothing(tmp_path: Path) -> None:
    store = StaffTokenStore(tmp_path / "staff-tokens.json")
    token, _ = store.create("alice")
    (tmp_path / "staff-tokens.json").write_text("{not json")
    assert store.check(token) is None


def test_token_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from foundation.settings import get_settings

    monkeypatch.setenv("BEACON_HOME", str(tmp_path))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        made = runner.invoke(app, ["token", "create", "alice", "--days", "3", "--json"])
        assert made.exit_code == 0, made.output
        created = json.loads(made.stdout)
        listed = runner.invoke(app, ["token", "list", "--json"])
        assert [t["name"] for t in json.loads(listed.stdout)] == ["alice"]
        assert created["token"] not in listed.stdout
        assert runner.invoke(app, ["token", "revoke", created["id"]]).exit_code == 0
        assert StaffTokenStore(tmp_path / "staff-tokens.json").check(created["token"]) is None
        bad = runner.invoke(app, ["token", "create", "x", "--days", "999"])
        assert bad.exit_code == 2 and "--days must be 1 to 366 (got 999)" in bad.output
    finally:
        get_settings.cache_clear()
