"""Tweet normalisation and hand-made features."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.sentiment import PreprocessConfig, normalize_tweet
from analytics.sentiment._preprocess import FORM_FEATURES, count_emoji, form_features, split_hashtag


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("@bob thanks!", "@user thanks!"),
        ("see https://t.co/abc and www.x.com now", "see and now"),
        ("#GoodMorningAmerica", "Good Morning America"),
        ("#i_am_happy #love", "i am happy love"),
        ("soooooo good", "sooo good"),
        ("fish &amp; chips", "fish & chips"),
        ("😂", "face with tears of joy"),
        ("❤️👍", "red heart thumbs up"),
        ("", ""),
        ("email me@x.com", "email me@x.com"),
    ],
)
def test_normalize_tweet(raw: str, expected: str) -> None:
    assert normalize_tweet(raw) == expected


def test_switches_turn_rewrites_off() -> None:
    off = PreprocessConfig(
        mentions=False, urls=False, hashtags=False, emoji=False, elongation=False
    )
    assert (
        normalize_tweet("@bob #Yes http://x.co 😂 soooo", off) == "@bob #Yes http://x.co 😂 soooo"
    )


def test_split_hashtag_keeps_acronyms_and_digits() -> None:
    assert split_hashtag("NBA2K16") == "NBA 2 K 16"
    assert split_hashtag("iPhone") == "i Phone"


def test_form_features_shape_and_signal() -> None:
    rows = form_features(["I LOVE this!!! 😍", "this is awful?", ""])
    assert rows.shape == (3, len(FORM_FEATURES))
    compound = FORM_FEATURES.index("vader_compound")
    assert rows[0, compound] > 0.5 and rows[1, compound] < -0.3
    assert rows[0, FORM_FEATURES.index("exclamations")] == pytest.approx(0.6)
    assert rows[1, FORM_FEATURES.index("questions")] == pytest.approx(0.2)
    assert np.all(rows[2] == 0.0)
    assert count_emoji("😍 and ❤️") == 2
