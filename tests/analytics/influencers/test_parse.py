"""Parsing the Top-200 number formats, rows and rate cards."""

from __future__ import annotations

from pathlib import Path

import pytest

from analytics.influencers import (
    InfluencerRowError,
    parse_count,
    parse_percent,
    parse_top200_row,
    read_rate_card,
    read_top200,
    repair_text,
)
from foundation.exceptions import InputError

ROW = {
    "rank": "1",
    "channel_info": "cristiano",
    "influence_score": "92",
    "posts": "3.3k",
    "followers": "475.8m",
    "avg_likes": "8.7m",
    "60_day_eng_rate": "1.39%",
    "new_post_avg_like": "6.5m",
    "total_likes": "29.0b",
    "country": "Spain",
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("475.8m", 475_800_000),
        ("3.3k", 3_300),
        ("29.0b", 29_000_000_000),
        ("0", 0),
        ("1,234", 1_234),
        ("0.89k", 890),
        ("12M", 12_000_000),
    ],
)
def test_parse_count(text: str, expected: float) -> None:
    assert parse_count(text, "followers") == pytest.approx(expected)


@pytest.mark.parametrize("text", ["12.3x", "m", "-5k", "1.2.3k"])
def test_parse_count_rejects(text: str) -> None:
    with pytest.raises(InfluencerRowError, match="followers must be a count"):
        parse_count(text, "followers")


def test_parse_count_missing() -> None:
    with pytest.raises(InfluencerRowError, match="missing posts"):
        parse_count(" ", "posts")
    assert parse_count("", "posts", required=False) is None


def test_parse_percent() -> None:
    assert parse_percent("1.39%", "rate") == pytest.approx(0.0139)
    assert parse_percent("25.80 %", "rate") == pytest.approx(0.258)
    with pytest.raises(InfluencerRowError, match=r"must be a percentage like 1.39% \(got 'NaN%'\)"):
        parse_percent("NaN%", "rate")
    with pytest.raises(InfluencerRowError, match="between 0% and 100%"):
        parse_percent("140%", "rate")


def test_repair_text() -> None:
    assert repair_text("CÃ´te d'Ivoire") == "Côte d'Ivoire"
    assert repair_text("Spain") == "Spain"
    assert repair_text("Côte d'Ivoire") == "Côte d'Ivoire"


def test_parse_row() -> None:
    creator = parse_top200_row(ROW)
    assert creator.handle == "cristiano"
    assert creator.followers == 475_800_000
    assert creator.posts_count == 3_300
    assert creator.engagement_rate == pytest.approx(0.0139)
    assert creator.country == "Spain"
    assert parse_top200_row({**ROW, "country": " "}).country is None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"channel_info": ""}, "missing channel_info"),
        ({"channel_info": "5-Minute Crafts"}, "must be an Instagram handle"),
        ({"followers": ""}, "missing followers"),
        ({"followers": "lots"}, "followers must be a count"),
        ({"60_day_eng_rate": "NaN%"}, "60_day_eng_rate must be a percentage"),
        ({"influence_score": "high"}, "influence_score must be a whole number"),
        ({"avg_likes": "1.2b"}, "looks shifted"),
    ],
)
def test_parse_row_rejects(change: dict[str, str], reason: str) -> None:
    with pytest.raises(InfluencerRowError, match=reason):
        parse_top200_row({**ROW, **change})


def test_read_top200_header(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("name,count\na,1\n")
    with pytest.raises(InputError, match="not a Top-200 influencers CSV: missing column"):
        list(read_top200(path))
    with pytest.raises(InputError, match="no file at"):
        list(read_top200(tmp_path / "absent.csv"))


def test_read_top200_lines_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    header = ",".join(ROW)
    path.write_text("\ufeff" + header + "\n" + ",".join(ROW.values()) + "\n", encoding="utf-8")
    rows = list(read_top200(path))
    assert rows[0][0] == 2 and rows[0][1]["rank"] == "1"


def test_rate_card(tmp_path: Path) -> None:
    path = tmp_path / "card.csv"
    path.write_text('handle,cost_per_post\n@Ridge_Runner_Rae,700\nsam,"1,250.50"\n')
    assert read_rate_card(path) == {"ridge_runner_rae": 700.0, "sam": 1250.5}
    path.write_text("handle,cost_per_post\nsam,free\n")
    with pytest.raises(InputError, match="cost_per_post must be a number"):
        read_rate_card(path)
    path.write_text("name,price\nsam,1\n")
    with pytest.raises(InputError, match="expected columns handle"):
        read_rate_card(path)
