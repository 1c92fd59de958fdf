"""Influencer discovery and ranking.

Scores each creator on fit to a brief (embedding similarity of recent posts),
engagement rate shrunk toward its follower tier (empirical Bayes, with an
interval), audience sentiment, posting consistency, authenticity flags (robust
regression of engagement on followers, missing comments, follower jumps) and
cost efficiency from a rate card; then ranks with diversity (MMR) and explains::

    from analytics.influencers import load_creators_from_workspace, rank_creators
    with workspace.connect(read_only=True) as con:
        creators = load_creators_from_workspace(con)
    ranking = rank_creators(creators, "trail running shoes", budget=5000, top_k=5)
    for item in ranking.items:
        print(item.reason_line())
    print(ranking.explain_pair(1, 2))
"""

from analytics.influencers._authenticity import AuthenticityChecker
from analytics.influencers._engagement import (
    DEFAULT_POST_LOG_SD,
    TIERS,
    EngagementObservation,
    EngagementShrinker,
    follower_tier,
    observe_engagement,
)
from analytics.influencers._format import display_handle
from analytics.influencers._parse import (
    TOP200_COLUMNS,
    InfluencerRowError,
    parse_count,
    parse_percent,
    parse_top200_row,
    read_rate_card,
    read_top200,
    repair_text,
)
from analytics.influencers._rank import Ranking, RankingWeights, apply_rate_card, rank_creators
from analytics.influencers._types import (
    AudienceSentiment,
    AuthenticityFlag,
    Consistency,
    CostEfficiency,
    CreatorPost,
    CreatorProfile,
    EngagementEstimate,
    RankedCreator,
)
from analytics.influencers._workspace import (
    ingest_top200,
    load_creators_from_workspace,
    load_top200,
)

__all__ = [
    "DEFAULT_POST_LOG_SD",
    "TIERS",
    "TOP200_COLUMNS",
    "AudienceSentiment",
    "AuthenticityChecker",
    "AuthenticityFlag",
    "Consistency",
    "CostEfficiency",
    "CreatorPost",
    "CreatorProfile",
    "EngagementEstimate",
    "EngagementObservation",
    "EngagementShrinker",
    "InfluencerRowError",
    "RankedCreator",
    "Ranking",
    "RankingWeights",
    "apply_rate_card",
    "display_handle",
    "follower_tier",
    "ingest_top200",
    "load_creators_from_workspace",
    "load_top200",
    "observe_engagement",
    "parse_count",
    "parse_percent",
    "parse_top200_row",
    "rank_creators",
    "read_rate_card",
    "read_top200",
    "repair_text",
]
