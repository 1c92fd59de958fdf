"""``beacon sentiment predict`` contract (uses the committed model, no shared data)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from analytics.sentiment import LABELS
from beacon.cli._sentiment import app

runner = CliRunner()


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_predict_keeps_order_and_handles_odd_lines(tmp_path: Path) -> None:
    long_text = "this is fine " * 300
    source = tmp_path / "posts.txt"
    source.write_bytes(
        b"I love this brand so much!\n"
        + b"\n"
        + "😂😂😂\n".encode()
        + b"bad bytes \xff\xfe here, awful product\n"
        + long_text.encode()
        + b"\n"
        + b"The worst customer service ever.\n"
    )
    out = tmp_path / "out" / "scores.csv"
    result = runner.invoke(app, ["predict", "--input", str(source), "--output", str(out)])
    assert result.exit_code == 0, result.output
    rows = _rows(out)
    assert list(rows[0]) == ["text", "label", "confidence"]
    assert len(rows) == 6
    assert rows[0]["text"] == "I love this brand so much!" and rows[0]["label"] == "positive"
    assert rows[1]["text"] == ""
    assert rows[2]["text"] == "😂😂😂"
    assert "\ufffd" in rows[3]["text"]
    assert rows[4]["text"] == long_text
    assert rows[5]["label"] == "negative"
    for row in rows:
        assert row["label"] in LABELS
        assert 1 / 3 <= float(row["confidence"]) <= 1.0
    assert "truncated" in result.stderr
    assert "not UTF-8" in result.stderr
    assert "empty" in result.stderr


def test_predict_reads_the_text_column_of_a_csv(tmp_path: Path) -> None:
    source = tmp_path / "posts.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text", "likes"])
        writer.writerow(["1", "Absolutely fantastic, thank you!", "3"])
        writer.writerow(["2", "a text with a comma, and\na line break", "0"])
        writer.writerow(["3", "Terrible. I want a refund.", "1"])
    out = tmp_path / "scores.csv"
    result = runner.invoke(app, ["predict", "--input", str(source), "--output", str(out), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["n_texts"] == 3 and summary["model_version"].startswith("beacon-sentiment-")
    rows = _rows(out)
    assert [r["text"] for r in rows] == [
        "Absolutely fantastic, thank you!",
        "a text with a comma, and\na line break",
        "Terrible. I want a refund.",
    ]
    assert rows[0]["label"] == "positive" and rows[2]["label"] == "negative"


def test_csv_without_text_column_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "posts.csv"
    source.write_text("id,body\n1,hello\n", encoding="utf-8")
    result = runner.invoke(
        app, ["predict", "--input", str(source), "--output", str(tmp_path / "o.csv")]
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("error: CSV") and "no 'text' column" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_input_exits_2_with_one_line(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["predict", "--input", str(tmp_path / "nope.txt"), "--output", str(tmp_path / "o.csv")],
    )
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"error: --input file not found: {tmp_path / 'nope.txt'}; pass a text file or a CSV"
    ]
    assert not (tmp_path / "o.csv").exists()


def test_empty_input_file_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "empty.txt"
    source.write_text("\n\n", encoding="utf-8")
    result = runner.invoke(
        app, ["predict", "--input", str(source), "--output", str(tmp_path / "o.csv")]
    )
    assert result.exit_code == 2
    assert "is empty" in result.stderr
