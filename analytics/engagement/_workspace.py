"""Training on the workspace's own posts (the brand's accounts)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd

from analytics.engagement._model import EngagementModel
from analytics.exceptions import AnalysisInputError

POST_QUERY = """
SELECT post_id, platform, account, text, posted_at, followers, likes, comments, shares,
       views, media_type, media_path
FROM posts
"""


def _own_accounts(con: duckdb.DuckDBPyConnection) -> list[str] | None:
    row = con.execute("SELECT value FROM meta WHERE key = 'own_accounts'").fetchone()
    return list(json.loads(row[0])) if row and row[0] else None


def own_account_key(
    con: duckdb.DuckDBPyConnection, platform: str, model: EngagementModel
) -> str | None:
    """The model's key for the brand's own account on ``platform`` (``"<account>@<platform>"``),
    or None when the model holds no history for one."""
    known = set(model.history_.times)
    for account in _own_accounts(con) or []:
        if f"{account}@{platform}" in known:
            return f"{account}@{platform}"
    return None


def workspace_posts(
    con: duckdb.DuckDBPyConnection, accounts: list[str] | None = None
) -> pd.DataFrame:
    """Posts of ``accounts`` (default: the workspace's ``own_accounts`` meta entry, else all)."""
    if accounts is None:
        accounts = _own_accounts(con)
    if accounts:
        marks = ", ".join("?" * len(accounts))
        frame = con.execute(f"{POST_QUERY} WHERE account IN ({marks})", accounts).df()
    else:
        frame = con.execute(POST_QUERY).df()
    if frame.empty:
        raise AnalysisInputError(
            "the workspace has no posts to learn from; run `beacon demo` or `beacon ingest` first"
        )
    return frame


def keyed_posts(con: duckdb.DuckDBPyConnection, accounts: list[str] | None = None) -> pd.DataFrame:
    """:func:`workspace_posts` with ``account`` keyed ``<account>@<platform>``, as models know it.

    Each (account, platform) pair is its own history, so a brand's Instagram posts are
    compared with its Instagram posts, not its tweets.
    """
    posts = workspace_posts(con, accounts)
    return posts.assign(account=posts["account"] + "@" + posts["platform"])


def posts_fingerprint(
    con: duckdb.DuckDBPyConnection, accounts: list[str] | None = None
) -> tuple[object, ...]:
    """Count, latest ``posted_at`` and latest ``ingested_at`` of the posts of ``accounts``
    (default as in :func:`workspace_posts`): a cheap check for new posts."""
    accounts = _own_accounts(con) if accounts is None else accounts
    query = "SELECT count(*), max(posted_at), max(ingested_at) FROM posts"
    if accounts:
        query += f" WHERE account IN ({', '.join('?' * len(accounts))})"
    return tuple(con.execute(query, accounts or []).fetchone() or ())


def with_workspace_posts(model: EngagementModel, con: duckdb.DuckDBPyConnection) -> EngagementModel:
    """``model`` reading draft context from the brand's latest posts (:meth:`EngagementModel.with_posts`).

    Returns ``model`` itself when the workspace has none of the brand's posts.
    """
    count = posts_fingerprint(con)[0]
    return model.with_posts(keyed_posts(con)) if count else model


def train_on_workspace(
    con: duckdb.DuckDBPyConnection,
    accounts: list[str] | None = None,
    cache_dir: Path | None = None,
    random_state: int = 0,
) -> EngagementModel:
    """Fit an :class:`EngagementModel` on the brand's own posts in the workspace (:func:`keyed_posts`)."""
    posts = keyed_posts(con, accounts)
    return EngagementModel(cache_dir=cache_dir, random_state=random_state).fit(posts)
