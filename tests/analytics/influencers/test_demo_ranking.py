"""Validation on the demo workspace: planted fakes flagged, the lucky creator shrunk, diverse top five."""

from __future__ import annotations

import json
import re

import pytest

from analytics.exceptions import AnalysisInputError
from analytics.influencers import Ranking, apply_rate_card, rank_creators
from tests.analytics.influencers.conftest import BRIEF, CachedEncoder, CreatorDemo

HONEST_KINDS = {"steady", "lucky_small"}


def _by_id(ranking: Ranking) -> dict[str, object]:
    return {item.creator_id: item for item in ranking.ranked}


def test_loader_reads_posts_audience_and_postless_creators(creator_demo: CreatorDemo) -> None:
    creators = {c.creator_id: c for c in creator_demo.creators}
    manifest = creator_demo.manifest
    assert set(manifest["creators"]) <= set(creators)
    assert manifest["posts"]["quarantined"] == 0
    for creator_id in manifest["creators"]:
        c = creators[creator_id]
        assert len(c.posts) >= 10 and len(c.audience_texts) >= 15
        assert c.handle.startswith("acct_") and c.cost_per_post
        assert [p.posted_at for p in c.posts] == sorted(p.posted_at for p in c.posts)
    postless = [c for c in creators.values() if not c.posts]
    assert postless, "the Trailbird demo's own influencers have no posts"
    assert all(c.followers and c.engagement_rate for c in postless)


def test_planted_fake_engagement_is_flagged(creator_demo: CreatorDemo, ranking: Ranking) -> None:
    items = {item.creator_id: item for item in ranking.ranked}
    manifest = creator_demo.manifest
    for creator_id in manifest["fake_engagement"]:
        kinds = {f.kind for f in items[creator_id].flags}
        assert {"engagement_above_audience", "few_comments", "follower_jump"} <= kinds
        jump = next(f for f in items[creator_id].flags if f.kind == "follower_jump")
        assert manifest["follower_jumps"][creator_id] in jump.message
        assert items[creator_id].flag_multiplier < 0.2
    honest = set(manifest["creators"]) - set(manifest["fake_engagement"])
    for creator_id in honest:
        assert items[creator_id].flags == (), items[creator_id].reason_line()
    # Flagged creators are ranked below every honest planted creator despite their raw numbers.
    worst_honest = max(items[c].position for c in honest)
    assert all(items[c].position > worst_honest for c in manifest["fake_engagement"])


def test_lucky_small_creator_is_shrunk_below_steadier_peers(
    creator_demo: CreatorDemo, ranking: Ranking
) -> None:
    items = {item.creator_id: item for item in ranking.ranked}
    lucky = items[creator_demo.manifest["lucky_small"]].engagement
    assert lucky is not None and lucky.tier == "micro"
    peers = [items[c].engagement for c in creator_demo.manifest["steady_peers_of_lucky"]]
    assert all(p is not None for p in peers)
    # By its plain average it beats every steady peer ...
    assert lucky.raw_rate > max(p.raw_rate for p in peers if p)
    # ... but shrunk it falls below steadier peers, with the widest interval of them all.
    above = [p for p in peers if p and p.rate > lucky.rate and p.raw_rate < lucky.raw_rate]
    assert len(above) >= 1
    assert lucky.rate < 0.7 * lucky.raw_rate
    assert lucky.weight_own < min(p.weight_own for p in peers if p)
    assert lucky.high / lucky.low > max(p.high / p.low for p in peers if p)


def test_diversity_keeps_the_top_five_from_one_niche(
    creator_demo: CreatorDemo, ranking: Ranking, encoder: CachedEncoder
) -> None:
    plain = rank_creators(creator_demo.creators, BRIEF, top_k=5, diversity=0.0, encoder=encoder)
    niches = {c.creator_id: c.topics or "" for c in creator_demo.creators}

    def trail_only(r: Ranking) -> int:
        return sum("trail" in niches[i.creator_id] for i in r.items[:5])

    assert trail_only(plain) == 5
    assert trail_only(ranking) <= 4
    assert len({niches[i.creator_id] for i in ranking.items[:5]}) >= 3
    assert [i.score for i in plain.items] == sorted((i.score for i in plain.items), reverse=True)


def test_reason_lines_and_json(ranking: Ranking) -> None:
    line = ranking.items[0].reason_line()
    assert re.match(
        r"^@u_[0-9a-f]{6}… — fit 0\.\d\d to 'trail running shoes'.*engagement \d+(\.\d)?% "
        r"\(shrunk from .*95% interval .*–.*%.*engagements per 1,000 EUR",
        line,
    ), line
    assert line.endswith("no flags")
    payload = json.loads(json.dumps(ranking.to_dict()))
    assert payload["items"][0]["reason"] == line
    assert (
        payload["items"][0]["engagement"]["interval"][0] < payload["items"][0]["engagement"]["rate"]
    )
    flagged = next(i for i in ranking.ranked if i.flags)
    assert "⚠" in flagged.reason_line()


def test_explain_pair(ranking: Ranking) -> None:
    text = ranking.explain_pair(1, 2)
    first, second = ranking.items[0].creator.display, ranking.items[1].creator.display
    assert text.startswith(f"#1 {first} is placed above #2 {second}")
    assert "fit to the brief" in text and "The biggest advantage" in text
    # Asking the other way round explains the same order.
    assert ranking.explain_pair(ranking.items[1].creator_id, 1) == text
    flagged = next(i for i in ranking.ranked if i.flags)
    assert "authenticity flag" in ranking.explain_pair(1, flagged.creator_id)
    with pytest.raises(AnalysisInputError, match="no ranked creator called 'nobody'"):
        ranking.explain_pair(1, "nobody")
    with pytest.raises(AnalysisInputError, match="two different creators"):
        ranking.explain_pair(1, 1)


def test_diversity_reordering_is_explained(ranking: Ranking) -> None:
    swapped = [
        (a, b)
        for a, b in zip(ranking.ranked, ranking.ranked[1:], strict=False)
        if b.score > a.score
    ]
    assert swapped, "diversity should reorder at least one neighbouring pair"
    a, b = swapped[0]
    assert "diversity rule" in ranking.explain_pair(a.position, b.position)


def test_budget_and_rate_card(creator_demo: CreatorDemo, encoder: CachedEncoder) -> None:
    card = {"ridge_runner_rae": 5_000.0, "singletrack_sam": 100.0}
    priced = apply_rate_card(creator_demo.creators, card, key=creator_demo.pseudonymizer.account)
    ranking = rank_creators(priced, BRIEF, budget=1_000, top_k=5, encoder=encoder)
    excluded = dict(ranking.excluded)
    assert (
        "inf-ridge_runner_rae" in excluded
        and "above the budget of 1,000" in excluded["inf-ridge_runner_rae"]
    )
    sam = ranking.find("inf-singletrack_sam")
    assert sam.cost is not None and sam.cost.posts_affordable == 10
    assert sam.cost.low < sam.cost.per_1000 < sam.cost.high
    assert all(
        i.creator.cost_per_post is None or i.creator.cost_per_post <= 1_000 for i in ranking.ranked
    )
    with pytest.raises(AnalysisInputError, match="no creator fits the budget of 10 EUR"):
        rank_creators(priced, BRIEF, budget=10, encoder=encoder)


def test_input_errors(creator_demo: CreatorDemo, encoder: CachedEncoder) -> None:
    with pytest.raises(AnalysisInputError, match="brief must describe the campaign"):
        rank_creators(creator_demo.creators, "  ", encoder=encoder)
    with pytest.raises(
        AnalysisInputError, match="no creators on platform 'tiktok'; the creators are on: instagram"
    ):
        rank_creators(creator_demo.creators, BRIEF, platform="tiktok", encoder=encoder)
    with pytest.raises(AnalysisInputError, match="top_k must be at least 1"):
        rank_creators(creator_demo.creators, BRIEF, top_k=0, encoder=encoder)
    with pytest.raises(AnalysisInputError, match="no creators to rank"):
        rank_creators([], BRIEF, encoder=encoder)


def test_audience_sentiment_reflects_planted_mix(
    creator_demo: CreatorDemo, ranking: Ranking
) -> None:
    items = {item.creator_id: item for item in ranking.ranked}
    yoga, travel = items["inf-flow_yoga_yuki"].sentiment, items["inf-nomad_nils"].sentiment
    assert yoga is not None and travel is not None
    assert yoga.basis == "audience" and yoga.n >= 15
    assert yoga.positive > travel.positive
    # Creators without posts or audience have no sentiment, and their line says nothing false.
    postless = next(i for i in ranking.ranked if not i.creator.posts)
    assert postless.sentiment is None and postless.fit_basis == "topics"
