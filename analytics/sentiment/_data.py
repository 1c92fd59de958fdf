"""Readers for the labelled tweets in ``<data_dir>/sentiment`` (SemEval-2017 4A and TweetEval).

The SemEval files are tab-separated ``id<TAB>label<TAB>text`` as their source published
them: some ids repeat, some texts are wrapped in double quotes, the 2013 files escape
characters as literal ``\\u2019``/``\\u002c``, and some lines carry a trailing tab. The
reader keeps the first row of each id and never lets a quote swallow a line.

TweetEval's sentiment training text *is* these SemEval files, and its val split is a
sample of them, so :func:`build_training_set` removes every text that also appears in an
evaluation split before training.
"""

from __future__ import annotations

import csv
import hashlib
import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from analytics.exceptions import AnalysisInputError
from analytics.sentiment._base import LABELS

SEMEVAL_DIR = Path("sentiment") / "semeval2017-task4a"
TWEETEVAL_DIR = Path("sentiment") / "tweeteval" / "sentiment"

#: The SemEval-2017 4A training/dev files from 2013–2016 (the 2014 sarcasm set included).
TRAINING_FILES: tuple[str, ...] = (
    "twitter-2013train-A.tsv",
    "twitter-2013dev-A.tsv",
    "twitter-2013test-A.tsv",
    "twitter-2014test-A.tsv",
    "twitter-2014sarcasm-A.tsv",
    "twitter-2015train-A.tsv",
    "twitter-2015test-A.tsv",
    "twitter-2016train-A.tsv",
    "twitter-2016dev-A.tsv",
    "twitter-2016devtest-A.tsv",
)
#: Held out from training and used only for evaluation.
TEST_2016_FILE = "twitter-2016test-A.tsv"

_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_SPACES = re.compile(r"\s+")
_MENTION = re.compile(r"@\w+")
_URL = re.compile(r"https?://\S+|www\.\S+")


@dataclass(frozen=True)
class LabelledTexts:
    """Texts with gold labels.

    Attributes:
        name: Where the texts come from (a file or split name).
        texts: The texts, shape (n_samples,).
        labels: Gold labels from :data:`LABELS`, shape (n_samples,).
    """

    name: str
    texts: tuple[str, ...]
    labels: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.texts)

    def fingerprint(self) -> str:
        """SHA-256 over the labelled texts, recorded with a trained model."""
        digest = hashlib.sha256()
        for text, label in zip(self.texts, self.labels, strict=True):
            digest.update(label.encode())
            digest.update(b"\t")
            digest.update(text.encode("utf-8", "surrogatepass"))
            digest.update(b"\n")
        return digest.hexdigest()

    def subset(self, indices: Iterable[int], name: str | None = None) -> LabelledTexts:
        """The rows at ``indices``, in that order."""
        rows = list(indices)
        return LabelledTexts(
            name=name or self.name,
            texts=tuple(self.texts[i] for i in rows),
            labels=tuple(self.labels[i] for i in rows),
        )


def clean_source_text(raw: str) -> str:
    """Undo the source files' escaping: literal ``\\uXXXX``, HTML entities, wrapping quotes."""
    text = _UNICODE_ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), raw)
    text = html.unescape(text).strip()
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        text = text[1:-1].replace('""', '"').strip()
    return text


def match_key(text: str) -> str:
    """A key under which the same tweet matches across files (TweetEval anonymised it).

    TweetEval replaced mentions with ``@user`` and dropped links, so both are removed
    here, along with case, spacing and wrapping quotes.
    """
    text = clean_source_text(text)
    text = _URL.sub(" ", text)
    text = _MENTION.sub(" ", text)
    text = text.replace('"', " ")
    return _SPACES.sub(" ", text).strip().lower()


def read_semeval_file(path: Path) -> LabelledTexts:
    """Read one SemEval-2017 4A ``.tsv`` file, keeping the first row of each tweet id.

    Args:
        path: The file.

    Returns:
        The labelled texts in file order.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        AnalysisInputError: A row has an unknown label or too few fields.
    """
    seen: set[str] = set()
    texts: list[str] = []
    labels: list[str] = []
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        for line_number, row in enumerate(reader, start=1):
            if not row or not "".join(row).strip():
                continue
            if len(row) < 3:
                raise AnalysisInputError(
                    f"{path.name} line {line_number}: expected id<TAB>label<TAB>text, "
                    f"got {len(row)} field(s); is this a SemEval-2017 4A file?"
                )
            tweet_id, label = row[0].strip(), row[1].strip().lower()
            if label not in LABELS:
                raise AnalysisInputError(
                    f"{path.name} line {line_number}: label must be one of {LABELS}, got {label!r}"
                )
            if tweet_id in seen:
                continue
            seen.add(tweet_id)
            texts.append(clean_source_text("\t".join(row[2:])))
            labels.append(label)
    return LabelledTexts(name=path.name, texts=tuple(texts), labels=tuple(labels))


def read_semeval(data_dir: Path, files: Sequence[str] = TRAINING_FILES) -> LabelledTexts:
    """Read several SemEval files, deduplicated by tweet id across all of them.

    Args:
        data_dir: The shared data folder (holding ``sentiment/semeval2017-task4a``).
        files: File names inside that folder.

    Returns:
        The labelled texts, first occurrence of each id kept.
    """
    folder = data_dir / SEMEVAL_DIR
    if not folder.is_dir():
        raise FileNotFoundError(
            f"SemEval-2017 4A folder not found at {folder}; set BEACON_DATA_DIR to the shared "
            "data folder"
        )
    seen: set[str] = set()
    texts: list[str] = []
    labels: list[str] = []
    for name in files:
        path = folder / name
        ids = _read_ids(path)
        part = read_semeval_file(path)
        for tweet_id, text, label in zip(ids, part.texts, part.labels, strict=True):
            if tweet_id in seen:
                continue
            seen.add(tweet_id)
            texts.append(text)
            labels.append(label)
    return LabelledTexts(name="+".join(files), texts=tuple(texts), labels=tuple(labels))


def _read_ids(path: Path) -> list[str]:
    """The first-occurrence tweet ids of a file, aligned with :func:`read_semeval_file`."""
    seen: set[str] = set()
    ids: list[str] = []
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        for row in csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
            if not row or not "".join(row).strip():
                continue
            tweet_id = row[0].strip()
            if tweet_id not in seen:
                seen.add(tweet_id)
                ids.append(tweet_id)
    return ids


def read_tweeteval_val(data_dir: Path) -> LabelledTexts:
    """Read TweetEval's sentiment val split (2,000 tweets; labels 0/1/2 = LABELS order)."""
    folder = data_dir / TWEETEVAL_DIR
    text_path, label_path = folder / "val_text.txt", folder / "val_labels.txt"
    if not text_path.is_file() or not label_path.is_file():
        raise FileNotFoundError(
            f"TweetEval sentiment val files not found in {folder}; set BEACON_DATA_DIR to the "
            "shared data folder"
        )
    raw_texts = text_path.read_text(encoding="utf-8", errors="replace").splitlines()
    raw_labels = label_path.read_text(encoding="utf-8").split()
    if len(raw_texts) != len(raw_labels):
        raise AnalysisInputError(
            f"TweetEval val: {len(raw_texts)} texts but {len(raw_labels)} labels; the files "
            "must have one line per tweet"
        )
    labels = tuple(LABELS[int(value)] for value in raw_labels)
    texts = tuple(clean_source_text(text) for text in raw_texts)
    return LabelledTexts(name="tweeteval-val", texts=texts, labels=labels)


def read_2016_test(data_dir: Path) -> LabelledTexts:
    """Read ``twitter-2016test-A.tsv`` (evaluation only), deduplicated by id."""
    return read_semeval_file(data_dir / SEMEVAL_DIR / TEST_2016_FILE)


def build_training_set(
    data_dir: Path, exclude: Sequence[LabelledTexts] = ()
) -> tuple[LabelledTexts, int]:
    """The training tweets: every file in :data:`TRAINING_FILES` minus evaluation texts.

    Args:
        data_dir: The shared data folder.
        exclude: Evaluation splits; any training tweet whose :func:`match_key` equals the
            key of one of their texts is dropped (TweetEval's val split is sampled from the
            training files, and retweets repeat across years).

    Returns:
        The training texts and how many were dropped because they matched an evaluation text.
    """
    pool = read_semeval(data_dir)
    blocked = {match_key(text) for split in exclude for text in split.texts}
    keep = [i for i, text in enumerate(pool.texts) if match_key(text) not in blocked]
    return pool.subset(keep, name="semeval-2013-2016-train"), len(pool) - len(keep)
