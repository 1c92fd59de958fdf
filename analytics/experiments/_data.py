"""Readers and feature builders for the real experiments in the shared data folder.

- Hillstrom (MineThatData, 64,000 customers): ``segment`` ∈ {Mens E-Mail, Womens E-Mail,
  No E-Mail}; outcomes ``visit``, ``conversion`` (0/1) and ``spend`` (dollars).
- Artea (5,000 customers): ``test_coupon`` 0/1; outcomes ``trans_after`` (count of
  transactions after the test) and ``revenue_after``; the next-campaign file holds
  6,000 untreated customers with the same features. The numerically coded files are
  used (the next-campaign file only exists coded); ``channel_acq`` codes are
  1 google, 2 facebook, 3 instagram, 4 referral, 5 other (checked against the
  recoded file). The demographics file (race, gender) is deliberately not used for
  targeting.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from analytics.exceptions import AnalysisInputError

HILLSTROM_CONTROL = "No E-Mail"
ARTEA_CHANNELS = {1: "google", 2: "facebook", 3: "instagram", 4: "referral", 5: "other"}
_ARTEA_NUMERIC = [
    "num_past_purch",
    "spent_last_purchase",
    "weeks_since_visit",
    "browsing_minutes",
    "shopping_cart",
]


def _data_dir(data_dir: str | Path | None) -> Path:
    if data_dir is not None:
        return Path(data_dir)
    from foundation.settings import get_settings

    found = get_settings().data_dir
    if found is None:
        raise FileNotFoundError(
            "the shared data folder was not found; set BEACON_DATA_DIR or pass data_dir"
        )
    return found


def _read(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found (expected the shared experiments data there)")
    return pd.read_csv(path, encoding="utf-8-sig")


def load_hillstrom(data_dir: str | Path | None = None) -> pd.DataFrame:
    """The Hillstrom e-mail test, one row per customer (64,000 rows)."""
    return _read(_data_dir(data_dir) / "experiments" / "hillstrom" / "hillstrom.csv")


def load_artea(data_dir: str | Path | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The Artea coupon A/B test (5,000 rows) and next-campaign customers (6,000 rows)."""
    folder = _data_dir(data_dir) / "experiments" / "artea"
    return _read(folder / "artea-a_b-experiment.csv"), _read(folder / "artea-next-campaign.csv")


@dataclass(frozen=True)
class UpliftData:
    """Features, treatment and outcome for an uplift learner.

    Attributes:
        X: Numeric features, shape (n_samples, n_features).
        treatment: 0/1, shape (n_samples,).
        y: Outcome, shape (n_samples,).
        segments: Human-readable segment columns for :func:`uplift_by_segment`.
    """

    X: pd.DataFrame
    treatment: NDArray[np.int64]
    y: NDArray[np.float64]
    segments: pd.DataFrame


def hillstrom_features(df: pd.DataFrame) -> pd.DataFrame:
    """Numeric features of Hillstrom customers (one-hot zip code and channel)."""
    out = df[["recency", "history", "mens", "womens", "newbie"]].astype(float)
    for col, values in (
        ("zip_code", ("Surburban", "Rural", "Urban")),
        ("channel", ("Phone", "Web", "Multichannel")),
    ):
        for v in values:
            out[f"{col}_{v.lower()}"] = (df[col] == v).astype(float)
    return out


def hillstrom_uplift_data(
    df: pd.DataFrame, treatment: str = "Mens E-Mail", outcome: str = "visit"
) -> UpliftData:
    """One e-mail arm of Hillstrom against the no-e-mail control.

    Args:
        df: :func:`load_hillstrom` output.
        treatment: ``"Mens E-Mail"`` or ``"Womens E-Mail"``.
        outcome: ``"visit"``, ``"conversion"`` or ``"spend"``.
    """
    if treatment not in set(df["segment"]) - {HILLSTROM_CONTROL}:
        raise AnalysisInputError(
            f"treatment must be 'Mens E-Mail' or 'Womens E-Mail' (got {treatment!r})"
        )
    if outcome not in {"visit", "conversion", "spend"}:
        raise AnalysisInputError(f"outcome must be visit, conversion or spend (got {outcome!r})")
    sub = df[df["segment"].isin([treatment, HILLSTROM_CONTROL])].reset_index(drop=True)
    return UpliftData(
        X=hillstrom_features(sub),
        treatment=(sub["segment"] == treatment).to_numpy().astype(np.int64),
        y=sub[outcome].to_numpy(dtype=np.float64),
        segments=sub[["history_segment", "zip_code", "channel", "newbie"]].astype(str),
    )


def artea_features(df: pd.DataFrame) -> pd.DataFrame:
    """Numeric features of Artea customers (one-hot acquisition channel)."""
    missing = [c for c in ["channel_acq", *_ARTEA_NUMERIC] if c not in df.columns]
    if missing:
        raise AnalysisInputError(f"Artea data lacks columns {missing}; got {list(df.columns)}")
    out = df[_ARTEA_NUMERIC].astype(float)
    for code, name in ARTEA_CHANNELS.items():
        out[f"channel_{name}"] = (df["channel_acq"] == code).astype(float)
    return out


def artea_uplift_data(df: pd.DataFrame, outcome: str = "purchased") -> UpliftData:
    """The Artea coupon test as uplift data.

    Args:
        df: The A/B experiment frame from :func:`load_artea`.
        outcome: ``"purchased"`` (any transaction after the test, 0/1),
            ``"trans_after"`` (count) or ``"revenue_after"``.
    """
    if outcome == "purchased":
        y = (df["trans_after"] > 0).to_numpy(dtype=np.float64)
    elif outcome in {"trans_after", "revenue_after"}:
        y = df[outcome].to_numpy(dtype=np.float64)
    else:
        raise AnalysisInputError(
            f"outcome must be purchased, trans_after or revenue_after (got {outcome!r})"
        )
    segments = pd.DataFrame(
        {
            "channel_acq": df["channel_acq"].map(ARTEA_CHANNELS).fillna("unknown"),
            "shopping_cart": np.where(df["shopping_cart"] == 1, "something", "nothing"),
        }
    )
    return UpliftData(
        X=artea_features(df),
        treatment=df["test_coupon"].to_numpy().astype(np.int64),
        y=y,
        segments=segments,
    )
