"""Reading the Top-200 Instagram influencers file and rate cards.

The Top-200 file (``top_insta_influencers_data.csv``) writes numbers the way a
web page shows them: ``475.8m`` followers, ``3.3k`` posts, ``29.0b`` total
likes, ``1.39%`` engagement, and leaves some countries blank. :func:`read_top200`
yields raw rows with their file line numbers; :func:`parse_top200_row` turns one
into a :class:`CreatorProfile` or raises :class:`InfluencerRowError` whose
message is the quarantine reason.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from analytics.influencers._types import CreatorProfile
from foundation.exceptions import InputError

TOP200_COLUMNS = (
    "rank",
    "channel_info",
    "influence_score",
    "posts",
    "followers",
    "avg_likes",
    "60_day_eng_rate",
    "new_post_avg_like",
    "total_likes",
    "country",
)
TOP200_REQUIRED = ("channel_info", "followers", "60_day_eng_rate")

_SUFFIX = {"": 1.0, "k": 1e3, "m": 1e6, "b": 1e9}
_COUNT = re.compile(r"^([0-9]+(?:\.[0-9]+)?)\s*([kmb]?)$", re.IGNORECASE)
_PERCENT = re.compile(r"^(-?[0-9]+(?:\.[0-9]+)?)\s*%$")
_HANDLE = re.compile(r"^[A-Za-z0-9._]{1,30}$")


class InfluencerRowError(ValueError):
    """A row of an influencer file cannot be used; the message is the quarantine reason."""


def parse_count(value: Any, column: str, *, required: bool = True) -> float | None:
    """``'475.8m'`` -> 475_800_000.0; ``'3.3k'`` -> 3300.0; ``'0'`` -> 0.0; ``'1,234'`` -> 1234.0.

    Raises:
        InfluencerRowError: The value is missing (when required) or not a count.
    """
    text = "" if value is None else str(value).strip().replace(",", "")
    if not text:
        if required:
            raise InfluencerRowError(f"missing {column}")
        return None
    match = _COUNT.match(text)
    if not match:
        raise InfluencerRowError(
            f"{column} must be a count like 475.8m, 3.3k or 1200 (got {text[:20]!r})"
        )
    return float(match.group(1)) * _SUFFIX[match.group(2).lower()]


def parse_percent(value: Any, column: str, *, required: bool = True) -> float | None:
    """``'1.39%'`` -> 0.0139 (a fraction).

    Raises:
        InfluencerRowError: The value is missing (when required), not a percentage
            (``'NaN%'`` included) or outside 0–100%.
    """
    text = "" if value is None else str(value).strip()
    if not text:
        if required:
            raise InfluencerRowError(f"missing {column}")
        return None
    match = _PERCENT.match(text)
    if not match:
        raise InfluencerRowError(f"{column} must be a percentage like 1.39% (got {text[:20]!r})")
    number = float(match.group(1))
    if not 0.0 <= number <= 100.0:
        raise InfluencerRowError(f"{column} must lie between 0% and 100% (got {text[:20]!r})")
    return number / 100.0


def repair_text(value: str) -> str:
    """Undo UTF-8 read as latin-1 (``'CÃ´te d'Ivoire'`` -> ``"Côte d'Ivoire"``) when that is what happened."""
    if not any(ch in value for ch in "ÃÂâ"):
        return value
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def read_top200(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield ``(line_no, raw_row)`` from a Top-200 influencers CSV (header is line 1).

    Raises:
        InputError: The file is missing or lacks the Top-200 columns.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"no file at {path}; give the path of the Top-200 influencers CSV")
    try:
        with path.open(encoding="utf-8-sig") as handle:
            handle.read()
        encoding = "utf-8-sig"
    except UnicodeDecodeError:
        encoding = "latin-1"
    with path.open(encoding=encoding, newline="") as handle:
        reader = csv.DictReader(handle)
        header = [name.strip().lower() for name in (reader.fieldnames or [])]
        missing = [c for c in TOP200_REQUIRED if c not in header]
        if missing:
            raise InputError(
                f"{path.name} is not a Top-200 influencers CSV: missing column(s) "
                f"{', '.join(missing)} (found {', '.join(header) or 'no header'}); expected "
                f"{', '.join(TOP200_COLUMNS)}"
            )
        reader.fieldnames = header
        for row in reader:
            yield reader.line_num, {k: (v or "") for k, v in row.items() if k is not None}


def parse_top200_row(raw: Mapping[str, Any], *, source: str = "top200") -> CreatorProfile:
    """Validate one raw Top-200 row and return its profile (handle as in the file).

    ``engagement_rate`` is the file's 60-day engagement rate (likes of the last
    60 days' posts per follower); ``avg_likes`` its lifetime average.

    Raises:
        InfluencerRowError: The row cannot be used; the message says why.
    """
    handle = str(raw.get("channel_info") or "").strip().lstrip("@")
    if not handle:
        raise InfluencerRowError("missing channel_info (the handle)")
    if not _HANDLE.match(handle):
        raise InfluencerRowError(
            f"channel_info must be an Instagram handle of letters, digits, '.' or '_' "
            f"(got {handle[:30]!r})"
        )
    followers = parse_count(raw.get("followers"), "followers")
    assert followers is not None
    if followers < 1:
        raise InfluencerRowError(f"followers must be at least 1 (got {raw.get('followers')!r})")
    rate = parse_percent(raw.get("60_day_eng_rate"), "60_day_eng_rate")
    posts = parse_count(raw.get("posts"), "posts", required=False)
    avg_likes = parse_count(raw.get("avg_likes"), "avg_likes", required=False)
    parse_count(raw.get("new_post_avg_like"), "new_post_avg_like", required=False)
    parse_count(raw.get("total_likes"), "total_likes", required=False)
    score = str(raw.get("influence_score") or "").strip()
    if score and not (score.isdigit() and 0 <= int(score) <= 100):
        raise InfluencerRowError(
            f"influence_score must be a whole number 0–100 (got {score[:20]!r})"
        )
    if avg_likes is not None and math.isfinite(avg_likes) and avg_likes > followers * 2:
        raise InfluencerRowError(
            f"avg_likes {avg_likes:,.0f} is more than twice the followers {followers:,.0f}; "
            "the row looks shifted"
        )
    country = repair_text(str(raw.get("country") or "").strip()) or None
    return CreatorProfile(
        creator_id=f"top200-{handle.lower()}",
        handle=handle,
        platform="instagram",
        followers=int(followers),
        posts_count=None if posts is None else max(round(posts), 0),
        avg_likes=avg_likes,
        engagement_rate=rate,
        country=country,
        source=source,
    )


def read_rate_card(path: Path) -> dict[str, float]:
    """Read a rate card CSV: columns ``handle`` (or ``creator_id``) and ``cost_per_post``.

    Returns:
        Cost per post keyed by the lower-cased handle (without ``@``) or creator id.

    Raises:
        InputError: The file is missing, lacks the columns or has a bad cost.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"no rate card at {path}; give a CSV with handle,cost_per_post")
    card: dict[str, float] = {}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        header = [name.strip().lower() for name in (reader.fieldnames or [])]
        key_column = (
            "handle" if "handle" in header else "creator_id" if "creator_id" in header else None
        )
        if key_column is None or "cost_per_post" not in header:
            raise InputError(
                f"{path.name} is not a rate card: expected columns handle (or creator_id) and "
                f"cost_per_post (found {', '.join(header) or 'no header'})"
            )
        reader.fieldnames = header
        for row in reader:
            key = str(row.get(key_column) or "").strip().lstrip("@").lower()
            if not key:
                continue
            text = str(row.get("cost_per_post") or "").strip().replace(",", "")
            try:
                cost = float(text)
            except ValueError:
                raise InputError(
                    f"{path.name} line {reader.line_num}: cost_per_post must be a number "
                    f"(got {text[:20]!r})"
                ) from None
            if not math.isfinite(cost) or cost <= 0:
                raise InputError(
                    f"{path.name} line {reader.line_num}: cost_per_post must be above 0 (got {text!r})"
                )
            card[key] = cost
    return card
