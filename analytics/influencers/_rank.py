"""Ranking creators for a brief: combined score, diversity (MMR) and explanations."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np

from analytics.exceptions import AnalysisInputError
from analytics.influencers._authenticity import AuthenticityChecker
from analytics.influencers._engagement import EngagementShrinker, observe_engagement
from analytics.influencers._format import pct
from analytics.influencers._signals import (
    Encoder,
    audience_sentiment,
    cost_efficiency,
    embed_creators,
    posting_consistency,
)
from analytics.influencers._types import CreatorProfile, EngagementEstimate, RankedCreator
from analytics.sentiment import SentimentScorer

COMPONENTS = ("fit", "engagement", "sentiment", "consistency", "cost")
COMPONENT_NAMES = {
    "fit": "fit to the brief",
    "engagement": "engagement rate for its tier",
    "sentiment": "audience sentiment",
    "consistency": "posting consistency",
    "cost": "engagements per unit of money",
}
POSTS_PER_WEEK_FULL = 3.0


@dataclass(frozen=True)
class RankingWeights:
    """How much each component counts (renormalised over the components available).

    Attributes:
        fit: Topic fit to the brief.
        engagement: Shrunk engagement rate relative to the creator's tier.
        sentiment: Audience sentiment.
        consistency: Posting frequency and regularity.
        cost: Expected engagements per unit of money (with a rate card).
        flag_penalty: Score multiplier per authenticity flag.
    """

    fit: float = 0.40
    engagement: float = 0.25
    sentiment: float = 0.10
    consistency: float = 0.10
    cost: float = 0.15
    flag_penalty: float = 0.5

    def __post_init__(self) -> None:
        for name in (*COMPONENTS, "flag_penalty"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise AnalysisInputError(
                    f"RankingWeights.{name} must be a number >= 0 (got {value!r})"
                )
        if self.flag_penalty > 1:
            raise AnalysisInputError(
                f"RankingWeights.flag_penalty must lie in [0, 1] (got {self.flag_penalty!r})"
            )


def _ratio_score(ratio: float) -> float:
    """Map a ratio to a typical value onto 0..1: 1 -> 0.5, 2 -> 0.8, 0.5 -> 0.2."""
    if not math.isfinite(ratio) or ratio <= 0:
        return 0.0
    return ratio**2 / (1.0 + ratio**2)


@dataclass(frozen=True)
class Ranking:
    """Creators ranked for a brief.

    Attributes:
        brief: The brief.
        items: The top ``top_k`` creators, best first.
        ranked: Every eligible creator in ranking order (``items`` is its head).
        excluded: ``(creator_id, reason)`` of creators left out (budget, no data).
        weights: The weights used.
        diversity: Weight of the diversity term in MMR (0 = plain score order).
        as_of: End of the analysis window.
        notes: Plain-language notes on the estimates (pooled variances, tier means).
        model: Hyper-parameters estimated on this set of creators.
    """

    brief: str
    items: tuple[RankedCreator, ...]
    ranked: tuple[RankedCreator, ...]
    excluded: tuple[tuple[str, str], ...]
    weights: RankingWeights
    diversity: float
    as_of: datetime
    notes: tuple[str, ...] = ()
    model: dict[str, Any] = field(default_factory=dict)

    def find(self, key: str | int) -> RankedCreator:
        """A ranked creator by 1-based position, creator id or handle (with or without ``@``).

        Raises:
            AnalysisInputError: Nothing matches.
        """
        if isinstance(key, int):
            if 1 <= key <= len(self.ranked):
                return self.ranked[key - 1]
            raise AnalysisInputError(
                f"position must be between 1 and {len(self.ranked)} (got {key})"
            )
        wanted = key.strip().lstrip("@").lower()
        for item in self.ranked:
            c = item.creator
            if wanted in (c.creator_id.lower(), c.handle.lower(), c.display.lstrip("@").lower()):
                return item
        raise AnalysisInputError(
            f"no ranked creator called {key!r}; use a position (1..{len(self.ranked)}), "
            "a creator id or a handle from the ranking"
        )

    def explain_pair(self, a: str | int = 1, b: str | int = 2) -> str:
        """Why the higher-placed of ``a`` and ``b`` ranks above the other, component by component."""
        first, second = self.find(a), self.find(b)
        if first.creator_id == second.creator_id:
            raise AnalysisInputError("explain_pair needs two different creators")
        if first.position > second.position:
            first, second = second, first
        return explain(first, second, self)

    def describe(self, key: str | int) -> str:
        """Everything behind one creator's place (by position, id or handle), in plain words.

        Raises:
            AnalysisInputError: Nothing matches ``key``.
        """
        from analytics.influencers._format import details

        return details(self.find(key), COMPONENT_NAMES)

    def to_dict(self) -> dict[str, Any]:
        return {
            "brief": self.brief,
            "as_of": self.as_of.isoformat(),
            "weights": asdict(self.weights),
            "diversity": self.diversity,
            "items": [item.to_dict() for item in self.items],
            "excluded": [{"creator_id": c, "reason": r} for c, r in self.excluded],
            "notes": list(self.notes),
            "model": self.model,
        }


def _describe(component: str, item: RankedCreator) -> str:
    if component == "fit":
        return "unknown" if item.fit is None else f"{item.fit:.2f}"
    if component == "engagement" and item.engagement is not None:
        e = item.engagement
        return f"{pct(e.rate)} ({e.rate / e.tier_rate:.1f}× its {e.tier} tier)"
    if component == "sentiment" and item.sentiment is not None:
        return f"{100 * item.sentiment.positive:.0f}% positive"
    if component == "consistency" and item.consistency is not None:
        return f"{item.consistency.posts_per_week:.1f}/week"
    if component == "cost" and item.cost is not None:
        return f"{item.cost.per_1000:,.0f} per 1,000 {item.cost.currency}"
    return "unknown"


def explain(first: RankedCreator, second: RankedCreator, ranking: Ranking) -> str:
    """Plain-language comparison of two ranked creators (``first`` placed higher)."""
    a, b = first.creator.display, second.creator.display
    lines = [
        f"#{first.position} {a} is placed above #{second.position} {b} "
        f"(score {first.score:.3f} vs {second.score:.3f})."
    ]
    diffs: list[tuple[float, str]] = []
    for component in COMPONENTS:
        ca, cb = first.contributions.get(component), second.contributions.get(component)
        if ca is None and cb is None:
            continue
        delta = (ca or 0.0) - (cb or 0.0)
        diffs.append(
            (
                delta,
                f"{COMPONENT_NAMES[component]}: {_describe(component, first)} vs "
                f"{_describe(component, second)} ({delta:+.3f})",
            )
        )
    diffs.sort(key=lambda d: -abs(d[0]))
    if diffs:
        lines.append(
            "By component (weighted points for the first): " + "; ".join(d[1] for d in diffs) + "."
        )
        helping = [d for d in diffs if d[0] > 0]
        if helping:
            lines.append(f"The biggest advantage of {a} is {helping[0][1].split(':')[0]}.")
    for item, name in ((first, a), (second, b)):
        if item.flags:
            lines.append(
                f"{name} carries {len(item.flags)} authenticity flag(s), score ×{item.flag_multiplier:.2f}: "
                + "; ".join(f.message for f in item.flags)
                + "."
            )
    if second.score > first.score:
        above = ranking.find(second.similar_to) if second.similar_to else None
        where = f"#{above.position} {above.creator.display}" if above else "a creator placed above"
        lines.append(
            f"{b} has the higher score, but its posts are {second.similarity:.2f} similar to "
            f"{where}'s, so the diversity rule (MMR, weight {ranking.diversity:.2f}) placed "
            f"{a} first to avoid repeating one niche."
        )
    return " ".join(lines)


def _components(
    items: dict[str, dict[str, float | None]], weights: RankingWeights
) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """Fill unknown components (fit: lowest known; others: median known) and weight them."""
    used: dict[str, float] = {}
    fill: dict[str, float] = {}
    for component in COMPONENTS:
        known = [v[component] for v in items.values() if v.get(component) is not None]
        if not known or getattr(weights, component) == 0:
            continue
        array = np.array(known, dtype=float)
        fill[component] = float(array.min() if component == "fit" else np.median(array))
        used[component] = float(getattr(weights, component))
    total = sum(used.values()) or 1.0
    filled: dict[str, dict[str, float]] = {}
    for creator_id, values in items.items():
        filled[creator_id] = {
            c: fill[c] if (value := values.get(c)) is None else float(value) for c in used
        }
    return filled, {c: w / total for c, w in used.items()}


def _mmr_order(
    ids: list[str], scores: dict[str, float], vectors: dict[str, np.ndarray], diversity: float
) -> list[tuple[str, str | None, float]]:
    """Greedy maximal marginal relevance: (id, most similar placed id, its similarity).

    Each step takes the creator maximising ``(1 - diversity) * score - diversity *
    redundancy``, where redundancy is the topic similarity to the most similar
    creator already placed, counted only above the median pairwise similarity of
    the candidates (``(sim - median) / (1 - median)``, clipped at 0): sentence
    embeddings of any two sets of social posts are somewhat similar, and only
    the same-niche excess should cost a place.
    """
    with_vectors = [cid for cid in ids if cid in vectors]
    baseline = 0.0
    if len(with_vectors) >= 3:
        matrix = np.stack([vectors[cid] for cid in with_vectors])
        sims = matrix @ matrix.T
        baseline = float(np.median(sims[np.triu_indices(len(with_vectors), k=1)]))
    baseline = min(max(baseline, 0.0), 0.95)
    remaining = list(ids)
    order: list[tuple[str, str | None, float]] = []
    while remaining:
        best: tuple[float, str, str | None, float] | None = None
        for cid in remaining:
            nearest, sim = None, 0.0
            if cid in vectors:
                for placed, _, _ in order:
                    if placed in vectors:
                        s = float(vectors[cid] @ vectors[placed])
                        if s > sim:
                            nearest, sim = placed, s
            redundancy = max(0.0, (sim - baseline) / (1.0 - baseline))
            value = (1.0 - diversity) * scores[cid] - diversity * redundancy
            if best is None or value > best[0] + 1e-12:
                best = (value, cid, nearest, sim)
        assert best is not None
        order.append((best[1], best[2], best[3]))
        remaining.remove(best[1])
    return order


def rank_creators(
    creators: Sequence[CreatorProfile],
    brief: str,
    *,
    budget: float | None = None,
    top_k: int = 10,
    platform: str | None = None,
    encoder: Encoder | None = None,
    scorer: SentimentScorer | None = None,
    weights: RankingWeights | None = None,
    diversity: float = 0.15,
    currency: str = "EUR",
    as_of: datetime | None = None,
    window_days: int = 180,
    shrinker: EngagementShrinker | None = None,
    checker: AuthenticityChecker | None = None,
    on_step: Callable[[str], None] | None = None,
) -> Ranking:
    """Rank creators for a brief.

    Args:
        creators: Candidate creators (profiles with or without posts).
        brief: What the campaign is about ("trail running shoes for beginners").
        budget: Total budget; creators whose cost per post exceeds it are excluded,
            and each line says how many posts it buys.
        top_k: How many creators to return in ``items``.
        platform: Keep only creators on this platform.
        encoder: Text -> (n, d) embeddings (default :func:`analytics.embeddings.encode`).
        scorer: Sentiment scorer (default :class:`analytics.sentiment.VaderScorer`).
        weights: Component weights (default :class:`RankingWeights`).
        diversity: Weight of the MMR diversity term in [0, 1); 0 ranks by score alone.
        currency: Label of the rate card's money.
        as_of: End of the window (default: the newest post).
        window_days: Posts older than this before ``as_of`` are ignored.
        shrinker: Unfitted engagement shrinker to use (default settings otherwise).
        checker: Unfitted authenticity checker to use.
        on_step: Called with a short description before each stage (progress).

    Returns:
        The ranking; ``ranking.items[i].reason_line()`` is the plain line,
        ``ranking.explain_pair(1, 2)`` says why the first beat the second.

    Raises:
        AnalysisInputError: Empty brief or creators, no creator on ``platform``,
            bad ``top_k``/``budget``/``diversity``.
    """
    step = on_step or (lambda _s: None)
    brief = " ".join(str(brief or "").split())
    if not brief:
        raise AnalysisInputError("brief must describe the campaign (got an empty brief)")
    if top_k < 1:
        raise AnalysisInputError(f"top_k must be at least 1 (got {top_k})")
    if budget is not None and not (math.isfinite(budget) and budget > 0):
        raise AnalysisInputError(f"budget must be a positive amount (got {budget!r})")
    if not 0.0 <= diversity < 1.0:
        raise AnalysisInputError(f"diversity must lie in [0, 1) (got {diversity!r})")
    pool = list(creators)
    if not pool:
        raise AnalysisInputError(
            "no creators to rank; ingest influencers or run `beacon demo` first"
        )
    if platform:
        wanted = platform.strip().lower()
        platforms = sorted({c.platform for c in pool})
        pool = [c for c in pool if c.platform.lower() == wanted]
        if not pool:
            raise AnalysisInputError(
                f"no creators on platform {platform!r}; the creators are on: {', '.join(platforms)}"
            )
    weights = weights or RankingWeights()
    stamps = [p.posted_at for c in pool for p in c.posts]
    as_of = as_of or (max(stamps) if stamps else datetime.now().replace(microsecond=0))
    if encoder is None:
        from analytics.embeddings import encode

        encoder = encode
    if scorer is None:
        from analytics.sentiment import VaderScorer

        scorer = VaderScorer()

    step("checking authenticity")
    checker = (checker or AuthenticityChecker(window_days=window_days)).fit(pool, as_of=as_of)
    flags = {c.creator_id: checker.flags(c) for c in pool}

    step("shrinking engagement rates")
    observations = {
        c.creator_id: observe_engagement(c, as_of=as_of, window_days=window_days) for c in pool
    }
    present = [o for o in observations.values() if o is not None]
    estimates: dict[str, EngagementEstimate] = {}
    model: dict[str, Any] = {}
    notes: list[str] = []
    if present:
        shrinker = (shrinker or EngagementShrinker()).fit(
            present, exclude=[cid for cid, f in flags.items() if f]
        )
        estimates = {o.creator_id: shrinker.estimate(o) for o in present}
        model = {
            "post_log_sd": math.sqrt(shrinker.sigma2_),
            "between_creator_log_sd": math.sqrt(shrinker.tau2_),
            "tier_rates": {
                t: math.exp(m + shrinker.sigma2_ / 2) for t, m in shrinker.tier_means_.items()
            },
        }
        notes.append(
            f"engagement shrunk toward tier means (post-to-post log SD {model['post_log_sd']:.2f}, "
            f"between-creator log SD {model['between_creator_log_sd']:.2f}); flagged creators "
            "left out of the tier means"
        )
    checker_model = {"engagement_slope": checker.coef_, "engagement_intercept": checker.intercept_}
    model["authenticity"] = checker_model

    excluded: list[tuple[str, str]] = []
    eligible: list[CreatorProfile] = []
    for c in pool:
        if budget is not None and c.cost_per_post is not None and c.cost_per_post > budget:
            excluded.append(
                (
                    c.creator_id,
                    f"one post costs {c.cost_per_post:,.0f} {currency}, above the budget of {budget:,.0f}",
                )
            )
        else:
            eligible.append(c)
    if not eligible:
        raise AnalysisInputError(
            f"no creator fits the budget of {budget:,.0f} {currency}; the cheapest post costs "
            f"{min(c.cost_per_post or math.inf for c in pool):,.0f}"
        )

    step("measuring fit to the brief")
    fits, fit_basis, vectors = embed_creators(
        eligible, brief, encoder, as_of=as_of, window_days=window_days
    )
    step("scoring audience sentiment")
    sentiments = audience_sentiment(eligible, scorer, as_of=as_of, window_days=window_days)
    consistency = {
        c.creator_id: posting_consistency(c, as_of=as_of, window_days=window_days) for c in eligible
    }
    costs = {
        c.creator_id: cost_efficiency(
            c, estimates.get(c.creator_id), currency=currency, budget=budget
        )
        for c in eligible
    }
    known_costs = [x.per_1000 for x in costs.values() if x is not None]
    median_cost = float(np.median(known_costs)) if known_costs else None

    raw: dict[str, dict[str, float | None]] = {}
    for c in eligible:
        cid = c.creator_id
        est, sent, cons, cost = (
            estimates.get(cid),
            sentiments.get(cid),
            consistency[cid],
            costs[cid],
        )
        fit = fits.get(cid)
        raw[cid] = {
            "fit": None if fit is None else min(max(fit, 0.0), 1.0),
            "engagement": None if est is None else _ratio_score(est.rate / est.tier_rate),
            "sentiment": None if sent is None else (sent.positive - sent.negative + 1.0) / 2.0,
            "consistency": None
            if cons is None
            else 0.5 * min(cons.posts_per_week / POSTS_PER_WEEK_FULL, 1.0) + 0.5 * cons.regularity,
            "cost": None
            if cost is None or not median_cost
            else _ratio_score(cost.per_1000 / median_cost),
        }
    filled, norm_weights = _components(raw, weights)
    scores: dict[str, float] = {}
    contributions: dict[str, dict[str, float]] = {}
    multipliers: dict[str, float] = {}
    for cid, values in filled.items():
        contributions[cid] = {c: norm_weights[c] * v for c, v in values.items()}
        multipliers[cid] = weights.flag_penalty ** len(flags[cid])
        scores[cid] = sum(contributions[cid].values()) * multipliers[cid]

    step("ranking")
    by_score = sorted(scores, key=lambda cid: (-scores[cid], cid))
    order = _mmr_order(by_score, scores, vectors, diversity)
    profiles = {c.creator_id: c for c in eligible}
    ranked: list[RankedCreator] = []
    for position, (cid, nearest, sim) in enumerate(order, start=1):
        ranked.append(
            RankedCreator(
                position=position,
                creator=profiles[cid],
                brief=brief,
                fit=fits.get(cid),
                fit_basis=fit_basis.get(cid, "none"),
                engagement=estimates.get(cid),
                sentiment=sentiments.get(cid),
                consistency=consistency[cid],
                flags=flags[cid],
                cost=costs[cid],
                components={c: v for c, v in filled[cid].items() if raw[cid].get(c) is not None},
                contributions=contributions[cid],
                score=scores[cid],
                flag_multiplier=multipliers[cid],
                similar_to=nearest,
                similarity=sim,
            )
        )
    if not vectors:
        notes.append("no posts or topics to embed: fit and diversity not used")
    if not known_costs:
        notes.append("no rate card prices: cost efficiency not used")
    return Ranking(
        brief=brief,
        items=tuple(ranked[:top_k]),
        ranked=tuple(ranked),
        excluded=tuple(excluded),
        weights=weights,
        diversity=diversity,
        as_of=as_of,
        notes=tuple(notes),
        model=model,
    )


def apply_rate_card(
    creators: Sequence[CreatorProfile],
    card: dict[str, float],
    key: Callable[[str], str] | None = None,
) -> list[CreatorProfile]:
    """Set ``cost_per_post`` from a rate card keyed by handle or creator id.

    Args:
        creators: The creators.
        card: Cost per post by lower-cased handle or creator id (see ``read_rate_card``).
        key: Maps a rate-card handle to the stored handle (e.g. the workspace
            pseudonymiser's ``account``); identity by default.
    """
    mapped = {(key(k) if key else k).lower(): v for k, v in card.items()}
    mapped.update({k.lower(): v for k, v in card.items()})
    out = []
    for c in creators:
        cost = mapped.get(c.handle.lower(), mapped.get(c.creator_id.lower()))
        out.append(replace(c, cost_per_post=cost) if cost is not None else c)
    return out
