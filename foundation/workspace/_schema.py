"""DDL of the workspace tables (DESIGN.md, "Workspace data model").

Timestamps are stored as naive ``TIMESTAMP`` values in UTC.
"""

from __future__ import annotations

import functools
import re

PLATFORMS = (
    "twitter",
    "instagram",
    "facebook",
    "reddit",
    "linkedin",
    "tiktok",
    "youtube",
    "other",
    "support",
)  # support: the customer chats on Beacon's own widget
#: How replies, charts and the digest name each platform in :data:`PLATFORMS`.
PLATFORM_NAMES = {
    "twitter": "Twitter/X",
    "instagram": "Instagram",
    "facebook": "Facebook",
    "reddit": "Reddit",
    "linkedin": "LinkedIn",
    "tiktok": "TikTok",
    "youtube": "YouTube",
    "other": "other platforms",
    "support": "support chats",
}
#: The name of every platform together (no platform filter, or a digest's ``all`` row).
ALL_PLATFORMS_NAME = "all platforms"
MEDIA_TYPES = ("none", "image", "video", "link")

#: 2: ``feedback`` gained ``audience``, ``target``, ``post_id`` and ``label`` (structured
#: corrections in their own columns, written only by the action server from staff turns).
#: 3: ``pin_events`` (dashboard tiles pinned and unpinned from chat).
SCHEMA_VERSION = 3


def platform_name(code: str | None) -> str:
    """Display name of a platform code: ``twitter`` → ``Twitter/X``.

    None (no platform filter) and ``"all"`` (a total over platforms) read "all platforms";
    a code outside :data:`PLATFORMS` is shown as it is.
    """
    if not code or code == "all":
        return ALL_PLATFORMS_NAME
    return PLATFORM_NAMES.get(code, code)


DDL = """
CREATE TABLE IF NOT EXISTS meta (
    key VARCHAR PRIMARY KEY,
    value VARCHAR
);

CREATE TABLE IF NOT EXISTS posts (
    post_id VARCHAR PRIMARY KEY,
    platform VARCHAR NOT NULL,
    account VARCHAR NOT NULL,          -- pseudonymised handle
    text VARCHAR NOT NULL,             -- handles, e-mails, phones pseudonymised
    posted_at TIMESTAMP NOT NULL,      -- UTC
    followers BIGINT,                  -- at posting time when known
    likes BIGINT NOT NULL,
    comments BIGINT NOT NULL,
    shares BIGINT NOT NULL,
    views BIGINT,
    media_type VARCHAR NOT NULL,
    media_path VARCHAR,
    campaign_id VARCHAR,
    source VARCHAR NOT NULL,           -- file or dataset it came from
    ingested_at TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS scores (
    post_id VARCHAR NOT NULL,
    model_version VARCHAR NOT NULL,
    sentiment_label VARCHAR,
    p_negative DOUBLE,
    p_neutral DOUBLE,
    p_positive DOUBLE,
    predicted_engagement DOUBLE,
    explanation VARCHAR,
    scored_at TIMESTAMP NOT NULL,
    PRIMARY KEY (post_id, model_version)
);

CREATE TABLE IF NOT EXISTS campaigns (
    campaign_id VARCHAR PRIMARY KEY,
    name VARCHAR NOT NULL,
    objective VARCHAR,
    start_date DATE,
    end_date DATE,
    budget DOUBLE,
    description VARCHAR
);

CREATE TABLE IF NOT EXISTS experiments (
    experiment_id VARCHAR PRIMARY KEY,
    name VARCHAR NOT NULL,
    description VARCHAR,
    control_variant VARCHAR NOT NULL,
    metrics VARCHAR NOT NULL,          -- comma-separated metric columns of experiment_units
    started_at TIMESTAMP,
    ended_at TIMESTAMP,
    campaign_id VARCHAR
);

CREATE TABLE IF NOT EXISTS experiment_units (
    experiment_id VARCHAR NOT NULL,
    unit_id VARCHAR NOT NULL,
    variant VARCHAR NOT NULL,
    clicked DOUBLE,                    -- binary metric (0/1)
    converted DOUBLE,                  -- binary metric (0/1)
    revenue DOUBLE,                    -- continuous metric
    pre_period DOUBLE,                 -- optional pre-period covariate (CUPED)
    cost DOUBLE,                       -- optional cost of treating this unit
    PRIMARY KEY (experiment_id, unit_id)
);

CREATE TABLE IF NOT EXISTS influencers (
    influencer_id VARCHAR PRIMARY KEY,
    handle VARCHAR NOT NULL,           -- pseudonymised
    platform VARCHAR NOT NULL,
    followers BIGINT,
    posts BIGINT,
    avg_likes DOUBLE,
    engagement_rate DOUBLE,
    country VARCHAR,
    topics VARCHAR,
    cost_per_post DOUBLE,
    source VARCHAR NOT NULL,
    ingested_at TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS feedback (
    feedback_id VARCHAR PRIMARY KEY,
    created_at TIMESTAMP NOT NULL,
    conversation_id VARCHAR,
    audit_id VARCHAR,                  -- the audited prediction/answer this corrects
    verdict VARCHAR NOT NULL,          -- 'up', 'down' or 'correction'
    correction VARCHAR,                -- the user's words when verdict = 'correction'
    text VARCHAR,                      -- what the user wrote
    audience VARCHAR,                  -- 'staff' or 'customer' (NULL: written before v2)
    target VARCHAR,                    -- 'sentiment' / 'engagement': a correction the models learn
    post_id VARCHAR,                   -- the post it corrects (with target)
    label VARCHAR                      -- the right label for that post (with target)
);

-- v1 → v2. New columns go last, in the order above, so a v1 file migrated here and a
-- new file have the same column order (the journal writes rows by position). Rows
-- from v1 keep NULL in them: who wrote a v1 correction is unknown, so none is learned.
ALTER TABLE feedback ADD COLUMN IF NOT EXISTS audience VARCHAR;
ALTER TABLE feedback ADD COLUMN IF NOT EXISTS target VARCHAR;
ALTER TABLE feedback ADD COLUMN IF NOT EXISTS post_id VARCHAR;
ALTER TABLE feedback ADD COLUMN IF NOT EXISTS label VARCHAR;

CREATE TABLE IF NOT EXISTS audit (
    audit_id VARCHAR PRIMARY KEY,
    created_at TIMESTAMP NOT NULL,
    kind VARCHAR NOT NULL,             -- e.g. 'sentiment_summary', 'knowledge_answer'
    model_version VARCHAR,
    inputs_hash VARCHAR NOT NULL,
    inputs VARCHAR,                    -- JSON
    sources VARCHAR,                   -- JSON list of what the answer used
    output VARCHAR,                    -- JSON or text
    conversation_id VARCHAR
);

CREATE TABLE IF NOT EXISTS support_ratings (
    rating_id VARCHAR PRIMARY KEY,
    created_at TIMESTAMP NOT NULL,
    conversation_id VARCHAR NOT NULL,  -- the customer's (namespaced) chat session
    rating INTEGER NOT NULL            -- 1 (poor) to 5 (great)
);

CREATE TABLE IF NOT EXISTS pin_events (
    event_id VARCHAR PRIMARY KEY,
    created_at TIMESTAMP NOT NULL,
    conversation_id VARCHAR NOT NULL,  -- the staff chat that pinned or unpinned
    board VARCHAR NOT NULL,            -- whose dashboard: a person's own, or a team's by name
    tile_id VARCHAR NOT NULL,
    action VARCHAR NOT NULL,           -- 'pin' or 'unpin' (the latest event of a tile wins)
    kind VARCHAR,                      -- the answer's kind: sentiment, experiment, ...
    question VARCHAR,                  -- what was asked, pseudonymised
    params VARCHAR                     -- JSON: the answer's parameters, never its numbers
);

CREATE TABLE IF NOT EXISTS quarantine (
    quarantine_id VARCHAR PRIMARY KEY,
    created_at TIMESTAMP NOT NULL,
    source VARCHAR NOT NULL,
    line_no BIGINT,
    reason VARCHAR NOT NULL,
    raw VARCHAR                        -- JSON of the rejected row, pseudonymised
);
"""


@functools.cache
def table_columns(table: str) -> tuple[tuple[str, str], ...]:
    """``(name, type)`` of a workspace table's columns, in the DDL's order.

    Raises:
        RuntimeError: The DDL has no such table.
    """
    block = re.search(rf"CREATE TABLE IF NOT EXISTS {table} \((.*?)\n\);", DDL, re.DOTALL)
    if block is None:
        raise RuntimeError(f"the workspace DDL has no table {table}")
    columns = []
    for line in block.group(1).splitlines():
        words = line.split()
        if words and not words[0].startswith(("--", "PRIMARY")):
            columns.append((words[0], words[1].rstrip(",")))
    return tuple(columns)
