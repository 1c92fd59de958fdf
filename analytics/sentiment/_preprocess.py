"""Tweet-aware text normalisation and the hand-made features stacked with the encoder.

``normalize_tweet`` rewrites a post into what the sentence encoder reads well:

- HTML entities decoded (``&amp;`` → ``&``), spacing collapsed;
- mentions become ``@user`` and links are dropped (TweetEval's own anonymisation, so the
  training and evaluation text look alike);
- hashtags lose the ``#`` and are split at case changes and digits
  (``#GoodMorningAmerica`` → ``Good Morning America``);
- emoji become their names from VADER's emoji lexicon (``😂`` → ``face with tears of
  joy``), since MiniLM's vocabulary has no emoji;
- characters repeated four or more times are cut to three (``soooooo`` → ``sooo``).

VADER scores and the tweet-form features are computed on the original text, where
capitals, punctuation and emoji carry their signal.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

import numpy as np

_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_MENTION = re.compile(r"(?<![\w@])@\w+")
_HASHTAG = re.compile(r"(?<![\w#])#(\w+)")
_CAMEL = re.compile(r"[A-Z]{2,}(?=[A-Z][a-z]|\d|\b)|[A-Z]?[a-z]+|[A-Z]+|\d+")
_REPEAT = re.compile(r"(.)\1{3,}")
_SPACES = re.compile(r"\s+")
_VARIATION = re.compile("[\ufe0e\ufe0f\u200d]")

#: Names of the columns of :func:`form_features`.
FORM_FEATURES: tuple[str, ...] = (
    "vader_neg",
    "vader_neu",
    "vader_pos",
    "vader_compound",
    "exclamations",
    "questions",
    "upper_ratio",
    "emoji_count",
    "log_length",
)


@dataclass(frozen=True)
class PreprocessConfig:
    """Switches for :func:`normalize_tweet`, stored in the model's metadata.

    Attributes:
        mentions: Replace mentions with ``@user``.
        urls: Drop links.
        hashtags: Strip ``#`` and split hashtags into words.
        emoji: Replace emoji with their names.
        elongation: Cut characters repeated 4+ times to 3.
    """

    mentions: bool = True
    urls: bool = True
    hashtags: bool = True
    emoji: bool = True
    elongation: bool = True


@functools.cache
def _emoji_names() -> dict[str, str]:
    """VADER's emoji → name table (shipped inside the vaderSentiment package)."""
    text = (
        resources.files("vaderSentiment")
        .joinpath("emoji_utf8_lexicon.txt")
        .read_text(encoding="utf-8")
    )
    table: dict[str, str] = {}
    for line in text.splitlines():
        symbol, _, name = line.partition("\t")
        if symbol and name:
            table[_VARIATION.sub("", symbol.strip())] = name.strip()
    return table


@functools.cache
def _emoji_pattern() -> re.Pattern[str]:
    symbols = sorted(_emoji_names(), key=len, reverse=True)
    return re.compile("|".join(re.escape(symbol) for symbol in symbols))


def split_hashtag(tag: str) -> str:
    """Split a hashtag body into words at case changes, digits and underscores."""
    parts = [piece for chunk in tag.split("_") for piece in _CAMEL.findall(chunk)]
    return " ".join(parts) if parts else tag


def count_emoji(text: str) -> int:
    """How many emoji from VADER's emoji lexicon ``text`` holds."""
    return len(_emoji_pattern().findall(_VARIATION.sub("", text)))


def normalize_tweet(text: str, config: PreprocessConfig | None = None) -> str:
    """Rewrite one post for the encoder (see the module docstring).

    Args:
        text: The raw post.
        config: Which rewrites to apply.

    Returns:
        The normalised text; may be empty when the post was only a link.
    """
    config = config or PreprocessConfig()
    out = html.unescape(text)
    if config.urls:
        out = _URL.sub(" ", out)
    if config.mentions:
        out = _MENTION.sub("@user", out)
    if config.hashtags:
        out = _HASHTAG.sub(lambda match: split_hashtag(match.group(1)), out)
    if config.emoji:
        names = _emoji_names()
        out = _emoji_pattern().sub(
            lambda match: f" {names[match.group(0)]} ", _VARIATION.sub("", out)
        )
    if config.elongation:
        out = _REPEAT.sub(lambda match: match.group(1) * 3, out)
    return _SPACES.sub(" ", out).strip()


@functools.cache
def _vader() -> object:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def form_features(texts: Sequence[str]) -> np.ndarray:
    """VADER's four scores and tweet-form features of the raw texts.

    Args:
        texts: Raw posts, shape (n_samples,).

    Returns:
        float64 array of shape (n_samples, len(FORM_FEATURES)), columns in
        :data:`FORM_FEATURES` order.
    """
    analyzer = _vader()
    rows = np.zeros((len(texts), len(FORM_FEATURES)), dtype=np.float64)
    for i, text in enumerate(texts):
        scores = analyzer.polarity_scores(text or "")  # type: ignore[attr-defined]
        letters = [char for char in text if char.isalpha()]
        upper = sum(char.isupper() for char in letters) / len(letters) if letters else 0.0
        rows[i] = (
            scores["neg"],
            scores["neu"],
            scores["pos"],
            scores["compound"],
            min(text.count("!"), 5) / 5.0,
            min(text.count("?"), 5) / 5.0,
            upper,
            min(count_emoji(text), 5) / 5.0,
            np.log1p(len(text)) / 6.0,
        )
    return rows
