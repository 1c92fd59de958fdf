"""Ingest readers of the real engagement datasets (formats named after their folders)."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import pytest

from foundation.exceptions import InputError
from foundation.workspace import READERS, Pseudonymizer, RowError, get_reader, validate_post

FORMATS = (
    "fivethirtyeight-twitter-ratio",
    "elon-musk-tweets",
    "vaccination-tweets",
    "facebook-brand-posts",
    "instagram",
    "reddit-vaccine-myths",
)


def _validate(fmt: str, path: Path) -> tuple[list[dict[str, object]], dict[str, int]]:
    pseudonymizer = Pseudonymizer(b"k")
    ok: list[dict[str, object]] = []
    bad: dict[str, int] = {}
    for _, raw in get_reader(fmt)(path):
        try:
            ok.append(
                validate_post(
                    raw, source=fmt, pseudonymizer=pseudonymizer, ingested_at=datetime(2026, 1, 1)
                )
            )
        except RowError as error:
            reason = str(error).split(" (got")[0]
            bad[reason] = bad.get(reason, 0) + 1
    return ok, bad


def test_every_dataset_folder_has_a_format_except_superbowl() -> None:
    assert set(FORMATS) <= set(READERS)
    assert "superbowl-ads" not in READERS


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("fmt", "name", "stored", "quarantined"),
    [
        ("fivethirtyeight-twitter-ratio", "BarackObama.csv", 3207, 0),
        ("fivethirtyeight-twitter-ratio", "realDonaldTrump.csv", 3232, 0),
        ("elon-musk-tweets", "2018.csv", 2285, 0),
        ("vaccination-tweets", "vaccination_tweets.csv", 8082, 0),
        ("facebook-brand-posts", "dataset_Facebook.csv", 451, 49),
        ("instagram", "instagram-account-posts.csv", 176, 0),
        ("instagram", "instagram-likes-followers.csv", 3785, 0),
        ("instagram", "instagram_reach.csv", 0, 100),
        ("reddit-vaccine-myths", "reddit_vm.csv", 1480, 51),
    ],
)
def test_real_files_read_completely(
    shared_data_dir: Path, fmt: str, name: str, stored: int, quarantined: int
) -> None:
    ok, bad = _validate(fmt, shared_data_dir / "engagement" / fmt / name)
    assert len(ok) == stored
    assert sum(bad.values()) == quarantined


@pytest.mark.shared_data
def test_quirks_entities_latin1_multiline_and_missing_followers(shared_data_dir: Path) -> None:
    root = shared_data_dir / "engagement"
    obama, _ = _validate(
        "fivethirtyeight-twitter-ratio", root / "fivethirtyeight-twitter-ratio" / "BarackObama.csv"
    )
    assert not any("&amp;" in str(p["text"]) for p in obama)
    assert any("Michelle & I" in str(p["text"]) for p in obama)
    assert all(p["followers"] is None for p in obama)
    assert obama[0]["posted_at"] == datetime(2017, 10, 16, 22, 59)
    vaccine, _ = _validate(
        "vaccination-tweets", root / "vaccination-tweets" / "vaccination_tweets.csv"
    )
    assert any("\n" in str(p["text"]) for p in vaccine)  # multi-line fields kept whole
    assert all(p["followers"] is not None for p in vaccine)
    elon, _ = _validate("elon-musk-tweets", root / "elon-musk-tweets" / "2018.csv")
    assert {p["media_type"] for p in elon} == {"none", "image", "video", "link"}
    facebook, bad = _validate(
        "facebook-brand-posts", root / "facebook-brand-posts" / "dataset_Facebook.csv"
    )
    assert bad["empty text and no media"] == 45  # Status posts: the source has no text
    assert all(p["posted_at"].year == 2014 for p in facebook)  # type: ignore[attr-defined]


def test_same_shape_files_read(tmp_path: Path) -> None:
    path = tmp_path / "someone.csv"
    path.write_bytes(
        "created_at,text,url,replies,retweets,favorites,user\n"
        '1/2/18 9:05,"Caf\xe9 &amp; croissants\nsecond line",https://twitter.com/x/status/42,1,2,3,someone\n'.encode(
            "latin-1"
        )
    )
    rows = list(get_reader("fivethirtyeight-twitter-ratio")(path))
    assert len(rows) == 1
    _, raw = rows[0]
    assert raw["text"] == "Café & croissants\nsecond line"
    assert raw["post_id"] == "tw-42"
    assert raw["posted_at"] == "2018-01-02T09:05:00"


def test_wrong_shape_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows([["a", "b"], ["1", "2"]])
    with pytest.raises(InputError, match="not a elon-musk-tweets file: missing column"):
        list(get_reader("elon-musk-tweets")(path))
    with pytest.raises(InputError, match="not an instagram file"):
        list(get_reader("instagram")(path))
