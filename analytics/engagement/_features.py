"""Features known before publishing, built by pluggable blocks.

A block turns the posts frame (canonical ``posts`` columns plus the account
context of :mod:`._target`) into named numeric columns, and says which human
feature each column belongs to (used to group SHAP values). A new modality
(image features, say) is one more :class:`FeatureBlock` module handed to
:class:`FeaturePipeline`; the members pick its columns up unchanged.

The text embedding is not a block: every member uses it differently (the
network takes all 384 dimensions, the trees and the logistic baseline a
compressed projection), so :class:`FeaturePipeline` returns it beside the
tabular columns.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from analytics.engagement._image import ImageBlock
from analytics.engagement._target import LEVEL_COLUMNS
from analytics.sentiment import LABELS, SentimentScorer

HASHTAG = re.compile(r"(?<!\w)#\w+")
MENTION = re.compile(r"(?<!\w)@\w+")
LINK = re.compile(r"https?://\S+|www\.\S+")
EMOJI = re.compile(
    "[\U0001f000-\U0001faff\U00002600-\U000027bf\U0001f1e6-\U0001f1ff\U00002b00-\U00002bff]"
)
MEDIA_TYPES = ("none", "image", "video", "link")


class FeatureBlock(Protocol):
    """One family of features; stateless or fitted on the training posts."""

    name: str

    def columns(self) -> dict[str, str]:
        """Column name → the human feature it belongs to (e.g. ``"hashtag count"``)."""
        ...

    def transform(self, posts: pd.DataFrame) -> pd.DataFrame:
        """DataFrame of shape (n_posts, len(columns())), float, index as ``posts``."""
        ...


class TextFormBlock:
    """Length, hashtags, mentions, links, emoji, question/exclamation marks, capitals."""

    name = "text_form"

    def columns(self) -> dict[str, str]:
        return {
            "n_chars": "text length",
            "n_words": "text length",
            "n_hashtags": "hashtag count",
            "n_mentions": "mentions",
            "n_links": "links",
            "n_emoji": "emoji",
            "n_questions": "question marks",
            "n_exclaims": "exclamation marks",
            "caps_ratio": "capital letters",
        }

    def transform(self, posts: pd.DataFrame) -> pd.DataFrame:
        rows = [text_form(str(text)) for text in posts["text"].fillna("")]
        return pd.DataFrame(rows, index=posts.index, columns=list(self.columns()), dtype=float)


def text_form(text: str) -> list[float]:
    """The :class:`TextFormBlock` values of one text, in its column order."""
    letters = [c for c in text if c.isalpha()]
    caps = sum(c.isupper() for c in letters) / len(letters) if letters else 0.0
    return [
        float(len(text)),
        float(len(text.split())),
        float(len(HASHTAG.findall(text))),
        float(len(MENTION.findall(text))),
        float(len(LINK.findall(text))),
        float(len(EMOJI.findall(text))),
        float(text.count("?")),
        float(text.count("!")),
        caps,
    ]


class SentimentBlock:
    """Class probabilities of any :class:`SentimentScorer` (VADER by default)."""

    name = "sentiment"

    def __init__(self, scorer: SentimentScorer) -> None:
        self.scorer = scorer

    def columns(self) -> dict[str, str]:
        return {f"tone_{label}": f"{label} tone" for label in LABELS}

    def transform(self, posts: pd.DataFrame) -> pd.DataFrame:
        texts = [str(t) for t in posts["text"].fillna("")]
        proba = self.scorer.predict_proba(texts) if texts else np.zeros((0, len(LABELS)))
        return pd.DataFrame(proba, index=posts.index, columns=list(self.columns()), dtype=float)


class TimingBlock:
    """Posting hour (raw and on the circle) and weekday, in the timestamps' zone (UTC)."""

    name = "timing"

    def columns(self) -> dict[str, str]:
        return {
            "hour": "posting hour",
            "hour_sin": "posting hour",
            "hour_cos": "posting hour",
            "weekday": "weekday",
            "weekend": "weekday",
        }

    def transform(self, posts: pd.DataFrame) -> pd.DataFrame:
        stamps = pd.to_datetime(posts["posted_at"])
        hour = stamps.dt.hour + stamps.dt.minute / 60.0
        weekday = stamps.dt.day_of_week
        angle = 2 * np.pi * hour / 24.0
        return pd.DataFrame(
            {
                "hour": hour,
                "hour_sin": np.sin(angle),
                "hour_cos": np.cos(angle),
                "weekday": weekday,
                "weekend": (weekday >= 5).astype(float),
            },
            index=posts.index,
            dtype=float,
        )


class AccountContextBlock:
    """The account's trailing engagement, recent hit rate and posting frequency (``_target``).

    The hit rate (share of the account's last
    :data:`~analytics.engagement._target.HIT_WINDOW` labelled posts that beat their own
    bar) says how the account is doing against its bar now without an absolute level in
    it. The absolute levels alone drift: an account's bar can rise between the training
    and the test period while its rate of hits does not (elon-musk-tweets), and members
    that read only the levels then under-predict. ``LightGBMMember``'s level shift
    answers the same drift from the trees' side.

    Follower counts are left out on purpose: the label is relative to the account's own
    history, so followers carry no signal across accounts, and within one account a count
    that is snapshotted with each post only grows, a clock. On a time split that clock
    lies outside everything the members saw (facebook-brand-posts), so the trees
    extrapolate from the wrong era.

    ``python -m benchmarks.engagement`` measures the ensemble's calibration on both
    datasets (docs/benchmarks/engagement.md).
    """

    name = "account"

    def columns(self) -> dict[str, str]:
        return {
            "trailing_median": "account's recent engagement",
            "trailing_q70": "account's recent engagement",
            "recent_median": "account's recent engagement",
            "history_len": "account's recent engagement",
            "posts_7d": "posting frequency",
            "hours_since_prev": "posting frequency",
            "recent_hit_rate": "account's recent engagement",
        }

    def transform(self, posts: pd.DataFrame) -> pd.DataFrame:
        frame = pd.DataFrame(index=posts.index)
        for column in (*LEVEL_COLUMNS, "history_len"):
            frame[column] = posts[column].astype(float)
        frame["posts_7d"] = posts["posts_7d"].astype(float)
        frame["hours_since_prev"] = np.log1p(posts["hours_since_prev"].astype(float))
        frame["recent_hit_rate"] = posts["recent_hit_rate"].astype(float)
        return frame


class MediaBlock:
    """One-hot media type (``none`` is the reference level)."""

    name = "media"

    def columns(self) -> dict[str, str]:
        return {f"media_{m}": "media type" for m in MEDIA_TYPES[1:]}

    def transform(self, posts: pd.DataFrame) -> pd.DataFrame:
        media = posts["media_type"].fillna("none").astype(str)
        return pd.DataFrame(
            {f"media_{m}": (media == m).astype(float) for m in MEDIA_TYPES[1:]},
            index=posts.index,
        )


def default_blocks(scorer: SentimentScorer, cache_dir: Path | None = None) -> list[FeatureBlock]:
    """The blocks Beacon uses: text form, sentiment, timing, account context, media, image."""
    return [
        TextFormBlock(),
        SentimentBlock(scorer),
        TimingBlock(),
        AccountContextBlock(),
        MediaBlock(),
        ImageBlock(cache_dir),  # picture features when posts have a readable media_path
    ]


@dataclass(frozen=True)
class Features:
    """Model inputs of n posts.

    Attributes:
        tabular: float DataFrame of shape (n, n_tabular), columns from the blocks.
        embedding: float32 array of shape (n, 384), L2-normalised text embeddings.
    """

    tabular: pd.DataFrame
    embedding: np.ndarray

    def rows(self, index: Sequence[int] | np.ndarray) -> Features:
        """The subset at positional ``index``."""
        positions = np.asarray(index)
        return Features(self.tabular.iloc[positions], self.embedding[positions])


class FeaturePipeline:
    """Runs the blocks and attaches embeddings.

    Args:
        blocks: Feature blocks in column order.
    """

    def __init__(self, blocks: Sequence[FeatureBlock]) -> None:
        self.blocks = list(blocks)

    def groups(self) -> dict[str, str]:
        """Every tabular column → its human feature name."""
        mapping: dict[str, str] = {}
        for block in self.blocks:
            mapping.update(block.columns())
        return mapping

    def transform(self, posts: pd.DataFrame, embedding: np.ndarray) -> Features:
        """Features of ``posts`` (rows aligned with ``embedding``, shape (n, 384))."""
        parts = [block.transform(posts) for block in self.blocks]
        tabular = pd.concat(parts, axis=1) if parts else pd.DataFrame(index=posts.index)
        return Features(tabular.reset_index(drop=True).astype(float), embedding)
