"""``beacon influencers ingest | rank`` through typer's test runner."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from beacon.cli._influencers import app
from foundation.settings import get_settings
from tests.analytics.influencers.conftest import KEY, CreatorDemo
from tests.analytics.influencers.test_top200 import HEADER, ROWS

runner = CliRunner()


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("BEACON_HOME", str(tmp_path))
    monkeypatch.delenv("BEACON_WORKSPACE", raising=False)
    monkeypatch.setenv("BEACON_PSEUDONYM_KEY", KEY.decode())
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


@pytest.fixture()
def top200_file(tmp_path: Path) -> Path:
    path = tmp_path / "top200.csv"
    path.write_text(HEADER + "\n" + "\n".join(ROWS) + "\n", encoding="utf-8")
    return path


def test_ingest_json_and_text(home: Path, top200_file: Path) -> None:
    result = runner.invoke(app, ["ingest", str(top200_file), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["read"] == report["stored"] + report["duplicates"] + report["quarantined"] == 7
    assert report["quarantined"] == 4
    again = runner.invoke(app, ["ingest", str(top200_file)])
    assert again.exit_code == 0
    assert "read 7 = stored 0 + already present 3 + quarantined 4" in again.stderr


def test_ingest_errors(home: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["ingest", str(tmp_path / "missing.csv")])
    assert result.exit_code == 2 and "error: no file at" in result.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    result = runner.invoke(app, ["ingest", str(bad)])
    assert result.exit_code == 2
    assert "is not a Top-200 influencers CSV: missing column(s) channel_info" in result.stderr


def test_rank_from_file_with_rate_card(home: Path, top200_file: Path, tmp_path: Path) -> None:
    card = tmp_path / "card.csv"
    card.write_text("handle,cost_per_post\ncristiano,50000\nleomessi,40000\ndrogba,2000\n")
    result = runner.invoke(
        app,
        [
            "rank",
            "--brief",
            "football boots",
            "--source",
            str(top200_file),
            "--rate-card",
            str(card),
            "--budget",
            "45000",
            "--top",
            "5",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["skipped_rows"] == 4
    assert [e["creator_id"] for e in payload["excluded"]] == ["top200-cristiano"]
    ids = [item["creator_id"] for item in payload["items"]]
    assert set(ids) == {"top200-leomessi", "top200-drogba"}
    assert all(item["cost"]["posts_affordable"] >= 1 for item in payload["items"])
    assert "no posts or topics to embed" in " ".join(payload["notes"])


def test_rank_workspace_text_and_why(
    home: Path, creator_demo: CreatorDemo, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = home / "beacon.duckdb"
    shutil.copy(creator_demo.workspace.path, target)
    result = runner.invoke(
        app, ["rank", "--brief", "trail running shoes", "--top", "3", "--budget", "3000", "--why"]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Creators for 'trail running shoes'")
    assert [line[:3] for line in lines[1:4]] == [" 1.", " 2.", " 3."]
    assert "left out inf-" in result.stdout and "above the budget of 3,000" in result.stdout
    assert "is placed above #2" in result.stdout


def test_rank_errors(home: Path, top200_file: Path) -> None:
    result = runner.invoke(app, ["rank", "--brief", "x", "--source", "nowhere.csv"])
    assert result.exit_code == 2
    assert "--source must be 'workspace' or the path of a Top-200 CSV" in result.stderr
    result = runner.invoke(
        app, ["rank", "--brief", "x", "--source", str(top200_file), "--top", "0"]
    )
    assert result.exit_code == 2 and "top_k must be at least 1" in result.stderr
    result = runner.invoke(app, ["rank", "--brief", "x"])
    assert result.exit_code == 2 and "has no data yet" in result.stderr
