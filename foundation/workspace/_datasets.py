"""Readers for the real engagement datasets (``beacon ingest --format NAME``).

Each reader is named after its folder in ``../shared/data/engagement`` and reads
any file of the same shape, yielding ``(line_no, raw_row)`` with the canonical
post columns (validation happens once, in :mod:`._ingest`). Quirks handled here:

- latin-1 files (UTF-8 is tried first), multi-line quoted CSV fields (the csv
  module keeps them; ``line_no`` is the file line where a record ends);
- HTML entities such as ``&amp;`` in tweet text (unescaped);
- missing follower counts (left blank, stored as NULL);
- folders with several files of different shapes (``instagram``): the shape
  is recognised from the header.

What the sources lack is stated, never invented, except where the ``posts``
table requires a count the source does not publish (``comments`` for
vaccination tweets, ``shares`` for Reddit and instagram-likes-followers): it
is stored as 0 and documented on each reader. ``superbowl-ads`` is not a posts
dataset (ad creatives with YouTube views, no post text, author or time) and
has no reader.
"""

from __future__ import annotations

import ast
import csv
import html
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from foundation.exceptions import InputError
from foundation.workspace._textio import open_text

# Same shape as ``foundation.workspace._formats.RawRows`` (that module imports this one).
RawRows = Iterator[tuple[int, dict[str, Any]]]

FACEBOOK_YEAR = 2014  # the UCI "Facebook metrics" posts are from 2014 (Moro et al., 2016)


def _rows(path: Path, required: tuple[str, ...], fmt: str) -> Iterator[tuple[int, dict[str, str]]]:
    """CSV records as dicts with stripped header names; checks the required columns."""
    with open_text(path) as handle:
        reader = csv.DictReader(handle)
        header = [(name or "").strip() for name in (reader.fieldnames or [])]
        missing = [column for column in required if column not in header]
        if missing:
            raise InputError(
                f"{path.name} is not a {fmt} file: missing column(s) {', '.join(missing)} "
                f"(found {', '.join(header[:12]) or 'no header'}); pick the format that "
                "matches the file (`beacon ingest --help`)"
            )
        reader.fieldnames = header
        for row in reader:
            yield reader.line_num, {k: v for k, v in row.items() if k is not None}


def _text(value: str | None) -> str:
    return html.unescape(value or "").strip()


def _epoch(value: str) -> str | None:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    if seconds > 1e11:  # milliseconds
        seconds /= 1000
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None).isoformat()


def _list_field(value: str | None) -> list[Any]:
    """A Python-literal list as the scrapers wrote it (``"['a', 'b']"``); [] when blank."""
    if not value or not value.strip():
        return []
    try:
        parsed = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return [value]
    return list(parsed) if isinstance(parsed, list | tuple) else [parsed]


def read_fivethirtyeight_twitter_ratio(path: Path) -> RawRows:
    """FiveThirtyEight's "twitter-ratio" files (latin-1; ``created_at`` as ``M/D/YY H:MM`` UTC).

    Columns used: created_at, text, url, replies → comments, retweets → shares,
    favorites → likes, user → account. No follower counts (NULL).
    """
    fmt = "fivethirtyeight-twitter-ratio"
    for line_no, row in _rows(
        path, ("created_at", "text", "replies", "retweets", "favorites"), fmt
    ):
        stamp = row.get("created_at", "").strip()
        try:
            posted = datetime.strptime(stamp, "%m/%d/%y %H:%M").isoformat()
        except ValueError:
            posted = stamp  # validation quarantines it with the reason
        url = row.get("url", "").strip()
        text = _text(row.get("text"))
        yield (
            line_no,
            {
                "post_id": f"tw-{url.rsplit('/', 1)[-1]}" if "/status/" in url else None,
                "platform": "twitter",
                "account": row.get("user") or path.stem,
                "text": text,
                "posted_at": posted,
                "likes": row.get("favorites"),
                "comments": row.get("replies"),
                "shares": row.get("retweets"),
                "media_type": "link" if "https://t.co/" in text else "none",
            },
        )


def read_elon_musk_tweets(path: Path) -> RawRows:
    """twint exports (multi-line CSV): tweet, date + timezone, photos, video, urls, n* counts.

    Media: photos → image, else the video flag → video, else urls → link, else none. Retweets of others are skipped by
    the source already; followers are not published (NULL).
    """
    fmt = "elon-musk-tweets"
    required = ("id", "date", "tweet", "nlikes", "nreplies", "nretweets", "username")
    for line_no, row in _rows(path, required, fmt):
        posted = row["date"].strip()
        offset = (row.get("timezone") or "").strip()
        if posted and offset:
            sign = -1 if offset.startswith("-") else 1
            digits = offset.lstrip("+-").zfill(4)
            if digits.isdigit():
                try:
                    local = datetime.fromisoformat(posted)
                    delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
                    posted = (local - sign * delta).isoformat()
                except ValueError:
                    pass
        # twint sets ``video`` for any attached media, photos included: photos decide first.
        if _list_field(row.get("photos")):
            media = "image"
        elif str(row.get("video", "0")).strip() in {"1", "True", "true"}:
            media = "video"
        elif _list_field(row.get("urls")):
            media = "link"
        else:
            media = "none"
        yield (
            line_no,
            {
                "post_id": f"tw-{row['id'].strip()}",
                "platform": "twitter",
                "account": row["username"],
                "text": _text(row["tweet"]),
                "posted_at": posted,
                "likes": row["nlikes"],
                "comments": row["nreplies"],
                "shares": row["nretweets"],
                "media_type": media,
            },
        )


def read_vaccination_tweets(path: Path) -> RawRows:
    """Kaggle "Pfizer vaccine tweets" (multi-line CSV): user_name, user_followers, date, text.

    favorites → likes, retweets → shares. The source has no reply counts:
    ``comments`` is stored as 0 (the ``posts`` table requires it). Retweets
    (``is_retweet``) are kept only when False.
    """
    fmt = "vaccination-tweets"
    required = ("id", "user_name", "user_followers", "date", "text", "retweets", "favorites")
    for line_no, row in _rows(path, required, fmt):
        if str(row.get("is_retweet", "False")).strip() == "True":
            continue
        text = _text(row["text"])
        yield (
            line_no,
            {
                "post_id": f"tw-{row['id'].strip()}",
                "platform": "twitter",
                "account": row["user_name"],
                "text": text,
                "posted_at": row["date"],
                "followers": row["user_followers"],
                "likes": row["favorites"],
                "comments": 0,
                "shares": row["retweets"],
                "media_type": "link" if "https://t.co/" in text else "none",
            },
        )


def _facebook_dates(months: list[int], weekdays: list[int]) -> list[date | None]:
    """Rebuild post dates from month + weekday: rows run newest first within one year.

    Walking from the oldest row, each post gets the first date on or after the
    previous post's date with its month and weekday (UCI codes 1 = Sunday).
    """
    result: list[date | None] = [None] * len(months)
    current = date(FACEBOOK_YEAR, 1, 1)
    for index in range(len(months) - 1, -1, -1):
        month, weekday = months[index], weekdays[index]
        if not (1 <= month <= 12 and 1 <= weekday <= 7):
            continue
        target = (weekday - 2) % 7  # 1 = Sunday -> Python's 6
        day = max(current, date(FACEBOOK_YEAR, month, 1))
        while day.year == FACEBOOK_YEAR and not (day.month == month and day.weekday() == target):
            day += timedelta(days=1)
        if day.year != FACEBOOK_YEAR or day.month != month:
            continue
        result[index] = day
        current = day
    return result


def read_facebook_brand_posts(path: Path) -> RawRows:
    """UCI "Facebook metrics" of a cosmetics brand's page (one account, no post text).

    The file gives month, weekday and hour, not dates: dates are rebuilt from
    the row order (newest first, one year); see :func:`_facebook_dates`.
    ``Page total likes`` → followers, impressions → views, Type → media
    (Photo → image, Video → video, Link → link, Status → none). Status posts
    have neither text nor media in the source, so ingest quarantines them.
    """
    fmt = "facebook-brand-posts"
    required = ("Page total likes", "Type", "Post Month", "Post Weekday", "Post Hour", "like")
    rows = list(_rows(path, required, fmt))

    def _int(value: str) -> int:
        try:
            return int(float(value))
        except (TypeError, ValueError):
            return 0

    dates = _facebook_dates(
        [_int(r["Post Month"]) for _, r in rows], [_int(r["Post Weekday"]) for _, r in rows]
    )
    media = {"photo": "image", "video": "video", "link": "link", "status": "none"}
    for (line_no, row), day in zip(rows, dates, strict=True):
        hour = _int(row["Post Hour"])
        posted = (
            datetime.combine(day, datetime.min.time()) + timedelta(hours=hour % 24)
            if day is not None
            else None
        )
        yield (
            line_no,
            {
                "platform": "facebook",
                "account": path.stem,
                "text": "",
                "posted_at": posted.isoformat() if posted else None,
                "followers": row["Page total likes"],
                "likes": row.get("like"),
                "comments": row.get("comment"),
                "shares": row.get("share"),
                "views": row.get("Lifetime Post Total Impressions"),
                "media_type": media.get(row["Type"].strip().lower(), row["Type"]),
                "campaign_id": None,
            },
        )


def read_instagram(path: Path) -> RawRows:
    """The three Instagram shapes, recognised from the header.

    - account posts (Date, Impressions, Likes, Comments, Shares, Caption, Hashtags):
      one account named after the file; dates without time; followers not given.
    - likes/followers (likes, no_of_comments, t, follower_count_at_t, image_path):
      image posts without captions; the file has no account column, so posts are
      grouped into accounts by their follower count; shares stored as 0.
    - reach (USERNAME, Caption, Followers, Time since posted, Likes): the time is
      only relative ("11 hours" before an unknown collection time), so posted_at
      is left blank and ingest quarantines those rows rather than guess.
    """
    with open_text(path) as handle:
        header = [name.strip() for name in next(csv.reader(handle), [])]
    if {"Date", "Impressions", "Likes", "Caption"} <= set(header):
        for line_no, row in _rows(path, ("Date", "Likes", "Comments", "Shares"), "instagram"):
            caption = _text(row.get("Caption"))
            tags = _text(row.get("Hashtags"))
            yield (
                line_no,
                {
                    "platform": "instagram",
                    "account": path.stem,
                    "text": f"{caption}\n{tags}".strip(),
                    "posted_at": row["Date"],
                    "likes": row["Likes"],
                    "comments": row["Comments"],
                    "shares": row["Shares"],
                    "views": row.get("Impressions"),
                    "media_type": "image",
                },
            )
    elif {"likes", "t", "follower_count_at_t"} <= set(header):
        for line_no, row in _rows(path, ("likes", "no_of_comments", "t"), "instagram"):
            followers = row.get("follower_count_at_t", "").strip()
            yield (
                line_no,
                {
                    "platform": "instagram",
                    "account": f"followers-{followers}" if followers else path.stem,
                    "text": "",
                    "posted_at": _epoch(row["t"]),
                    "followers": followers,
                    "likes": row["likes"],
                    "comments": row["no_of_comments"],
                    "shares": 0,
                    "media_type": "image",
                    "media_path": row.get("image_path"),
                },
            )
    elif {"USERNAME", "Caption", "Time since posted", "Likes"} <= set(header):
        for line_no, row in _rows(path, ("USERNAME", "Caption", "Likes"), "instagram"):
            yield (
                line_no,
                {
                    "platform": "instagram",
                    "account": row["USERNAME"],
                    "text": _text(row["Caption"]),
                    "posted_at": None,
                    "time_since_posted": row.get("Time since posted"),
                    "followers": row.get("Followers"),
                    "likes": row["Likes"],
                    "comments": None,
                    "shares": None,
                    "media_type": "image",
                },
            )
    else:
        raise InputError(
            f"{path.name} is not an instagram file: expected the columns of "
            "instagram-account-posts (Date, Impressions, Likes, Caption), "
            "instagram-likes-followers (likes, t, follower_count_at_t) or instagram_reach "
            f"(USERNAME, Caption, Time since posted, Likes); found {', '.join(header[:12])}"
        )


def read_reddit_vaccine_myths(path: Path) -> RawRows:
    """r/VaccineMyths posts and comments (multi-line CSV).

    Posts: text = title + body; comments (title ``Comment``): text = body.
    score → likes (a negative score is quarantined by validation: the table
    stores counts), comms_num → comments, shares stored as 0 (Reddit has none).
    ``created`` (epoch seconds, UTC) gives posted_at; the account is the
    subreddit, named after the file.
    """
    fmt = "reddit-vaccine-myths"
    for line_no, row in _rows(path, ("title", "score", "id", "comms_num", "created"), fmt):
        title, body = _text(row["title"]), _text(row.get("body"))
        is_comment = title == "Comment"
        text = body if is_comment else f"{title}\n{body}".strip()
        url = (row.get("url") or "").strip()
        external = bool(url) and "reddit.com" not in url
        yield (
            line_no,
            {
                "post_id": f"rd-{row['id'].strip()}",
                "platform": "reddit",
                "account": path.stem,
                "text": text,
                "posted_at": _epoch(row["created"]) or row.get("timestamp"),
                "likes": row["score"],
                "comments": row["comms_num"],
                "shares": 0,
                "media_type": "link" if external and not is_comment else "none",
            },
        )


#: Format name (the dataset's folder) → reader.
DATASET_READERS = {
    "fivethirtyeight-twitter-ratio": read_fivethirtyeight_twitter_ratio,
    "elon-musk-tweets": read_elon_musk_tweets,
    "vaccination-tweets": read_vaccination_tweets,
    "facebook-brand-posts": read_facebook_brand_posts,
    "instagram": read_instagram,
    "reddit-vaccine-myths": read_reddit_vaccine_myths,
}
