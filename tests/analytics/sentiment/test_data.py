"""Reading the SemEval-2017 4A and TweetEval files."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from analytics.exceptions import AnalysisInputError
from analytics.sentiment import (
    LABELS,
    build_training_set,
    read_2016_test,
    read_semeval,
    read_tweeteval_val,
)
from analytics.sentiment._data import clean_source_text, match_key, read_semeval_file


def test_read_semeval_file_handles_quotes_escapes_and_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "twitter-x-A.tsv"
    path.write_text(
        '1\tpositive\t"quoted, with ""inner"" quote"\t\n'
        "2\tnegative\tI\\u2019m sad\\u002c really &amp; truly\n"
        '3\tneutral\t"an unclosed quote spanning\n'
        "1\tnegative\tduplicate id, dropped\n"
        "4\tneutral\tlast line\n",
        encoding="utf-8",
    )
    data = read_semeval_file(path)
    assert data.texts == (
        'quoted, with "inner" quote',
        "I’m sad, really & truly",
        '"an unclosed quote spanning',
        "last line",
    )
    assert data.labels == ("positive", "negative", "neutral", "neutral")


def test_read_semeval_file_rejects_unknown_label(tmp_path: Path) -> None:
    path = tmp_path / "bad.tsv"
    path.write_text("1\tmixed\tsome text\n", encoding="utf-8")
    with pytest.raises(AnalysisInputError, match="label must be one of"):
        read_semeval_file(path)


def test_match_key_ignores_mentions_links_case_and_quotes() -> None:
    assert match_key('"@Bob Great game http://t.co/x"') == match_key("@user great  game")
    assert clean_source_text('"a ""b"""') == 'a "b"'


@pytest.mark.shared_data
def test_real_files_load_and_eval_splits_are_excluded(shared_data_dir: Path) -> None:
    val, test2016 = read_tweeteval_val(shared_data_dir), read_2016_test(shared_data_dir)
    assert len(val) == 2000 and len(test2016) > 20_000
    assert set(val.labels) == set(LABELS)
    pool = read_semeval(shared_data_dir)
    assert len(pool) > 28_000
    train, dropped = build_training_set(shared_data_dir, exclude=(val, test2016))
    assert dropped > 1000  # TweetEval's val split is sampled from these files
    blocked = {match_key(t) for t in val.texts + test2016.texts}
    assert not any(match_key(t) in blocked for t in train.texts)
    counts = Counter(train.labels)
    assert counts["negative"] < counts["neutral"] and counts["negative"] > 3000
