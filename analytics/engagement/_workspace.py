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


def workspace_posts(
    con: duckdb.DuckDBPyConnection, accounts: list[str] | None = None
) -> pd.DataFrame:
    """Posts of ``accounts`` (default: the workspace's ``own_accounts`` meta entry, else all)."""
    if accounts is None:
        row = con.execute("SELECT value FROM meta WHERE key = 'own_accounts'").fetchone()
        accounts = list(json.loads(row[0])) if row and row[0] else None
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


def train_on_workspace(
    con: duckdb.DuckDBPyConnection,
    accounts: list[str] | None = None,
    cache_dir: Path | None = None,
    random_state: int = 0,
) -> EngagementModel:
    """Fit an :class:`EngagementModel` on the brand's own posts in the workspace.

    Each (account, platform) pair is its own history, so a brand's Instagram
    posts are compared with its Instagram posts, not its tweets.
    """
    posts = workspace_posts(con, accounts)
    posts = posts.assign(account=posts["account"] + "@" + posts["platform"])
    return EngagementModel(cache_dir=cache_dir, random_state=random_state).fit(posts)
