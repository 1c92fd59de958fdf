"""``beacon knowledge index`` and ``beacon knowledge ask``."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from beacon.cli._knowledge import app

runner = CliRunner()


def test_index_then_ask_json(corpus_dir: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    result = runner.invoke(
        app, ["index", "--docs", str(corpus_dir), "--index", str(index), "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["added"] == 7 and report["chunks"] > 0

    result = runner.invoke(
        app,
        ["ask", "How much does a brake bleed cost?", "--index", str(index), "--k", "3", "--json"],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["found"] is True and payload["answer"]
    assert len(payload["passages"]) == 3
    first = payload["passages"][0]
    assert set(first) >= {"source", "section", "text", "score"}
    assert first["source"] == "internal/service-prices.csv"

    result = runner.invoke(
        app, ["ask", "brake bleed", "--index", str(index), "--collection", "public", "--json"]
    )
    assert all(p["collection"] == "public" for p in json.loads(result.stdout)["passages"])

    again = runner.invoke(app, ["index", "--docs", str(corpus_dir), "--index", str(index)])
    assert again.exit_code == 0
    assert "0 added, 0 updated, 0 removed, 7 unchanged" in again.stdout


def test_errors_are_one_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ask", "anything", "--index", str(tmp_path / "none")])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: no knowledge index at")
    result = runner.invoke(
        app, ["index", "--docs", str(tmp_path / "missing"), "--index", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "--docs must be a folder" in result.stderr
